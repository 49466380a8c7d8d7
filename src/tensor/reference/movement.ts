// float64 references of the data-movement ops (permute, expand, pad, concat; slices and flips are
// gather's indexSelect), by index arithmetic on the flat arrays.
import { arr, ravel, unravel, type Arr } from './array.js';

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

/** Broadcasts `a` to `shape` (NumPy rules: size-1 axes and new leading axes repeat). */
export function expand(a: Arr, shape: readonly number[]): Arr {
  const out = arr(shape);
  const off = shape.length - a.shape.length;
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape).slice(off).map((v, d) => (a.shape[d] === 1 ? 0 : v));
    out.data[i] = a.data[ravel(idx, a.shape)]!;
  }
  return out;
}

/** Constant borders on the trailing axes: `pads[k]` = [before, after] of axis rank − pads.length + k. */
export function pad(a: Arr, pads: readonly (readonly [number, number])[], value: number): Arr {
  const off = a.shape.length - pads.length;
  const before = a.shape.map((_, i) => (i < off ? 0 : pads[i - off]![0]));
  const shape = a.shape.map((d, i) => (i < off ? d : d + pads[i - off]![0] + pads[i - off]![1]));
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape).map((v, d) => v - before[d]!);
    const inside = idx.every((v, d) => v >= 0 && v < a.shape[d]!);
    out.data[i] = inside ? a.data[ravel(idx, a.shape)]! : value;
  }
  return out;
}

/** The parts joined along `axis` (their other dimensions agree). */
export function concat(parts: readonly Arr[], axis: number): Arr {
  const shape = [...parts[0]!.shape];
  shape[axis] = parts.reduce((p, a) => p + a.shape[axis]!, 0);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    let k = 0, at = idx[axis]!;
    while (at >= parts[k]!.shape[axis]!) at -= parts[k++]!.shape[axis]!;
    idx[axis] = at;
    out.data[i] = parts[k]!.data[ravel(idx, parts[k]!.shape)]!;
  }
  return out;
}
