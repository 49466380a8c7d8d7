// Fused softmax / logSoftmax: the registry's cases (test/cases/softmax.ts: forward against float64
// references along any axis, backward against finite differences) under both row plans,
// stability with huge logits, and agreement with the same function composed from primitive ops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, grad, type Tensor } from '../src/index.js';
import { softmax, logSoftmax } from '../src/tensor/ops/softmax.js';
import { arr, softmaxRef, logSoftmaxRef } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, checkForward, checkBackward, byOp, eachRowPlan } from './harness.js';
import { cases } from './cases/softmax.js';

test.before(setup);


const rand = (r: () => number, shape: number[], lo = -3, hi = 3) => arr(shape, randArray(r, shape.reduce((p, d) => p * d, 1), lo, hi));

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference along any axis`, async () => {
    await eachRowPlan(async (plan) => {
      for (const c of opCases) await checkForward(c, plan);
    });
  });

  test(`${op} gradient matches finite differences`, async () => {
    await eachRowPlan(async (plan) => {
      for (const c of opCases.filter((k) => k.grad)) await checkBackward(c, plan);
    });
  });
}

for (const [name, fn, ref] of [['softmax', softmax, softmaxRef], ['logSoftmax', logSoftmax, logSoftmaxRef]] as const) {
  test(`${name} is stable for huge logits`, async () => {
    const x = arr([2, 4], [1000, 1001, 999, 1000, -5000, -5001, -4999, -5000]);
    const y = await fn(toTensor(x), -1).data();
    assert.ok([...y].every(Number.isFinite), `${name} gave ${[...y]}`);
    assertClose(y, ref(x, -1).data, { atol: 1e-5, rtol: 1e-5, what: name });
  });
}

test('fused softmax and logSoftmax agree with their compositions from primitive ops, gradients included', async () => {
  const r = rng(5);
  const x0 = rand(r, [6, 33]);
  const w = toTensor(rand(r, [6, 33]));
  const composedSoftmax = (x: Tensor) => {
    const e = x.sub(x.max(1, true)).exp();
    return e.div(e.sum(1, true));
  };
  const composedLogSoftmax = (x: Tensor) => x.sub(x.logsumexp(1, true));
  for (const [fused, composed] of [[(x: Tensor) => softmax(x, 1), composedSoftmax], [(x: Tensor) => logSoftmax(x, 1), composedLogSoftmax]] as const) {
    const x = toTensor(x0, true);
    const yf = fused(x), yc = composed(x);
    assertClose(await yf.data(), await yc.data(), { atol: 1e-6, rtol: 1e-5, what: 'forward' });
    const [gf] = grad(yf.mul(w).sum(), [x]);
    const [gc] = grad(yc.mul(w).sum(), [x]);
    assertClose(await gf!.data(), await gc!.data(), { atol: 1e-6, rtol: 1e-4, what: 'gradient' });
  }
});

test('the Tensor methods use the fused kernels', async () => {
  const x = tensor([[1, 2, 3], [0, 0, 0]]);
  assertClose(await x.softmax().data(), softmaxRef(arr([2, 3], [1, 2, 3, 0, 0, 0]), -1).data, { atol: 1e-7 });
  assert.is(x.logSoftmax(0).node, null);
  const xg = tensor([1, 2], { requiresGrad: true });
  assert.is(xg.softmax().node?.op, 'softmax');
  assert.is(xg.logSoftmax().node?.op, 'logSoftmax');
});

test('a bad axis names the op and the rank', () => {
  const x = tensor([[1, 2], [3, 4]]);
  assert.throws(() => softmax(x, 2), /softmax: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => logSoftmax(x, -3), /logSoftmax: axis -3 is out of range/);
});

test('empty tensors give empty results', async () => {
  const x = tensor(new Float32Array(0), { shape: [0, 5] });
  assert.equal([...softmax(x).shape], [0, 5]);
  const y = tensor(new Float32Array(0), { shape: [3, 0] });
  assert.equal([...logSoftmax(y).shape], [3, 0]);
});

test.run();
