// Index ops: the registry's cases (test/cases/gather.ts: indexSelect, gather and scatterAdd against
// float64 references, with gradients), then every form of host indices (number[], Int32Array,
// nested arrays), repeated indices summing deterministically, and errors for indices out of range.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gather, indexSelect, scatterAdd, tensor, type Tensor } from '../src/index.js';
import { arr, gatherRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, randInt, assertClose, toTensor, gradCheck, sameShapeAs, checkForward, checkBackward, byOp } from './harness.js';
import { cases } from './cases/gather.js';

test.before(setup);

const numel = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const randArr = (seed: number, shape: number[]) => arr(shape, randArray(rng(seed), numel(shape)));
const randIndices = (seed: number, count: number, n: number) => {
  const r = rng(seed);
  return Array.from({ length: count }, () => randInt(r, 0, n - 1));
};

/** Nested arrays of an index Arr (the host form gather accepts). */
function nested(a: Arr): unknown {
  const build = (d: number, off: number): unknown => {
    if (d === a.shape.length) return a.data[off];
    const stride = numel(a.shape.slice(d + 1));
    return Array.from({ length: a.shape[d]! }, (_, i) => build(d + 1, off + i * stride));
  };
  return build(0, 0);
}

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference${opCases.some((c) => c.grad) ? ', and its gradients (summing repeated indices) finite differences' : ''}`, async () => {
    for (const c of opCases) {
      await checkForward(c);
      if (c.grad) await checkBackward(c);
    }
  });
}

test('indexSelect picks slices along any axis, from number[], Int32Array or a tensor', async () => {
  const a = randArr(1, [5, 7, 3]);
  const t = toTensor(a);
  for (const axis of [0, 1, 2, -1]) {
    const ax = axis < 0 ? axis + 3 : axis;
    const n = a.shape[ax]!;
    // Repeats, reversed order, and more indices than the axis has.
    const idx = randIndices(axis + 10, n + 4, n);
    const expected = gatherRef.indexSelect(a, ax, idx);
    for (const [what, given] of [['number[]', idx], ['Int32Array', Int32Array.from(idx)], ['tensor', tensor(idx)]] as [string, number[] | Int32Array | Tensor][]) {
      const y = indexSelect(t, axis, given);
      sameShapeAs(y, expected.shape, `indexSelect axis ${axis} (${what})`);
      assertClose(await y.data(), expected.data, { atol: 0, rtol: 0, what: `indexSelect axis ${axis} (${what})` });
    }
  }
  assertClose(await t.indexSelect(1, [6, 0]).data(), gatherRef.indexSelect(a, 1, [6, 0]).data, { atol: 0, rtol: 0, what: 'Tensor.indexSelect' });
  // gather on a 1-D input takes a flat Int32Array.
  const v = randArr(3, [6]);
  const picked = await gather(toTensor(v), 0, Int32Array.from([5, 0, 0, 2, 5, 1, 3])).data();
  assertClose(picked, [5, 0, 0, 2, 5, 1, 3].map((i) => v.data[i]!), { atol: 0, rtol: 0, what: 'gather with an Int32Array' });
  sameShapeAs(indexSelect(t, 0, []), [0, 7, 3], 'no indices');
});

test('indexSelect gradients sum over repeated indices (host and tensor indices, both paths)', async () => {
  const a = randArr(2, [4, 9, 3]);
  const idx = [8, 2, 2, 0, 8, 8, 5, 2, 1, 1, 7];
  for (const axis of [0, 1, 2]) {
    const n = a.shape[axis]!;
    const ix = idx.map((v) => v % n);
    await gradCheck({ inputs: [a], gpu: (x) => indexSelect(x, axis, ix), ref: (x) => gatherRef.indexSelect(x, axis, ix), what: `indexSelect axis ${axis} (host)` });
    const it = tensor(ix);
    await gradCheck({ inputs: [a], gpu: (x) => indexSelect(x, axis, it), ref: (x) => gatherRef.indexSelect(x, axis, ix), what: `indexSelect axis ${axis} (tensor)` });
  }
});

test('indexSelect backward is reproducible bit for bit and equals the host-index result', async () => {
  const a = randArr(3, [3, 50, 17]);
  const idx = randIndices(4, 400, 50);
  const g = toTensor(randArr(5, [3, 400, 17]));
  const grads: Float32Array[] = [];
  for (const given of [idx, tensor(idx), idx, tensor(idx)]) {
    const x = toTensor(a, true);
    indexSelect(x, 1, given).backward(g);
    grads.push(await x.grad!.data());
  }
  for (const gr of grads.slice(1)) assertClose(gr, grads[0]!, { atol: 0, rtol: 0, what: 'repeat' });
});

test('an index tensor with an out-of-range value reads NaN there and adds no gradient', async () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
  const y = indexSelect(x, 1, tensor([2, 3, 0, -1, 0.5]));
  const v = await y.data();
  assert.equal([v[0], v[2], v[5], v[7]], [3, 1, 6, 4]);
  for (const k of [1, 3, 4, 6, 8, 9]) assert.ok(Number.isNaN(v[k]!), `element ${k} is NaN`);
  y.backward(tensor(new Float32Array(10).fill(1), { shape: [2, 5] }));
  assert.equal([...(await x.grad!.data())], [1, 0, 1, 1, 0, 1]);
});

test('host indices out of range give a clear error before anything runs', () => {
  const t = tensor(new Float32Array(15), { shape: [3, 5] });
  assert.throws(() => indexSelect(t, 1, [0, 5]), /indexSelect: index 5 \(at position 1\) is out of range for axis 1 of size 5 \(input shape \[3, 5\]\)/);
  assert.throws(() => indexSelect(t, 0, [-1]), /indexSelect: index -1 \(at position 0\) is out of range for axis 0 of size 3/);
  assert.throws(() => indexSelect(t, 0, [1.5]), /indexSelect: index 1.5/);
  assert.throws(() => indexSelect(t, 2, [0]), /indexSelect: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => indexSelect(t, 0, tensor([[0, 1]])), /indexSelect: indices must be 1-D, got shape \[1, 2\] \(input shape \[3, 5\]\)/);
  assert.throws(() => gather(t, 1, [[0, 7]]), /gather: index 7 \(at position 1\) is out of range for axis 1 of size 5/);
  assert.throws(() => gather(t, 1, [0, 1]), /gather: index of shape \[2\] does not fit input \[3, 5\] along axis 1/);
  assert.throws(() => gather(t, 1, [[0], [1], [2], [0]]), /gather: index of shape \[4, 1\] does not fit input \[3, 5\] along axis 1/);
  assert.throws(() => scatterAdd(t, 1, [[0, 1]], tensor([[1, 2, 3]])), /scatterAdd: src of shape \[1, 3\] must have the index's shape \[1, 2\]/);
});

/** A random index array of `shape` with values in [0, n). */
function randIndexArr(seed: number, shape: number[], n: number): Arr {
  return arr(shape, randIndices(seed, numel(shape), n));
}

test('gather follows torch.gather on every axis, with smaller index extents', async () => {
  const a = randArr(6, [4, 6, 5]);
  const t = toTensor(a);
  const cases: [number, number[]][] = [
    [0, [7, 6, 5]],
    [1, [4, 9, 5]],
    [2, [4, 6, 2]],
    [1, [2, 3, 4]],
    [-1, [3, 1, 8]],
  ];
  for (const [axis, shape] of cases) {
    const ax = axis < 0 ? axis + 3 : axis;
    const index = randIndexArr(axis * 13 + shape[0]!, shape, a.shape[ax]!);
    const expected = gatherRef.gather(a, ax, index);
    const fromTensor = gather(t, axis, toTensor(index));
    sameShapeAs(fromTensor, shape, `gather axis ${axis}`);
    assertClose(await fromTensor.data(), expected.data, { atol: 0, rtol: 0, what: `gather axis ${axis} (tensor index)` });
    assertClose(await t.gather(axis, nested(index) as number[][][]).data(), expected.data, { atol: 0, rtol: 0, what: `gather axis ${axis} (nested index)` });
  }
});

test('gather gradients scatter-add into the input, repeated indices summing', async () => {
  const a = randArr(7, [4, 6, 5]);
  for (const [axis, shape] of [[1, [4, 9, 5]], [0, [6, 3, 5]], [2, [2, 6, 7]]] as [number, number[]][]) {
    const index = randIndexArr(axis + 40, shape, a.shape[axis]!);
    const it = toTensor(index);
    await gradCheck({ inputs: [a], gpu: (x) => gather(x, axis, it), ref: (x) => gatherRef.gather(x, axis, index), what: `gather axis ${axis}` });
    await gradCheck({ inputs: [a], gpu: (x) => gather(x, axis, nested(index) as number[][][]), ref: (x) => gatherRef.gather(x, axis, index), what: `gather axis ${axis} (nested)` });
  }
});

test('scatterAdd adds src at the indexed positions, with gradients for input and src', async () => {
  const base = randArr(8, [3, 7, 4]);
  for (const [axis, shape] of [[1, [3, 11, 4]], [0, [5, 7, 4]], [2, [2, 5, 9]]] as [number, number[]][]) {
    const index = randIndexArr(axis + 50, shape, base.shape[axis]!);
    const src = randArr(axis + 60, shape);
    const expected = gatherRef.scatterAdd(base, axis, index, src);
    const y = scatterAdd(toTensor(base), axis, toTensor(index), toTensor(src));
    assertClose(await y.data(), expected.data, { atol: 1e-6, rtol: 1e-6, what: `scatterAdd axis ${axis}` });
    const it = toTensor(index);
    await gradCheck({
      inputs: [base, src],
      gpu: (b, s) => b.scatterAdd(axis, it, s),
      ref: (b, s) => gatherRef.scatterAdd(b, axis, index, s),
      what: `scatterAdd axis ${axis}`,
    });
  }
});

test('a long repeated-index gradient sums in a fixed order (identical across runs)', async () => {
  // Every index points at the same row: one destination sums 3000 contributions.
  const idx = new Array(3000).fill(3);
  const g = toTensor(randArr(9, [3000, 2]));
  const results: Float32Array[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const x = tensor(new Float32Array(10), { shape: [5, 2], requiresGrad: true });
    indexSelect(x, 0, rep === 1 ? tensor(idx) : idx).backward(g);
    results.push(await x.grad!.data());
  }
  const gd = await g.data();
  let s0 = 0, s1 = 0;
  for (let k = 0; k < 3000; k++) { s0 += gd[2 * k]!; s1 += gd[2 * k + 1]!; }
  assertClose([results[0]![6]!, results[0]![7]!], [s0, s1], { atol: 1e-4, rtol: 1e-5, what: 'row 3 sum' });
  for (const r of results) assert.equal([...r], [...results[0]!]);
});

test.run();
