// Pointwise ops: forward against float64 references (incl. broadcasting and scalars), backward
// against finite differences, on shapes that are not tile multiples.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, where, type Tensor } from '../src/index.js';
import { arr, map, zip, unaryRef, binaryRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck } from './harness.js';

test.before(setup);

// Inputs in each op's domain (log/sqrt/rsqrt want positives; pow wants a > 0 for the b-gradient).
const domain: Record<string, [number, number]> = { log: [0.1, 3], sqrt: [0.1, 3], rsqrt: [0.1, 3], reciprocal: [0.3, 3] };

for (const op of Object.keys(unaryRef) as (keyof typeof unaryRef)[]) {
  test(`${op} matches the float64 reference and its gradient matches finite differences`, async () => {
    const r = rng(op.length * 101 + 3);
    const [lo, hi] = domain[op] ?? [-3, 3];
    const x = arr([3, 37], randArray(r, 3 * 37, lo, hi));
    const t = toTensor(x);
    const gpu = (u: Tensor) => (op === 'geluTanh' ? u.gelu({ approximate: 'tanh' }) : op === 'identity' ? u.clone() : (u as unknown as Record<string, () => Tensor>)[op]!());
    const out = gpu(t);
    assertClose(await out.data(), map(x, unaryRef[op]).data, { atol: 2e-6, rtol: 2e-6, what: op });
    t.dispose(); out.dispose();
    // abs and relu have a kink at 0; random inputs avoid it with probability 1.
    await gradCheck({ inputs: [x], gpu, ref: (a) => map(a, unaryRef[op]), what: op });
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

const binaryShapes: [number[], number[]][] = [
  [[5, 7], [5, 7]],
  [[4, 1, 9], [3, 1]],
  [[2, 3, 5, 7], [7]],
  [[1], [6, 1, 11]],
  [[13, 1], [1, 17]],
  // Inner dimensions divisible by 4 take the vec4 kernels: vec4 reads and scalar splats.
  [[3, 8], [8]],
  [[6, 12], [6, 1]],
  [[2, 4, 16], [4, 1]],
  [[1, 20], [5, 20]],
];
const posDomain: Record<string, [number, number]> = { pow: [0.2, 2], div: [0.5, 2] };

for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const) {
  test(`${op} broadcasts like NumPy and its gradients (summed over broadcast axes) match finite differences`, async () => {
    const r = rng(op.length * 977);
    for (const [sa, sb] of binaryShapes) {
      const [lo, hi] = posDomain[op] ?? [-2, 2];
      const a = arr(sa, randArray(r, sa.reduce((p, d) => p * d, 1), lo, hi));
      const b = arr(sb, randArray(r, sb.reduce((p, d) => p * d, 1), op === 'pow' ? -2 : lo, hi));
      const ref = (x: Arr, y: Arr) => zip(x, y, binaryRef[op]);
      const ta = toTensor(a), tb = toTensor(b);
      const out = (ta as unknown as Record<string, (o: Tensor) => Tensor>)[op]!(tb);
      assertClose(await out.data(), ref(a, b).data, { atol: 2e-6, rtol: 3e-6, what: `${op} [${sa}] [${sb}]` });
      [ta, tb, out].forEach((t) => t.dispose());
      await gradCheck({
        inputs: [a, b],
        gpu: (x, y) => (x as unknown as Record<string, (o: Tensor) => Tensor>)[op]!(y),
        ref,
        what: `${op} [${sa}] [${sb}]`,
      });
    }
  });
}

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

test('where selects with broadcasting and routes gradients to the chosen side', async () => {
  const r = rng(11);
  const c = arr([3, 1, 5], Array.from({ length: 15 }, () => (r() > 0.5 ? 1 : 0)));
  const a = arr([4, 5], randArray(r, 20));
  const b = arr([3, 4, 1], randArray(r, 12));
  const ref = (x: Arr, y: Arr) => {
    const shape = [3, 4, 5];
    const out = arr(shape);
    const cx = zip(zip(c, x, (cc) => cc), y, (cc) => cc);
    const xb = zip(zip(c, x, (_, v) => v), y, (v) => v);
    const yb = zip(zip(c, x, () => 0), y, (_, v) => v);
    for (let i = 0; i < 60; i++) out.data[i] = cx.data[i] ? xb.data[i]! : yb.data[i]!;
    return out;
  };
  const tc = toTensor(c);
  await gradCheck({ inputs: [a, b], gpu: (x, y) => where(tc, x, y), ref, what: 'where' });
});

test('clamp limits values and passes gradient only inside the range', async () => {
  const r = rng(2);
  const x = arr([50], randArray(r, 50, -3, 3));
  await gradCheck({ inputs: [x], gpu: (u) => u.clamp(-1, 1.5), ref: (a) => map(a, (v) => Math.min(Math.max(v, -1), 1.5)), what: 'clamp' });
});

test('a binary op on mismatched shapes names the op and both shapes', () => {
  const a = tensor(new Float32Array(6), { shape: [2, 3] });
  const b = tensor(new Float32Array(8), { shape: [4, 2] });
  assert.throws(() => a.add(b), /add: shapes \[2, 3\] and \[4, 2\] cannot be broadcast/);
});

test.run();
