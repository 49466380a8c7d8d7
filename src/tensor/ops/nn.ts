// Softmax family. (Composed placeholder; the fused kernels land in src/shaders/softmax.ts.)
import type { Tensor } from '../tensor.js';

export function softmax(x: Tensor, axis = -1): Tensor {
  const m = x.max(axis, true);
  const d = x.sub(m);
  const e = d.exp();
  const s = e.sum(axis, true);
  const y = e.div(s);
  return y;
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const lse = x.logsumexp(axis, true);
  return x.sub(lse);
}
