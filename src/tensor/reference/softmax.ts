// float64 references of softmax and logSoftmax along any axis.
import { arr, numel, type Arr } from './array.js';

/** Calls f on each row along `axis` (a list of flat indices), as a tensor viewed [outer, R, inner]. */
function forRows(shape: readonly number[], axis: number, f: (idx: number[]) => void): void {
  const R = shape[axis]!;
  const inner = numel(shape.slice(axis + 1));
  const outer = numel(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) f(Array.from({ length: R }, (_, r) => (o * R + r) * inner + i));
  }
}

const normAx = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

export function softmaxRef(x: Arr, axis = -1): Arr {
  const out = arr(x.shape);
  forRows(x.shape, normAx(axis, x.shape.length), (idx) => {
    const m = Math.max(...idx.map((i) => x.data[i]!));
    const e = idx.map((i) => Math.exp(x.data[i]! - m));
    const s = e.reduce((p, v) => p + v, 0);
    idx.forEach((i, r) => (out.data[i] = e[r]! / s));
  });
  return out;
}

export function logSoftmaxRef(x: Arr, axis = -1): Arr {
  const out = arr(x.shape);
  forRows(x.shape, normAx(axis, x.shape.length), (idx) => {
    const m = Math.max(...idx.map((i) => x.data[i]!));
    const lse = m + Math.log(idx.reduce((p, i) => p + Math.exp(x.data[i]! - m), 0));
    idx.forEach((i) => (out.data[i] = x.data[i]! - lse));
  });
  return out;
}
