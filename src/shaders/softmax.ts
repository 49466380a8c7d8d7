// Fused softmax / logSoftmax over one axis, forward and backward: one workgroup per row, the
// row's max and sum reduced in workgroup memory (or with subgroup ops, see RowPlan). A "row" is
// the softmax axis of a tensor viewed as [outer, R, inner], read with stride `inner`, so any
// axis works without a permute. Also the shared pieces (row indexing, the row reduction) the
// layer-norm and cross-entropy kernels use.
import { META_WGSL, type Kernel } from '../tensor/runtime.js';

/**
 * How a row kernel's workgroup cooperates on its row: `width` invocations; with `subgroup` the
 * workgroup is exactly one subgroup and reduces with subgroupAdd / subgroupMax (no barriers;
 * on lavapipe a barrier switches between the workgroup's 8-lane chunks, and a tree of them
 * cost more than the arithmetic), otherwise a tree in workgroup memory.
 */
export interface RowPlan {
  width: number;
  subgroup: boolean;
}
export const SHARED_ROW_PLAN: RowPlan = { width: 64, subgroup: false };
export const rowPlanKey = (p: RowPlan) => (p.subgroup ? `sg${p.width}` : `wg${p.width}`);

/** Meta layout of every row kernel here: [rows, R, inner, ...kernel-specific]. */
const ROW_META = /* wgsl */ `
fn row_count() -> u32 { return M(0u); }
fn row_len() -> u32 { return M(1u); }
fn row_stride() -> u32 { return M(2u); }
/** Offset of element 0 of row o in a tensor viewed as [outer, R, inner]. */
fn row_base(o: u32) -> u32 {
  let inner = M(2u);
  return (o / inner) * M(1u) * inner + o % inner;
}`;

/** Module start: extensions, meta accessors, row indexing, the reduction scratch. */
export function rowPrelude(p: RowPlan): string {
  return `${p.subgroup ? 'enable subgroups;\n' : ''}${META_WGSL}${ROW_META}
${p.subgroup ? '' : `var<workgroup> red: array<f32, ${p.width}>;`}`;
}

/** Entry point header: `o` is the row, `lid` the invocation within it. */
export function rowEntry(p: RowPlan): string {
  return `@compute @workgroup_size(${p.width})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // o depends only on the workgroup, so this early return keeps barriers in uniform control flow.
  let o = wid.y * nwg.x + wid.x;
  if (o >= row_count()) { return; }`;
}

/** WGSL reducing `value` (per invocation) over the row's workgroup into `result`, seen by all. */
export function rowReduce(p: RowPlan, value: string, result: string, op: 'max' | '+'): string {
  if (p.subgroup) return `let ${result} = ${op === 'max' ? 'subgroupMax' : 'subgroupAdd'}(${value});`;
  const merge = op === 'max' ? 'max(red[lid], red[lid + s])' : 'red[lid] + red[lid + s]';
  return `red[lid] = ${value};
  workgroupBarrier();
  for (var s = ${p.width / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = ${merge}; }
    workgroupBarrier();
  }
  let ${result} = red[0];
  workgroupBarrier();`;
}

export type SoftmaxKind = 'softmax' | 'logSoftmax';

/** Y = softmax(X) or logSoftmax(X) along the row axis. */
export function softmaxKernel(kind: SoftmaxKind, p: RowPlan): Kernel {
  // (x − max) − log Σ: subtracting the max first is exact, so huge logits keep their precision.
  const write = kind === 'softmax' ? 'exp(X[i] - m) * inv' : '(X[i] - m) - logSum';
  return {
    key: `softmax_fwd_${kind}_${rowPlanKey(p)}`,
    access: ['read', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${rowEntry(p)}
  let R = row_len();
  let st = row_stride();
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
export function softmaxBackwardKernel(kind: SoftmaxKind, p: RowPlan): Kernel {
  const term = kind === 'softmax' ? 'G[i] * Y[i]' : 'G[i]';
  const write = kind === 'softmax' ? 'Y[i] * (G[i] - dot)' : 'G[i] - exp(Y[i]) * dot';
  return {
    key: `softmax_bwd_${kind}_${rowPlanKey(p)}`,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${rowPrelude(p)}
@group(0) @binding(1) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;
${rowEntry(p)}
  let R = row_len();
  let st = row_stride();
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
