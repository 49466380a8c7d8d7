// Pointwise ops as one table: each entry holds the WGSL forward expression and the WGSL
// derivative expressions (their float64 references are src/tensor/reference/pointwise.ts, keyed
// by the same names). Generators below turn the table into kernels (flat for same-shape operands,
// strided for NumPy broadcasting).
import { MAX_RANK, SPECIAL_FLOATS_WGSL, linearMain, uniforms, type Kernel } from './kernel.js';

// Numerically careful helpers shared by the expressions (and by kernels that fuse them, such as
// matmul's activation epilogue).
export const POINTWISE_HELPERS_WGSL = /* wgsl */ `${SPECIAL_FLOATS_WGSL}
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
  if (fract(b) != 0.0) { return quiet_nan(); }
  return select(r, -r, fract(b * 0.5) != 0.0);
}
`;

export interface UnaryDef {
  /** Forward, in terms of `x`. */
  wgsl: string;
  /** d(out)/d(x) times upstream `g`, in terms of `x`, `y` (the output) and `g`; absent = not differentiable. */
  dx?: string;
}

export interface BinaryDef {
  /** Forward, in terms of `a` and `b`. */
  wgsl: string;
  /** Gradients times upstream `g`, in terms of `a`, `b`, `y`, `g`. */
  da?: string;
  db?: string;
}

const UNARY_TABLE = {
  identity: { wgsl: 'x', dx: 'g' },
  neg: { wgsl: '-x', dx: '-g' },
  abs: { wgsl: 'abs(x)', dx: 'g * sign(x)' },
  exp: { wgsl: 'exp(x)', dx: 'g * y' },
  log: { wgsl: 'log(x)', dx: 'g / x' },
  sqrt: { wgsl: 'sqrt(x)', dx: 'g * 0.5 / y' },
  rsqrt: { wgsl: 'inverseSqrt(x)', dx: '-0.5 * g * y * y * y' },
  square: { wgsl: 'x * x', dx: '2.0 * x * g' },
  reciprocal: { wgsl: '1.0 / x', dx: '-g * y * y' },
  tanh: { wgsl: 'safe_tanh(x)', dx: 'g * (1.0 - y * y)' },
  sigmoid: { wgsl: 'safe_sigmoid(x)', dx: 'g * y * (1.0 - y)' },
  relu: { wgsl: 'max(x, 0.0)', dx: 'select(0.0, g, x > 0.0)' },
  gelu: {
    wgsl: 'x * norm_cdf(x)',
    dx: 'g * (norm_cdf(x) + x * norm_pdf(x))',
  },
  geluTanh: {
    wgsl: '0.5 * x * (1.0 + safe_tanh(gelu_tanh_inner(x)))',
    dx: 'g * (0.5 * (1.0 + safe_tanh(gelu_tanh_inner(x))) + 0.5 * x * (1.0 - safe_tanh(gelu_tanh_inner(x)) * safe_tanh(gelu_tanh_inner(x))) * 0.79788456080286536 * (1.0 + 0.134145 * x * x))',
  },
} satisfies Record<string, UnaryDef>;

const BINARY_TABLE = {
  add: { wgsl: 'a + b', da: 'g', db: 'g' },
  sub: { wgsl: 'a - b', da: 'g', db: '-g' },
  mul: { wgsl: 'a * b', da: 'g * b', db: 'g * a' },
  div: { wgsl: 'a / b', da: 'g / b', db: '-g * a / (b * b)' },
  pow: {
    wgsl: 'signed_pow(a, b)',
    da: 'select(g * b * signed_pow(a, b - 1.0), 0.0, b == 0.0)',
    db: 'select(0.0, g * y * log(a), a > 0.0)',
  },
  // Ties send the gradient to `a`, like PyTorch's maximum/minimum send it half-half; ours is simpler
  // and still a valid subgradient.
  maximum: { wgsl: 'max(a, b)', da: 'select(0.0, g, a >= b)', db: 'select(0.0, g, a < b)' },
  minimum: { wgsl: 'min(a, b)', da: 'select(0.0, g, a <= b)', db: 'select(0.0, g, a > b)' },
  eq: { wgsl: 'select(0.0, 1.0, a == b)' },
  ne: { wgsl: 'select(0.0, 1.0, a != b)' },
  lt: { wgsl: 'select(0.0, 1.0, a < b)' },
  le: { wgsl: 'select(0.0, 1.0, a <= b)' },
  gt: { wgsl: 'select(0.0, 1.0, a > b)' },
  ge: { wgsl: 'select(0.0, 1.0, a >= b)' },
} satisfies Record<string, BinaryDef>;

/** Names of the unary and binary ops, from the tables: adding an entry adds the name. */
export type UnaryName = keyof typeof UNARY_TABLE;
export type BinaryName = keyof typeof BINARY_TABLE;
export const UNARY: Readonly<Record<UnaryName, UnaryDef>> = UNARY_TABLE;
export const BINARY: Readonly<Record<BinaryName, BinaryDef>> = BINARY_TABLE;

// Uniforms. Flat kernels count vec4s; strided ones count elements (or vec4s, see binaryKernel4)
// and walk a shape whose per-operand strides are arrays of MAX_RANK words.
const FLAT = uniforms({ count: 'u32' });
const FLAT_SCALAR = uniforms({ count: 'u32', scalar: 'f32' });
/** `grads`: bit 0 = write GA, bit 1 = write GB (the backward of a binary op). */
const FLAT_GRADS = uniforms({ count: 'u32', grads: 'u32' });
const STRIDED = uniforms({
  count: 'u32', rank: 'u32', grads: 'u32',
  shape: ['u32', MAX_RANK], aStrides: ['u32', MAX_RANK], bStrides: ['u32', MAX_RANK], cStrides: ['u32', MAX_RANK],
});
export type StridedUniforms = typeof STRIDED.spec;
const FILL = uniforms({ count: 'u32', value: 'f32' });
const CLAMP = uniforms({ count: 'u32', lo: 'f32', hi: 'f32' });

/** Operand names of the strided layout, in the order of its stride fields. */
export type StridedOperand = 'a' | 'b' | 'c';

/** WGSL mapping linear output index `i` to an element offset of operand `operand`. */
function stridedOffsetFn(operand: StridedOperand): string {
  return /* wgsl */ `
fn off${operand.toUpperCase()}(i: u32) -> u32 {
  var rem = i;
  var off = 0u;
  let rank = params.rank;
  for (var d = 0u; d < rank; d++) {
    let axis = rank - 1u - d;
    let n = params_shape(axis);
    let idx = rem % n;
    rem = rem / n;
    off += idx * params_${operand}Strides(axis);
  }
  return off;
}`;
}
const OFFSETS_AB = stridedOffsetFn('a') + stridedOffsetFn('b');
/**
 * Flat kernels move four elements per invocation through vec4 loads and stores (about 3× the
 * bandwidth of scalar access on lavapipe); the op's scalar expression is applied per component.
 * `count` is the number of vec4s; buffers are bound rounded up to 16 bytes (pool buffers
 * are multiples of 256 bytes, so the last partial vec4 stays inside the buffer).
 */
const V4 = (f: string, ...args: string[]) =>
  `vec4<f32>(${['x', 'y', 'z', 'w'].map((c) => `${f}(${args.map((a) => `${a}.${c}`).join(', ')})`).join(', ')})`;

/** y = f(x) elementwise. */
export function unaryKernel(op: UnaryName): Kernel<typeof FLAT.spec> {
  const def = UNARY[op];
  return {
    key: `unary_${op}`,
    uniforms: FLAT,
    access: ['read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
fn f(x: f32) -> f32 { return ${def.wgsl}; }
${linearMain()}
  if (i >= params.count) { return; }
  let xv = X[i];
  Y[i] = ${V4('f', 'xv')};
}`,
  };
}

/** gx = g * f'(x) elementwise (reads x, y and g). */
export function unaryBackwardKernel(op: UnaryName): Kernel<typeof FLAT.spec> {
  const def = UNARY[op];
  return {
    key: `unary_bwd_${op}`,
    uniforms: FLAT,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Yf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> GX: array<vec4<f32>>;
fn df(x: f32, y: f32, g: f32) -> f32 { return ${def.dx}; }
${linearMain()}
  if (i >= params.count) { return; }
  let xv = X[i];
  let yv = Yf[i];
  let gv = G[i];
  GX[i] = ${V4('df', 'xv', 'yv', 'gv')};
}`,
  };
}

/** y = f(x, s) with s the `scalar` uniform, or f(s, x) when `scalarFirst`. */
export function scalarKernel(op: BinaryName, scalarFirst: boolean): Kernel<typeof FLAT_SCALAR.spec> {
  const def = BINARY[op];
  return {
    key: `scalar_${op}_${scalarFirst ? 'sx' : 'xs'}`,
    uniforms: FLAT_SCALAR,
    access: ['read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
fn fs(v: f32) -> f32 { return ${scalarFirst ? 'f(params.scalar, v)' : 'f(v, params.scalar)'}; }
${linearMain()}
  if (i >= params.count) { return; }
  let xv = X[i];
  Y[i] = ${V4('fs', 'xv')};
}`,
  };
}

/** Gradient of a scalar op with respect to its tensor operand. */
export function scalarBackwardKernel(op: BinaryName, scalarFirst: boolean): Kernel<typeof FLAT_SCALAR.spec> {
  const def = BINARY[op];
  return {
    key: `scalar_bwd_${op}_${scalarFirst ? 'sx' : 'xs'}`,
    uniforms: FLAT_SCALAR,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Yf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> GX: array<vec4<f32>>;
fn d(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${scalarFirst ? def.db : def.da}; }
fn ds(v: f32, y: f32, g: f32) -> f32 { return ${scalarFirst ? 'd(params.scalar, v, y, g)' : 'd(v, params.scalar, y, g)'}; }
${linearMain()}
  if (i >= params.count) { return; }
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

/** Broadcast binary op writing four outputs per invocation; `count` and the shape in vec4 units. */
export function binaryKernel4(op: BinaryName, ma: Vec4Mode, mb: Vec4Mode): Kernel<StridedUniforms> {
  const def = BINARY[op];
  return {
    key: `binary_${op}_strided4_${ma}${mb}`,
    uniforms: STRIDED,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${arr4(ma)}>;
@group(0) @binding(2) var<storage, read> B: array<${arr4(mb)}>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
${OFFSETS_AB}
${linearMain()}
  if (i >= params.count) { return; }
  let av = ${load4('A', ma, 'offA(i)')};
  let bv = ${load4('B', mb, 'offB(i)')};
  Y[i] = ${V4('f', 'av', 'bv')};
}`,
  };
}

/** Backward of binaryKernel4: output-shaped GA/GB, four per invocation, as selected by `grads`. */
export function binaryBackwardKernel4(op: BinaryName, ma: Vec4Mode, mb: Vec4Mode): Kernel<StridedUniforms> {
  const def = BINARY[op];
  return {
    key: `binary_bwd_${op}_strided4_${ma}${mb}`,
    uniforms: STRIDED,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${arr4(ma)}>;
@group(0) @binding(2) var<storage, read> B: array<${arr4(mb)}>;
@group(0) @binding(3) var<storage, read> Yf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> GA: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> GB: array<vec4<f32>>;
fn da(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.da ?? '0.0'}; }
fn db(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.db ?? '0.0'}; }
${OFFSETS_AB}
${linearMain()}
  if (i >= params.count) { return; }
  let av = ${load4('A', ma, 'offA(i)')};
  let bv = ${load4('B', mb, 'offB(i)')};
  let yv = Yf[i];
  let gv = G[i];
  if ((params.grads & 1u) != 0u) { GA[i] = ${V4('da', 'av', 'bv', 'yv', 'gv')}; }
  if ((params.grads & 2u) != 0u) { GB[i] = ${V4('db', 'av', 'bv', 'yv', 'gv')}; }
}`,
  };
}

/** y = f(a, b) for same-shape operands, four elements per invocation. */
export function binaryFlatKernel(op: BinaryName): Kernel<typeof FLAT.spec> {
  const def = BINARY[op];
  return {
    key: `binary_${op}_flat`,
    uniforms: FLAT,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
${linearMain()}
  if (i >= params.count) { return; }
  let av = A[i];
  let bv = B[i];
  Y[i] = ${V4('f', 'av', 'bv')};
}`,
  };
}

/** y = f(a, b) with NumPy broadcasting, one element per invocation. */
export function binaryStridedKernel(op: BinaryName): Kernel<StridedUniforms> {
  const def = BINARY[op];
  return {
    key: `binary_${op}_strided`,
    uniforms: STRIDED,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
fn f(a: f32, b: f32) -> f32 { return ${def.wgsl}; }
${OFFSETS_AB}
${linearMain()}
  if (i >= params.count) { return; }
  Y[i] = f(A[offA(i)], B[offB(i)]);
}`,
  };
}

const BINARY_GRAD_BINDINGS = (vec: string) => `@group(0) @binding(1) var<storage, read> A: array<${vec}>;
@group(0) @binding(2) var<storage, read> B: array<${vec}>;
@group(0) @binding(3) var<storage, read> Yf: array<${vec}>;
@group(0) @binding(4) var<storage, read> G: array<${vec}>;
@group(0) @binding(5) var<storage, read_write> GA: array<${vec}>;
@group(0) @binding(6) var<storage, read_write> GB: array<${vec}>;`;
const binaryGradFns = (def: BinaryDef) => `fn da(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.da ?? '0.0'}; }
fn db(a: f32, b: f32, y: f32, g: f32) -> f32 { return ${def.db ?? '0.0'}; }`;

/**
 * Gradients of a binary op on same-shape operands: GA = g·∂y/∂a and GB = g·∂y/∂b, four per
 * invocation, each written only when its bit of `grads` is set.
 */
export function binaryFlatBackwardKernel(op: BinaryName): Kernel<typeof FLAT_GRADS.spec> {
  const def = BINARY[op];
  return {
    key: `binary_bwd_${op}_flat`,
    uniforms: FLAT_GRADS,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
${BINARY_GRAD_BINDINGS('vec4<f32>')}
${binaryGradFns(def)}
${linearMain()}
  if (i >= params.count) { return; }
  let av = A[i];
  let bv = B[i];
  let yv = Yf[i];
  let gv = G[i];
  if ((params.grads & 1u) != 0u) { GA[i] = ${V4('da', 'av', 'bv', 'yv', 'gv')}; }
  if ((params.grads & 2u) != 0u) { GB[i] = ${V4('db', 'av', 'bv', 'yv', 'gv')}; }
}`,
  };
}

/**
 * Output-shaped gradients of a broadcast binary op: GA and GB hold g·∂y/∂a and g·∂y/∂b at every
 * output element (the caller sums them down to the operand shapes), as selected by `grads`.
 */
export function binaryStridedBackwardKernel(op: BinaryName): Kernel<StridedUniforms> {
  const def = BINARY[op];
  return {
    key: `binary_bwd_${op}_strided`,
    uniforms: STRIDED,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${POINTWISE_HELPERS_WGSL}
${BINARY_GRAD_BINDINGS('f32')}
${binaryGradFns(def)}
${OFFSETS_AB}
${linearMain()}
  if (i >= params.count) { return; }
  let a = A[offA(i)];
  let b = B[offB(i)];
  let y = Yf[i];
  let g = G[i];
  if ((params.grads & 1u) != 0u) { GA[i] = da(a, b, y, g); }
  if ((params.grads & 2u) != 0u) { GB[i] = db(a, b, y, g); }
}`,
  };
}

/** out = cond != 0 ? a : b, all three broadcast to the output shape. */
export function whereKernel(): Kernel<StridedUniforms> {
  return {
    key: 'where_strided',
    uniforms: STRIDED,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> C: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
${OFFSETS_AB}${stridedOffsetFn('c')}
${linearMain()}
  if (i >= params.count) { return; }
  Y[i] = select(B[offB(i)], A[offA(i)], C[offC(i)] != 0.0);
}`,
  };
}

/** Fills with a constant, four elements per invocation (`count` vec4s). */
export function fillKernel(): Kernel<typeof FILL.spec> {
  return {
    key: 'fill',
    uniforms: FILL,
    access: ['read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read_write> Y: array<vec4<f32>>;
${linearMain()}
  if (i >= params.count) { return; }
  Y[i] = vec4<f32>(params.value);
}`,
  };
}

/** clamp(x, lo, hi); the backward passes g where lo <= x <= hi. */
export function clampKernel(backward: boolean): Kernel<typeof CLAMP.spec> {
  return {
    key: `clamp_${backward ? 'bwd' : 'fwd'}`,
    uniforms: CLAMP,
    access: backward ? ['read', 'read', 'read_write'] : ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<f32>;
${backward ? '@group(0) @binding(2) var<storage, read> G: array<f32>;\n@group(0) @binding(3) var<storage, read_write> Y: array<f32>;' : '@group(0) @binding(2) var<storage, read_write> Y: array<f32>;'}
${linearMain()}
  if (i >= params.count) { return; }
  let x = X[i];
  ${backward ? 'Y[i] = select(0.0, G[i], x >= params.lo && x <= params.hi);' : 'Y[i] = clamp(x, params.lo, params.hi);'}
}`,
  };
}
