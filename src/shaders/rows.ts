// The pieces every row kernel shares (softmax, layernorm, loss): one workgroup per row of a
// tensor viewed as [outer, R, inner], the row read with stride `inner` so any axis works without
// a permute; the row's uniforms; and the reduction of a value over the row's workgroup, in
// workgroup memory or with subgroup operations (see RowPlan).
import { uniforms, type UniformSpec, type Uniforms } from './kernel.js';

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
/** The subgroup plan runs on a device whose subgroups have one fixed width, else the shared one. */
export const rowPlanFor = (fixedSubgroupWidth: number): RowPlan => (fixedSubgroupWidth ? { width: fixedSubgroupWidth, subgroup: true } : SHARED_ROW_PLAN);

type RowSpec = { readonly rows: 'u32'; readonly len: 'u32'; readonly stride: 'u32' };

/** A row kernel's uniforms: `rows` rows of `len` elements `stride` apart, then its own fields. */
export function rowUniforms<const E extends UniformSpec>(extra: E): Uniforms<RowSpec & E> {
  return uniforms({ rows: 'u32', len: 'u32', stride: 'u32', ...extra } as RowSpec & E);
}

/** WGSL extensions a plan needs. */
export const rowExtensions = (p: RowPlan): string[] => (p.subgroup ? ['subgroups'] : []);

/** Module-scope WGSL: the row indexing and, without subgroups, the reduction scratch. */
export function rowPrelude(p: RowPlan): string {
  return `
/** Offset of element 0 of row o in a tensor viewed as [outer, R, inner]. */
fn row_base(o: u32) -> u32 {
  let inner = params.stride;
  return (o / inner) * params.len * inner + o % inner;
}
${p.subgroup ? '' : `var<workgroup> red: array<f32, ${p.width}>;`}`;
}

/** Entry point header: `o` is the row, `lid` the invocation within it. */
export function rowEntry(p: RowPlan): string {
  return `@compute @workgroup_size(${p.width})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // o depends only on the workgroup, so this early return keeps barriers in uniform control flow.
  let o = wid.y * nwg.x + wid.x;
  if (o >= params.rows) { return; }`;
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
