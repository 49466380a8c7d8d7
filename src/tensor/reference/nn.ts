// float64 references for the fused neural-net ops: softmax, logSoftmax, layer norm,
// cross-entropy (class axis 1, label smoothing, ignoreIndex, reductions) and MSE.
import { numel } from '../shape.js';
import { arr, type Arr } from './array.js';

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

/** Layer norm over the trailing `normalized` elements (biased variance). */
export function layerNormRef(x: Arr, normalized: number, weight?: Arr | null, bias?: Arr | null, eps = 1e-5): Arr {
  const out = arr(x.shape);
  const rows = x.data.length / normalized;
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < normalized; j++) mean += x.data[r * normalized + j]!;
    mean /= normalized;
    let v = 0;
    for (let j = 0; j < normalized; j++) v += (x.data[r * normalized + j]! - mean) ** 2;
    v /= normalized;
    for (let j = 0; j < normalized; j++) {
      let y = (x.data[r * normalized + j]! - mean) / Math.sqrt(v + eps);
      if (weight) y *= weight.data[j]!;
      if (bias) y += bias.data[j]!;
      out.data[r * normalized + j] = y;
    }
  }
  return out;
}

export interface CrossEntropyRefOptions {
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
  ignoreIndex?: number;
}

/**
 * Cross-entropy of logits [B, C, ...] (classes on axis 1) against integer targets [B, ...]:
 * per element −Σ_c q_c log p_c with q = (1 − ε)·onehot + ε/C; ignored targets give 0 and are
 * left out of the mean's count (PyTorch's rule).
 */
export function crossEntropyRef(logits: Arr, targets: ArrayLike<number>, opts: CrossEntropyRefOptions = {}): Arr {
  const eps = opts.labelSmoothing ?? 0;
  const C = logits.shape[1]!;
  const logp = logSoftmaxRef(logits, 1);
  const outShape = [logits.shape[0]!, ...logits.shape.slice(2)];
  const inner = numel(logits.shape.slice(2));
  const losses = arr(outShape);
  let count = 0;
  for (let e = 0; e < losses.data.length; e++) {
    const t = targets[e]!;
    if (opts.ignoreIndex !== undefined && t === opts.ignoreIndex) continue;
    count++;
    const b = Math.floor(e / inner), i = e % inner;
    let l = 0;
    for (let c = 0; c < C; c++) {
      const q = (c === t ? 1 - eps : 0) + eps / C;
      l -= q * logp.data[(b * C + c) * inner + i]!;
    }
    losses.data[e] = l;
  }
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return losses;
  const total = losses.data.reduce((p, v) => p + v, 0);
  return arr([], [reduction === 'sum' ? total : total / count]);
}

export function mseLossRef(a: Arr, b: Arr, reduction: 'mean' | 'sum' | 'none' = 'mean'): Arr {
  const sq = arr(a.shape, a.data.map((v, i) => (v - b.data[i]!) ** 2));
  if (reduction === 'none') return sq;
  const total = sq.data.reduce((p, v) => p + v, 0);
  return arr([], [reduction === 'sum' ? total : total / sq.data.length]);
}
