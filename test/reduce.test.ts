// Reductions: the registry's cases (test/cases/reduce.ts: sum/mean/max/min/logsumexp/var over any
// axes through both kernels, argmax/argmin with ties, forward against float64 references and
// backward against finite differences), then var's correction, stability, ties, sumTo, edge cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, type Tensor } from '../src/index.js';
import { sumTo } from '../src/tensor/ops/reduce.js';
import * as ref from '../src/tensor/reference/index.js';
import { arr, reduceAxes, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck, sameShapeAs, checkForward, checkBackward, byOp } from './harness.js';
import { cases } from './cases/reduce.js';

test.before(setup);

const numel = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const randArr = (seed: number, shape: number[], lo = -2, hi = 2) => arr(shape, randArray(rng(seed), numel(shape), lo, hi));

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference over any axes${op.startsWith('arg') ? ', ties going to the lowest index' : ', with and without keepdim'}`, async () => {
    for (const c of opCases) await checkForward(c);
  });

  if (opCases.some((c) => c.grad)) {
    test(`${op} gradient matches finite differences on both kernels`, async () => {
      for (const c of opCases.filter((k) => k.grad)) await checkBackward(c);
    });
  }
}

test('var with correction 0 is the population variance', async () => {
  const a = randArr(41, [4, 80]);
  const t = toTensor(a);
  for (const [axes, what] of [[[1], 'row kernel'], [[0], 'column kernel']] as [number[], string][]) {
    assertClose(await t.var(axes, false, 0).data(), reduceAxes(a, axes, ref.variance(0)).data, { what: `var correction 0 (${what})`, atol: 1e-5, rtol: 2e-5 });
  }
  await gradCheck({ inputs: [randArr(42, [3, 9])], gpu: (x) => x.var(1, false, 0), ref: (x) => reduceAxes(x, [1], ref.variance(0)), what: 'var correction 0' });
});

test('logsumexp is stable for large inputs and var for a large common offset', async () => {
  const a = randArr(43, [3, 90], 1000, 1001);
  const t = toTensor(a);
  assertClose(await t.logsumexp(1).data(), reduceAxes(a, [1], ref.logsumexp).data, { what: 'logsumexp row kernel', atol: 1e-3, rtol: 1e-6 });
  assertClose(await t.logsumexp(0).data(), reduceAxes(a, [0], ref.logsumexp).data, { what: 'logsumexp column kernel', atol: 1e-3, rtol: 1e-6 });
  assertClose(await t.var(1).data(), reduceAxes(a, [1], ref.variance(1)).data, { what: 'var around 1000', atol: 1e-3, rtol: 1e-3 });
});

test('a long sum over 100,003 elements keeps f32 accuracy', async () => {
  const a = randArr(44, [100003], 0, 1);
  const t = toTensor(a);
  const s = await t.sum().item();
  const e = ref.sum([...a.data]);
  assert.ok(Math.abs(s - e) <= 1e-5 * e, `sum ${s} vs ${e}`);
  assertClose([await t.mean().item()], [e / 100003], { what: 'mean', rtol: 1e-5 });
});

test('max and min share the gradient equally among tied extremes', async () => {
  const x = tensor([[2, 1, 2, 2], [0, 5, -1, 5]], { requiresGrad: true });
  x.max(1).sum().backward();
  assertClose(await x.grad!.data(), [1 / 3, 0, 1 / 3, 1 / 3, 0, 0.5, 0, 0.5], { what: 'max ties' });
  const y = tensor([[3, 3], [-4, 1]], { requiresGrad: true });
  y.min().backward();
  assertClose(await y.grad!.data(), [0, 0, 1, 0], { what: 'min over all' });
  const z = tensor([[3, 3], [-4, 1]], { requiresGrad: true });
  z.min(0).sum().backward();
  assertClose(await z.grad!.data(), [0, 0, 1, 1], { what: 'min over axis 0' });
});

test('argmax and argmin break ties toward the lowest index in a long row', async () => {
  // A tie between a late and an early position in a long row: the row kernel's lanes see the
  // late one first, and still answer the early one.
  const row = new Float32Array(200).fill(0);
  row[130] = 9; row[3] = 9; row[70] = 9;
  assert.is(await tensor(row).argmax().item(), 3);
  row.fill(1); row[199] = -2; row[64] = -2;
  assert.is(await tensor(row).argmin().item(), 64);
});

test('sumTo sums a broadcast gradient back down to the operand shape', async () => {
  const a = randArr(46, [4, 3, 5]);
  const t = toTensor(a);
  const cases: [number[], number[]][] = [
    [[3, 1], [0, 2]],
    [[1, 5], [0, 1]],
    [[5], [0, 1]],
    [[4, 1, 5], [1]],
    [[], [0, 1, 2]],
    [[4, 3, 5], []],
  ];
  for (const [shape, axes] of cases) {
    const y = sumTo(t, shape);
    sameShapeAs(y, shape, `sumTo [${shape}]`);
    assertClose(await y.data(), reduceAxes(a, axes, ref.sum).data, { what: `sumTo [${shape}]`, atol: 1e-5, rtol: 1e-5 });
  }
  assert.throws(() => sumTo(t, [2, 5]), /sumTo: cannot sum \[4, 3, 5\] down to \[2, 5\]/);
  assert.throws(() => sumTo(t, [1, 4, 3, 5]), /sumTo: cannot sum \[4, 3, 5\] down to \[1, 4, 3, 5\]/);
});

test('reductions of a scalar and over no elements behave like NumPy', async () => {
  const s = tensor(2.5);
  assert.is(await s.sum().item(), 2.5);
  assert.is(await s.max().item(), 2.5);
  const e = tensor(new Float32Array(0), { shape: [3, 0] });
  assert.equal([...(await e.sum(1).data())], [0, 0, 0]);
  assert.throws(() => e.max(1), /max: cannot reduce over an empty axis \(shape \[3, 0\]\)/);
  assert.throws(() => e.argmax(1), /argmax: cannot reduce over an empty axis/);
});

test('max, min and logsumexp of rows of infinities give infinities, on both kernels', async () => {
  const ni = -Infinity;
  for (const n of [3, 100]) {
    const neg = tensor(new Float32Array(2 * n).fill(ni).map((v, i) => (i >= n && i % 2 ? 0.5 : v)), { shape: [2, n] });
    const finite = [...Array(n).keys()].filter((j) => (n + j) % 2 === 1).length;
    const lseSecond = Math.log(finite) + 0.5;
    assertClose(await neg.max(1).data(), [ni, 0.5], { what: `max of -inf rows (R=${n})` });
    assertClose(await neg.logsumexp(1).data(), [ni, lseSecond], { what: `logsumexp of -inf rows (R=${n})`, rtol: 1e-6 });
    assertClose(await neg.neg().min(1).data(), [Infinity, -0.5], { what: `min of +inf rows (R=${n})` });
    assertClose(await tensor(new Float32Array(n).fill(1).map((v, i) => (i === 1 ? Infinity : v))).logsumexp().data(), [Infinity], { what: `logsumexp with +inf (R=${n})` });
  }
  assert.equal([...(await tensor(new Float32Array(0), { shape: [2, 0] }).logsumexp(1).data())], [ni, ni]);
});

test('reduction errors name the op, the axis and the rank', () => {
  const t = tensor(new Float32Array(6), { shape: [2, 3] });
  assert.throws(() => t.sum(2), /sum: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => t.mean([0, -2]), /mean: repeated axis in \[0, -2\]/);
  assert.throws(() => t.var(-3), /var: axis -3 is out of range/);
  assert.throws(() => t.argmax(5), /argmax: axis 5 is out of range/);
  assert.throws(() => t.logsumexp(1.5), /logsumexp: axis 1.5 is out of range/);
});

test('the reduced gradient of a mean of squares composes with pointwise ops', async () => {
  const a = randArr(47, [6, 11]);
  const sq = (x: Arr) => ref.map(x, (v) => v * v);
  await gradCheck({
    inputs: [a],
    gpu: (x) => x.square().mean(0).sqrt(),
    ref: (x) => ref.map(reduceAxes(sq(x), [0], ref.mean), Math.sqrt),
    what: 'rms over axis 0',
  });
});

test.run();
