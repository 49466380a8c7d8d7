// Op cases of the pointwise family: every unary and binary op of the shader tables (binary ops on
// NumPy-broadcast shapes, including the vec4 layouts), comparisons, where, clamp, and the
// gelu(x·a + b) chain the benchmark's peers also run.
import { where } from '../../src/tensor/ops/pointwise.js';
import { arr, atBroadcast, binaryRef, broadcastShapes, map, unaryRef, unravel, zip } from '../../src/tensor/reference/index.js';
import type { Tensor } from '../../src/index.js';
import { constant, seeded, shapeText, type BenchCase, type OpCase } from './case.js';

type Unary = keyof typeof unaryRef;
type Binary = keyof typeof binaryRef;

/** The Tensor method of a table entry (identity is clone, geluTanh is gelu's tanh form). */
function unaryMethod(op: Unary): (x: Tensor) => Tensor {
  if (op === 'geluTanh') return (x) => x.gelu({ approximate: 'tanh' });
  if (op === 'identity') return (x) => x.clone();
  return (x) => (x as unknown as Record<Unary, () => Tensor>)[op]();
}
const binaryMethod = (op: Binary) => (a: Tensor, b: Tensor): Tensor => (a as unknown as Record<Binary, (o: Tensor) => Tensor>)[op](b);

/** Inputs in each op's domain (log/sqrt/rsqrt want positives). */
const unaryDomain: Partial<Record<Unary, [number, number]>> = { log: [0.1, 3], sqrt: [0.1, 3], rsqrt: [0.1, 3], reciprocal: [0.3, 3] };
/** pow wants a > 0 for the b-gradient; div keeps away from 0. */
const binaryDomain: Partial<Record<Binary, [number, number]>> = { pow: [0.2, 2], div: [0.5, 2] };
const comparisons: Binary[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const differentiable: Binary[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];

function unaryCase(op: Unary, shape: number[], seed: number, grad: boolean): OpCase {
  const [lo, hi] = unaryDomain[op] ?? [-3, 3];
  return {
    family: 'pointwise',
    op,
    name: `${op} ${shapeText(shape)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape, lo, hi)]),
    gpu: unaryMethod(op),
    ref: (x) => map(x, unaryRef[op]),
    atol: 2e-6,
    rtol: 2e-6,
    // abs and relu have a kink at 0; random inputs avoid it with probability 1.
    ...(grad ? { grad: {} } : {}),
  };
}

function binaryCase(op: Binary, sa: number[], sb: number[], seed: number, grad: boolean): OpCase {
  const isComparison = comparisons.includes(op);
  const [lo, hi] = binaryDomain[op] ?? [-2, 2];
  return {
    family: 'pointwise',
    op,
    name: `${op} ${shapeText(sa)} ${shapeText(sb)}`,
    inputs: seeded(seed, (r) => (isComparison
      // Small integers, so equal pairs (the edge of every comparison) are common.
      ? [r.integers(sa, 3), r.integers(sb, 3)]
      : [r.uniform(sa, lo, hi), r.uniform(sb, op === 'pow' ? -2 : lo, hi)])),
    gpu: binaryMethod(op),
    ref: (a, b) => zip(a, b, binaryRef[op]),
    atol: 2e-6,
    rtol: 3e-6,
    ...(grad ? { grad: {} } : {}),
  };
}

/** where(cond, a, b) with a fixed random condition, all three broadcast together. */
function whereCase(cs: number[], sa: number[], sb: number[], seed: number, grad: boolean): OpCase {
  const cond = seeded(seed + 1, (r) => [r.bernoulli(cs, 0.5)])()[0]!;
  const condTensor = constant(cond);
  return {
    family: 'pointwise',
    op: 'where',
    name: `where ${shapeText(cs)} ${shapeText(sa)} ${shapeText(sb)}`,
    inputs: seeded(seed, (r) => [r.uniform(sa), r.uniform(sb)]),
    gpu: (a, b) => where(condTensor(), a, b),
    ref: (a, b) => {
      const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
      const out = arr(shape);
      for (let i = 0; i < out.data.length; i++) {
        const idx = unravel(i, shape);
        out.data[i] = atBroadcast(cond, idx) ? atBroadcast(a, idx) : atBroadcast(b, idx);
      }
      return out;
    },
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

function clampCase(shape: number[], lo: number, hi: number, seed: number, grad: boolean): OpCase {
  return {
    family: 'pointwise',
    op: 'clamp',
    name: `clamp ${shapeText(shape)} to [${lo}, ${hi}]`,
    inputs: seeded(seed, (r) => [r.uniform(shape, -3, 3)]),
    gpu: (x) => x.clamp(lo, hi),
    ref: (x) => map(x, (v) => Math.min(Math.max(v, lo), hi)),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

/** gelu(x·a + b) over same-shape operands: a chain of three pointwise ops. */
function geluChainCase(shape: number[], seed: number): OpCase {
  return {
    family: 'pointwise',
    op: 'gelu(x·a + b)',
    name: `gelu(x·a + b) ${shapeText(shape)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape, -3, 3), r.uniform(shape, 0.5, 1.5), r.uniform(shape, -0.5, 0.5)]),
    gpu: (x, a, b) => x.mul(a).add(b).gelu(),
    ref: (x, a, b) => map(zip(zip(x, a, binaryRef.mul), b, binaryRef.add), unaryRef.gelu),
    atol: 1e-5,
    rtol: 1e-4,
  };
}

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

export const cases: OpCase[] = [
  ...(Object.keys(unaryRef) as Unary[]).map((op) => unaryCase(op, [3, 37], op.length * 101 + 3, true)),
  ...differentiable.flatMap((op) => binaryShapes.map(([sa, sb], i) => binaryCase(op, sa, sb, op.length * 977 + i, true))),
  ...comparisons.flatMap((op) => binaryShapes.map(([sa, sb], i) => binaryCase(op, sa, sb, op.length * 13 + i, false))),
  whereCase([3, 1, 5], [4, 5], [3, 4, 1], 11, true),
  whereCase([8], [3, 8], [3, 1], 12, true),
  clampCase([50], -1, 1.5, 2, true),
  geluChainCase([7, 33], 5),
];

const rows = 256, cols = 1024;
const n = rows * cols;
export const benchCases: BenchCase[] = [
  ...(Object.keys(unaryRef) as Unary[]).map((op) => ({ ...unaryCase(op, [rows, cols], 1 + op.length, false), id: `${op}-${rows}x${cols}` })),
  ...[...differentiable, ...comparisons].map((op) => ({ ...binaryCase(op, [rows, cols], [cols], 2 + op.length, false), id: `${op}-${rows}x${cols}+${cols}` })),
  { ...whereCase([rows, cols], [rows, cols], [cols], 3, false), id: `where-${rows}x${cols}` },
  { ...clampCase([rows, cols], -1, 1.5, 4, false), id: `clamp-${rows}x${cols}` },
  { ...geluChainCase([4096, 1024], 4096 * 1024 + 5), id: 'gelu-chain-4096x1024', peer: { kind: 'gelu-chain' } },
];
