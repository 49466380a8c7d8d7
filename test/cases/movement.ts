// Op cases of the movement family: permute, transpose, expand, Python-style slices (negative
// steps, clamping), flip, pad, concat, stack and split, on odd shapes, with their gradients.
import { concat, split, stack } from '../../src/tensor/ops/movement.js';
import { arr, concat as concatRef, expand as expandRef, gatherRef, pad as padRef, permute as permuteRef, type Arr } from '../../src/tensor/reference/index.js';
import type { Tensor } from '../../src/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

/** A case of a one-input movement op: exact (movement only copies). */
function moveCase(op: string, detail: string, shape: number[], seed: number, gpu: (x: Tensor) => Tensor, ref: (x: Arr) => Arr, grad: boolean): OpCase {
  return {
    family: 'movement',
    op,
    name: `${op} ${shapeText(shape)} ${detail}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu,
    ref,
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

const permuteCase = (shape: number[], p: number[], seed: number, grad = false) =>
  moveCase('permute', `[${p}]`, shape, seed, (x) => x.permute(p), (x) => permuteRef(x, p), grad);
const expandCase = (shape: number[], to: number[], seed: number, grad = false) =>
  moveCase('expand', `to ${shapeText(to)}`, shape, seed, (x) => x.expand(to), (x) => expandRef(x, to), grad);
const take = (axis: number, idx: number[]) => (x: Arr) => gatherRef.indexSelect(x, axis, idx);
const sliceCase = (shape: number[], axis: number, s: number | undefined, e: number | undefined, step: number, idx: number[], seed: number, grad = false) =>
  moveCase('slice', `(${axis}, ${s}, ${e}, ${step})`, shape, seed, (x) => x.slice(axis, s, e, step), take(axis, idx), grad);
const rev = (n: number) => [...Array(n).keys()].reverse();
const flipCase = (shape: number[], axes: number[], seed: number, grad = false) =>
  moveCase('flip', `[${axes}]`, shape, seed, (x) => x.flip(axes), (x) => axes.reduce((acc, ax) => gatherRef.indexSelect(acc, ax, rev(x.shape[ax]!)), x), grad);
const padCase = (shape: number[], pads: [number, number][], value: number, seed: number, grad = false) =>
  moveCase('pad', `${JSON.stringify(pads)} value ${value}`, shape, seed, (x) => x.pad(pads, value), (x) => padRef(x, pads, value), grad);

function concatCase(shapes: number[][], axis: number, seed: number, grad = false): OpCase {
  const ax = axis < 0 ? axis + shapes[0]!.length : axis;
  return {
    family: 'movement',
    op: 'concat',
    name: `concat ${shapes.map(shapeText).join(' ')} axis ${axis}`,
    inputs: seeded(seed, (r) => shapes.map((s) => r.uniform(s))),
    gpu: (...xs) => concat(xs, axis),
    ref: (...xs) => concatRef(xs, ax),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

/** Adds a size-1 axis at `ax` (stack's reference is a concat of these). */
const unsqueezed = (x: Arr, ax: number) => arr([...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)], x.data);

function stackCase(shape: number[], count: number, axis: number, seed: number, grad = false): OpCase {
  const ax = axis < 0 ? axis + shape.length + 1 : axis;
  return {
    family: 'movement',
    op: 'stack',
    name: `stack ${count} × ${shapeText(shape)} axis ${axis}`,
    inputs: seeded(seed, (r) => Array.from({ length: count }, () => r.uniform(shape))),
    gpu: (...xs) => stack(xs, axis),
    ref: (...xs) => concatRef(xs.map((x) => unsqueezed(x, ax)), ax),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

/** split into `sizes` along `axis`, checked through the pieces joined in reverse order. */
function splitCase(shape: number[], sizes: number[], axis: number, seed: number, grad = false): OpCase {
  const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((p, d) => p + d, 0));
  const reversed = sizes.map((n, k) => [...Array(n).keys()].map((i) => i + starts[k]!)).reverse().flat();
  return {
    ...moveCase('split', `into [${sizes}] along ${axis}, pieces reversed`, shape, seed, (x) => concat(split(x, sizes, axis).reverse(), axis), take(axis, reversed), grad),
  };
}

// Expected index lists from Python: list(range(7))[slice(start, end, step)].
export const pythonSlices: [number | undefined, number | undefined, number, number[]][] = [
  [undefined, undefined, 2, [0, 2, 4, 6]],
  [5, 1, -2, [5, 3]],
  [-3, undefined, 1, [4, 5, 6]],
  [10, -10, -1, [6, 5, 4, 3, 2, 1, 0]],
  [-100, 3, 1, [0, 1, 2]],
  [3, 3, 1, []],
  [undefined, undefined, -3, [6, 3, 0]],
  [-1, -8, -1, [6, 5, 4, 3, 2, 1, 0]],
  [2, 100, 3, [2, 5]],
  [-2, undefined, -1, [5, 4, 3, 2, 1, 0]],
  [undefined, -9, -1, [6, 5, 4, 3, 2, 1, 0]],
  [6, 0, -4, [6, 2]],
  [4, 2, 1, []],
  [0, 7, 7, [0]],
];

export const cases: OpCase[] = [
  ...[[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [0, 2, 3, 1], [2, 0, 1, 3]].map((p, i) => permuteCase([2, 3, 5, 7], p, 3 + i)),
  permuteCase([3, 2, 5, 4], [1, 3, 0, 2], 8, true),
  // Inner extents that give each invocation 8, 4 or 2 elements (or vec4s) to move.
  ...([[[3, 5, 16], [1, 0, 2]], [[2, 3, 6, 32], [0, 2, 1, 3]], [[5, 12], [1, 0]], [[3, 4, 10], [2, 0, 1]], [[2, 6, 3, 8], [1, 0, 2, 3]]] as [number[], number[]][])
    .map(([shape, p], i) => permuteCase(shape, p, 90 + i, i === 1)),
  flipCase([3, 16], [1], 95, true),
  flipCase([2, 3, 24], [0, 2], 96),
  expandCase([3, 1, 5], [2, 3, 4, 5], 4, true),
  ...pythonSlices.map(([s, e, step, idx], i) => sliceCase([3, 7, 4], 1, s, e, step, idx, 5 + i)),
  ...pythonSlices.filter(([, , , idx]) => idx.length > 0).slice(0, 6).map(([s, e, step, idx], i) => sliceCase([4, 7, 3], 1, s, e, step, idx, 20 + i, true)),
  sliceCase([4, 7, 3], 0, 3, undefined, -2, [3, 1], 27, true),
  ...[[0], [3], [1, 3], [0, 1, 2, 3]].map((axes, i) => flipCase([3, 5, 2, 7], axes, 30 + i)),
  flipCase([2, 5, 3, 7], [1, 3], 34, true),
  ...([[[[1, 2], [0, 3]], 0], [[[2, 0]], -1.5], [[[1, 1], [0, 0], [2, 1], [3, 0]], 7], [[[0, 0]], 0]] as [[number, number][], number][])
    .map(([pads, value], i) => padCase([2, 3, 5, 4], pads, value, 40 + i)),
  padCase([2, 3, 5, 4], [[1, 2], [3, 1]], 0, 44, true),
  concatCase([[2, 3, 5], [2, 4, 5], [2, 1, 5]], 1, 9, true),
  concatCase([[2, 3, 5], [2, 3, 2]], -1, 12),
  concatCase([[2, 3, 5], [3, 3, 5]], 0, 13),
  ...[0, 1, 2, -1].map((axis, i) => stackCase([3, 5], 2, axis, 14 + i)),
  stackCase([4, 5], 2, 1, 18, true),
  splitCase([4, 9, 2], [2, 3, 4], 1, 16, true),
];

const big = [64, 64, 64];
export const benchCases: BenchCase[] = [
  { ...permuteCase(big, [2, 0, 1], 1), id: 'permute-64x64x64' },
  { ...permuteCase([256, 1024], [1, 0], 2), id: 'transpose-256x1024' },
  { ...expandCase([1, 256, 1024], [4, 256, 1024], 3), id: 'expand-4x256x1024' },
  { ...sliceCase([256, 1024], 1, 1, 1000, 2, [...Array(500).keys()].map((i) => 1 + 2 * i), 4), id: 'slice-256x1024-step2' },
  { ...flipCase(big, [0, 2], 5), id: 'flip-64x64x64' },
  { ...padCase([8, 3, 224, 224], [[2, 2], [2, 2]], 0, 6), id: 'pad-8x3x224x224' },
  { ...concatCase([[16, 1, 384], [16, 196, 384]], 1, 7), id: 'concat-tokens-16x197x384' },
  { ...stackCase([256, 1024], 4, 0, 8), id: 'stack-4x256x1024' },
  { ...splitCase([256, 1024], [256, 768], 1, 9), id: 'split-256x1024' },
];
