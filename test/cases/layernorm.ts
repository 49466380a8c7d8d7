// Op cases of the layernorm family: rows shorter and longer than a workgroup, one or several
// normalized dims, with and without weight and bias, large means, a non-default eps.
import { layerNorm } from '../../src/tensor/ops/layernorm.js';
import { layerNormRef, numel } from '../../src/tensor/reference/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

interface LayerNormOptions {
  weight?: boolean;
  bias?: boolean;
  eps?: number;
  /** Input range (default [-2, 2)). */
  range?: [number, number];
  /** Added to every input (a large mean tests the variance's accuracy). */
  offset?: number;
  grad?: boolean;
  atol?: number;
  rtol?: number;
}

function layerNormCase(shape: number[], normalized: number[], seed: number, o: LayerNormOptions = {}): OpCase {
  const D = numel(normalized);
  const { weight = true, bias = true, eps } = o;
  const [lo, hi] = o.range ?? [-2, 2];
  // Inputs: x, then the weight and the bias when present; `affine` splits the rest back out.
  const affine = <T>(rest: T[]): [T | null, T | null] => [weight ? rest[0]! : null, bias ? rest[weight ? 1 : 0]! : null];
  return {
    family: 'layernorm',
    op: 'layerNorm',
    name: `layerNorm ${shapeText(shape)} over ${shapeText(normalized)}${weight ? '' : ' no weight'}${bias ? '' : ' no bias'}${eps !== undefined ? ` eps ${eps}` : ''}${o.offset ? ` mean ${o.offset}` : ''}`,
    inputs: seeded(seed, (r) => {
      const x = r.uniform(shape, lo, hi);
      if (o.offset) x.data.forEach((v, i) => (x.data[i] = Math.fround(v + o.offset!)));
      return [x, ...(weight ? [r.uniform(normalized)] : []), ...(bias ? [r.uniform(normalized)] : [])];
    }),
    gpu: (x, ...rest) => layerNorm(x, normalized, ...affine(rest), eps),
    ref: (x, ...rest) => layerNormRef(x, D, ...affine(rest), eps),
    atol: o.atol ?? 2e-5,
    rtol: o.rtol ?? 2e-5,
    ...(o.grad ? { grad: {} } : {}),
  };
}

const shapes: [number[], number[]][] = [[[4, 37], [37]], [[2, 3, 150], [150]], [[2, 5, 6], [5, 6]], [[7], [7]], [[3, 1], [1]]];
const affineChoices: [boolean, boolean][] = [[true, true], [false, false], [true, false], [false, true]];

export const cases: OpCase[] = [
  ...shapes.flatMap(([shape, ns], i) => affineChoices.map(([weight, bias], j) => layerNormCase(shape, ns, 3 + 4 * i + j, { weight, bias }))),
  layerNormCase([3, 10], [10], 5, { weight: false, bias: false, eps: 0.1, range: [-0.01, 0.01], atol: 1e-6, rtol: 1e-5 }),
  layerNormCase([4, 64], [64], 7, { weight: false, bias: false, range: [-1, 1], offset: 1000, atol: 5e-4, rtol: 5e-4 }),
  layerNormCase([3, 7], [7], 11, { grad: true }),
  layerNormCase([2, 2, 3], [2, 3], 12, { weight: false, bias: false, grad: true }),
  // Rows longer than a workgroup.
  layerNormCase([2, 70], [70], 13, { bias: false, grad: true }),
];

const eps = 1e-6;
export const benchCases: BenchCase[] = [
  { ...layerNormCase([4096, 384], [384], 12675, { eps, range: [-3, 3], atol: 1e-4, rtol: 1e-4 }), id: 'layernorm-4096x384', peer: { kind: 'layernorm', eps } },
];
