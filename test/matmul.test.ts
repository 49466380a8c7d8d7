// matmul: the registry's cases (test/cases/matmul.ts: transposes, batch broadcasting, 1-D
// operands, fused bias + activation, forward against the float64 reference and backward against
// finite differences) with both kernels (the CPU simd one, when the adapter has it, and the GPU
// tiled one), other tilings, memory, errors and empty products.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matmul, tensor, noGrad, tidy, memory } from '../src/index.js';
import { matmulConfig } from '../src/tensor/ops/matmul.js';
import { arr, matmulRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, settle, checkForward as checkCase, checkBackward } from './harness.js';
import { cases } from './cases/matmul.js';

test.before(setup);

type Variant = typeof matmulConfig.variant;
let variants: Variant[] = ['tiled'];
test.before(async () => {
  // The simd kernel exists only on CPU adapters with fixed-size subgroups (lavapipe).
  matmulConfig.variant = 'simd';
  try {
    noGrad(() => matmul(tensor([[1]]), tensor([[1]])).dispose());
    variants = ['simd', 'tiled'];
  } catch { /* not available here */ }
  matmulConfig.variant = 'auto';
});

async function withVariant(v: Variant, fn: () => Promise<void>): Promise<void> {
  matmulConfig.variant = v;
  try {
    await fn();
  } finally {
    matmulConfig.variant = 'auto';
  }
}

const rand = (r: () => number, shape: number[]) => arr(shape, randArray(r, shape.reduce((p, d) => p * d, 1)));

async function checkForward(a: Arr, b: Arr, opts: { transA?: boolean; transB?: boolean; bias?: Arr; activation?: 'none' | 'gelu' | 'geluTanh' | 'relu' }, what: string) {
  const ta = toTensor(a), tb = toTensor(b), tbias = opts.bias ? toTensor(opts.bias) : undefined;
  const y = matmul(ta, tb, { transA: opts.transA, transB: opts.transB, bias: tbias, activation: opts.activation });
  const ref = matmulRef(a, b, opts);
  assert.equal([...y.shape], ref.shape, `${what}: shape`);
  const K = opts.transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  assertClose(await y.data(), ref.data, { atol: 2e-6 * K + 1e-6, rtol: 1e-5, what });
  [ta, tb, tbias, y].forEach((t) => t?.dispose());
}

for (const v of ['simd', 'tiled'] as Variant[]) {
  test(`${v} kernel: every transpose combination, broadcast batch dims, 1-D operands and the fused bias and activations match the reference`, async () => {
    if (!variants.includes(v)) return;
    await withVariant(v, async () => {
      for (const c of cases) await checkCase(c, v);
    });
  });

  test(`${v} kernel: backward matches finite differences (transposes, broadcast batch dims, bias and activations, 1-D operands)`, async () => {
    if (!variants.includes(v)) return;
    await withVariant(v, async () => {
      for (const c of cases.filter((k) => k.grad)) await checkBackward(c, v);
    });
  });
}

test('tiled kernel: the 64x64 tiling used for large products gives the same products', async () => {
  const r = rng(61);
  await withVariant('tiled', async () => {
    matmulConfig.tiled = { TM: 4, TN: 4, BK: 16 };
    try {
      await checkForward(rand(r, [70, 45]), rand(r, [45, 130]), { bias: rand(r, [130]), activation: 'relu' }, 'tiled 64x64 NN');
      await checkForward(rand(r, [2, 45, 70]), rand(r, [130, 45]), { transA: true, transB: true }, 'tiled 64x64 TT');
    } finally {
      matmulConfig.tiled = null;
    }
  });
});

test('simd kernel: other tiling knobs give the same products', async () => {
  if (!variants.includes('simd')) return;
  const r = rng(31);
  const a = rand(r, [45, 29]), b = rand(r, [29, 70]), at = rand(r, [36, 44]), bt = rand(r, [68, 36]);
  await withVariant('simd', async () => {
    for (const [rows, colVec4s] of [[16, 2], [24, 1], [32, 1]] as const) {
      matmulConfig.simd = { rows, colVec4s };
      try {
        await checkForward(a, b, {}, `rows=${rows} colVec4s=${colVec4s}`);
        await checkForward(at, bt, { transA: true, transB: true }, `rows=${rows} colVec4s=${colVec4s} (vec4 transposed)`);
      } finally {
        matmulConfig.simd = null;
      }
    }
  });
});

test('a product of two vectors is a scalar', async () => {
  const y = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
  assert.equal([...y.shape], []);
  assert.is(await y.item(), 32);
});

test('no pre-activation copy is kept when gradients are off', async () => {
  const r = rng(59);
  const a = toTensor(rand(r, [4, 8]), true), b = toTensor(rand(r, [8, 4]));
  const y = noGrad(() => matmul(a, b, { activation: 'gelu' }));
  assert.is(y.node, null);
  const y2 = matmul(a, b, { activation: 'gelu' });
  assert.ok(y2.node);
  [a, b, y, y2].forEach((t) => t.dispose());
});

test('a training-style loop of fused matmuls holds its memory flat', async () => {
  const r = rng(67);
  const x = toTensor(rand(r, [2, 9, 12]), true), w = toTensor(rand(r, [10, 12]), true), bias = toTensor(rand(r, [10]), true);
  const step = () => tidy(() => {
    const y = matmul(x, w, { transB: true, bias, activation: 'gelu' });
    y.matmul(y, { transA: true }).sum().backward();
  });
  step();
  [x, w, bias].forEach((t) => t.zeroGrad());
  await settle();
  const before = memory();
  for (let i = 0; i < 5; i++) {
    step();
    [x, w, bias].forEach((t) => t.zeroGrad());
  }
  const after = memory();
  await settle();
  assert.is(after.liveTensors, before.liveTensors, 'live tensors');
  assert.is(after.liveBytes, before.liveBytes, 'live bytes');
});

test('errors name the op and both shapes', () => {
  const a = tensor(new Float32Array(6), { shape: [2, 3] });
  const b = tensor(new Float32Array(8), { shape: [4, 2] });
  assert.throws(() => matmul(a, b), /matmul: inner dimensions differ: \[2, 3\] has 3 columns, \[4, 2\] has 4 rows/);
  assert.throws(() => matmul(a, b, { transA: true }), /matmul: inner dimensions differ: \[2, 3\] \(transposed\) has 2 columns, \[4, 2\] has 4 rows/);
  const c = tensor(new Float32Array(12), { shape: [3, 4] });
  assert.throws(() => matmul(a, c, { bias: tensor([1, 2]) }), /matmul: bias must have shape \[4\].*got \[2\]/);
  const d = tensor(new Float32Array(24), { shape: [2, 3, 4] });
  const e = tensor(new Float32Array(36), { shape: [3, 3, 4] });
  assert.throws(() => matmul(d, e, { transB: true }), /matmul: shapes \[2\] and \[3\] cannot be broadcast/);
  assert.throws(() => matmul(tensor(1), c), /matmul: operands must have rank >= 1/);
  assert.throws(() => matmul(tensor([1, 2, 3]), c, { transA: true }), /matmul: transA\/transB need an operand of rank >= 2/);
  const big = tensor(new Float32Array(4), { shape: [1, 1, 1, 1, 1, 2, 2] });
  assert.throws(() => matmul(big, big), /matmul: at most 4 batch dimensions/);
});

test('a product with an empty inner dimension is zero (plus the bias)', async () => {
  const a = tensor(new Float32Array(0), { shape: [3, 0] });
  const b = tensor(new Float32Array(0), { shape: [0, 2] });
  assertClose(await matmul(a, b).data(), [0, 0, 0, 0, 0, 0]);
  assertClose(await matmul(a, b, { bias: tensor([1, -2]), activation: 'relu' }).data(), [1, 0, 1, 0, 1, 0]);
});

test.run();
