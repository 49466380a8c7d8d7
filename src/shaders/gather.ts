// Index-driven data movement: indexSelect (pick slices along an axis), gather (torch.gather), and
// their adjoints, written as gathers over destinations so sums are deterministic without float
// atomics. Indices are f32 values holding integers; an invalid one (fractional or out of range)
// reads as NaN forward and contributes nothing backward.
import { MAX_RANK, SPECIAL_FLOATS_WGSL, linearMain, uniforms, type Kernel } from './kernel.js';

const ENTRY = linearMain('t');

/** x viewed as [outer, n, inner] with `m` indices into its middle axis; `count` outputs. */
const INDEX_SELECT = uniforms({ count: 'u32', n: 'u32', m: 'u32', inner: 'u32' });
export type IndexSelectUniforms = typeof INDEX_SELECT.spec;
/** The CSR inverse of `m` indices into an axis of size `n`. */
const INDEX_INVERSE = uniforms({ n: 'u32', m: 'u32' });
/** torch.gather over the index's shape; `axisSize` is x's size along `axis`. */
const GATHER = uniforms({ count: 'u32', rank: 'u32', axis: 'u32', axisSize: 'u32', indexShape: ['u32', MAX_RANK], xStrides: ['u32', MAX_RANK] });
/**
 * scatter_add over x's shape; `indexAxisSize` is the index's size along `axis`, `indexShape` the
 * index's shape (its `axis` entry unused); `useBase`: add to BASE (else to zeros).
 */
const SCATTER_ADD = uniforms({
  count: 'u32', rank: 'u32', axis: 'u32', indexAxisSize: 'u32', xShape: ['u32', MAX_RANK], indexShape: ['u32', MAX_RANK], useBase: 'u32',
});

const HELPERS = /* wgsl */ `${SPECIAL_FLOATS_WGSL}
// The index an f32 holds, or -1 when it is not an integer in [0, n).
fn valid_index(v: f32, n: u32) -> i32 {
  if (v >= 0.0 && v < f32(n) && floor(v) == v) { return i32(v); }
  return -1;
}
`;

/** Y[o, k, i] = X[o, IDX[k], i] for x viewed as [outer, n, inner]. */
export function indexSelectKernel(): Kernel<IndexSelectUniforms> {
  return {
    key: 'index_select',
    uniforms: INDEX_SELECT,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${ENTRY}
  if (t >= params.count) { return; }
  let n = params.n; let m = params.m; let inner = params.inner;
  let i = t % inner;
  let k = (t / inner) % m;
  let o = t / (inner * m);
  let j = valid_index(IDX[k], n);
  Y[t] = select(quiet_nan(), X[(o * n + u32(max(j, 0))) * inner + i], j >= 0);
}`,
  };
}

// CSR layout (u32 words): offsets[0..n] then order[0..valid): the indices k with IDX[k] == j are
// order[offsets[j] .. offsets[j + 1]), in increasing k.
/**
 * Builds the CSR inverse of an index vector on the GPU: invocation j counts the valid indices
 * below j (its offset) and lists those equal to j. O(n·m) work, no atomics.
 */
export function indexInverseKernel(): Kernel<typeof INDEX_INVERSE.spec> {
  return {
    key: 'index_inverse',
    uniforms: INDEX_INVERSE,
    access: ['read', 'read_write'],
    wgsl: () => `${HELPERS}
@group(0) @binding(1) var<storage, read> IDX: array<f32>;
@group(0) @binding(2) var<storage, read_write> CSR: array<u32>;
${ENTRY}
  let n = params.n; let m = params.m;
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
 * its own list in increasing k (deterministic). `count` = outer·n·inner.
 */
export function indexAddKernel(): Kernel<IndexSelectUniforms> {
  return {
    key: 'index_add',
    uniforms: INDEX_SELECT,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> CSR: array<u32>;
@group(0) @binding(3) var<storage, read_write> GX: array<f32>;
${ENTRY}
  if (t >= params.count) { return; }
  let n = params.n; let m = params.m; let inner = params.inner;
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

/** torch.gather: Y[t] = X[t with t[axis] replaced by IDX[t]], t over the index shape. */
export function gatherKernel(): Kernel<typeof GATHER.spec> {
  return {
    key: 'gather_axis',
    uniforms: GATHER,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${ENTRY}
  if (t >= params.count) { return; }
  let rank = params.rank; let axis = params.axis;
  let j = valid_index(IDX[t], params.axisSize);
  var rem = t;
  var off = 0u;
  for (var d = 0u; d < rank; d++) {
    let a = rank - 1u - d;
    let size = params_indexShape(a);
    let c = rem % size;
    rem = rem / size;
    off += select(c, u32(max(j, 0)), a == axis) * params_xStrides(a);
  }
  Y[t] = select(quiet_nan(), X[off], j >= 0);
}`,
  };
}

/**
 * torch.scatter_add along an axis, as a gather over destinations: for x's element s,
 * Y[s] = BASE[s] + Σ_{j: IDX[s with s[axis] = j] == s[axis]} SRC[s with s[axis] = j], j over the
 * index's axis. Elements outside the index's extent on other axes get BASE only. Each output loops
 * over the index axis: O(|x| · index.shape[axis]) work, no atomics, a fixed summation order.
 */
export function scatterAddKernel(): Kernel<typeof SCATTER_ADD.spec> {
  return {
    key: 'scatter_add_axis',
    uniforms: SCATTER_ADD,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${HELPERS}
@group(0) @binding(1) var<storage, read> BASE: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read> SRC: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
${ENTRY}
  if (t >= params.count) { return; }
  let rank = params.rank; let axis = params.axis; let m = params.indexAxisSize;
  // Offset of s (with s[axis] = 0) in the index/src layout, and the stride of its axis there.
  var rem = t;
  var off = 0u;
  var stride = 1u;
  var axisStride = 1u;
  var dest = 0u;
  var inside = true;
  for (var d = 0u; d < rank; d++) {
    let a = rank - 1u - d;
    let c = rem % params_xShape(a);
    rem = rem / params_xShape(a);
    let isize = select(params_indexShape(a), m, a == axis);
    if (a == axis) { dest = c; axisStride = stride; }
    else {
      if (c >= isize) { inside = false; }
      off += c * stride;
    }
    stride *= isize;
  }
  var acc = 0.0;
  if (inside) {
    let xAxis = params_xShape(axis);
    for (var j = 0u; j < m; j++) {
      let p = off + j * axisStride;
      if (valid_index(IDX[p], xAxis) == i32(dest)) { acc += SRC[p]; }
    }
  }
  if (params.useBase != 0u) { acc = BASE[t] + acc; }
  Y[t] = acc;
}`,
  };
}
