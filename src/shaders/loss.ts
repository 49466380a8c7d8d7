// Fused cross-entropy: one workgroup per (sample, position) row of logits [B, C, ...] (classes
// on axis 1, read with stride `inner`); the row's logsumexp, the target's logit and, for label
// smoothing, the row sum give the loss in one pass over the logits. The backward is pointwise:
// softmax − smoothed one-hot, from the logsumexp the forward saved.
import { SPECIAL_FLOATS_WGSL, linearMain, type Kernel } from './kernel.js';
import { rowEntry, rowExtensions, rowPlanKey, rowPrelude, rowReduce, rowUniforms, type RowPlan } from './rows.js';

/**
 * A row is one (sample, position): `len` = C classes, `stride` = the positions per sample.
 * `ignoreIndex` applies when `hasIgnoreIndex` is 1; `smoothing` is ε.
 */
const CROSS_ENTROPY = rowUniforms({ ignoreIndex: 'i32', hasIgnoreIndex: 'u32', smoothing: 'f32' });
export type CrossEntropyUniforms = typeof CROSS_ENTROPY.spec;

// Targets arrive as f32 holding integers; an ignored row yields 0, an out-of-range one NaN
// (host targets are checked before the dispatch, so NaN only comes from tensor targets).
const TARGET = /* wgsl */ `${SPECIAL_FLOATS_WGSL}
fn ignored(t: f32) -> bool { return params.hasIgnoreIndex != 0u && i32(round(t)) == params.ignoreIndex; }
fn valid(t: f32, C: u32) -> bool { return t == round(t) && t >= 0.0 && t < f32(C); }`;

/** Loss[row] = lse − (1 − ε)·x_t − (ε/C)·Σ_c x_c, and Lse[row] for the backward. */
export function crossEntropyKernel(p: RowPlan): Kernel<CrossEntropyUniforms> {
  return {
    key: `cross_entropy_fwd_${rowPlanKey(p)}`,
    uniforms: CROSS_ENTROPY,
    extensions: rowExtensions(p),
    access: ['read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${rowPrelude(p)}${TARGET}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> Loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> Lse: array<f32>;
${rowEntry(p)}
  let C = params.len;
  let st = params.stride;
  let base = row_base(o);
  var mx = X[base];
  for (var c = lid; c < C; c += ${p.width}u) { mx = max(mx, X[base + c * st]); }
  ${rowReduce(p, 'mx', 'm', 'max')}
  var se = 0.0;
  var sx = 0.0;
  for (var c = lid; c < C; c += ${p.width}u) {
    let x = X[base + c * st];
    se += exp(x - m);
    sx += x - m;
  }
  ${rowReduce(p, 'se', 'sumExp', '+')}
  ${rowReduce(p, 'sx', 'sumShifted', '+')}
  if (lid == 0u) {
    let logSum = log(sumExp);
    Lse[o] = m + logSum;
    let t = T[o];
    let eps = params.smoothing;
    if (ignored(t)) {
      Loss[o] = 0.0;
    } else if (!valid(t, C)) {
      Loss[o] = quiet_nan();
    } else {
      // Everything relative to the max, so large logits keep their precision.
      let xt = X[base + u32(t) * st] - m;
      Loss[o] = logSum - (1.0 - eps) * xt - eps * sumShifted / f32(C);
    }
  }
}`,
  };
}

/**
 * dX[b, c, i] = G[row] · (exp(x − lse) − (1 − ε)·[c = t] − ε/C), 0 on ignored rows. One
 * invocation per logit.
 */
export function crossEntropyBackwardKernel(): Kernel<CrossEntropyUniforms> {
  return {
    key: 'cross_entropy_bwd',
    uniforms: CROSS_ENTROPY,
    access: ['read', 'read', 'read', 'read', 'read_write'],
    wgsl: () => `${TARGET}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read> Lse: array<f32>;
@group(0) @binding(4) var<storage, read> G: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;
${linearMain('e')}
  let rows = params.rows;
  let C = params.len;
  let inner = params.stride;
  if (e >= rows * C) { return; }
  let i = e % inner;
  let c = (e / inner) % C;
  let o = (e / (inner * C)) * inner + i;
  let t = T[o];
  if (ignored(t)) { DX[e] = 0.0; return; }
  let eps = params.smoothing;
  let onehot = select(0.0, 1.0 - eps, f32(c) == t);
  let d = G[o] * (exp(X[e] - Lse[o]) - onehot - eps / f32(C));
  DX[e] = select(quiet_nan(), d, valid(t, C));
}`,
  };
}
