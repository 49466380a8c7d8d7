// Losses: the registry's cases (test/cases/loss.ts: fused cross-entropy for every reduction,
// label smoothing, ignoreIndex and spatial [B, C, d] logits, MSE; forward against float64
// references on both row plans, backward against finite differences), then each kind of target
// container, stability, the composed op, clear errors for bad targets and flat memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, grad, crossEntropy, mseLoss, layerNorm, softmax, tidy, memory, type Tensor } from '../src/index.js';
import { arr, crossEntropyRef, mseLossRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, randInt, assertClose, toTensor, settle, checkForward, checkBackward, byOp, eachRowPlan } from './harness.js';
import { cases } from './cases/loss.js';

test.before(setup);

const rand = (r: () => number, shape: number[], lo = -3, hi = 3) => arr(shape, randArray(r, shape.reduce((p, d) => p * d, 1), lo, hi));
const classes = (r: () => number, n: number, C: number) => Array.from({ length: n }, () => randInt(r, 0, C - 1));

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference in every registry case, on both row plans`, async () => {
    await eachRowPlan(async (plan) => {
      for (const c of opCases) await checkForward(c, plan);
    });
  });

  test(`${op} gradients match finite differences`, async () => {
    for (const c of opCases.filter((k) => k.grad)) await checkBackward(c);
  });
}

test('targets may be a number array, an Int32Array or a tensor of integers', async () => {
  const r = rng(5);
  const x = rand(r, [6, 9]);
  const t = classes(r, 6, 9);
  const expected = crossEntropyRef(x, t).data;
  for (const targets of [t, Int32Array.from(t), tensor(t)] as const) {
    assertClose(await crossEntropy(toTensor(x), targets).data(), expected, { atol: 1e-5, rtol: 1e-5, what: targets.constructor.name });
  }
});

test('crossEntropy is stable for huge logits', async () => {
  const x = arr([2, 3], [1e4, 1e4 + 1, 1e4 - 2, -1e4, -1e4 - 3, -1e4 + 0.5]);
  const y = await crossEntropy(toTensor(x), [1, 0], { reduction: 'none' }).data();
  assertClose(y, crossEntropyRef(x, [1, 0], { reduction: 'none' }).data, { atol: 1e-4, rtol: 1e-5 });
});

test('fused crossEntropy agrees with −Σ q·logSoftmax composed from primitive ops, gradient included', async () => {
  const r = rng(17);
  const x = toTensor(rand(r, [5, 8]), true);
  const t = classes(r, 5, 8);
  const eps = 0.1;
  const q = tensor(t.flatMap((c) => Array.from({ length: 8 }, (_, k) => (k === c ? 1 - eps : 0) + eps / 8)), { shape: [5, 8] });
  const composed = (u: Tensor) => q.mul(u.logSoftmax(-1)).sum(-1).neg().mean();
  const fused = crossEntropy(x, t, { labelSmoothing: eps });
  const ref = composed(x);
  assertClose(await fused.data(), await ref.data(), { atol: 1e-6, rtol: 1e-5, what: 'loss' });
  const [gf] = grad(fused, [x]);
  const [gc] = grad(ref, [x]);
  assertClose(await gf!.data(), await gc!.data(), { atol: 1e-6, rtol: 1e-4, what: 'gradient' });
});

test('bad targets give clear errors (host) or NaN (tensor targets, checked on the GPU)', async () => {
  const x = tensor(new Float32Array(12), { shape: [3, 4] });
  assert.throws(() => crossEntropy(x, [0, 4, 1]), /crossEntropy: target 4 at index 1 is not a class index in \[0, 4\) \(logits \[3, 4\]\)/);
  assert.throws(() => crossEntropy(x, Int32Array.from([0, -1, 1])), /crossEntropy: target -1 at index 1/);
  assert.throws(() => crossEntropy(x, [0, 1.5, 1]), /target 1.5 at index 1/);
  assert.throws(() => crossEntropy(x, [0, 1]), /crossEntropy: 2 targets for logits \[3, 4\] \(expected 3, shape \[3\]\)/);
  assert.throws(() => crossEntropy(x, tensor([[0, 1, 2]])), /crossEntropy: targets \[1, 3\] do not match logits \[3, 4\] \(expected \[3\]\)/);
  assert.throws(() => crossEntropy(tensor([1, 2]), [0]), /crossEntropy: logits must be \[B, C\] or \[B, C, \.\.\.\], got \[2\]/);
  assert.throws(() => crossEntropy(x, [0, 1, 2], { reduction: 'avg' as 'mean' }), /crossEntropy: reduction must be one of mean, sum, none/);
  assert.throws(() => crossEntropy(x, [0, 1, 2], { labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\]/);
  const y = await crossEntropy(x, tensor([0, 7, 1]), { reduction: 'none' }).data();
  assert.ok(Number.isNaN(y[1]!) && y[0] === y[2], `expected NaN only for the out-of-range target, got ${[...y]}`);
});

test('a training-style loop of layerNorm, softmax and crossEntropy holds its memory flat', async () => {
  const r = rng(23);
  const x = toTensor(rand(r, [4, 3, 8]), true), w = toTensor(rand(r, [8]), true), b = toTensor(rand(r, [8]), true);
  const targets = tensor(classes(r, 12, 8), { shape: [4, 3] });
  const step = () => tidy(() => {
    const h = softmax(layerNorm(x, 8, w, b), -1).mul(5);
    crossEntropy(h.permute(0, 2, 1), targets, { labelSmoothing: 0.1, ignoreIndex: 3 }).backward();
  });
  const zero = () => [x, w, b].forEach((t) => t.zeroGrad());
  step();
  zero();
  await settle();
  const before = memory();
  for (let i = 0; i < 5; i++) {
    step();
    zero();
  }
  const after = memory();
  await settle();
  assert.is(after.liveTensors, before.liveTensors, 'live tensors');
  assert.is(after.liveBytes, before.liveBytes, 'live bytes');
});

test('mseLoss names mismatched shapes', () => {
  const r = rng(19);
  assert.throws(() => mseLoss(toTensor(rand(r, [3, 5])), tensor([1, 2, 3])), /mseLoss: input \[3, 5\] and target \[3\] must have the same shape/);
});

test.run();
