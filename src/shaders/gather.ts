// Index-driven data movement: indexSelect (pick slices along an axis), gather (torch.gather), and
// their adjoints, written as gathers over destinations so sums are deterministic without float
// atomics. Indices are f32 values holding integers; an invalid one (fractional or out of range)
// reads as NaN forward and contributes nothing backward.
import { META_WGSL, type Kernel } from '../tensor/runtime.js';
import { MAX_RANK } from './pointwise.js';

const WG = 256;
const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

const HELPERS = /* wgsl */ `
var<private> nan_bits: u32 = 0x7fc00000u;
// The index an f32 holds, or -1 when it is not an integer in [0, n).
fn valid_index(v: f32, n: u32) -> i32 {
  if (v >= 0.0 && v < f32(n) && floor(v) == v) { return i32(v); }
  return -1;
}
`;

// indexSelect meta: [total, n (axis size of x), m (number of indices), inner].
/** Y[o, k, i] = X[o, IDX[k], i] for x viewed as [outer, n, inner]. */
export function indexSelectKernel(): Kernel {
  return {
    key: 'index_select',
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${ENTRY}
  if (t >= M(0u)) { return; }
  let n = M(1u); let m = M(2u); let inner = M(3u);
  let i = t % inner;
  let k = (t / inner) % m;
  let o = t / (inner * m);
  let j = valid_index(IDX[k], n);
  Y[t] = select(bitcast<f32>(nan_bits), X[(o * n + u32(max(j, 0))) * inner + i], j >= 0);
}`,
  };
}

// CSR layout (u32 words): offsets[0..n] then order[0..valid): the indices k with IDX[k] == j are
// order[offsets[j] .. offsets[j + 1]), in increasing k.
/**
 * Builds the CSR inverse of an index vector on the GPU: invocation j counts the valid indices
 * below j (its offset) and lists those equal to j. O(n·m) work, no atomics.
 * Meta: [n, m].
 */
export function indexInverseKernel(): Kernel {
  return {
    key: 'index_inverse',
    access: ['read', 'read_write'],
    wgsl: () => `${META_WGSL}${HELPERS}
@group(0) @binding(1) var<storage, read> IDX: array<f32>;
@group(0) @binding(2) var<storage, read_write> CSR: array<u32>;
${ENTRY}
  let n = M(0u); let m = M(1u);
  if (t > n) { return; }
  var below = 0u;
  for (var k = 0u; k < m; k++) {
    let j = valid_index(IDX[k], n);
    if (j >= 0 && u32(j) < t) { below++; }
  }
  CSR[t] = below;
  if (t == n) { return; }
  var at = n + 1u + below;
  for (var k = 0u; k < m; k++) {
    if (valid_index(IDX[k], n) == i32(t)) { CSR[at] = k; at++; }
  }
}`,
  };
}

/**
 * indexSelect's adjoint: GX[o, j, i] = Σ_{k: IDX[k] == j} G[o, k, i], each destination summing
 * its own list in increasing k (deterministic). Meta: [total (outer·n·inner), n, m, inner].
 */
export function indexAddKernel(): Kernel {
  return {
    key: 'index_add',
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> CSR: array<u32>;
@group(0) @binding(3) var<storage, read_write> GX: array<f32>;
${ENTRY}
  if (t >= M(0u)) { return; }
  let n = M(1u); let m = M(2u); let inner = M(3u);
  let i = t % inner;
  let j = (t / inner) % n;
  let o = t / (inner * n);
  var acc = 0.0;
  for (var p = CSR[j]; p < CSR[j + 1u]; p++) {
    acc += G[(o * m + CSR[n + 1u + p]) * inner + i];
  }
  GX[t] = acc;
}`,
  };
}

// gather meta: [total, rank, axis, xAxisSize, idxShape[8], xStrides[8]].
export const GATHER_IDX_SHAPE = 4;
export const GATHER_X_STRIDES = GATHER_IDX_SHAPE + MAX_RANK;
// scatter meta: [total (|x|), rank, axis, idxAxisSize, xShape[8], idxShape[8] (0 for the axis), useBase].
export const SCATTER_X_SHAPE = 4;
export const SCATTER_IDX_SHAPE = SCATTER_X_SHAPE + MAX_RANK;
export const SCATTER_USE_BASE = SCATTER_IDX_SHAPE + MAX_RANK;

/** torch.gather: Y[t] = X[t with t[axis] replaced by IDX[t]], t over the index shape. */
export function gatherKernel(): Kernel {
  return {
    key: 'gather_axis',
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${ENTRY}
  if (t >= M(0u)) { return; }
  let rank = M(1u); let axis = M(2u);
  let j = valid_index(IDX[t], M(3u));
  var rem = t;
  var off = 0u;
  for (var d = 0u; d < rank; d++) {
    let a = rank - 1u - d;
    let size = M(${GATHER_IDX_SHAPE}u + a);
    let c = rem % size;
    rem = rem / size;
    off += select(c, u32(max(j, 0)), a == axis) * M(${GATHER_X_STRIDES}u + a);
  }
  Y[t] = select(bitcast<f32>(nan_bits), X[off], j >= 0);
}`,
  };
}

/**
 * torch.scatter_add along an axis, as a gather over destinations: for x's element s,
 * Y[s] = BASE[s] + Σ_{j: IDX[s with s[axis] = j] == s[axis]} SRC[s with s[axis] = j], j over the
 * index's axis. Elements outside the index's extent on other axes get BASE only. Each output loops
 * over the index axis: O(|x| · index.shape[axis]) work, no atomics, a fixed summation order.
 */
export function scatterAddKernel(): Kernel {
  return {
    key: 'scatter_add_axis',
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${HELPERS}
@group(0) @binding(1) var<storage, read> BASE: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read> SRC: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
${ENTRY}
  if (t >= M(0u)) { return; }
  let rank = M(1u); let axis = M(2u); let m = M(3u);
  // Offset of s (with s[axis] = 0) in the index/src layout, and the stride of its axis there.
  var rem = t;
  var off = 0u;
  var stride = 1u;
  var axisStride = 1u;
  var dest = 0u;
  var inside = true;
  for (var d = 0u; d < rank; d++) {
    let a = rank - 1u - d;
    let c = rem % M(${SCATTER_X_SHAPE}u + a);
    rem = rem / M(${SCATTER_X_SHAPE}u + a);
    let isize = select(M(${SCATTER_IDX_SHAPE}u + a), m, a == axis);
    if (a == axis) { dest = c; axisStride = stride; }
    else {
      if (c >= isize) { inside = false; }
      off += c * stride;
    }
    stride *= isize;
  }
  var acc = 0.0;
  if (inside) {
    let xAxis = M(${SCATTER_X_SHAPE}u + axis);
    for (var j = 0u; j < m; j++) {
      let p = off + j * axisStride;
      if (valid_index(IDX[p], xAxis) == i32(dest)) { acc += SRC[p]; }
    }
  }
  if (M(${SCATTER_USE_BASE}u) != 0u) { acc = BASE[t] + acc; }
  Y[t] = acc;
}`,
  };
}
