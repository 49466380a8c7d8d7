// WGSL for the optimisers: one fused in-place update per parameter (AdamW, SGD), and the two
// halves of gradient-norm clipping (per-workgroup sums of squares; scale by the clip factor).
// Every hyper-parameter arrives through meta, so changing lr or step never compiles a shader.
import { META_WGSL, type Kernel } from '../tensor/runtime.js';

export const OPTIM_WG = 256;
/**
 * Elements one workgroup sums in the sum-of-squares pass: each thread accumulates 16 values
 * before the shared-memory tree, so a ViT-B's 86M gradients need only ~21k partial sums.
 */
export const SUMSQ_PER_WG = OPTIM_WG * 16;

const ENTRY = `@compute @workgroup_size(${OPTIM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;
const LINEAR_INDEX = `let i = (wid.y * nwg.x + wid.x) * ${OPTIM_WG}u + lid;`;

/**
 * PyTorch's AdamW (torch.optim.AdamW, single-tensor path), in place:
 *   p ← p·(1 − lr·wd);  m ← lerp(m, g, 1 − β1);  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / bc1) · m / (√v / √bc2 + ε)
 * Meta: [n, 1 − lr·wd, β1, β2, lr / bc1, √bc2, ε] (bias corrections bc = 1 − βᵗ from the host).
 */
export function adamwKernel(): Kernel {
  return {
    key: 'optim_adamw',
    access: ['read_write', 'read', 'read_write', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> Mom: array<f32>;
@group(0) @binding(4) var<storage, read_write> Vel: array<f32>;
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let g = G[i];
  let m = Mom[i] + (1.0 - Mf(2u)) * (g - Mom[i]);
  let v = Mf(3u) * Vel[i] + (1.0 - Mf(3u)) * g * g;
  Mom[i] = m;
  Vel[i] = v;
  let denom = sqrt(v) / Mf(5u) + Mf(6u);
  P[i] = P[i] * Mf(1u) - Mf(4u) * m / denom;
}`,
  };
}

/**
 * PyTorch's SGD, in place: g ← g + wd·p; with momentum, b ← g on the first step, else
 * b ← μ·b + (1 − dampening)·g, and g ← g + μ·b (Nesterov) or g ← b; then p ← p − lr·g.
 * Meta: [n, lr, wd, μ, dampening, flags (1: Nesterov, 2: first step)].
 */
export function sgdKernel(momentum: boolean): Kernel {
  return {
    key: `optim_sgd_${momentum ? 'momentum' : 'plain'}`,
    access: momentum ? ['read_write', 'read', 'read_write'] : ['read_write', 'read'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
${momentum ? '@group(0) @binding(3) var<storage, read_write> Buf: array<f32>;' : ''}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let p = P[i];
  var g = G[i] + Mf(2u) * p;
  ${momentum ? `let first = (M(5u) & 2u) != 0u;
  let b = select(Mf(3u) * Buf[i] + (1.0 - Mf(4u)) * g, g, first);
  Buf[i] = b;
  g = select(b, g + Mf(3u) * b, (M(5u) & 1u) != 0u);` : ''}
  P[i] = p - Mf(1u) * g;
}`,
  };
}

/**
 * Partial sums of squares: workgroup w sums G[w·SUMSQ_PER_WG ..) and writes Out[M(1) + w].
 * Meta: [n, output offset].
 */
export function sumSquaresKernel(): Kernel {
  return {
    key: 'optim_sumsq',
    access: ['read', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> Out: array<f32>;
var<workgroup> partial: array<f32, ${OPTIM_WG}>;
${ENTRY} {
  let w = wid.y * nwg.x + wid.x;
  let n = M(0u);
  let base = w * ${SUMSQ_PER_WG}u;
  var acc = 0.0;
  for (var k = 0u; k < ${SUMSQ_PER_WG / OPTIM_WG}u; k++) {
    let i = base + k * ${OPTIM_WG}u + lid;
    if (i < n) { let g = G[i]; acc += g * g; }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = ${OPTIM_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { Out[M(1u) + w] = partial[0]; }
}`,
  };
}

/** G ← G · min(1, maxNorm / (norm + 1e-6)), norm read from a one-element buffer. Meta: [n, maxNorm]. */
export function clipScaleKernel(): Kernel {
  return {
    key: 'optim_clip_scale',
    access: ['read_write', 'read'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read_write> G: array<f32>;
@group(0) @binding(2) var<storage, read> Norm: array<f32>;
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let c = Mf(1u) / (Norm[0] + 1e-6);
  // A NaN norm propagates (as in PyTorch) rather than depending on how min() treats NaN.
  let scale = select(min(1.0, c), c, c != c);
  G[i] = G[i] * scale;
}`,
  };
}
