// Movement ops: the registry's cases (test/cases/movement.ts: permute, expand, Python slices,
// flip, pad, concat, stack, split against float64 references, with gradients), then views
// (reshape, flatten, squeeze, unsqueeze), argument forms, and errors that name the op and shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concat, split, stack, tensor, type Tensor } from '../src/index.js';
import * as ref from '../src/tensor/reference/movement.js';
import { arr, gatherRef, permute as refPermute, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck, sameShapeAs, checkForward, checkBackward, byOp } from './harness.js';
import { cases, pythonSlices } from './cases/movement.js';

test.before(setup);

const numel = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const randArr = (seed: number, shape: number[]) => arr(shape, randArray(rng(seed), numel(shape)));

/** Picks `indices` along `axis` (a slice or a flip is one such list): the indexSelect reference. */
const refTake = gatherRef.indexSelect;
const refPad = (a: Arr, pads: [number, number][], value: number) => ref.pad(a, pads, value);
const refConcat = ref.concat;
const refExpand = ref.expand;
const reshaped = (a: Arr, shape: number[]): Arr => arr(shape, a.data);

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference exactly${opCases.some((c) => c.grad) ? ', and its gradient finite differences' : ''}`, async () => {
    for (const c of opCases) {
      await checkForward(c);
      if (c.grad) await checkBackward(c);
    }
  });
}

// ---------------------------------------------------------------- views

test('reshape, flatten, squeeze and unsqueeze keep the values and give the right shapes', async () => {
  const a = randArr(1, [2, 3, 1, 5]);
  const t = toTensor(a);
  const cases: [string, Tensor, number[]][] = [
    ['reshape [6, 5]', t.reshape(6, 5), [6, 5]],
    ['reshape [-1, 10]', t.reshape([-1, 10]), [3, 10]],
    ['reshape [30]', t.reshape(30), [30]],
    ['flatten()', t.flatten(), [30]],
    ['flatten(1)', t.flatten(1), [2, 15]],
    ['flatten(1, 2)', t.flatten(1, 2), [2, 3, 5]],
    ['flatten(-2)', t.flatten(-2), [2, 3, 5]],
    ['squeeze()', t.squeeze(), [2, 3, 5]],
    ['squeeze(2)', t.squeeze(2), [2, 3, 5]],
    ['squeeze(-2)', t.squeeze(-2), [2, 3, 5]],
    ['squeeze(0) of a non-1 axis', t.squeeze(0), [2, 3, 1, 5]],
    ['unsqueeze(0)', t.unsqueeze(0), [1, 2, 3, 1, 5]],
    ['unsqueeze(4)', t.unsqueeze(4), [2, 3, 1, 5, 1]],
    ['unsqueeze(-1)', t.unsqueeze(-1), [2, 3, 1, 5, 1]],
  ];
  for (const [what, y, shape] of cases) {
    sameShapeAs(y, shape, what);
    assertClose(await y.data(), a.data, { what, atol: 0, rtol: 0 });
  }
  const s = tensor(3.5);
  sameShapeAs(s.flatten(), [1], 'flatten of a scalar');
  sameShapeAs(s.unsqueeze(0), [1], 'unsqueeze of a scalar');
});

test('gradients flow through views unchanged', async () => {
  const a = randArr(2, [3, 4, 5]);
  await gradCheck({
    inputs: [a],
    gpu: (x) => x.reshape(4, 15).unsqueeze(1).flatten(0, 1).squeeze().reshape(60),
    ref: (x) => reshaped(x, [60]),
    what: 'views',
  });
});

test('reshape, flatten and squeeze errors name the op and the shapes', () => {
  const t = tensor(new Float32Array(6), { shape: [2, 3] });
  assert.throws(() => t.reshape(4), /reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4\]/);
  assert.throws(() => t.reshape(-1, -1), /reshape: only one -1 allowed/);
  assert.throws(() => t.flatten(1, 0), /flatten: start dim 1 is after end dim 0 for shape \[2, 3\]/);
  assert.throws(() => t.squeeze(2), /squeeze: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => t.unsqueeze(4), /unsqueeze: axis 4 is out of range/);
});

// ---------------------------------------------------------------- permute, transpose

test('permute takes negative axes; transpose and .T swap the last two or the given axes, with gradients', async () => {
  const a = randArr(3, [2, 3, 5, 7]);
  const t = toTensor(a);
  assertClose(await t.permute(-1, 0, -2, 1).data(), refPermute(a, [3, 0, 2, 1]).data, { what: 'permute with negative axes', atol: 0, rtol: 0 });
  assertClose(await t.transpose().data(), refPermute(a, [0, 1, 3, 2]).data, { what: 'transpose()', atol: 0, rtol: 0 });
  assertClose(await t.transpose(0, 2).data(), refPermute(a, [2, 1, 0, 3]).data, { what: 'transpose(0, 2)', atol: 0, rtol: 0 });
  assertClose(await t.T.data(), refPermute(a, [0, 1, 3, 2]).data, { what: '.T', atol: 0, rtol: 0 });
  await gradCheck({ inputs: [a], gpu: (x) => x.transpose(1, -1), ref: (x) => refPermute(x, [0, 3, 2, 1]), what: 'transpose' });
});

test('permute and transpose reject bad axes, naming the shape', () => {
  const t = tensor(new Float32Array(6), { shape: [2, 3] });
  assert.throws(() => t.permute(0), /permute: needs 2 axes for shape \[2, 3\], got \[0\]/);
  assert.throws(() => t.permute(0, 0), /permute: \[0, 0\] is not a permutation/);
  assert.throws(() => t.permute(0, 2), /permute: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => tensor([1, 2]).transpose(), /transpose: needs rank >= 2, got shape \[2\]/);
});

// ---------------------------------------------------------------- expand

test('expand broadcasts size-1 and new leading axes; its gradient sums them back', async () => {
  const a = randArr(4, [3, 1, 5]);
  const t = toTensor(a);
  const y = t.expand(2, 3, 4, 5);
  sameShapeAs(y, [2, 3, 4, 5]);
  assertClose(await y.data(), refExpand(a, [2, 3, 4, 5]).data, { what: 'expand', atol: 0, rtol: 0 });
  assertClose(await t.expand(-1, 6, -1).data(), refExpand(a, [3, 6, 5]).data, { what: 'expand with -1', atol: 0, rtol: 0 });
  await gradCheck({ inputs: [a], gpu: (x) => x.expand(2, 3, 4, 5), ref: (x) => refExpand(x, [2, 3, 4, 5]), what: 'expand' });
  assert.throws(() => t.expand(3, 2, 4), /expand: /);
  assert.throws(() => t.expand(2, 5), /expand: cannot expand \[3, 1, 5\] to fewer dimensions, \[2, 5\]/);
  assert.throws(() => t.expand(-1, 3, 4, 5), /expand: -1 at position 0 of \[-1, 3, 4, 5\] is a new leading dimension/);
  assertClose(await t.expand(2, -1, 4, -1).data(), refExpand(a, [2, 3, 4, 5]).data, { what: 'expand with -1 after a new axis', atol: 0, rtol: 0 });
});

// ---------------------------------------------------------------- slice

test('slice gives Python\'s lengths and takes a negative axis number', async () => {
  const a = randArr(5, [3, 7, 4]);
  const t = toTensor(a);
  for (const [s, e, step, idx] of pythonSlices) sameShapeAs(t.slice(1, s, e, step), [3, idx.length, 4], `slice(1, ${s}, ${e}, ${step})`);
  // The last axis and a negative axis number.
  assertClose(await t.slice(-1, 3, 0, -2).data(), refTake(a, 2, [3, 1]).data, { what: 'slice(-1, 3, 0, -2)', atol: 0, rtol: 0 });
});

test('slice rejects a zero or fractional step', () => {
  const t = tensor([1, 2, 3]);
  assert.throws(() => t.slice(0, 0, 3, 0), /slice: step must be a nonzero integer, got 0/);
  assert.throws(() => t.slice(0, 0, 3, 1.5), /slice: step must be a nonzero integer, got 1.5/);
  assert.throws(() => t.slice(1, 0, 3), /slice: axis 1 is out of range for a tensor of rank 1/);
});

// ---------------------------------------------------------------- flip

test('flip takes a negative axis and rejects a repeated one', async () => {
  const a = randArr(7, [3, 5, 2, 7]);
  const t = toTensor(a);
  const rev = (n: number) => [...Array(n).keys()].reverse();
  const ref = (x: Arr, axes: number[]) => axes.reduce((acc, ax) => refTake(acc, ax, rev(x.shape[ax]!)), x);
  assertClose(await t.flip(-2).data(), ref(a, [2]).data, { what: 'flip(-2)', atol: 0, rtol: 0 });
  assert.throws(() => t.flip([1, 1]), /flip: repeated axis/);
});

// ---------------------------------------------------------------- pad

test('pad rejects negative paddings and more pairs than axes', async () => {
  const a = randArr(8, [2, 3, 5, 4]);
  const t = toTensor(a);
  assert.throws(() => t.pad([[-1, 0]]), /pad: paddings must be non-negative integers/);
  assert.throws(() => t.pad([[0, 0], [0, 0], [0, 0], [0, 0], [1, 1]]), /pad: 5 padding pairs for a tensor of rank 4 \(shape \[2, 3, 5, 4\]\)/);
});

// ---------------------------------------------------------------- concat, stack, split

test('concat joins along any axis and sends each input its part of the gradient', async () => {
  const a = randArr(9, [2, 3, 5]), b = randArr(10, [2, 4, 5]), c = randArr(11, [2, 1, 5]);
  const ts = [a, b, c].map((x) => toTensor(x));
  const y = concat(ts, 1);
  sameShapeAs(y, [2, 8, 5]);
  assertClose(await y.data(), refConcat([a, b, c], 1).data, { what: 'concat axis 1', atol: 0, rtol: 0 });
  const d = randArr(12, [2, 3, 2]);
  assertClose(await concat([ts[0]!, toTensor(d)], -1).data(), refConcat([a, d], 2).data, { what: 'concat axis -1', atol: 0, rtol: 0 });
  const e = randArr(13, [3, 3, 5]);
  assertClose(await concat([ts[0]!, toTensor(e)], 0).data(), refConcat([a, e], 0).data, { what: 'concat axis 0', atol: 0, rtol: 0 });
  await gradCheck({ inputs: [a, b, c], gpu: (x, y2, z) => concat([x, y2, z], 1), ref: (x, y2, z) => refConcat([x, y2, z], 1), what: 'concat' });
  // A constant input among differentiable ones gets no gradient but does not break the others.
  const constC = toTensor(c);
  await gradCheck({ inputs: [a, b], gpu: (x, y2) => concat([x, constC, y2], 1), ref: (x, y2) => refConcat([x, c, y2], 1), what: 'concat with a constant' });
});

test('concat errors name the op and every shape', () => {
  const a = tensor(new Float32Array(6), { shape: [2, 3] });
  const b = tensor(new Float32Array(8), { shape: [4, 2] });
  assert.throws(() => concat([a, b], 0), /concat: shapes \[2, 3\], \[4, 2\] differ outside axis 0/);
  assert.throws(() => concat([], 0), /concat: needs at least one tensor/);
  assert.throws(() => concat([a, a], 2), /concat: axis 2 is out of range/);
});

test('stack adds a new axis at any position, with gradients', async () => {
  const a = randArr(14, [3, 5]), b = randArr(15, [3, 5]);
  const ta = toTensor(a), tb = toTensor(b);
  for (const axis of [0, 1, 2, -1]) {
    const ax = axis < 0 ? axis + 3 : axis;
    const y = stack([ta, tb], axis);
    const ref = refConcat([a, b].map((x) => reshaped(x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)])), ax);
    sameShapeAs(y, ref.shape, `stack axis ${axis}`);
    assertClose(await y.data(), ref.data, { what: `stack axis ${axis}`, atol: 0, rtol: 0 });
  }
  await gradCheck({
    inputs: [a, b],
    gpu: (x, y) => stack([x, y], 1),
    ref: (x, y) => refConcat([reshaped(x, [3, 1, 5]), reshaped(y, [3, 1, 5])], 1),
    what: 'stack',
  });
  assert.throws(() => stack([ta, tensor([1, 2])]), /stack: shapes differ: \[3, 5\], \[2\]/);
});

test('split cuts by sizes or equal sections, and the pieces carry gradients back', async () => {
  const a = randArr(16, [4, 9, 2]);
  const t = toTensor(a);
  const parts = split(t, [2, 3, 4], 1);
  assert.equal(parts.map((p) => [...p.shape]), [[4, 2, 2], [4, 3, 2], [4, 4, 2]]);
  let at = 0;
  for (const [k, p] of parts.entries()) {
    const n = p.shape[1]!;
    assertClose(await p.data(), refTake(a, 1, [...Array(n).keys()].map((i) => i + at)).data, { what: `split piece ${k}`, atol: 0, rtol: 0 });
    at += n;
  }
  const thirds = split(t, 3, 1);
  assert.equal(thirds.map((p) => p.shape[1]), [3, 3, 3]);
  assertClose(await thirds[2]!.data(), refTake(a, 1, [6, 7, 8]).data, { what: 'split into sections', atol: 0, rtol: 0 });
  // Gradient through a recombination of the pieces (reversed order): the concat of the pieces' grads.
  await gradCheck({
    inputs: [a],
    gpu: (x) => concat(split(x, [2, 3, 4], 1).reverse(), 1),
    ref: (x) => refTake(x, 1, [5, 6, 7, 8, 2, 3, 4, 0, 1]),
    what: 'split',
  });
  assert.throws(() => split(t, 4, 1), /split: cannot split axis 1 of size 9 into 4 equal parts \(shape \[4, 9, 2\]\)/);
  assert.throws(() => split(t, [2, 2], 1), /split: sizes \[2, 2\] do not add up to 9 \(axis 1 of \[4, 9, 2\]\)/);
});

test('movement ops compose: a gradient through slice, permute, pad and expand', async () => {
  const a = randArr(17, [3, 6, 2]);
  await gradCheck({
    inputs: [a],
    gpu: (x) => x.slice(1, 5, 0, -2).permute(2, 0, 1).pad([[1, 0]]).unsqueeze(0).expand(2, -1, -1, -1),
    ref: (x) => {
      const p = refPad(refPermute(refTake(x, 1, [5, 3, 1]), [2, 0, 1]), [[1, 0]], 0);
      return refExpand(reshaped(p, [1, ...p.shape]), [2, ...p.shape]);
    },
    what: 'composed movement',
  });
});

test.run();
