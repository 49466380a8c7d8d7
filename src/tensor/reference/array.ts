// float64 CPU reference arrays: the independent implementation every GPU op is tested against.
// Deliberately plain (index loops, no tricks) so each reference is easy to check by eye.
import { broadcastShapes, numel, stridesOf, type Shape } from '../shape.js';

export interface Arr {
  shape: number[];
  data: Float64Array;
}

export function arr(shape: Shape, data?: ArrayLike<number>): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  if (data) {
    if (data.length !== n) throw new Error(`reference: ${data.length} values for shape [${shape}]`);
    d.set(data);
  }
  return { shape: [...shape], data: d };
}

/** Multi-index of flat index `i` in `shape`. */
export function unravel(i: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: Shape): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + idx[d]!;
  return i;
}

/** Reads `a` at an output multi-index under NumPy broadcasting. */
export function atBroadcast(a: Arr, outIdx: readonly number[]): number {
  const off = outIdx.length - a.shape.length;
  const st = stridesOf(a.shape);
  let i = 0;
  for (let d = 0; d < a.shape.length; d++) i += (a.shape[d] === 1 ? 0 : outIdx[d + off]!) * st[d]!;
  return a.data[i]!;
}

export function map(a: Arr, f: (x: number) => number): Arr {
  const out = arr(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = f(a.data[i]!);
  return out;
}

export function zip(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = broadcastShapes('reference', a.shape, b.shape);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(atBroadcast(a, idx), atBroadcast(b, idx));
  }
  return out;
}

/** Reduces over `axes` with a function of the list of values. */
export function reduceAxes(a: Arr, axes: readonly number[], f: (xs: number[]) => number, keepdim = false): Arr {
  const outShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape).map((v, d) => (axes.includes(d) ? 0 : v));
    const k = ravel(idx, outShape);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(a.data[i]!);
  }
  const out = arr(keepdim ? outShape : a.shape.filter((_, i) => !axes.includes(i)));
  for (let k = 0; k < out.data.length; k++) out.data[k] = f(groups.get(k) ?? []);
  return out;
}

export function permute(a: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => a.shape[p]!);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(a.shape.length);
    perm.forEach((p, d) => (src[p] = idx[d]!));
    out.data[i] = a.data[ravel(src, a.shape)]!;
  }
  return out;
}

export const sum = (xs: number[]) => xs.reduce((p, x) => p + x, 0);
export const mean = (xs: number[]) => sum(xs) / xs.length;
export const max = (xs: number[]) => xs.reduce((p, x) => Math.max(p, x), -Infinity);
export const min = (xs: number[]) => xs.reduce((p, x) => Math.min(p, x), Infinity);
export const logsumexp = (xs: number[]) => {
  const m = max(xs);
  return m + Math.log(sum(xs.map((x) => Math.exp(x - m))));
};
export const variance = (correction: number) => (xs: number[]) => {
  const mu = mean(xs);
  return sum(xs.map((x) => (x - mu) ** 2)) / (xs.length - correction);
};
export const argmax = (xs: number[]) => xs.indexOf(max(xs));
export const argmin = (xs: number[]) => xs.indexOf(min(xs));
