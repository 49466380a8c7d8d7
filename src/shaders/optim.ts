// WGSL for the optimisers: one fused in-place update per parameter (AdamW, SGD), and the two
// halves of gradient-norm clipping (per-workgroup sums of squares; scale by the clip factor).
// Every hyper-parameter arrives through meta, so changing lr or step never compiles a shader.
import { LINEAR_WG, linearMain, uniforms, type Kernel } from './kernel.js';

/**
 * Elements one workgroup sums in the sum-of-squares pass: each thread accumulates 16 values
 * before the shared-memory tree, so a ViT-B's 86M gradients need only ~21k partial sums.
 */
export const SUMSQ_PER_WG = LINEAR_WG * 16;

/** Bias corrections bc = 1 − βᵗ come from the host, folded into `stepSize` = lr / bc1 and `sqrtBc2`. */
const ADAMW = uniforms({ count: 'u32', decay: 'f32', beta1: 'f32', beta2: 'f32', stepSize: 'f32', sqrtBc2: 'f32', eps: 'f32' });
/** `flags`: 1 Nesterov, 2 first step (the momentum buffer starts as the gradient). */
const SGD = uniforms({ count: 'u32', lr: 'f32', weightDecay: 'f32', momentum: 'f32', dampening: 'f32', flags: 'u32' });
/** Partial sums go to Out[outOffset ..]. */
const SUM_SQUARES = uniforms({ count: 'u32', outOffset: 'u32' });
const CLIP_SCALE = uniforms({ count: 'u32', maxNorm: 'f32' });
export type AdamWUniforms = typeof ADAMW.spec;
export type SGDUniforms = typeof SGD.spec;

/**
 * PyTorch's AdamW (torch.optim.AdamW, single-tensor path), in place:
 *   p ← p·(1 − lr·wd);  m ← lerp(m, g, 1 − β1);  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / bc1) · m / (√v / √bc2 + ε)
 * with `decay` = 1 − lr·wd.
 */
export function adamwKernel(): Kernel<AdamWUniforms> {
  return {
    key: 'optim_adamw',
    uniforms: ADAMW,
    access: ['read_write', 'read', 'read_write', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> Mom: array<f32>;
@group(0) @binding(4) var<storage, read_write> Vel: array<f32>;
${linearMain()}
  if (i >= params.count) { return; }
  let g = G[i];
  let m = Mom[i] + (1.0 - params.beta1) * (g - Mom[i]);
  let v = params.beta2 * Vel[i] + (1.0 - params.beta2) * g * g;
  Mom[i] = m;
  Vel[i] = v;
  let denom = sqrt(v) / params.sqrtBc2 + params.eps;
  P[i] = P[i] * params.decay - params.stepSize * m / denom;
}`,
  };
}

/**
 * PyTorch's SGD, in place: g ← g + wd·p; with momentum, b ← g on the first step, else
 * b ← μ·b + (1 − dampening)·g, and g ← g + μ·b (Nesterov) or g ← b; then p ← p − lr·g.
 */
export function sgdKernel(momentum: boolean): Kernel<SGDUniforms> {
  return {
    key: `optim_sgd_${momentum ? 'momentum' : 'plain'}`,
    uniforms: SGD,
    access: momentum ? ['read_write', 'read', 'read_write'] : ['read_write', 'read'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
${momentum ? '@group(0) @binding(3) var<storage, read_write> Buf: array<f32>;' : ''}
${linearMain()}
  if (i >= params.count) { return; }
  let p = P[i];
  var g = G[i] + params.weightDecay * p;
  ${momentum ? `let first = (params.flags & 2u) != 0u;
  let b = select(params.momentum * Buf[i] + (1.0 - params.dampening) * g, g, first);
  Buf[i] = b;
  g = select(b, g + params.momentum * b, (params.flags & 1u) != 0u);` : ''}
  P[i] = p - params.lr * g;
}`,
  };
}

/**
 * Partial sums of squares: workgroup w sums G[w·SUMSQ_PER_WG ..) and writes Out[outOffset + w].
 */
export function sumSquaresKernel(): Kernel<typeof SUM_SQUARES.spec> {
  return {
    key: 'optim_sumsq',
    uniforms: SUM_SQUARES,
    access: ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> Out: array<f32>;
var<workgroup> partial: array<f32, ${LINEAR_WG}>;
@compute @workgroup_size(${LINEAR_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.y * nwg.x + wid.x;
  let n = params.count;
  let base = w * ${SUMSQ_PER_WG}u;
  var acc = 0.0;
  for (var k = 0u; k < ${SUMSQ_PER_WG / LINEAR_WG}u; k++) {
    let i = base + k * ${LINEAR_WG}u + lid;
    if (i < n) { let g = G[i]; acc += g * g; }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = ${LINEAR_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { Out[params.outOffset + w] = partial[0]; }
}`,
  };
}

/** G ← G · min(1, maxNorm / (norm + 1e-6)), norm read from a one-element buffer. */
export function clipScaleKernel(): Kernel<typeof CLIP_SCALE.spec> {
  return {
    key: 'optim_clip_scale',
    uniforms: CLIP_SCALE,
    access: ['read_write', 'read'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read_write> G: array<f32>;
@group(0) @binding(2) var<storage, read> Norm: array<f32>;
${linearMain()}
  if (i >= params.count) { return; }
  let c = params.maxNorm / (Norm[0] + 1e-6);
  // A NaN norm propagates (as in PyTorch) rather than depending on how min() treats NaN.
  let scale = select(min(1.0, c), c, c != c);
  G[i] = G[i] * scale;
}`,
  };
}
