// Fused masked attention: forward against the float64 reference, exact masking, backward (dq,
// dk, dv and the key-mask gradient) against finite differences, and agreement with the composed
// matmul → softmax → matmul path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, type Tensor } from '../src/index.js';
import { maskedAttention, maskedAttentionComposed } from '../src/tensor/ops/attention.js';
import { arr, maskedAttentionRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck } from './harness.js';

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

for (const [B, H, T, D] of [[2, 3, 65, 32], [1, 2, 197, 64], [1, 1, 1374, 64], [3, 2, 7, 16]] as const) {
  test(`fused masked attention matches the float64 reference at B=${B} H=${H} T=${T} d=${D}`, async () => {
    const { q, k, v, m } = randomInputs(T + D, B, H, T, T, D);
    const [tq, tk, tv, tm] = [q, k, v, m].map((a) => toTensor(a));
    const out = maskedAttention(tq!, tk!, tv!, tm!);
    assertClose(await out.data(), maskedAttentionRef(q, k, v, m).out.data, { atol: 3e-6, rtol: 1e-4, what: 'masked' });
    const plain = maskedAttention(tq!, tk!, tv!);
    assertClose(await plain.data(), maskedAttentionRef(q, k, v, null).out.data, { atol: 3e-6, rtol: 1e-4, what: 'unmasked' });
    [tq, tk, tv, tm, out, plain].forEach((t) => t!.dispose());
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

test('cross attention with Tq != Tk matches the reference', async () => {
  const { q, k, v, m } = randomInputs(8, 2, 2, 19, 33, 16);
  const out = maskedAttention(toTensor(q), toTensor(k), toTensor(v), toTensor(m));
  assertClose(await out.data(), maskedAttentionRef(q, k, v, m).out.data, { atol: 3e-6, rtol: 1e-4 });
});

test('backward: dq, dk, dv and dkeyMask (finite where the mask is 0) match finite differences', async () => {
  const { q, k, v, m } = randomInputs(17, 2, 2, 13, 13, 8, 0.5);
  assert.ok(m.data.some((x) => x === 0), 'the test needs masked keys');
  await gradCheck({
    inputs: [q, k, v, m],
    gpu: (a, b, c, d) => maskedAttention(a, b, c, d),
    ref: (a, b, c, d) => maskedAttentionRef(a, b, c, d).out,
    what: 'maskedAttention',
    h: 1e-5,
  });
});

test('backward without a mask and with T not a multiple of the tile matches finite differences', async () => {
  const { q, k, v } = randomInputs(23, 1, 3, 37, 37, 16);
  await gradCheck({
    inputs: [q, k, v],
    gpu: (a, b, c) => maskedAttention(a, b, c),
    ref: (a, b, c) => maskedAttentionRef(a, b, c, null).out,
    what: 'attention',
    h: 1e-5,
  });
});

test('a head size that is not a multiple of 4 (scalar lanes) matches the reference forward and backward', async () => {
  const { q, k, v, m } = randomInputs(51, 1, 2, 11, 11, 6, 0.6);
  const out = maskedAttention(toTensor(q), toTensor(k), toTensor(v), toTensor(m));
  assertClose(await out.data(), maskedAttentionRef(q, k, v, m).out.data, { atol: 3e-6, rtol: 1e-4 });
  await gradCheck({
    inputs: [q, k, v, m],
    gpu: (a, b, c, d) => maskedAttention(a, b, c, d),
    ref: (a, b, c, d) => maskedAttentionRef(a, b, c, d).out,
    what: 'attention d=6',
    h: 1e-5,
  });
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
