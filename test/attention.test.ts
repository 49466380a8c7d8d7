// Attention: the registry's cases (test/cases/attention.ts: masked attention forward against the
// float64 reference and backward — dq, dk, dv and the key-mask gradient — against finite
// differences, down both paths, the fused kernel and matmul → masked softmax → matmul; the masked
// softmax under both row plans; the head reshuffles), then exact masking, the mask gradient at
// masked keys, the two paths against each other, and which path runs where.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, type Tensor } from '../src/index.js';
import { attentionConfig, maskedAttention, maskedAttentionComposed, maskedSoftmax, mergeHeads, qkvAttention, qkvHeads } from '../src/tensor/ops/attention.js';
import { isCpuAdapter } from '../src/tensor/ops/matmul.js';
import { rt } from '../src/tensor/device.js';
import { arr, maskedAttentionRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, checkForward, checkBackward, byOp, eachRowPlan } from './harness.js';
import { cases } from './cases/attention.js';

test.before(setup);

type Path = 'fused' | 'composed';
const PATHS: Path[] = ['fused', 'composed'];

/** Runs fn with maskedAttention forced down one path. */
async function onPath<T>(path: Path, fn: () => Promise<T>): Promise<T> {
  attentionConfig.variant = path;
  try {
    return await fn();
  } finally {
    attentionConfig.variant = 'auto';
  }
}


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
  const what = `${op} matches the float64 reference${opCases.some((c) => c.grad) ? ', and its gradients finite differences' : ''}`;
  const run = async (context?: string) => {
    for (const c of opCases) {
      await checkForward(c, context);
      if (c.grad) await checkBackward(c, context);
    }
  };
  if (op === 'maskedAttention') {
    for (const path of PATHS) test(`${what} (${path} path)`, () => onPath(path, () => run(`${path} path`)));
  } else if (op === 'maskedSoftmax') {
    test(`${what}, under both row plans`, () => eachRowPlan(run));
  } else {
    test(what, () => run());
  }
}

for (const path of PATHS) test(`masked attention ignores masked keys exactly: changing q, k, v there changes no output bit of a kept row (${path} path)`, () => onPath(path, async () => {
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
}));

for (const path of PATHS) test(`a fully kept mask gives bit-identical results to no mask (${path} path)`, () => onPath(path, async () => {
  const { q, k, v } = randomInputs(3, 2, 2, 50, 50, 32);
  const ones = arr([2, 50], new Array(100).fill(1));
  const a = await maskedAttention(toTensor(q), toTensor(k), toTensor(v), toTensor(ones)).data();
  const b = await maskedAttention(toTensor(q), toTensor(k), toTensor(v)).data();
  assert.ok(a.every((x, i) => Object.is(x, b[i])), 'results differ');
}));

for (const path of PATHS) test(`the mask gradient is nonzero at masked keys (stage 2 can teach stage 1) (${path} path)`, () => onPath(path, async () => {
  const { q, k, v, m } = randomInputs(31, 1, 2, 17, 17, 8, 0.5);
  const tm = toTensor(m, true);
  const out = maskedAttention(toTensor(q), toTensor(k), toTensor(v), tm);
  out.square().sum().backward();
  const g = await tm.grad!.data();
  const masked = [...m.data.keys()].filter((j) => m.data[j] === 0);
  assert.ok(masked.length > 0);
  assert.ok(masked.every((j) => Number.isFinite(g[j]!)) && masked.some((j) => Math.abs(g[j]!) > 1e-6), `mask grads at masked keys: ${masked.map((j) => g[j])}`);
}));

/** Binary or fractional key masks with zeros, and (fullyMaskedBatch) one batch that keeps no key. */
function maskVariant(m: Arr, seed: number, soft: boolean, fullyMaskedBatch: number | null): Arr {
  const r = rng(seed);
  const [B, T] = m.shape as [number, number];
  const out = arr([B, T], [...m.data].map((x) => (soft ? x * (0.05 + 0.95 * r()) : x)));
  if (fullyMaskedBatch !== null) for (let j = 0; j < T; j++) out.data[fullyMaskedBatch * T + j] = 0;
  return out;
}

for (const [B, H, T, D, soft, empty] of [[2, 3, 65, 32, false, null], [3, 3, 65, 32, true, 1], [2, 2, 197, 64, true, 0]] as const) {
  test(`the fused kernel and the composed path agree forward and backward (B=${B} H=${H} T=${T} d=${D}, ${soft ? 'fractional' : 'binary'} mask${empty === null ? '' : ', a batch fully masked'})`, async () => {
    const { q, k, v, m: m0 } = randomInputs(41 + T, B, H, T, T, D);
    const m = maskVariant(m0, 7, soft, empty);
    const run = (path: Path) => onPath(path, async () => {
      const ts = [q, k, v, m].map((a) => toTensor(a, true)) as [Tensor, Tensor, Tensor, Tensor];
      const out = maskedAttention(...ts);
      assert.is(out.node?.op, path === 'fused' ? 'maskedAttention' : 'matmul');
      const w = tensor(Float32Array.from(randArray(rng(1), out.size)), { shape: out.shape });
      out.mul(w).sum().backward();
      return { out: await out.data(), grads: await Promise.all(ts.map((t) => t.grad!.data())) };
    });
    const a = await run('fused'), b = await run('composed');
    assertClose(a.out, b.out, { atol: 2e-6, rtol: 1e-4, what: 'out' });
    const names = ['dq', 'dk', 'dv', 'dmask'];
    for (let i = 0; i < 4; i++) assertClose(a.grads[i]!, b.grads[i]!, { atol: 1e-5, rtol: 1e-3, what: names[i] });
    if (empty !== null) {
      for (const [what, x] of [['out', a.out], ['dmask', a.grads[3]!]] as const) {
        const size = what === 'out' ? H * T * D : T;
        const rows = x.subarray(empty * size, (empty + 1) * size);
        assert.ok(rows.every((y) => y === 0), `${what} of the fully masked batch is not 0`);
      }
    }
  });
}

test('the composed path returns the probabilities as a graph tensor, and its output is that of maskedAttention', async () => {
  const { q, k, v, m } = randomInputs(43, 2, 3, 17, 17, 8);
  const ts = [q, k, v, m].map((a) => toTensor(a, true)) as [Tensor, Tensor, Tensor, Tensor];
  const { out, probs } = maskedAttentionComposed(...ts);
  assert.is(probs.node?.op, 'maskedSoftmax');
  assertClose(await probs.data(), maskedAttentionRef(q, k, v, m).probs.data, { atol: 1e-6, rtol: 1e-5, what: 'probs' });
  const fused = await onPath('fused', () => maskedAttention(...ts).data());
  assertClose(await out.data(), fused, { atol: 2e-6, rtol: 1e-4, what: 'out' });
});

test('qkvAttention gives the values and gradients of qkvHeads → maskedAttention → mergeHeads, on both paths and through a retained graph walked twice', async () => {
  const r = rng(47);
  const B = 2, T = 9, H = 3, d = 4;
  const qkvA = arr([B, T, 3 * H * d], randArray(r, B * T * 3 * H * d, -1.5, 1.5));
  const maskA = arr([B, T], randArray(r, B * T, 0, 1).map((x, i) => (i % T === 0 || x > 0.4 ? x : 0)));
  for (const path of PATHS) {
    await onPath(path, async () => {
      const run = async (oneNode: boolean, twice: boolean) => {
        const qkv = toTensor(qkvA, true), mask = toTensor(maskA, true);
        const y = oneNode
          ? qkvAttention(qkv, H, mask)
          : mergeHeads(maskedAttention(qkvHeads(qkv, 0, H), qkvHeads(qkv, 1, H), qkvHeads(qkv, 2, H), mask));
        // A loss that weights every output differently, so each output's gradient matters.
        const w = toTensor(arr(y.shape as number[], randArray(rng(48), y.size, -1, 1)));
        const loss = y.mul(w).sum();
        loss.backward(undefined, { retainGraph: twice });
        if (twice) loss.backward();
        return { y: await y.data(), dqkv: await qkv.grad!.data(), dmask: await mask.grad!.data() };
      };
      const ref = await run(false, false);
      for (const twice of [false, true]) {
        const got = await run(true, twice);
        const scale = twice ? 2 : 1; // .grad accumulates over the two walks
        assertClose(got.y, ref.y, { atol: 1e-6, rtol: 1e-5, what: `${path}: output` });
        assertClose(got.dqkv, ref.dqkv.map((g) => g * scale), { atol: 1e-6, rtol: 1e-5, what: `${path}: ∂/∂qkv${twice ? ' (walked twice)' : ''}` });
        assertClose(got.dmask, ref.dmask.map((g) => g * scale), { atol: 1e-6, rtol: 1e-5, what: `${path}: ∂/∂mask${twice ? ' (walked twice)' : ''}` });
      }
    });
  }
});

test('maskedAttention composes on CPU adapters while the scores fit the bound, and runs the fused kernel otherwise', () => {
  const { q, k, v, m } = randomInputs(44, 1, 2, 9, 9, 8);
  const ts = [q, k, v, m].map((a) => toTensor(a, true)) as [Tensor, Tensor, Tensor, Tensor];
  const cpu = isCpuAdapter(rt());
  assert.is(maskedAttention(...ts).node?.op, cpu ? 'matmul' : 'maskedAttention');
  const bound = attentionConfig.maxComposedScoresBytes;
  attentionConfig.maxComposedScoresBytes = 1 * 2 * 9 * 9 * 4 - 1;
  try {
    assert.is(maskedAttention(...ts).node?.op, 'maskedAttention');
  } finally {
    attentionConfig.maxComposedScoresBytes = bound;
  }
});

test('the masked softmax gives masked entries no say: NaN and huge scores there change nothing, gradients included', async () => {
  const r = rng(45);
  const s0 = arr([2, 3, 4, 11], randArray(r, 2 * 3 * 4 * 11, -3, 3));
  const m = arr([2, 1, 1, 11], Array.from({ length: 22 }, (_, i) => (i % 3 === 1 ? 0 : 0.2 + 0.8 * r())));
  const poisoned = arr(s0.shape, [...s0.data].map((x, i) => (m.data[Math.floor(i / 132) * 11 + (i % 11)] === 0 ? (i % 2 ? NaN : 1e30) : x)));
  const run = async (s: Arr) => {
    const ts = toTensor(s, true);
    const y = maskedSoftmax(ts, toTensor(m));
    y.mul(tensor(Float32Array.from(randArray(rng(2), y.size)), { shape: y.shape })).sum().backward();
    const dsKept = [...(await ts.grad!.data())].filter((_, i) => m.data[Math.floor(i / 132) * 11 + (i % 11)] !== 0);
    return [...(await y.data()), ...dsKept];
  };
  const a = await run(s0), b = await run(poisoned);
  assert.ok(a.every((x, i) => Object.is(x, b[i])), 'a masked entry changed the result');
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
