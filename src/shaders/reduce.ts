// Reductions over a tensor viewed as [outer, R, inner] (R = product of the reduced axes, which
// the front-end makes contiguous). Two kernels:
//   row: inner == 1 and R large — one workgroup per output, a tree reduction in shared memory;
//   column: otherwise — one invocation per output walking R with stride `inner` (coalesced
//   across neighbouring outputs).
// logsumexp and var are two-pass inside the kernel (max then sum of exp; mean then squared
// deviations), which keeps them stable. argmax/argmin break ties toward the lowest index.
import { F32_MAX, SPECIAL_FLOATS_WGSL, linearMain, uniforms, type Kernel } from './kernel.js';

export type ReduceOp = 'sum' | 'max' | 'min' | 'logsumexp' | 'var' | 'argmax' | 'argmin';

export const ROW_WG = 64;

/** x viewed as [outer, len, inner], reduced over `len`; `correction` is var's divisor offset. */
const REDUCE = uniforms({ outer: 'u32', len: 'u32', inner: 'u32', correction: 'f32' });
export type ReduceUniforms = typeof REDUCE.spec;

// logsumexp from the running max m and s = Σ exp(x - m): +inf when m is +inf (exp(inf - inf)
// would be NaN), -inf when every element is -inf or there are none (s == 0; log(0) is undefined
// in Vulkan, so it is not relied on).
const LSE_RESULT = `select(select(m + log(s), neg_inf(), s == 0.0), m, m > ${F32_MAX})`;

function combine(op: ReduceOp): { init: string; step: string; merge: string } {
  switch (op) {
    case 'sum':
    case 'var':
    case 'logsumexp':
      return { init: '0.0', step: 'acc + v', merge: 'a + b' };
    case 'max':
      return { init: `-${F32_MAX}`, step: 'max(acc, v)', merge: 'max(a, b)' };
    case 'min':
      return { init: F32_MAX, step: 'min(acc, v)', merge: 'min(a, b)' };
    default:
      throw new Error(op);
  }
}

/** Column kernel: one invocation per output element. */
export function columnReduceKernel(op: ReduceOp): Kernel<ReduceUniforms> {
  const body = (() => {
    if (op === 'argmax' || op === 'argmin') {
      const better = op === 'argmax' ? 'v > best' : 'v < best';
      return `var best = X[base];
  var bi = 0u;
  for (var r = 1u; r < R; r++) {
    let v = X[base + r * inner];
    // NaN wins, as in NumPy: a NaN anywhere makes the result its index.
    if ((${better} || (v != v)) && (best == best)) { best = v; bi = r; }
  }
  Y[o] = f32(bi);`;
    }
    if (op === 'logsumexp') {
      return `var m = -${F32_MAX};
  for (var r = 0u; r < R; r++) { m = max(m, X[base + r * inner]); }
  var s = 0.0;
  for (var r = 0u; r < R; r++) { s += exp(X[base + r * inner] - m); }
  Y[o] = ${LSE_RESULT};`;
    }
    if (op === 'var') {
      return `var s = 0.0;
  for (var r = 0u; r < R; r++) { s += X[base + r * inner]; }
  let mean = s / f32(R);
  var q = 0.0;
  for (var r = 0u; r < R; r++) { let d = X[base + r * inner] - mean; q += d * d; }
  Y[o] = q / (f32(R) - params.correction);`;
    }
    const c = combine(op);
    // max/min start from the first element (R > 0 is checked by the front-end), so a row of
    // -inf gives -inf rather than the f32 limit an initial constant would leave.
    const first = op === 'max' || op === 'min';
    return `var acc = ${first ? 'X[base]' : c.init};
  for (var r = ${first ? 1 : 0}u; r < R; r++) { let v = X[base + r * inner]; acc = ${c.step}; }
  Y[o] = acc;`;
  })();
  return {
    key: `reduce_col_${op}`,
    uniforms: REDUCE,
    access: ['read', 'read_write'],
    wgsl: () => `${SPECIAL_FLOATS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${linearMain('o')}
  let outer = params.outer;
  let R = params.len;
  let inner = params.inner;
  if (o >= outer * inner) { return; }
  let base = (o / inner) * R * inner + (o % inner);
  ${body}
}`,
  };
}

/** Ops the four-column kernel serves: one accumulator each, no second pass. */
export const COLUMN4_OPS: readonly ReduceOp[] = ['sum', 'max', 'min'];

/**
 * Column kernel over four neighbouring outputs per invocation (inner % 4 == 0, so they share
 * `outer`): `inner` and the output count are in units of four. On CPU adapters, where every
 * storage load is split into per-lane scalar loads, one vec4 load per row instead of four scalar
 * ones is what makes bias gradients (sums over batch × tokens rows) fast.
 */
export function columnReduce4Kernel(op: ReduceOp): Kernel<ReduceUniforms> {
  if (!COLUMN4_OPS.includes(op)) throw new Error(`columnReduce4Kernel: ${op} has no four-column variant`);
  const c = combine(op);
  const first = op === 'max' || op === 'min';
  return {
    key: `reduce_col4_${op}`,
    uniforms: REDUCE,
    access: ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
${linearMain('o')}
  let R = params.len;
  let inner = params.inner;
  if (o >= params.outer * inner) { return; }
  let base = (o / inner) * R * inner + (o % inner);
  var acc = ${first ? 'X[base]' : `vec4<f32>(${c.init})`};
  for (var r = ${first ? 1 : 0}u; r < R; r++) { let v = X[base + r * inner]; acc = ${c.step}; }
  Y[o] = acc;
}`,
  };
}

/** Row kernel: one workgroup per output element (inner == 1). */
export function rowReduceKernel(op: ReduceOp): Kernel<ReduceUniforms> {
  const isArg = op === 'argmax' || op === 'argmin';
  const sumLike = combine(op === 'max' || op === 'min' ? op : 'sum');
  const maxC = combine('max');
  const reduceShared = (merge: string) => `
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { let a = sh[lid]; let b = sh[lid + s]; sh[lid] = ${merge}; }
    workgroupBarrier();
  }`;
  let body: string;
  if (isArg) {
    const better = op === 'argmax' ? '>' : '<';
    body = `var best = X[base + min(lid, R - 1u)];
  var bi = min(lid, R - 1u);
  for (var r = lid; r < R; r += ${ROW_WG}u) {
    let v = X[base + r];
    if (best == best && ((v ${better} best) || (v != v) || (v == best && r < bi))) { best = v; bi = r; }
  }
  sh[lid] = best;
  shi[lid] = bi;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let a = sh[lid]; let b = sh[lid + s];
      let ia = shi[lid]; let ib = shi[lid + s];
      let takeB = a == a && ((b ${better} a) || (b != b) || (b == a && ib < ia));
      if (takeB) { sh[lid] = b; shi[lid] = ib; }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { Y[o] = f32(shi[0]); }`;
  } else if (op === 'logsumexp') {
    body = `var acc = ${maxC.init};
  for (var r = lid; r < R; r += ${ROW_WG}u) { let v = X[base + r]; acc = ${maxC.step}; }
  sh[lid] = acc;
  workgroupBarrier();${reduceShared(maxC.merge)}
  let m = sh[0];
  workgroupBarrier();
  var s2 = 0.0;
  for (var r = lid; r < R; r += ${ROW_WG}u) { s2 += exp(X[base + r] - m); }
  sh[lid] = s2;
  workgroupBarrier();${reduceShared('a + b')}
  let s = sh[0];
  if (lid == 0u) { Y[o] = ${LSE_RESULT}; }`;
  } else if (op === 'var') {
    body = `var acc = 0.0;
  for (var r = lid; r < R; r += ${ROW_WG}u) { acc += X[base + r]; }
  sh[lid] = acc;
  workgroupBarrier();${reduceShared('a + b')}
  let mean = sh[0] / f32(R);
  workgroupBarrier();
  var q = 0.0;
  for (var r = lid; r < R; r += ${ROW_WG}u) { let d = X[base + r] - mean; q += d * d; }
  sh[lid] = q;
  workgroupBarrier();${reduceShared('a + b')}
  if (lid == 0u) { Y[o] = sh[0] / (f32(R) - params.correction); }`;
  } else {
    // max/min lanes start from their first element (lid < ROW_WG <= R on this path).
    const first = op === 'max' || op === 'min';
    body = `var acc = ${first ? 'X[base + lid]' : sumLike.init};
  for (var r = lid${first ? ` + ${ROW_WG}u` : ''}; r < R; r += ${ROW_WG}u) { let v = X[base + r]; acc = ${sumLike.step}; }
  sh[lid] = acc;
  workgroupBarrier();${reduceShared(sumLike.merge)}
  if (lid == 0u) { Y[o] = sh[0]; }`;
  }
  return {
    key: `reduce_row_${op}`,
    uniforms: REDUCE,
    access: ['read', 'read_write'],
    wgsl: () => `${SPECIAL_FLOATS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
var<workgroup> sh: array<f32, ${ROW_WG}>;
${isArg ? `var<workgroup> shi: array<u32, ${ROW_WG}>;` : ''}
@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= params.outer) { return; }
  let R = params.len;
  let base = o * R;
  ${body}
}`,
  };
}
