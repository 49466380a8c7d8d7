// Fused softmax / logSoftmax over one axis, forward and backward: one workgroup per row (see
// rows.ts), the row's max and sum reduced in workgroup memory or with subgroup operations.
import type { Kernel } from './kernel.js';
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
