// Op cases of the random family: rand, randn and gumbel bit for bit (or to WGSL's sin/cos
// accuracy) against the JS Philox generator and the float64 transforms, for small and 53-bit
// seeds; dropout's mask, scaling and gradient.
import { dropout, gumbel, rand, randn } from '../../src/tensor/ops/random.js';
import { arr, randomBits, randomRef, type Arr } from '../../src/tensor/reference/index.js';
import type { Tensor } from '../../src/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

const count = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);
/** A tensor of `shape` whose element i is f(i). */
const byIndex = (shape: number[], f: (i: number) => number): Arr => arr(shape, Array.from({ length: count(shape) }, (_, i) => f(i)));

function drawCase(op: 'rand' | 'randn' | 'gumbel', shape: number[], seed: number): OpCase {
  const draw: Record<typeof op, (s: number[]) => Tensor> = {
    rand: (s) => rand(s, { seed }),
    randn: (s) => randn(s, { seed }),
    gumbel: (s) => gumbel(s, { seed }),
  };
  const expected: Record<typeof op, (i: number) => number> = {
    rand: (i) => randomRef.uniform(randomBits(seed, 0, i)),
    // Box-Muller on lanes (2j, 2j + 1) of the element's block.
    randn: (i) => {
      const block = i - (i % 2);
      return randomRef.normal([randomBits(seed, 0, block), randomBits(seed, 0, block + 1)], i % 2 === 1);
    },
    gumbel: (i) => randomRef.gumbel(randomBits(seed, 0, i)),
  };
  // rand is exact; WGSL only promises sin/cos to 2^-11 absolutely (randn's r <= 5.8); log's error for gumbel.
  const tolerance = { rand: [0, 0], randn: [3e-3, 1e-4], gumbel: [2e-5, 2e-5] }[op];
  return {
    family: 'random',
    op,
    name: `${op} ${shapeText(shape)} seed ${seed}`,
    inputs: () => [],
    gpu: () => draw[op](shape),
    ref: () => byIndex(shape, expected[op]),
    atol: tolerance[0]!,
    rtol: tolerance[1]!,
  };
}

/** The reference dropout: keep element i when its top 24 bits reach round(p·2^24), scaled by 1/(1 − p). */
function dropoutCase(shape: number[], p: number, seed: number, grad = false): OpCase {
  const keep = (i: number) => randomBits(seed, 0, i) >>> 8 >= Math.round(p * 2 ** 24);
  return {
    family: 'random',
    op: 'dropout',
    name: `dropout ${shapeText(shape)} p ${p} seed ${seed}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => dropout(x, p, { seed }),
    ref: (x) => byIndex(shape, (i) => (keep(i) ? x.data[i]! / (1 - p) : 0)),
    atol: 1e-6,
    rtol: 1e-6,
    ...(grad ? { grad: {} } : {}),
  };
}

export const cases: OpCase[] = [
  ...[0, 12345, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER].map((seed) => drawCase('rand', [7, 149], seed)),
  drawCase('randn', [4001], 21),
  drawCase('gumbel', [2000], 31),
  ...[0.1, 0.3, 0.75].map((p) => dropoutCase([301], p, 41)),
  dropoutCase([7, 31], 0.4, 77, true),
];

export const benchCases: BenchCase[] = [
  { ...drawCase('rand', [1024, 1024], 1), id: 'rand-1024x1024' },
  { ...drawCase('randn', [1024, 1024], 2), id: 'randn-1024x1024' },
  { ...drawCase('gumbel', [1024, 1024], 3), id: 'gumbel-1024x1024' },
  { ...dropoutCase([1024, 1024], 0.1, 4), id: 'dropout-1024x1024' },
];
