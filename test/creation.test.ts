// Creation: full/zeros/ones and their *Like forms, arange with PyTorch's length and value rules,
// eye for square and rectangular shapes, and the errors for bad arguments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { arange, eye, full, fullLike, ones, onesLike, tensor, zeros, zerosLike } from '../src/index.js';
import { setup, assertClose, sameShapeAs } from './harness.js';

test.before(setup);

test('full, zeros, ones and the *Like forms fill every element', async () => {
  const cases: [string, ReturnType<typeof full>, number, number[]][] = [
    ['full', full([3, 37], -2.5), -2.5, [3, 37]],
    ['zeros', zeros([5, 1, 3]), 0, [5, 1, 3]],
    ['ones', ones([1001]), 1, [1001]],
    ['full scalar', full([], 7), 7, []],
  ];
  for (const [what, t, v, shape] of cases) {
    sameShapeAs(t, shape, what);
    assert.ok((await t.data()).every((x) => x === v), `${what}: every element is ${v}`);
  }
  const x = tensor(new Float32Array(10), { shape: [2, 5] });
  for (const [what, t, v] of [['zerosLike', zerosLike(x), 0], ['onesLike', onesLike(x), 1], ['fullLike', fullLike(x, 3.25), 3.25]] as const) {
    sameShapeAs(t, [2, 5], what);
    assert.ok((await t.data()).every((e) => e === v), `${what}: every element is ${v}`);
  }
  assert.ok(zeros([2], { requiresGrad: true }).requiresGrad, 'requiresGrad option');
  assert.throws(() => zeros([2, -3]), /full: invalid shape \[2, -3\]/);
});

test('arange matches PyTorch: length ceil((end - start) / step), values start + i·step', async () => {
  const cases: [number, number | undefined, number | undefined, number[]][] = [
    [5, undefined, undefined, [0, 1, 2, 3, 4]],
    [2, 7, undefined, [2, 3, 4, 5, 6]],
    [1, 2.5, 0.5, [1, 1.5, 2]],
    [0, 1, 0.3, [0, 0.3, 0.6, 0.9]],
    [5, 0, -2, [5, 3, 1]],
    [-1, -3.5, -1, [-1, -2, -3]],
    [3, 3, 1, []],
    [0, 0.1, 0.1, [0]],
  ];
  for (const [s, e, st, expected] of cases) {
    const t = e === undefined ? arange(s) : arange(s, e, st);
    const what = `arange(${s}, ${e}, ${st})`;
    sameShapeAs(t, [expected.length], what);
    assertClose(await t.data(), expected.map(Math.fround), { atol: 0, rtol: 0, what });
  }
  const big = await arange(100003).data();
  assert.ok(big.every((v, i) => v === i), 'arange(100003) is exact');
  assert.throws(() => arange(0, 5, 0), /arange: step must be nonzero/);
  assert.throws(() => arange(0, 5, -1), /arange: end 5 cannot be reached from start 0 with step -1/);
  assert.throws(() => arange(0, Infinity), /arange: .* must be finite/);
});

test('eye puts ones on the main diagonal of square and rectangular matrices', async () => {
  for (const [n, m] of [[1, 1], [5, 5], [3, 7], [7, 3], [300, 301]] as [number, number][]) {
    const t = m === n ? eye(n) : eye(n, m);
    sameShapeAs(t, [n, m], `eye(${n}, ${m})`);
    const expected = new Float32Array(n * m);
    for (let i = 0; i < Math.min(n, m); i++) expected[i * m + i] = 1;
    assertClose(await t.data(), expected, { atol: 0, rtol: 0, what: `eye(${n}, ${m})` });
  }
  sameShapeAs(eye(0, 4), [0, 4], 'eye(0, 4)');
  assert.throws(() => eye(2.5), /eye: invalid shape \[2.5, 2.5\]/);
});

test.run();
