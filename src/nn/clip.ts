// Gradient-norm clipping (torch.nn.utils.clip_grad_norm_) without a host round trip: per-chunk
// sums of squares, one reduction to the global L2 norm, and an in-place rescale that reads the
// norm from GPU memory.
import { Tensor } from '../tensor/tensor.js';
import { rt } from '../tensor/device.js';
import { fmt } from '../tensor/shape.js';
import { fill } from '../tensor/ops/pointwise.js';
import { noGrad } from '../autograd/tape.js';
import { grid, linearGroups } from '../shaders/kernel.js';
import { clipScaleKernel, sumSquaresKernel, SUMSQ_PER_WG } from '../shaders/optim.js';

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
  return noGrad(() => {
    const chunks = grads.map((g) => Math.ceil(g.size / SUMSQ_PER_WG));
    const total = chunks.reduce((a, b) => a + b, 0);
    if (total === 0) return fill([], 0);
    const partials = Tensor.empty([total]);
    let offset = 0;
    grads.forEach((g, i) => {
      rt().dispatch(sumSquaresKernel(), {
        label: `clipGradNorm sum of squares ${fmt(g.shape)}`,
        buffers: [g.binding, partials.binding],
        uniforms: { count: g.size, outOffset: offset },
        workgroups: grid(chunks[i]!),
      });
      offset += chunks[i]!;
    });
    const sumSq = partials.sum();
    const norm = sumSq.sqrt();
    partials.dispose();
    sumSq.dispose();
    for (const g of grads) {
      rt().dispatch(clipScaleKernel(), {
        label: `clipGradNorm scale ${fmt(g.shape)}`,
        buffers: [g.binding, norm.binding],
        uniforms: { count: g.size, maxNorm },
        workgroups: linearGroups(g.size),
      });
    }
    return norm;
  });
}
