// Fused layer norm: the registry's cases (test/cases/layernorm.ts: rows shorter and longer than
// a workgroup, one or several normalized dims, with and without weight / bias, large means; x,
// weight and bias gradients) under both row plans, the composed op, memory and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, grad, layerNorm, memory, type Tensor } from '../src/index.js';
import { arr, layerNormRef } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, settle, checkForward, checkBackward, eachRowPlan } from './harness.js';
import { cases } from './cases/layernorm.js';

test.before(setup);


const rand = (r: () => number, shape: number[], lo = -2, hi = 2) => arr(shape, randArray(r, shape.reduce((p, d) => p * d, 1), lo, hi));

test('layerNorm matches the float64 reference, with and without weight and bias, large means, any eps', async () => {
  await eachRowPlan(async (plan) => {
    for (const c of cases) await checkForward(c, plan);
  });
});

test('layerNorm gradients (x, weight, bias) match finite differences', async () => {
  await eachRowPlan(async (plan) => {
    for (const c of cases.filter((k) => k.grad)) await checkBackward(c, plan);
  });
});

test('a number as normalizedShape means the last dimension; eps is honoured', async () => {
  const r = rng(5);
  const x = rand(r, [3, 10], -0.01, 0.01);
  const y = layerNorm(toTensor(x), 10, null, null, 0.1);
  assertClose(await y.data(), layerNormRef(x, 10, null, null, 0.1).data, { atol: 1e-6, rtol: 1e-5 });
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
