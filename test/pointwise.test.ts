// Pointwise ops: the registry's cases (test/cases/pointwise.ts: every table op, broadcasting,
// where, clamp, forward against float64 references and backward against finite differences),
// then scalar operands, the tails, pow's negative bases and exact comparisons.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, type Tensor } from '../src/index.js';
import { arr, map, unaryRef } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck, checkForward, checkBackward, byOp } from './harness.js';
import { cases } from './cases/pointwise.js';

test.before(setup);

for (const [op, opCases] of byOp(cases)) {
  const withGrad = opCases.some((c) => c.grad);
  test(`${op} matches the float64 reference${withGrad ? ' and its gradient matches finite differences' : ''}`, async () => {
    for (const c of opCases) {
      await checkForward(c);
      if (c.grad) await checkBackward(c);
    }
  });
}

test('tanh, sigmoid and gelu stay finite and exact far out in the tails', async () => {
  const xs = [-100, -30, -10, -5, 5, 10, 30, 100];
  const t = tensor(xs);
  for (const op of ['tanh', 'sigmoid', 'gelu'] as const) {
    const y = await t[op]().data();
    // gelu(-10) ~ -7.6e-23: exp(-x²/2) in f32 carries a relative error of about x²·2⁻²⁴.
    assertClose(y, xs.map(unaryRef[op]), { atol: 1e-30, rtol: op === 'gelu' ? 1e-5 : 2e-6, what: op });
  }
});

test('scalar operands on either side match the reference', async () => {
  const r = rng(5);
  const x = arr([4, 9], randArray(r, 36, 0.5, 2));
  const t = toTensor(x);
  const cases: [string, Tensor, (v: number) => number][] = [
    ['x + 2.5', t.add(2.5), (v) => v + 2.5],
    ['x - 1', t.sub(1), (v) => v - 1],
    ['x * -3', t.mul(-3), (v) => v * -3],
    ['x / 7', t.div(7), (v) => v / 7],
    ['x ** 3', t.pow(3), (v) => v ** 3],
    ['x ** 0.5', t.pow(0.5), (v) => Math.sqrt(v)],
    ['x > 1', t.gt(1), (v) => +(v > 1)],
  ];
  for (const [what, y, f] of cases) assertClose(await y.data(), map(x, f).data, { what, atol: 1e-6, rtol: 2e-6 });
  await gradCheck({ inputs: [x], gpu: (u) => u.pow(3).mul(2).add(1).div(4), ref: (a) => map(a, (v) => (2 * v ** 3 + 1) / 4), what: 'scalar chain' });
});

test('pow follows C for negative bases: integer exponents work, others give NaN', async () => {
  const a = tensor([-2, -2, -2, 0, 0]);
  const b = tensor([2, 3, 0.5, 0, 2]);
  const y = await a.pow(b).data();
  assertClose(y, [4, -8, NaN, 1, 0], { what: 'pow' });
});

test('comparisons return 0/1 and broadcast', async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const b = tensor([2, 5, 6]);
  assert.equal([...(await a.eq(b).data())], [0, 0, 0, 0, 1, 1]);
  assert.equal([...(await a.lt(b).data())], [1, 1, 1, 0, 0, 0]);
  assert.equal([...(await a.ge(b).data())], [0, 0, 0, 1, 1, 1]);
  assert.equal([...(await a.ne(b).data())], [1, 1, 1, 1, 0, 0]);
});

test('a binary op on mismatched shapes names the op and both shapes', () => {
  const a = tensor(new Float32Array(6), { shape: [2, 3] });
  const b = tensor(new Float32Array(8), { shape: [4, 2] });
  assert.throws(() => a.add(b), /add: shapes \[2, 3\] and \[4, 2\] cannot be broadcast/);
});

test.run();
