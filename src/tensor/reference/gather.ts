// float64 references for indexSelect, gather and scatterAdd: plain loops over multi-indices.
import { arr, ravel, unravel, type Arr } from './array.js';

/** out[..., k, ...] = a[..., indices[k], ...] along `axis`. */
export function indexSelect(a: Arr, axis: number, indices: readonly number[]): Arr {
  const shape = [...a.shape];
  shape[axis] = indices.length;
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    idx[axis] = indices[idx[axis]!]!;
    out.data[i] = a.data[ravel(idx, a.shape)]!;
  }
  return out;
}

/** torch.gather: out[t] = a[t with t[axis] = index[t]], out shaped like index. */
export function gather(a: Arr, axis: number, index: Arr): Arr {
  const out = arr(index.shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, index.shape);
    idx[axis] = index.data[i]!;
    out.data[i] = a.data[ravel(idx, a.shape)]!;
  }
  return out;
}

/** torch.scatter_add: a copy of `base` with src[t] added at base[t with t[axis] = index[t]]. */
export function scatterAdd(base: Arr, axis: number, index: Arr, src: Arr): Arr {
  const out = arr(base.shape, base.data);
  for (let i = 0; i < index.data.length; i++) {
    const idx = unravel(i, index.shape);
    idx[axis] = index.data[i]!;
    out.data[ravel(idx, base.shape)]! += src.data[i]!;
  }
  return out;
}
