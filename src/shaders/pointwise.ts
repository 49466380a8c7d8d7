// Pointwise ops as one table: each entry holds the WGSL forward expression, the WGSL derivative
// expressions, and a float64 JS reference used by the tests. Generators below turn the table
// into kernels (flat for same-shape operands, strided for NumPy broadcasting).
import { META_WGSL, type Kernel } from '../tensor/runtime.js';

/** Highest rank the strided kernels index (ranks above this are rejected with a clear error). */
export const MAX_RANK = 8;

// Numerically careful helpers shared by the expressions (and by kernels that fuse them, such as
// matmul's activation epilogue).
export const POINTWISE_HELPERS_WGSL = /* wgsl */ `
// A runtime (not constant) NaN: WGSL rejects NaN in constant expressions.
var<private> nan_bits: u32 = 0x7fc00000u;
fn safe_tanh(x: f32) -> f32 {
  // exp of a large argument overflows; this form only ever exponentiates -2|x|.
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn safe_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
// erfc(z) for z >= 0 with relative error < 1.2e-7 everywhere (the Chebyshev fit of Numerical
// Recipes' erfcc), so the tail of the normal CDF keeps its relative precision.
fn erfc_pos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}
// Standard normal CDF and density.
fn norm_cdf(x: f32) -> f32 {
  let h = 0.5 * erfc_pos(abs(x) * 0.70710678118654752);
  return select(1.0 - h, h, x < 0.0);
}
fn norm_pdf(x: f32) -> f32 { return 0.39894228040143268 * exp(-0.5 * x * x); }
fn gelu_tanh_inner(x: f32) -> f32 { return 0.79788456080286536 * (x + 0.044715 * x * x * x); }
fn signed_pow(a: f32, b: f32) -> f32 {
  // WGSL pow is undefined for a < 0; follow C: negative bases with integer exponents work.
  if (b == 0.0) { return 1.0; }
  let r = pow(abs(a), b);
  if (a >= 0.0) { return r; }
  if (fract(b) != 0.0) { return bitcast<f32>(nan_bits); }
  return select(r, -r, fract(b * 0.5) != 0.0);
}
`;

export interface UnaryDef {
  /** Forward, in terms of `x`. */
  wgsl: string;
  /** d(out)/d(x) times upstream `g`, in terms of `x`, `y` (the output) and `g`; absent = not differentiable. */
  dx?: string;
  /** float64 reference. */
  ref: (x: number) => number;
}

export interface BinaryDef {
  /** Forward, in terms of `a` and `b`. */
  wgsl: string;
  /** Gradients times upstream `g`, in terms of `a`, `b`, `y`, `g`. */
  da?: string;
  db?: string;
  ref: (a: number, b: number) => number;
}

const SQRT1_2 = Math.SQRT1_2;
/** float64 erf (series for small |x|, continued fraction for the tail). */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast here and keeps full relative precision near 0.
    let term = ax, sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - erfc64(ax));
}
/** float64 erfc for x >= 2.5 by Lentz's continued fraction. */
export function erfc64(x: number): number {
  if (x < 2.5) return 1 - erf64(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = x, C = x, D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = x + a * D;
    D = D === 0 ? 1e-300 : D;
    C = x + a / C;
    C = C === 0 ? 1e-300 : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
const normCdf64 = (x: number) => (x < 0 ? 0.5 * erfc64(-x * SQRT1_2) : 1 - 0.5 * erfc64(x * SQRT1_2));

export const UNARY: Record<string, UnaryDef> = {
  identity: { wgsl: 'x', dx: 'g', ref: (x) => x },
  neg: { wgsl: '-x', dx: '-g', ref: (x) => -x },
  abs: { wgsl: 'abs(x)', dx: 'g * sign(x)', ref: Math.abs },
  exp: { wgsl: 'exp(x)', dx: 'g * y', ref: Math.exp },
  log: { wgsl: 'log(x)', dx: 'g / x', ref: Math.log },
  sqrt: { wgsl: 'sqrt(x)', dx: 'g * 0.5 / y', ref: Math.sqrt },
  rsqrt: { wgsl: 'inverseSqrt(x)', dx: '-0.5 * g * y * y * y', ref: (x) => 1 / Math.sqrt(x) },
  square: { wgsl: 'x * x', dx: '2.0 * x * g', ref: (x) => x * x },
  reciprocal: { wgsl: '1.0 / x', dx: '-g * y * y', ref: (x) => 1 / x },
  tanh: { wgsl: 'safe_tanh(x)', dx: 'g * (1.0 - y * y)', ref: Math.tanh },
  sigmoid: { wgsl: 'safe_sigmoid(x)', dx: 'g * y * (1.0 - y)', ref: (x) => 1 / (1 + Math.exp(-x)) },
  relu: { wgsl: 'max(x, 0.0)', dx: 'select(0.0, g, x > 0.0)', ref: (x) => Math.max(x, 0) },
  gelu: {
    wgsl: 'x * norm_cdf(x)',
    dx: 'g * (norm_cdf(x) + x * norm_pdf(x))',
    ref: (x) => x * normCdf64(x),
  },
  geluTanh: {
    wgsl: '0.5 * x * (1.0 + safe_tanh(gelu_tanh_inner(x)))',
    dx: 'g * (0.5 * (1.0 + safe_tanh(gelu_tanh_inner(x))) + 0.5 * x * (1.0 - safe_tanh(gelu_tanh_inner(x)) * safe_tanh(gelu_tanh_inner(x))) * 0.79788456080286536 * (1.0 + 0.134145 * x * x))',
    ref: (x) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
  },
};

export const BINARY: Record<string, BinaryDef> = {
  add: { wgsl: 'a + b', da: 'g', db: 'g', ref: (a, b) => a + b },
  sub: { wgsl: 'a - b', da: 'g', db: '-g', ref: (a, b) => a - b },
  mul: { wgsl: 'a * b', da: 'g * b', db: 'g * a', ref: (a, b) => a * b },
  div: { wgsl: 'a / b', da: 'g / b', db: '-g * a / (b * b)', ref: (a, b) => a / b },
  pow: {
    wgsl: 'signed_pow(a, b)',
    da: 'select(g * b * signed_pow(a, b - 1.0), 0.0, b == 0.0)',
    db: 'select(0.0, g * y * log(a), a > 0.0)',
    ref: (a, b) => Math.pow(a, b),
  },
  // Ties send the gradient to `a`, like PyTorch's maximum/minimum send it half-half; ours is simpler
  // and still a valid subgradient.
  maximum: { wgsl: 'max(a, b)', da: 'select(0.0, g, a >= b)', db: 'select(0.0, g, a < b)', ref: Math.max },
  minimum: { wgsl: 'min(a, b)', da: 'select(0.0, g, a <= b)', db: 'select(0.0, g, a > b)', ref: Math.min },
  eq: { wgsl: 'select(0.0, 1.0, a == b)', ref: (a, b) => +(a === b) },
  ne: { wgsl: 'select(0.0, 1.0, a != b)', ref: (a, b) => +(a !== b) },
  lt: { wgsl: 'select(0.0, 1.0, a < b)', ref: (a, b) => +(a < b) },
  le: { wgsl: 'select(0.0, 1.0, a <= b)', ref: (a, b) => +(a <= b) },
  gt: { wgsl: 'select(0.0, 1.0, a > b)', ref: (a, b) => +(a > b) },
  ge: { wgsl: 'select(0.0, 1.0, a >= b)', ref: (a, b) => +(a >= b) },
};

export type UnaryName = keyof typeof UNARY;
export type BinaryName = keyof typeof BINARY;

const WG = 256;
/** Linear invocation index over a 2-D grid of 256-wide workgroups. */
const LINEAR_INDEX = 'let i = (wid.y * nwg.x + wid.x) * 256u + lid;';
const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;

/**
 * WGSL that maps linear output index `i` to an element offset of an operand whose strides
 * start at meta word `strideBase` (shape at word `shapeBase`, rank at word 1).
 */
export function stridedOffsetFn(name: string, shapeBase: number, strideBase: number): string {
  return /* wgsl */ `
fn ${name}(i: u32) -> u32 {
  var rem = i;
  var off = 0u;
  let rank = M(1u);
  for (var d = 0u; d < rank; d++) {
    let axis = rank - 1u - d;
    let n = M(${shapeBase}u + axis);
    let idx = rem % n;
    rem = rem / n;
    off += idx * M(${strideBase}u + axis);
  }
  return off;
}`;
}

// Meta layout of the strided kernels: [n, rank, scalar, shape[8], aStrides[8], bStrides[8], cStrides[8]].
export const META_SHAPE = 3;
export const META_A = META_SHAPE + MAX_RANK;
export const META_B = META_A + MAX_RANK;
export const META_C = META_B + MAX_RANK;

/**
 * Flat kernels move four elements per invocation through vec4 loads and stores (about 3× the
 * bandwidth of scalar access on lavapipe); the op's scalar expression is applied per component.
 * Meta word 0 holds the number of vec4s; buffers are bound rounded up to 16 bytes (pool buffers
 * are multiples of 256 bytes, so the last partial vec4 stays inside the buffer).
 */
const V4 = (f: string, ...args: string[]) =>
  `vec4<f32>(${['x', 'y', 'z', 'w'].map((c) => `${f}(${args.map((a) => `${a}.${c}`).join(', ')})`).join(', ')})`;

/** y = f(x) elementwise. */
export function unaryKernel(op: string): Kernel {
  const def = UNARY[op]!;
  return {
    key: `unary_${op}`,
    access: ['read', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
fn f(x: f32) -> f32 { return ${def.wgsl}; }
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let xv = X[i];
  Y[i] = ${V4('f', 'xv')};
}`,
  };
}

/** gx = g * f'(x) elementwise (reads x, y and g). */
export function unaryBackwardKernel(op: string): Kernel {
  const def = UNARY[op]!;
  return {
    key: `unary_bwd_${op}`,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Yf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> GX: array<vec4<f32>>;
fn df(x: f32, y: f32, g: f32) -> f32 { return ${def.dx}; }
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let xv = X[i];
  let yv = Yf[i];
  let gv = G[i];
  GX[i] = ${V4('df', 'xv', 'yv', 'gv')};
}`,
  };
}

/** y = f(x, s) with s a scalar from meta word 2, or f(s, x) when `scalarFirst`. */
export function scalarKernel(op: string, scalarFirst: boolean): Kernel {
  const def = BINARY[op]!;
  return {
    key: `scalar_${op}_${scalarFirst ? 'sx' : 'xs'}`,
    access: ['read', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
fn fs(v: f32) -> f32 { return ${scalarFirst ? 'f(Mf(2u), v)' : 'f(v, Mf(2u))'}; }
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let xv = X[i];
  Y[i] = ${V4('fs', 'xv')};
}`,
  };
}

/** Gradient of a scalar op with respect to its tensor operand. */
export function scalarBackwardKernel(op: string, scalarFirst: boolean): Kernel {
  const def = BINARY[op]!;
  return {
    key: `scalar_bwd_${op}_${scalarFirst ? 'sx' : 'xs'}`,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Yf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> GX: array<vec4<f32>>;
fn d(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${scalarFirst ? def.db : def.da}; }
fn ds(v: f32, y: f32, g: f32) -> f32 { return ${scalarFirst ? 'd(Mf(2u), v, y, g)' : 'd(v, Mf(2u), y, g)'}; }
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let xv = X[i];
  let yv = Yf[i];
  let gv = G[i];
  GX[i] = ${V4('ds', 'xv', 'yv', 'gv')};
}`,
  };
}

/**
 * How a broadcast operand is read four output elements at a time: 'v' a vec4 (its innermost
 * stride is 1; offsets in vec4 units), 's' one value splatted (innermost stride 0).
 */
export type Vec4Mode = 'v' | 's';

const load4 = (name: string, mode: Vec4Mode, off: string) => (mode === 'v' ? `${name}[${off}]` : `vec4<f32>(${name}[${off}])`);
const arr4 = (mode: Vec4Mode) => (mode === 'v' ? 'vec4<f32>' : 'f32');

/** Broadcast binary op writing four outputs per invocation; shapes in vec4 units (meta word 0: vec4 count). */
export function binaryKernel4(op: string, ma: Vec4Mode, mb: Vec4Mode): Kernel {
  const def = BINARY[op]!;
  return {
    key: `binary_${op}_strided4_${ma}${mb}`,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${arr4(ma)}>;
@group(0) @binding(2) var<storage, read> B: array<${arr4(mb)}>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
${stridedOffsetFn('offA', META_SHAPE, META_A)}${stridedOffsetFn('offB', META_SHAPE, META_B)}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let av = ${load4('A', ma, 'offA(i)')};
  let bv = ${load4('B', mb, 'offB(i)')};
  Y[i] = ${V4('f', 'av', 'bv')};
}`,
  };
}

/** Backward of binaryKernel4: output-shaped GA/GB, four per invocation (meta word 2: flags). */
export function binaryBackwardKernel4(op: string, ma: Vec4Mode, mb: Vec4Mode): Kernel {
  const def = BINARY[op]!;
  return {
    key: `binary_bwd_${op}_strided4_${ma}${mb}`,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${arr4(ma)}>;
@group(0) @binding(2) var<storage, read> B: array<${arr4(mb)}>;
@group(0) @binding(3) var<storage, read> Yf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> GA: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> GB: array<vec4<f32>>;
fn da(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.da ?? '0.0'}; }
fn db(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.db ?? '0.0'}; }
${stridedOffsetFn('offA', META_SHAPE, META_A)}${stridedOffsetFn('offB', META_SHAPE, META_B)}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let av = ${load4('A', ma, 'offA(i)')};
  let bv = ${load4('B', mb, 'offB(i)')};
  let yv = Yf[i];
  let gv = G[i];
  if ((M(2u) & 1u) != 0u) { GA[i] = ${V4('da', 'av', 'bv', 'yv', 'gv')}; }
  if ((M(2u) & 2u) != 0u) { GB[i] = ${V4('db', 'av', 'bv', 'yv', 'gv')}; }
}`,
  };
}

/** y = f(a, b) with NumPy broadcasting (`flat`: both operands already have the output's shape). */
export function binaryKernel(op: string, flat: boolean): Kernel {
  const def = BINARY[op]!;
  const vec = flat ? 'vec4<f32>' : 'f32';
  return {
    key: `binary_${op}_${flat ? 'flat' : 'strided'}`,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${vec}>;
@group(0) @binding(2) var<storage, read> B: array<${vec}>;
@group(0) @binding(3) var<storage, read_write> Y: array<${vec}>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
${flat ? '' : stridedOffsetFn('offA', META_SHAPE, META_A) + stridedOffsetFn('offB', META_SHAPE, META_B)}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  ${flat ? `let av = A[i];
  let bv = B[i];
  Y[i] = ${V4('f', 'av', 'bv')};` : 'Y[i] = f(A[offA(i)], B[offB(i)]);'}
}`,
  };
}

/**
 * Output-shaped gradients of a broadcast binary op: GA and GB hold g·∂y/∂a and g·∂y/∂b at every
 * output element (the caller sums them down to the operand shapes). Meta word 2: bit 0 = write
 * GA, bit 1 = write GB.
 */
export function binaryBackwardKernel(op: string, flat: boolean): Kernel {
  const def = BINARY[op]!;
  const vec = flat ? 'vec4<f32>' : 'f32';
  const body = flat
    ? `let av = A[i];
  let bv = B[i];
  let yv = Yf[i];
  let gv = G[i];
  if ((M(2u) & 1u) != 0u) { GA[i] = ${V4('da', 'av', 'bv', 'yv', 'gv')}; }
  if ((M(2u) & 2u) != 0u) { GB[i] = ${V4('db', 'av', 'bv', 'yv', 'gv')}; }`
    : `let a = A[offA(i)];
  let b = B[offB(i)];
  let y = Yf[i];
  let g = G[i];
  if ((M(2u) & 1u) != 0u) { GA[i] = da(a, b, y, g); }
  if ((M(2u) & 2u) != 0u) { GB[i] = db(a, b, y, g); }`;
  return {
    key: `binary_bwd_${op}_${flat ? 'flat' : 'strided'}`,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${META_WGSL}${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${vec}>;
@group(0) @binding(2) var<storage, read> B: array<${vec}>;
@group(0) @binding(3) var<storage, read> Yf: array<${vec}>;
@group(0) @binding(4) var<storage, read> G: array<${vec}>;
@group(0) @binding(5) var<storage, read_write> GA: array<${vec}>;
@group(0) @binding(6) var<storage, read_write> GB: array<${vec}>;
fn da(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.da ?? '0.0'}; }
fn db(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.db ?? '0.0'}; }
${flat ? '' : stridedOffsetFn('offA', META_SHAPE, META_A) + stridedOffsetFn('offB', META_SHAPE, META_B)}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  ${body}
}`,
  };
}

/** out = cond != 0 ? a : b, all three broadcast to the output shape. */
export function whereKernel(): Kernel {
  return {
    key: 'where_strided',
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read> C: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
${stridedOffsetFn('offA', META_SHAPE, META_A)}${stridedOffsetFn('offB', META_SHAPE, META_B)}${stridedOffsetFn('offC', META_SHAPE, META_C)}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  Y[i] = select(B[offB(i)], A[offA(i)], C[offC(i)] != 0.0);
}`,
  };
}

/** Fills with a constant (meta word 0: vec4 count, word 1: the value's bits). */
export function fillKernel(): Kernel {
  return {
    key: 'fill',
    access: ['read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read_write> Y: array<vec4<f32>>;
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  Y[i] = vec4<f32>(Mf(1u));
}`,
  };
}

/** clamp(x, lo, hi) with lo, hi in meta words 1, 2; backward passes g where lo <= x <= hi. */
export function clampKernel(backward: boolean): Kernel {
  return {
    key: `clamp_${backward ? 'bwd' : 'fwd'}`,
    access: backward ? ['read', 'read', 'read_write'] : ['read', 'read_write'],
    wgsl: () => `${META_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
${backward ? '@group(0) @binding(2) var<storage, read> G: array<f32>;\n@group(0) @binding(3) var<storage, read_write> Y: array<f32>;' : '@group(0) @binding(2) var<storage, read_write> Y: array<f32>;'}
${ENTRY} {
  ${LINEAR_INDEX}
  if (i >= M(0u)) { return; }
  let x = X[i];
  ${backward ? 'Y[i] = select(0.0, G[i], x >= Mf(1u) && x <= Mf(2u));' : 'Y[i] = clamp(x, Mf(1u), Mf(2u));'}
}`,
  };
}
