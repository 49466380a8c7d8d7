// float64 references of the reductions: a reduction over any axes as a function of the list of
// values, and those functions (sum, mean, max, min, logsumexp, variance, argmax, argmin).
import { arr, ravel, unravel, type Arr } from './array.js';

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
