// float64 references of the data-movement ops, by index arithmetic on the flat arrays.
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
