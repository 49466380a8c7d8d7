// The optimiser ops: fused in-place parameter updates (AdamW, SGD) and gradient-norm clipping,
// kernels in src/shaders/optim.ts. They record no autograd (an update is not differentiated);
// src/nn/optim.ts and src/nn/clip.ts hold the optimiser state and call these.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { checkLive, fmt, sameShape } from '../shape.js';
import { noGrad } from '../../autograd/tape.js';
import { grid, linearGroups } from '../../shaders/kernel.js';
import { SUMSQ_PER_WG, adamwKernel, clipScaleKernel, sgdKernel, sumSquaresKernel } from '../../shaders/optim.js';
import { fill } from './pointwise.js';

function checkState(op: string, p: Tensor, ...state: Tensor[]): void {
  checkLive(op, p, ...state);
  for (const t of state) {
    if (!sameShape(t.shape, p.shape)) throw new Error(`${op}: state or gradient of shape ${fmt(t.shape)} for a parameter of shape ${fmt(p.shape)}`);
  }
}

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** The step being taken, from 1 (sets the bias corrections). */
  step: number;
}

/**
 * One AdamW update of `p` in place (torch.optim.AdamW's single-tensor rule), with its moments
 * `expAvg` and `expAvgSq` updated in place too.
 */
export function adamwUpdate_(p: Tensor, g: Tensor, expAvg: Tensor, expAvgSq: Tensor, h: AdamWStep): void {
  checkState('adamwUpdate_', p, g, expAvg, expAvgSq);
  if (p.size === 0) return;
  // Bias corrections in float64 on the host; the kernel gets the finished scalars.
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  rt().dispatch(adamwKernel(), {
    label: `adamw ${p.name} ${fmt(p.shape)}`,
    buffers: [p.binding, g.binding, expAvg.binding, expAvgSq.binding],
    uniforms: { count: p.size, decay: 1 - h.lr * h.weightDecay, beta1: h.beta1, beta2: h.beta2, stepSize: h.lr / bc1, sqrtBc2: Math.sqrt(bc2), eps: h.eps },
    workgroups: linearGroups(p.size),
  });
}

export interface SGDStep {
  lr: number;
  weightDecay: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** The first step seeds the momentum buffer with the gradient. */
  firstStep: boolean;
}

/** One SGD update of `p` in place (torch.optim.SGD's rule); `momentumBuffer` null: no momentum. */
export function sgdUpdate_(p: Tensor, g: Tensor, momentumBuffer: Tensor | null, h: SGDStep): void {
  checkState('sgdUpdate_', p, g, ...(momentumBuffer ? [momentumBuffer] : []));
  if (p.size === 0) return;
  rt().dispatch(sgdKernel(momentumBuffer !== null), {
    label: `sgd ${p.name} ${fmt(p.shape)}`,
    buffers: momentumBuffer ? [p.binding, g.binding, momentumBuffer.binding] : [p.binding, g.binding],
    uniforms: {
      count: p.size, lr: h.lr, weightDecay: h.weightDecay, momentum: h.momentum, dampening: h.dampening,
      flags: (h.nesterov ? 1 : 0) | (h.firstStep ? 2 : 0),
    },
    workgroups: linearGroups(p.size),
  });
}

/**
 * Scales `grads` in place by min(1, maxNorm / (norm + 1e-6)), norm being the L2 norm of all of
 * them together, and returns that norm (before clipping) as a scalar tensor, without a host
 * round trip: per-chunk sums of squares, one reduction, and a rescale that reads the norm from
 * GPU memory.
 */
export function clipByGlobalNorm_(grads: readonly Tensor[], maxNorm: number): Tensor {
  checkLive('clipByGlobalNorm_', ...grads);
  return noGrad(() => {
    const chunks = grads.map((g) => Math.ceil(g.size / SUMSQ_PER_WG));
    const total = chunks.reduce((a, b) => a + b, 0);
    if (total === 0) return fill([], 0);
    const partials = Tensor.empty([total]);
    let outOffset = 0;
    grads.forEach((g, i) => {
      if (chunks[i] === 0) return;
      rt().dispatch(sumSquaresKernel(), {
        label: `clipGradNorm sum of squares ${fmt(g.shape)}`,
        buffers: [g.binding, partials.binding],
        uniforms: { count: g.size, outOffset },
        workgroups: grid(chunks[i]!),
      });
      outOffset += chunks[i]!;
    });
    const sumSq = partials.sum();
    const norm = sumSq.sqrt();
    partials.dispose();
    sumSq.dispose();
    for (const g of grads) {
      if (g.size === 0) continue;
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
