// Fused layer norm over the trailing D elements of each row: the forward saves the row's mean
// and 1/std for the backward; the backward computes dX per row (two row sums) and dWeight /
// dBias as column sums over row chunks (partial sums, finished by the reduce ops).
import { uniforms, type Kernel } from './kernel.js';
import { rowEntry, rowExtensions, rowPlanKey, rowPrelude, rowReduce, rowUniforms, type RowPlan } from './rows.js';

/** Rows are contiguous (`stride` 1); `affine` says which of weight and bias are applied. */
const LAYERNORM = rowUniforms({ eps: 'f32', affine: 'u32' });
export type LayerNormUniforms = typeof LAYERNORM.spec;
export const LN_FLAG_WEIGHT = 1;
export const LN_FLAG_BIAS = 2;
/** Columns of `len` values; each invocation sums `rowsPerChunk` rows of one column. */
const PARAM_GRAD = uniforms({ rows: 'u32', len: 'u32', chunks: 'u32', rowsPerChunk: 'u32' });

/** Y = (X − mean) · rstd · W + B per row; also writes Mean and Rstd (one value per row). */
export function layerNormKernel(p: RowPlan): Kernel<LayerNormUniforms> {
  return {
    key: `layernorm_fwd_${rowPlanKey(p)}`,
    uniforms: LAYERNORM,
    extensions: rowExtensions(p),
    access: ['read', 'read', 'read', 'read_write', 'read_write', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> Bs: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
@group(0) @binding(5) var<storage, read_write> Mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> Rstd: array<f32>;
${rowEntry(p)}
  let D = params.len;
  let base = o * D;
  let flags = params.affine;
  var acc = 0.0;
  for (var r = lid; r < D; r += ${p.width}u) { acc += X[base + r]; }
  ${rowReduce(p, 'acc', 'total', '+')}
  let mean = total / f32(D);
  // Two passes (mean, then squared deviations) keep the variance accurate for large means.
  var sq = 0.0;
  for (var r = lid; r < D; r += ${p.width}u) { let d = X[base + r] - mean; sq += d * d; }
  ${rowReduce(p, 'sq', 'ssd', '+')}
  let rstd = inverseSqrt(ssd / f32(D) + params.eps);
  for (var r = lid; r < D; r += ${p.width}u) {
    var y = (X[base + r] - mean) * rstd;
    if ((flags & ${LN_FLAG_WEIGHT}u) != 0u) { y *= W[r]; }
    if ((flags & ${LN_FLAG_BIAS}u) != 0u) { y += Bs[r]; }
    Y[base + r] = y;
  }
  if (lid == 0u) {
    Mean[o] = mean;
    Rstd[o] = rstd;
  }
}`,
  };
}

/**
 * dX per row, with x̂ = (x − mean)·rstd and ĝ = g·w:
 *   dX = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)).
 */
export function layerNormBackwardKernel(p: RowPlan): Kernel<LayerNormUniforms> {
  return {
    key: `layernorm_bwd_dx_${rowPlanKey(p)}`,
    uniforms: LAYERNORM,
    extensions: rowExtensions(p),
    access: ['read', 'read', 'read', 'read', 'read', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> Mean: array<f32>;
@group(0) @binding(4) var<storage, read> Rstd: array<f32>;
@group(0) @binding(5) var<storage, read> G: array<f32>;
@group(0) @binding(6) var<storage, read_write> DX: array<f32>;
fn ghat(i: u32, r: u32) -> f32 {
  if ((params.affine & ${LN_FLAG_WEIGHT}u) != 0u) { return G[i] * W[r]; }
  return G[i];
}
${rowEntry(p)}
  let D = params.len;
  let base = o * D;
  let mean = Mean[o];
  let rstd = Rstd[o];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var r = lid; r < D; r += ${p.width}u) {
    let gh = ghat(base + r, r);
    s1 += gh;
    s2 += gh * (X[base + r] - mean) * rstd;
  }
  ${rowReduce(p, 's1', 'sumG', '+')}
  ${rowReduce(p, 's2', 'sumGX', '+')}
  let invD = 1.0 / f32(D);
  for (var r = lid; r < D; r += ${p.width}u) {
    let xhat = (X[base + r] - mean) * rstd;
    DX[base + r] = rstd * (ghat(base + r, r) - sumG * invD - xhat * sumGX * invD);
  }
}`,
  };
}

/**
 * Partial column sums over a chunk of rows: PW[chunk, c] = Σ g·x̂, PB[chunk, c] = Σ g.
 * One invocation per (chunk, column); neighbours read neighbouring columns of the same row
 * (coalesced).
 */
export function layerNormParamGradKernel(): Kernel<typeof PARAM_GRAD.spec> {
  return {
    key: 'layernorm_bwd_params',
    uniforms: PARAM_GRAD,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Mean: array<f32>;
@group(0) @binding(3) var<storage, read> Rstd: array<f32>;
@group(0) @binding(4) var<storage, read> G: array<f32>;
@group(0) @binding(5) var<storage, read_write> PW: array<f32>;
@group(0) @binding(6) var<storage, read_write> PB: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let rows = params.rows;
  let D = params.len;
  let c = gid.x;
  let chunk = gid.y;
  if (c >= D || chunk >= params.chunks) { return; }
  let r0 = chunk * params.rowsPerChunk;
  let r1 = min(r0 + params.rowsPerChunk, rows);
  var sw = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let i = r * D + c;
    let g = G[i];
    sw += g * (X[i] - Mean[r]) * Rstd[r];
    sb += g;
  }
  PW[chunk * D + c] = sw;
  PB[chunk * D + c] = sb;
}`,
  };
}
