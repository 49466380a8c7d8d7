// Fused layer norm: forward against the float64 reference (rows shorter and longer than a
// workgroup, one or several normalized dims, with and without weight / bias, large means),
// backward for x, weight and bias against finite differences and against the composed op.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, grad, layerNorm, memory, type Tensor } from '../src/index.js';
import { arr, layerNormRef } from '../src/tensor/reference/index.js';
import { rowPlanConfig } from '../src/tensor/ops/rows.js';
import { SHARED_ROW_PLAN } from '../src/shaders/rows.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck, settle } from './harness.js';

test.before(setup);

/** Runs fn with the device's row plan (one subgroup per row where available), then with 64 invocations reducing in workgroup memory. */
async function eachRowPlan(fn: (plan: string) => Promise<void>): Promise<void> {
  for (const force of [null, SHARED_ROW_PLAN]) {
    rowPlanConfig.force = force;
    try {
      await fn(force ? 'workgroup-memory plan' : 'default plan');
    } finally {
      rowPlanConfig.force = null;
    }
  }
}

const rand = (r: () => number, shape: number[], lo = -2, hi = 2) => arr(shape, randArray(r, shape.reduce((p, d) => p * d, 1), lo, hi));

test('layerNorm matches the float64 reference, with and without weight and bias', async () => {
  await eachRowPlan(async (plan) => {
    const r = rng(3);
    const cases: [number[], number[]][] = [[[4, 37], [37]], [[2, 3, 150], [150]], [[2, 5, 6], [5, 6]], [[7], [7]], [[3, 1], [1]]];
    for (const [shape, ns] of cases) {
      const D = ns.reduce((p, d) => p * d, 1);
      const x = rand(r, shape), w = rand(r, ns), b = rand(r, ns);
      for (const [useW, useB] of [[true, true], [false, false], [true, false], [false, true]]) {
        const y = layerNorm(toTensor(x), ns, useW ? toTensor(w) : null, useB ? toTensor(b) : null);
        const ref = layerNormRef(x, D, useW ? w : null, useB ? b : null);
        assertClose(await y.data(), ref.data, { atol: 2e-5, rtol: 2e-5, what: `layerNorm [${shape}] over [${ns}] weight=${useW} bias=${useB} (${plan})` });
      }
    }
  });
});

test('a number as normalizedShape means the last dimension; eps is honoured', async () => {
  const r = rng(5);
  const x = rand(r, [3, 10], -0.01, 0.01);
  const y = layerNorm(toTensor(x), 10, null, null, 0.1);
  assertClose(await y.data(), layerNormRef(x, 10, null, null, 0.1).data, { atol: 1e-6, rtol: 1e-5 });
});

test('the variance stays accurate when the mean is large', async () => {
  const r = rng(7);
  const x = arr([4, 64], randArray(r, 256, -1, 1).map((v) => Math.fround(1000 + v)));
  const y = layerNorm(toTensor(x), [64]);
  assertClose(await y.data(), layerNormRef(x, 64).data, { atol: 5e-4, rtol: 5e-4, what: 'mean 1000' });
});

test('layerNorm gradients (x, weight, bias) match finite differences', async () => {
  await eachRowPlan(async (plan) => {
    const r = rng(11);
    await gradCheck({
      inputs: [rand(r, [3, 7]), rand(r, [7]), rand(r, [7])],
      gpu: (x, w, b) => layerNorm(x, [7], w, b),
      ref: (x, w, b) => layerNormRef(x, 7, w, b),
      what: `layerNorm [3, 7] (${plan})`,
    });
    await gradCheck({ inputs: [rand(r, [2, 2, 3])], gpu: (x) => layerNorm(x, [2, 3]), ref: (x) => layerNormRef(x, 6), what: `layerNorm without affine (${plan})` });
    await gradCheck({
      inputs: [rand(r, [2, 70]), rand(r, [70])],
      gpu: (x, w) => layerNorm(x, 70, w),
      ref: (x, w) => layerNormRef(x, 70, w),
      what: `layerNorm rows longer than a workgroup (${plan})`,
    });
  });
});

test('weight and bias gradients sum over many rows (several chunks)', async () => {
  const r = rng(13);
  const x0 = rand(r, [150, 9]), w0 = rand(r, [9]), b0 = rand(r, [9]), g0 = rand(r, [150, 9]);
  const x = toTensor(x0, true), w = toTensor(w0, true), b = toTensor(b0, true), g = toTensor(g0);
  const [gx, gw, gb] = grad(layerNorm(x, [9], w, b).mul(g).sum(), [x, w, b]);
  // The same through the composed op (mean, variance, rsqrt), differentiated by autograd.
  const composed = (u: Tensor) => {
    const mu = u.mean(-1, true);
    const d = u.sub(mu);
    return d.mul(d.square().mean(-1, true).add(1e-5).rsqrt()).mul(w).add(b);
  };
  const [cx, cw, cb] = grad(composed(x).mul(g).sum(), [x, w, b]);
  assertClose(await gx!.data(), await cx!.data(), { atol: 1e-4, rtol: 1e-4, what: 'dx' });
  assertClose(await gw!.data(), await cw!.data(), { atol: 1e-4, rtol: 1e-4, what: 'dweight' });
  assertClose(await gb!.data(), await cb!.data(), { atol: 1e-4, rtol: 1e-4, what: 'dbias' });
});

test('without gradients no mean / rstd buffers outlive the call', async () => {
  const x = tensor(new Float32Array(24).map((_, i) => i), { shape: [4, 6] });
  await settle();
  const before = memory().liveTensors;
  const y = layerNorm(x, [6]);
  await settle();
  assert.is(memory().liveTensors, before + 1);
  y.dispose();
});

test('shape errors name the op and the shapes', () => {
  const x = tensor(new Float32Array(12), { shape: [3, 4] });
  assert.throws(() => layerNorm(x, [5]), /layerNorm: input \[3, 4\] does not end in the normalized shape \[5\]/);
  assert.throws(() => layerNorm(x, [4], tensor([1, 2, 3])), /layerNorm: weight has shape \[3\], expected the normalized shape \[4\]/);
  assert.throws(() => layerNorm(x, [4], null, tensor([[1, 2, 3, 4]])), /layerNorm: bias has shape \[1, 4\]/);
});

test.run();
