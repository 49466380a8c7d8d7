// Attention: the registry's cases (test/cases/attention.ts: fused masked attention forward against
// the float64 reference and backward — dq, dk, dv and the key-mask gradient — against finite
// differences; the masked softmax; the head reshuffles), then exact masking, the mask gradient at
// masked keys, and agreement with the composed matmul → softmax → matmul path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, type Tensor } from '../src/index.js';
import { maskedAttention, maskedAttentionComposed } from '../src/tensor/ops/attention.js';
import { arr, maskedAttentionRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, checkForward, checkBackward, byOp } from './harness.js';
import { cases } from './cases/attention.js';

test.before(setup);

function randomInputs(seed: number, B: number, H: number, Tq: number, Tk: number, D: number, keepProb = 0.6) {
  const r = rng(seed);
  const q = arr([B, H, Tq, D], randArray(r, B * H * Tq * D, -1.5, 1.5));
  const k = arr([B, H, Tk, D], randArray(r, B * H * Tk * D, -1.5, 1.5));
  const v = arr([B, H, Tk, D], randArray(r, B * H * Tk * D));
  const m = arr([B, Tk]);
  for (let b = 0; b < B; b++) for (let j = 0; j < Tk; j++) m.data[b * Tk + j] = j === 0 || r() < keepProb ? 1 : 0;
  return { q, k, v, m };
}

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference${opCases.some((c) => c.grad) ? ', and its gradients finite differences' : ''}`, async () => {
    for (const c of opCases) {
      await checkForward(c);
      if (c.grad) await checkBackward(c);
    }
  });
}

test('masked attention ignores masked keys exactly: changing q, k, v there changes no output bit of a kept row', async () => {
  const B = 2, H = 3, T = 41, D = 32;
  const { q, k, v, m } = randomInputs(99, B, H, T, T, D, 0.5);
  const before = await maskedAttention(toTensor(q), toTensor(k), toTensor(v), toTensor(m)).data();
  const r = rng(5);
  for (const a of [q, k, v]) {
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let j = 0; j < T; j++) {
      if (m.data[b * T + j]) continue;
      for (let d = 0; d < D; d++) a.data[((b * H + h) * T + j) * D + d] = Math.fround(100 * (r() - 0.5));
    }
  }
  const after = await maskedAttention(toTensor(q), toTensor(k), toTensor(v), toTensor(m)).data();
  let compared = 0;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    if (!m.data[b * T + i]) continue;
    for (let d = 0; d < D; d++) {
      const idx = ((b * H + h) * T + i) * D + d;
      if (!Object.is(before[idx], after[idx])) assert.unreachable(`output [${b},${h},${i},${d}] changed: ${before[idx]} -> ${after[idx]}`);
      compared++;
    }
  }
  assert.ok(compared > 0);
});

test('a fully kept mask gives bit-identical results to no mask', async () => {
  const { q, k, v } = randomInputs(3, 2, 2, 50, 50, 32);
  const ones = arr([2, 50], new Array(100).fill(1));
  const a = await maskedAttention(toTensor(q), toTensor(k), toTensor(v), toTensor(ones)).data();
  const b = await maskedAttention(toTensor(q), toTensor(k), toTensor(v)).data();
  assert.ok(a.every((x, i) => Object.is(x, b[i])), 'results differ');
});

test('the mask gradient is nonzero at masked keys (stage 2 can teach stage 1)', async () => {
  const { q, k, v, m } = randomInputs(31, 1, 2, 17, 17, 8, 0.5);
  const tm = toTensor(m, true);
  const out = maskedAttention(toTensor(q), toTensor(k), toTensor(v), tm);
  out.square().sum().backward();
  const g = await tm.grad!.data();
  const masked = [...m.data.keys()].filter((j) => m.data[j] === 0);
  assert.ok(masked.length > 0);
  assert.ok(masked.every((j) => Number.isFinite(g[j]!)) && masked.some((j) => Math.abs(g[j]!) > 1e-6), `mask grads at masked keys: ${masked.map((j) => g[j])}`);
});

test('fused and composed (matmul, softmax, matmul) attention agree forward and backward', async () => {
  const { q, k, v, m } = randomInputs(41, 2, 3, 65, 65, 32);
  const run = (fused: boolean) => {
    const ts = [q, k, v, m].map((a) => toTensor(a, true)) as [Tensor, Tensor, Tensor, Tensor];
    const out = fused ? maskedAttention(...ts) : maskedAttentionComposed(...ts).out;
    const w = tensor(Float32Array.from(randArray(rng(1), out.size)), { shape: out.shape });
    out.mul(w).sum().backward();
    return { out, grads: ts.map((t) => t.grad!) };
  };
  const a = run(true), b = run(false);
  assertClose(await a.out.data(), await b.out.data(), { atol: 2e-6, rtol: 1e-4, what: 'out' });
  const names = ['dq', 'dk', 'dv', 'dmask'];
  for (let i = 0; i < 4; i++) assertClose(await a.grads[i]!.data(), await b.grads[i]!.data(), { atol: 1e-5, rtol: 1e-3, what: names[i] });
});

test('attention shape errors name the op and the shapes', () => {
  const q = tensor(new Float32Array(2 * 3 * 4 * 8), { shape: [2, 3, 4, 8] });
  const k = tensor(new Float32Array(2 * 3 * 5 * 4), { shape: [2, 3, 5, 4] });
  assert.throws(() => maskedAttention(q, k, k), /maskedAttention: q \[2, 3, 4, 8\], k \[2, 3, 5, 4\]/);
  const bad = tensor(new Float32Array(8), { shape: [2, 4] });
  assert.throws(() => maskedAttention(q, q, q, bad.reshape(4, 2)), /keyMask must be \[B, Tk\] = \[2, 4\], got \[4, 2\]/);
});

void ({} as Arr);
test.run();
