// float64 references of the losses: cross-entropy (class axis 1, label smoothing, ignoreIndex,
// reductions) and MSE.
import { arr, numel, type Arr } from './array.js';
import { logSoftmaxRef } from './softmax.js';

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
