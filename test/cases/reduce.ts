// Op cases of the reduce family: sum, mean, max, min, logsumexp and var over any set of axes
// (contiguous or not, keepdim or not) through every kernel (row: inner == 1 and R >= 64; four-column:
// sum/max/min with inner % 4 == 0; column: everything else), and argmax/argmin on small integers, so ties are common.
import { reduceAxes, sum, mean, max, min, logsumexp, variance, argmax, argmin } from '../../src/tensor/reference/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

type Op = 'sum' | 'mean' | 'max' | 'min' | 'logsumexp' | 'var';
const refFn: Record<Op, (xs: number[]) => number> = { sum, mean, max, min, logsumexp, var: variance(1) };
export const REDUCTIONS = Object.keys(refFn) as Op[];

/** Normalised, sorted axes (null = all). */
const normAxes = (axes: number[] | null, rank: number) => (axes === null ? [...Array(rank).keys()] : axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q));

function reduceCase(op: Op, shape: number[], axes: number[] | null, keepdim: boolean, seed: number, o: { grad?: boolean; what?: string } = {}): OpCase {
  const ax = normAxes(axes, shape.length);
  // f32 rounding in a sum grows with the number of terms: 1e-5 up to 256 terms, as √R beyond.
  const R = ax.reduce((p, a) => p * shape[a]!, 1);
  return {
    family: 'reduce',
    op,
    name: `${op} ${shapeText(shape)} axes ${JSON.stringify(axes)}${keepdim ? ' keepdim' : ''}${o.what ? ` (${o.what})` : ''}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => x[op](axes, keepdim),
    ref: (x) => reduceAxes(x, ax, refFn[op], keepdim),
    atol: 1e-5 * Math.max(1, Math.sqrt(R / 256)),
    rtol: 2e-5,
    ...(o.grad ? { grad: {} } : {}),
  };
}

function argCase(op: 'argmax' | 'argmin', shape: number[], axis: number, keepdim: boolean, seed: number): OpCase {
  const ax = axis < 0 ? axis + shape.length : axis;
  return {
    family: 'reduce',
    op,
    name: `${op} ${shapeText(shape)} axis ${axis}${keepdim ? ' keepdim' : ''}`,
    inputs: seeded(seed, (r) => [r.integers(shape, 5)]),
    gpu: (x) => x[op](axis, keepdim),
    ref: (x) => reduceAxes(x, [ax], op === 'argmax' ? argmax : argmin, keepdim),
    atol: 0,
    rtol: 0,
  };
}

// [shape, axes]: each hits a different path. The row kernel needs inner == 1 and R >= 64.
const forwardShapes: [number[], number[] | null, string][] = [
  [[5, 7, 3], [1], 'middle axis, column kernel'],
  [[5, 7, 3], [2], 'last axis, R < 64, column kernel'],
  [[5, 7, 3], [0, 2], 'non-contiguous axes'],
  [[5, 7, 3], [0, 1], 'leading axes'],
  [[5, 7, 3], null, 'all axes, R < 64'],
  [[3, 150], [1], 'last axis, R >= 64, row kernel'],
  [[3, 150], [-1], 'negative axis, row kernel'],
  [[201], null, 'one long row, row kernel, outer = 1'],
  [[2, 70, 3], [1], 'R >= 64 with inner > 1, column kernel'],
  [[3, 5, 23], [0, 2], 'non-contiguous axes that become a long row, row kernel'],
  [[2, 3, 4, 5], [-3, -1], 'rank 4, negative non-contiguous axes'],
  [[5, 7, 12], [1], 'inner 12, four-column kernel (sum/max/min)'],
  [[2, 70, 8], [1], 'R >= 64 with inner 8, four-column kernel'],
  [[37, 20], [0], 'rows of a bias gradient, four-column kernel'],
];
const gradShapes: [number[], number[] | null][] = [[[5, 7, 3], [0, 2]], [[3, 70], [1]], [[4, 6], null], [[2, 70, 3], [1]], [[3, 9, 8], [1]]];
const argShapes: [number[], number][] = [[[5, 7, 3], 1], [[5, 7, 3], 2], [[5, 7, 3], 0], [[4, 130], 1], [[4, 130], -1], [[2, 80, 3], 1]];

export const cases: OpCase[] = [
  ...REDUCTIONS.flatMap((op) => [
    ...forwardShapes.flatMap(([shape, axes, what], i) => [false, true].map((keepdim) => reduceCase(op, shape, axes, keepdim, shape.length * 31 + i, { what }))),
    ...gradShapes.map(([shape, axes]) => reduceCase(op, shape, axes, true, shape[0]! * 7 + shape.length, { grad: true })),
  ]),
  ...(['argmax', 'argmin'] as const).flatMap((op) => argShapes.flatMap(([shape, axis], i) => [false, true].map((keepdim) => argCase(op, shape, axis, keepdim, 45 + i)))),
];

const rows = 1024, cols = 1024;
export const benchCases: BenchCase[] = [
  ...REDUCTIONS.flatMap((op) => [
    { ...reduceCase(op, [rows, cols], [1], false, 1, { what: 'row kernel' }), id: `${op}-rows-${rows}x${cols}` },
    { ...reduceCase(op, [rows, cols], [0], false, 2, { what: 'column kernel' }), id: `${op}-columns-${rows}x${cols}` },
  ]),
  ...(['argmax', 'argmin'] as const).map((op) => ({ ...argCase(op, [rows, cols], 1, false, 3), id: `${op}-${rows}x${cols}` })),
];
