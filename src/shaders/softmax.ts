// Fused softmax / logSoftmax over one axis, forward and backward: one workgroup per row (see
// rows.ts), the row's max and sum reduced in workgroup memory or with subgroup operations; and the
// masked, scaled softmax that attention runs between its two matmuls on CPU adapters.
import { F32_MAX, type Kernel } from './kernel.js';
import { rowEntry, rowExtensions, rowPlanKey, rowPrelude, rowReduce, rowUniforms, type RowPlan } from './rows.js';

const SOFTMAX = rowUniforms({});
export type SoftmaxUniforms = typeof SOFTMAX.spec;

export type SoftmaxKind = 'softmax' | 'logSoftmax';

/** Y = softmax(X) or logSoftmax(X) along the row axis. */
export function softmaxKernel(kind: SoftmaxKind, p: RowPlan): Kernel<SoftmaxUniforms> {
  // (x − max) − log Σ: subtracting the max first is exact, so huge logits keep their precision.
  const write = kind === 'softmax' ? 'exp(X[i] - m) * inv' : '(X[i] - m) - logSum';
  return {
    key: `softmax_fwd_${kind}_${rowPlanKey(p)}`,
    uniforms: SOFTMAX,
    extensions: rowExtensions(p),
    access: ['read', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${rowEntry(p)}
  let R = params.len;
  let st = params.stride;
  let base = row_base(o);
  // Start from the row's first element, not a constant: a row of -inf keeps max -inf.
  var mx = X[base];
  for (var r = lid; r < R; r += ${p.width}u) { mx = max(mx, X[base + r * st]); }
  ${rowReduce(p, 'mx', 'm', 'max')}
  var se = 0.0;
  for (var r = lid; r < R; r += ${p.width}u) { se += exp(X[base + r * st] - m); }
  ${rowReduce(p, 'se', 'sum', '+')}
  let inv = 1.0 / sum;
  let logSum = log(sum);
  for (var r = lid; r < R; r += ${p.width}u) {
    let i = base + r * st;
    Y[i] = ${write};
  }
}`,
  };
}

/**
 * Backward from the saved output Y and upstream G:
 *   softmax:    dX = Y ⊙ (G − Σ G⊙Y)
 *   logSoftmax: dX = G − exp(Y) ⊙ Σ G
 */
export function softmaxBackwardKernel(kind: SoftmaxKind, p: RowPlan): Kernel<SoftmaxUniforms> {
  const term = kind === 'softmax' ? 'G[i] * Y[i]' : 'G[i]';
  const write = kind === 'softmax' ? 'Y[i] * (G[i] - dot)' : 'G[i] - exp(Y[i]) * dot';
  return {
    key: `softmax_bwd_${kind}_${rowPlanKey(p)}`,
    uniforms: SOFTMAX,
    extensions: rowExtensions(p),
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;
${rowEntry(p)}
  let R = params.len;
  let st = params.stride;
  let base = row_base(o);
  var acc = 0.0;
  for (var r = lid; r < R; r += ${p.width}u) { let i = base + r * st; acc += ${term}; }
  ${rowReduce(p, 'acc', 'dot', '+')}
  for (var r = lid; r < R; r += ${p.width}u) {
    let i = base + r * st;
    DX[i] = ${write};
  }
}`,
  };
}

const MASKED_SOFTMAX = rowUniforms({ group: 'u32', scale: 'f32', hasMask: 'u32', maskGrad: 'u32' });
export type MaskedSoftmaxUniforms = typeof MASKED_SOFTMAX.spec;

// The log-sum-exp saved for a row whose every key is masked: it attends to nothing (as in the
// fused attention kernel, src/shaders/attention.ts), and its mask gradient is 0.
const NEG_BIG = `-${F32_MAX}`;

/** Rows up to this long (attention up to 256 keys: ViT at 224 px has 197) are held in registers. */
export const MASKED_SOFTMAX_CACHED_LEN = 256;
const cacheSlots = (p: RowPlan) => Math.max(1, Math.ceil(MASKED_SOFTMAX_CACHED_LEN / p.width));

/** Module-scope WGSL: the mask weight of element r of row o (rows `group` at a time share one mask row). */
const maskAt = `
fn mask_at(o: u32, r: u32) -> f32 {
  if (params.hasMask == 0u) { return 1.0; }
  return M[(o / params.group) * params.len + r];
}`;

/**
 * Y = softmax with multiplicative weights over contiguous rows of S:
 *   y_j = m_j·exp(scale·s_j) / Σ_k m_k·exp(scale·s_k),  0 for a row with Σ = 0,
 * taken relative to the max over kept entries (m > 0), so a masked entry, whatever its score
 * (even inf or NaN), changes nothing. Writes each row's log Σ m·exp(scale·s) for the backward.
 */
export function maskedSoftmaxKernel(p: RowPlan): Kernel<MaskedSoftmaxUniforms> {
  return {
    key: `masked_softmax_fwd_${rowPlanKey(p)}`,
    uniforms: MASKED_SOFTMAX,
    extensions: rowExtensions(p),
    access: ['read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> M: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
${maskAt}
${rowEntry(p)}
  let R = params.len;
  let base = o * R;
  let sc = params.scale;
  // Rows of up to ${MASKED_SOFTMAX_CACHED_LEN} read S and M once into per-invocation arrays (cheap on CPU
  // adapters, where each storage load is a bounds-checked scalar load per lane); longer ones stream.
  let cached = R <= ${cacheSlots(p) * p.width}u;
  // Only the slots this row fills: a short row (T = 65) must not pay for 256.
  let slots = (R + ${p.width - 1}u) / ${p.width}u;
  var xs: array<f32, ${cacheSlots(p)}>;
  var ws: array<f32, ${cacheSlots(p)}>;
  var mx = ${NEG_BIG};
  if (cached) {
    for (var c = 0u; c < slots; c++) {
      let r = lid + c * ${p.width}u;
      var w = 0.0;
      var x = 0.0;
      if (r < R) { w = mask_at(o, r); x = sc * S[base + r]; }
      ws[c] = w;
      xs[c] = x;
      if (w > 0.0) { mx = max(mx, x); }
    }
  } else {
    for (var r = lid; r < R; r += ${p.width}u) {
      if (mask_at(o, r) > 0.0) { mx = max(mx, sc * S[base + r]); }
    }
  }
  ${rowReduce(p, 'mx', 'top', 'max')}
  var se = 0.0;
  if (cached) {
    for (var c = 0u; c < slots; c++) {
      let e = select(0.0, ws[c] * exp(xs[c] - top), ws[c] > 0.0);
      xs[c] = e;
      se += e;
    }
  } else {
    for (var r = lid; r < R; r += ${p.width}u) {
      let w = mask_at(o, r);
      if (w > 0.0) { se += w * exp(sc * S[base + r] - top); }
    }
  }
  ${rowReduce(p, 'se', 'z', '+')}
  let inv = select(0.0, 1.0 / z, z > 0.0);
  if (cached) {
    for (var c = 0u; c < slots; c++) {
      let r = lid + c * ${p.width}u;
      if (r < R) { Y[base + r] = xs[c] * inv; }
    }
  } else {
    for (var r = lid; r < R; r += ${p.width}u) {
      let w = mask_at(o, r);
      Y[base + r] = select(0.0, w * exp(sc * S[base + r] - top) * inv, w > 0.0);
    }
  }
  if (lid == 0u) { LSE[o] = select(${NEG_BIG}, top + log(z), z > 0.0); }
}`,
  };
}

/**
 * Backward from S, the saved Y and log-sum-exp, and upstream G, with dot = Σ G⊙Y per row:
 *   dS_j = scale·y_j·(g_j − dot)
 *   dM_j (per row, summed over the rows sharing a mask row by the caller) = exp(scale·s_j − lse)·(g_j − dot),
 * written only when maskGrad is set.
 */
export function maskedSoftmaxBackwardKernel(p: RowPlan): Kernel<MaskedSoftmaxUniforms> {
  return {
    key: `masked_softmax_bwd_${rowPlanKey(p)}`,
    uniforms: MASKED_SOFTMAX,
    extensions: rowExtensions(p),
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read> LSE: array<f32>;
@group(0) @binding(5) var<storage, read_write> DS: array<f32>;
@group(0) @binding(6) var<storage, read_write> DM: array<f32>;
${rowEntry(p)}
  let R = params.len;
  let base = o * R;
  // As in the forward: rows that fit read G and Y once, into per-invocation arrays.
  let cached = R <= ${cacheSlots(p) * p.width}u;
  // Only the slots this row fills: a short row (T = 65) must not pay for 256.
  let slots = (R + ${p.width - 1}u) / ${p.width}u;
  var gs: array<f32, ${cacheSlots(p)}>;
  var ys: array<f32, ${cacheSlots(p)}>;
  var acc = 0.0;
  if (cached) {
    for (var c = 0u; c < slots; c++) {
      let r = lid + c * ${p.width}u;
      var g = 0.0;
      var y = 0.0;
      if (r < R) { g = G[base + r]; y = Y[base + r]; }
      gs[c] = g;
      ys[c] = y;
      acc += g * y;
    }
  } else {
    for (var r = lid; r < R; r += ${p.width}u) { acc += G[base + r] * Y[base + r]; }
  }
  ${rowReduce(p, 'acc', 'dot', '+')}
  let lse = LSE[o];
  let attends = lse != ${NEG_BIG};
  let maskGrad = params.maskGrad != 0u;
  if (cached) {
    for (var c = 0u; c < slots; c++) {
      let r = lid + c * ${p.width}u;
      if (r < R) {
        let i = base + r;
        let gd = gs[c] - dot;
        DS[i] = params.scale * ys[c] * gd;
        if (maskGrad) { DM[i] = select(0.0, exp(params.scale * S[i] - lse) * gd, attends); }
      }
    }
  } else {
    for (var r = lid; r < R; r += ${p.width}u) {
      let i = base + r;
      DS[i] = params.scale * Y[i] * (G[i] - dot);
      if (maskGrad) { DM[i] = select(0.0, exp(params.scale * S[i] - lse) * (G[i] - dot), attends); }
    }
  }
}`,
  };
}
