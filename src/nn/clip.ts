// Gradient-norm clipping (torch.nn.utils.clip_grad_norm_) over a model's parameters; the fused
// work is the clipByGlobalNorm_ op (src/tensor/ops/optim.ts).
import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { clipByGlobalNorm_ } from '../tensor/ops/optim.js';

/**
 * Scales the gradients of `params` in place by min(1, maxNorm / (norm + 1e-6)), where norm is the
 * L2 norm of all of them together, and returns that norm (before clipping) as a scalar tensor.
 * Parameters without a gradient are ignored. Nothing waits for the GPU.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm)) throw new Error(`clipGradNorm: maxNorm must be a finite number >= 0, got ${maxNorm}`);
  const grads: Tensor[] = [];
  for (const p of params) {
    if (!p.grad) continue;
    if (p.grad.disposed) throw new Error(`clipGradNorm: the gradient of ${p.name || fmt(p.shape)} was disposed`);
    if (p.grad.size > 0) grads.push(p.grad);
  }
  return clipByGlobalNorm_(grads, maxNorm);
}
