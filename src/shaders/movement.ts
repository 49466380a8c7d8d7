// Two kernels cover every data-movement op: a strided gather (permute, expand, slice with step,
// flip: any view expressible as base + Σ index·stride, strides may be 0 or negative) and its
// adjoint, a strided scatter (slice/pad/concat backward, pad and concat forward).
import { META_WGSL, type Kernel } from '../tensor/runtime.js';
import { MAX_RANK } from './pointwise.js';

// Meta layout: [n, rank, base, shape[8], strides[8] (i32 bits)].
export const MOVE_SHAPE = 3;
export const MOVE_STRIDES = MOVE_SHAPE + MAX_RANK;

const OFFSET_FN = /* wgsl */ `
fn src_offset(i: u32) -> u32 {
  var rem = i;
  var off = Mi(2u);
  let rank = M(1u);
  for (var d = 0u; d < rank; d++) {
    let axis = rank - 1u - d;
    let n = M(${MOVE_SHAPE}u + axis);
    let idx = rem % n;
    rem = rem / n;
    off += i32(idx) * Mi(${MOVE_STRIDES}u + axis);
  }
  return u32(off);
}`;

const ENTRY = `@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= M(0u)) { return; }`;

/**
 * Y[i] = X[base + Σ idx(i)·stride], i over the output shape. With `vec4`, shapes, strides and
 * base are in units of four elements (the caller checks the innermost dimension is contiguous
 * and everything is 4-aligned), so one index computation moves four values.
 */
export function gatherKernel(vec4 = false): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return {
    key: `strided_gather${vec4 ? '4' : ''}`,
    access: ['read', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read> X: array<${T}>;
@group(0) @binding(2) var<storage, read_write> Y: array<${T}>;
${OFFSET_FN}
${ENTRY}
  Y[i] = X[src_offset(i)];
}`,
  };
}

/** Y[base + Σ idx(i)·stride] = X[i], i over X's shape; other elements of Y are left alone. */
export function scatterKernel(vec4 = false): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return {
    key: `strided_scatter${vec4 ? '4' : ''}`,
    access: ['read', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read> X: array<${T}>;
@group(0) @binding(2) var<storage, read_write> Y: array<${T}>;
${OFFSET_FN}
${ENTRY}
  Y[src_offset(i)] = X[i];
}`,
  };
}
