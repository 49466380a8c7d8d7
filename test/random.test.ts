// Random numbers: the registry's cases (test/cases/random.ts: rand bit-exact against the JS
// generator, randn, gumbel, dropout), Philox-4x32-10 against Random123's known answers, values that depend only on (seed, offset, element index), seeding and the
// global sequence, moments within statistical tolerance on ~1e5 samples, and dropout's mask,
// scaling and gradient.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dropout, getRngState, gumbel, manualSeed, rand, randLike, randn, randnLike, setRngState, tensor, tidy } from '../src/index.js';
import { philox4x32, randomBits, randomRef } from '../src/tensor/reference/random.js';
import { arr } from '../src/tensor/reference/index.js';
import { setup, assertClose, gradCheck, rng, randArray, sameShapeAs, checkForward, checkBackward, byOp } from './harness.js';
import { cases } from './cases/random.js';

test.before(setup);

/** Sample mean, variance, skewness and kurtosis. */
function moments(xs: ArrayLike<number>): { mean: number; var: number; skew: number; kurt: number } {
  const n = xs.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i]!;
  m /= n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - m;
    m2 += d * d; m3 += d * d * d; m4 += d * d * d * d;
  }
  m2 /= n; m3 /= n; m4 /= n;
  return { mean: m, var: m2, skew: m3 / m2 ** 1.5, kurt: m4 / (m2 * m2) };
}

/** Correlation of x[i] and x[i + lag]. */
function lagCorrelation(xs: ArrayLike<number>, lag: number): number {
  const a = Array.from(xs).slice(0, xs.length - lag), b = Array.from(xs).slice(lag);
  const ma = moments(a), mb = moments(b);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += (a[i]! - ma.mean) * (b[i]! - mb.mean);
  return c / a.length / Math.sqrt(ma.var * mb.var);
}

function within(what: string, value: number, expected: number, tol: number): void {
  assert.ok(Math.abs(value - expected) <= tol, `${what}: ${value} is not within ${tol} of ${expected}`);
}

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the JS generator and the float64 transforms${opCases.some((c) => c.grad) ? ', and its gradient finite differences' : ''}`, async () => {
    for (const c of opCases) {
      await checkForward(c);
      if (c.grad) await checkBackward(c);
    }
  });
}

const N = 100_003;

test('philox4x32-10 reproduces the Random123 known-answer vectors', () => {
  const hex = (xs: number[]) => xs.map((v) => v.toString(16).padStart(8, '0'));
  assert.equal(hex(philox4x32([0, 0, 0, 0], [0, 0])), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  assert.equal(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])), ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  assert.equal(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])), ['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
});

test('element i depends only on (seed, i): a larger tensor starts with a smaller one', async () => {
  const small = await rand([5, 13], { seed: 99 }).data();
  const big = await rand([1001], { seed: 99 }).data();
  assertClose(big.subarray(0, small.length), small, { atol: 0, rtol: 0, what: 'rand prefix' });
  const smallN = await randn([3, 7], { seed: 99 }).data();
  const bigN = await randn([2, 3, 37], { seed: 99 }).data();
  assertClose(bigN.subarray(0, smallN.length), smallN, { atol: 0, rtol: 0, what: 'randn prefix' });
});

test('a draw larger than one dispatch row (2-D grid) still follows the element index', async () => {
  // 65535 workgroups x 64 invocations x 4 lanes, plus a tail: the grid wraps into a second row.
  const n = 65535 * 64 * 4 + 1003;
  const y = rand([n], { seed: 5 });
  // Read back only the elements around the row boundary and the tail.
  for (const [start, end] of [[0, 8], [65535 * 256 - 8, 65535 * 256 + 8], [n - 8, n]] as [number, number][]) {
    const part = await tidy(() => y.slice(0, start, end)).data();
    part.forEach((v, k) => assert.is(v, randomRef.uniform(randomBits(5, 0, start + k)), `element ${start + k}`));
  }
  y.dispose();
});

test('manualSeed restarts the global sequence; successive draws differ; the state can be saved', async () => {
  manualSeed(7);
  const a = await rand([50]).data();
  const b = await rand([50]).data();
  assert.ok(a.some((v, i) => v !== b[i]), 'two successive draws are different');
  const saved = getRngState();
  const c = await randn([50]).data();
  manualSeed(7);
  assertClose(await rand([50]).data(), a, { atol: 0, rtol: 0, what: 'first draw replayed' });
  assertClose(await rand([50]).data(), b, { atol: 0, rtol: 0, what: 'second draw replayed' });
  setRngState(saved);
  assertClose(await randn([50]).data(), c, { atol: 0, rtol: 0, what: 'draw after setRngState' });
  // An explicit seed neither uses nor advances the global sequence.
  const before = getRngState();
  const s1 = await rand([20], { seed: 3 }).data();
  assert.equal(getRngState(), before);
  assertClose(await rand([20], { seed: 3 }).data(), s1, { atol: 0, rtol: 0, what: 'same seed, same values' });
  assert.ok((await rand([20], { seed: 4 }).data()).some((v, i) => v !== s1[i]), 'another seed, other values');
  assert.throws(() => manualSeed(-1), /manualSeed: the seed must be a non-negative integer/);
  assert.throws(() => rand([2], { seed: 1.5 }), /rand: the seed must be a non-negative integer/);
});

test('rand is uniform on [0, 1): moments, histogram and no correlation between neighbours', async () => {
  const u = await rand([N], { seed: 11 }).data();
  assert.ok(u.every((v) => v >= 0 && v < 1), 'all in [0, 1)');
  const m = moments(u);
  within('mean', m.mean, 0.5, 5 * Math.sqrt(1 / 12 / N));
  within('variance', m.var, 1 / 12, 5 * Math.sqrt((1 / 80 - 1 / 144) / N));
  // Chi-square over 20 bins: 19 degrees of freedom, mean 19, sd ~6.2; 50 is far in the tail.
  const bins = new Array(20).fill(0);
  for (const v of u) bins[Math.floor(v * 20)]++;
  const chi2 = bins.reduce((p, c) => p + (c - N / 20) ** 2 / (N / 20), 0);
  assert.ok(chi2 < 50, `chi-square ${chi2} over 20 bins`);
  for (const lag of [1, 2, 3, 4, 5]) within(`lag-${lag} correlation`, lagCorrelation(u, lag), 0, 5 / Math.sqrt(N));
  // Successive unseeded draws are independent too.
  manualSeed(1);
  const d1 = await rand([N]).data(), d2 = await rand([N]).data();
  const both = new Float64Array(2 * N);
  both.set(d1); both.set(d2, N);
  within('correlation of successive draws', lagCorrelation(both, N), 0, 5 / Math.sqrt(N));
  const scaled = moments(await rand([N], { seed: 12, low: -3, high: 5 }).data());
  within('rand(low=-3, high=5) mean', scaled.mean, 1, 5 * 8 * Math.sqrt(1 / 12 / N));
});

test('randn matches Box-Muller on the same bits and has normal moments', async () => {
  const z = await randn([N], { seed: 21 }).data();
  const expected = Array.from({ length: 4001 }, (_, i) => {
    const block = i - (i % 2);
    return randomRef.normal([randomBits(21, 0, block), randomBits(21, 0, block + 1)], i % 2 === 1);
  });
  // WGSL only promises sin/cos to 2^-11 absolutely; r <= 5.8.
  assertClose(z.subarray(0, 4001), expected, { atol: 3e-3, rtol: 1e-4, what: 'randn vs Box-Muller reference' });
  assert.ok(z.every(Number.isFinite), 'all finite');
  const m = moments(z);
  within('mean', m.mean, 0, 5 / Math.sqrt(N));
  within('variance', m.var, 1, 5 * Math.sqrt(2 / N));
  within('skewness', m.skew, 0, 5 * Math.sqrt(6 / N));
  within('kurtosis', m.kurt, 3, 5 * Math.sqrt(24 / N));
  for (const lag of [1, 2, 3, 4]) within(`lag-${lag} correlation`, lagCorrelation(z, lag), 0, 5 / Math.sqrt(N));
  const shifted = moments(await randn([N], { seed: 22, mean: 2, std: 0.5 }).data());
  within('randn(mean=2, std=0.5) mean', shifted.mean, 2, 5 * 0.5 / Math.sqrt(N));
  within('randn(mean=2, std=0.5) variance', shifted.var, 0.25, 5 * 0.25 * Math.sqrt(2 / N));
});

test('gumbel noise is finite, matches -log(-log(u)) and has the Gumbel moments', async () => {
  const g = await gumbel([N], { seed: 31 }).data();
  assert.ok(g.every((v) => Number.isFinite(v) && v > -3 && v < 17), 'finite, within the range u in (0, 1) allows');
  const expected = Array.from({ length: 2000 }, (_, i) => randomRef.gumbel(randomBits(31, 0, i)));
  assertClose(g.subarray(0, 2000), expected, { atol: 2e-5, rtol: 2e-5, what: 'gumbel vs reference' });
  const m = moments(g);
  const varG = Math.PI ** 2 / 6;
  within('mean (Euler gamma)', m.mean, 0.5772156649, 5 * Math.sqrt(varG / N));
  within('variance (pi^2/6)', m.var, varG, 5 * varG * Math.sqrt(4.4 / N));
  // u extremely close to 1 gives the largest values: the series path keeps them finite and right.
  const top = Math.max(...g);
  assert.ok(top > 8, `the upper tail is reached (max ${top})`);
});

test('randLike and randnLike follow the shape of their argument', () => {
  const x = tensor(new Float32Array(6), { shape: [2, 3] });
  sameShapeAs(randLike(x), [2, 3]);
  sameShapeAs(randnLike(x, { seed: 1 }), [2, 3]);
  assert.throws(() => rand([2, -1]), /rand: invalid shape \[2, -1\]/);
  assert.throws(() => randn([2], { std: -1 }), /randn: std must be non-negative/);
});

/** The reference dropout mask: keep element i when its top 24 bits reach round(p * 2^24). */
const keepRef = (seed: number, offset: number, p: number, i: number) => randomBits(seed, offset, i) >>> 8 >= Math.round(p * 2 ** 24);

test('dropout keeps 1 - p of the elements, scales them by 1/(1 - p) and matches the reference mask', async () => {
  for (const p of [0.1, 0.3, 0.75]) {
    const y = await dropout(tensor(new Float32Array(N).fill(1)), p, { seed: 41 }).data();
    let kept = 0;
    const scale = Math.fround(1 / (1 - p));
    for (let i = 0; i < N; i++) {
      const keep = keepRef(41, 0, p, i);
      if (keep) kept++;
      assert.is(y[i], keep ? scale : 0, `p=${p} element ${i}`);
    }
    within(`p=${p} keep rate`, kept / N, 1 - p, 5 * Math.sqrt(p * (1 - p) / N));
  }
});

test('dropout is the identity when not training or p = 0, and zero when p = 1', async () => {
  const x = tensor([1, -2, 3, 4.5]);
  assertClose(await dropout(x, 0.5, { training: false }).data(), [1, -2, 3, 4.5], { what: 'eval mode' });
  assertClose(await dropout(x, 0).data(), [1, -2, 3, 4.5], { what: 'p = 0' });
  assertClose(await dropout(x, 1).data(), [0, 0, 0, 0], { what: 'p = 1' });
  assert.throws(() => dropout(x, 1.5), /dropout: p must be in \[0, 1\], got 1.5 \(input shape \[4\]\)/);
});

test('dropout backward uses the forward mask (seeded, and from the global generator)', async () => {
  const r = rng(5);
  const x = arr([7, 31], randArray(r, 7 * 31));
  const p = 0.4;
  const refDropout = (a: typeof x) => {
    const out = arr(a.shape);
    for (let i = 0; i < a.data.length; i++) out.data[i] = keepRef(77, 0, p, i) ? a.data[i]! / (1 - p) : 0;
    return out;
  };
  await gradCheck({ inputs: [x], gpu: (t) => dropout(t, p, { seed: 77 }), ref: refDropout, what: 'dropout' });
  // Unseeded: the mask comes from the global stream, and the backward pass must regenerate it
  // from the offset saved at forward time even though other draws happen in between.
  manualSeed(8);
  const t = tensor(new Float32Array(500).fill(2), { requiresGrad: true });
  const y = dropout(t, 0.5);
  rand([100]);
  y.backward(tensor(new Float32Array(500).fill(1)));
  const yv = await y.data(), gv = await t.grad!.data();
  for (let i = 0; i < 500; i++) assert.is(gv[i], yv[i] === 0 ? 0 : 2, `element ${i}`);
  assert.ok(yv.some((v) => v === 0) && yv.some((v) => v === 4), 'some dropped, some kept');
});

test.run();
