// Two kernels cover every data-movement op: a strided gather (permute, expand, slice with step,
// flip: any view expressible as base + Σ index·stride, strides may be 0 or negative) and its
// adjoint, a strided scatter (slice/pad/concat backward, pad and concat forward).
import { MAX_RANK, linearMain, uniforms, type Kernel } from './kernel.js';

/** `count` chunks of the walked shape; the other side's offset is base + Σ index·stride. */
const MOVE = uniforms({ count: 'u32', rank: 'u32', base: 'i32', shape: ['u32', MAX_RANK], strides: ['i32', MAX_RANK] });
export type MoveUniforms = typeof MOVE.spec;

const OFFSET_FN = /* wgsl */ `
fn src_offset(i: u32) -> u32 {
  var rem = i;
  var off = params.base;
  let rank = params.rank;
  for (var d = 0u; d < rank; d++) {
    let axis = rank - 1u - d;
    let n = params_shape(axis);
    let idx = rem % n;
    rem = rem / n;
    off += i32(idx) * params_strides(axis);
  }
  return u32(off);
}`;

/**
 * Each invocation moves `chunk` consecutive elements along the walked shape's innermost axis (the
 * caller picks a chunk that divides it, and `count` counts chunks): the index arithmetic — a
 * division and a remainder per axis, which CPU adapters run lane by lane — is done once per chunk,
 * and the other elements step by the innermost stride.
 */
function chunkedMain(chunk: number, move: string): string {
  return `${linearMain('j')}
  if (j >= params.count) { return; }
  let i0 = j * ${chunk}u;
  let off0 = i32(src_offset(i0));
  let step = select(0, params_strides(max(params.rank, 1u) - 1u), params.rank > 0u);
  for (var c = 0u; c < ${chunk}u; c++) {
    let i = i0 + c;
    let o = u32(off0 + i32(c) * step);
    ${move}
  }
}`;
}

/** Chunk sizes the kernels are compiled for (the caller picks the largest dividing the inner axis). */
export const MOVE_CHUNKS = [8, 4, 2, 1] as const;

/**
 * Y[i] = X[base + Σ idx(i)·stride], i over the output shape. With `vec4`, count, shape, strides and
 * base are in units of four elements (the caller checks the innermost dimension is contiguous
 * and everything is 4-aligned), so one index computation moves four values.
 */
export function gatherKernel(vec4 = false, chunk = 1): Kernel<MoveUniforms> {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return {
    key: `strided_gather${vec4 ? '4' : ''}${chunk > 1 ? `_x${chunk}` : ''}`,
    uniforms: MOVE,
    access: ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<${T}>;
@group(0) @binding(2) var<storage, read_write> Y: array<${T}>;
${OFFSET_FN}
${chunkedMain(chunk, 'Y[i] = X[o];')}`,
  };
}

/** Y[base + Σ idx(i)·stride] = X[i], i over X's shape; other elements of Y are left alone. */
export function scatterKernel(vec4 = false, chunk = 1): Kernel<MoveUniforms> {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return {
    key: `strided_scatter${vec4 ? '4' : ''}${chunk > 1 ? `_x${chunk}` : ''}`,
    uniforms: MOVE,
    access: ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<${T}>;
@group(0) @binding(2) var<storage, read_write> Y: array<${T}>;
${OFFSET_FN}
${chunkedMain(chunk, 'Y[o] = X[i];')}`,
  };
}
