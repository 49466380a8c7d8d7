// The contract between a WGSL kernel and the runtime that dispatches it, at the bottom of the
// engine (it imports nothing): a kernel's uniform fields, declared by name and type, from which
// the WGSL declaration is generated and the values are packed by name; the linear workgroup size
// and index; and WGSL helpers several families share.
//
// Shapes, strides and scalars are uniform fields, never part of a kernel's key or source, so a
// new shape never compiles a new pipeline.

export type Access = 'read' | 'read_write';

/** The WGSL type of a uniform field. */
export type UniformType = 'u32' | 'i32' | 'f32';
/** A uniform field: a scalar, or a fixed-length array of scalars (shapes, strides). */
export type UniformField = UniformType | readonly [UniformType, number];
export type UniformSpec = { readonly [name: string]: UniformField };
/** Values for a spec, by name: a number per scalar field, up to `length` numbers per array field. */
export type UniformValues<S extends UniformSpec> = {
  readonly [K in keyof S]: S[K] extends UniformType ? number : ArrayLike<number>;
};

/** 32-bit words of uniforms every dispatch gets at binding 0 (256 bytes, the offset alignment). */
export const UNIFORM_WORDS = 64;

/** Name of the uniform struct variable in WGSL: kernels read `params.rows`, `params_shape(i)`. */
const VAR = 'params';

interface FieldLayout {
  name: string;
  type: UniformType;
  /** 0 for a scalar. */
  length: number;
  /** Word offset in the uniform block (WGSL's struct layout). */
  offset: number;
}

/**
 * The uniform block of a kernel: generated from the spec, its WGSL declaration (a struct whose
 * scalar fields read as `params.<name>` and whose array fields, stored as vec4s as uniform
 * buffers require, read as `params_<name>(i)`) and the packing of values by name.
 */
export class Uniforms<S extends UniformSpec> {
  readonly fields: readonly FieldLayout[];
  /** Words the layout occupies (at most UNIFORM_WORDS). */
  readonly words: number;
  readonly wgsl: string;

  constructor(readonly spec: S) {
    const fields: FieldLayout[] = [];
    let at = 0;
    for (const [name, f] of Object.entries(spec)) {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`uniforms: field name '${name}' is not a plain identifier`);
      const [type, length] = typeof f === 'string' ? [f, 0] : [f[0], f[1]];
      if (length > 0) at = Math.ceil(at / 4) * 4; // arrays of vec4 start on 16 bytes
      fields.push({ name, type, length, offset: at });
      at += length > 0 ? Math.ceil(length / 4) * 4 : 1;
    }
    if (at > UNIFORM_WORDS) throw new Error(`uniforms: ${at} words > ${UNIFORM_WORDS} (${Object.keys(spec).join(', ')})`);
    this.fields = fields;
    this.words = at;
    this.wgsl = fields.length === 0 ? '' : declaration(fields);
  }

  /** Writes `values` into a dispatch's uniform words (`words` and `floats` view the same memory). */
  pack(values: UniformValues<S>, words: Uint32Array, floats: Float32Array, base: number): void {
    const vals = values as Record<string, number | ArrayLike<number>>;
    for (const f of this.fields) {
      const v = vals[f.name];
      const at = base + f.offset;
      if (f.length === 0) {
        if (typeof v !== 'number') throw new Error(`webfam internal: uniform '${f.name}' needs a number, got ${typeof v}`);
        // A Uint32Array store wraps negative i32 values into their two's-complement bits.
        if (f.type === 'f32') floats[at] = v;
        else words[at] = v;
        continue;
      }
      if (typeof v !== 'object' || v === null || v.length > f.length) {
        throw new Error(`webfam internal: uniform '${f.name}' needs at most ${f.length} numbers`);
      }
      const view = f.type === 'f32' ? floats : words;
      for (let k = 0; k < f.length; k++) view[at + k] = k < v.length ? v[k]! : 0;
    }
  }
}

function declaration(fields: readonly FieldLayout[]): string {
  const members = fields.map((f) => (f.length === 0 ? `  ${f.name}: ${f.type},` : `  ${f.name}: array<vec4<${f.type}>, ${Math.ceil(f.length / 4)}>,`));
  const accessors = fields
    .filter((f) => f.length > 0)
    .map((f) => `fn ${VAR}_${f.name}(i: u32) -> ${f.type} { return ${VAR}.${f.name}[i / 4u][i % 4u]; }`);
  return `struct Params {
${members.join('\n')}
}
@group(0) @binding(0) var<uniform> ${VAR}: Params;
${accessors.join('\n')}
`;
}

/** Declares a kernel's uniform fields: `uniforms({ rows: 'u32', eps: 'f32', shape: ['u32', 8] })`. */
export function uniforms<const S extends UniformSpec>(spec: S): Uniforms<S> {
  return new Uniforms(spec);
}

export interface Kernel<S extends UniformSpec = UniformSpec> {
  /** Identifies the WGSL exactly: same key, same shader. Shapes never go in the key. */
  key: string;
  /** The uniform fields the kernel reads (binding 0). */
  uniforms: Uniforms<S>;
  /** Access mode of each storage binding, in binding order starting at binding 1. */
  access: readonly Access[];
  /** WGSL extensions the kernel enables, e.g. ['subgroups']. */
  extensions?: readonly string[];
  /** The module after the uniform declaration: bindings 1.., helpers and `main`. Called once per key. */
  wgsl: () => string;
}

/** The whole WGSL module of a kernel: its `enable` directives, the uniform declaration, its body. */
export function kernelSource(k: Kernel): string {
  const enables = (k.extensions ?? []).map((e) => `enable ${e};\n`).join('');
  return `${enables}${k.uniforms.wgsl}${k.wgsl()}`;
}

// ---------------------------------------------------------------- linear kernels

/**
 * Invocations per workgroup of the linear kernels (one invocation per element, or per vec4):
 * a multiple of every subgroup width, and large enough that a 2-D grid of 65,535² workgroups
 * covers any buffer WebGPU can bind.
 */
export const LINEAR_WG = 256;

/**
 * Opens a linear kernel's `main`: `index` is the invocation's position in a 2-D grid of
 * `wg`-wide workgroups laid out row by row (see `linearGroups`). The kernel closes the brace.
 */
export function linearMain(index = 'i', wg = LINEAR_WG): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ${index} = (wid.y * nwg.x + wid.x) * ${wg}u + lid;`;
}

/** Splits `count` workgroups into a 2-D grid within the per-dimension limit. */
export function grid(count: number, maxPerDim = 65535): [number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1];
  const y = Math.ceil(count / maxPerDim);
  return [Math.ceil(count / y), y];
}

/** Workgroups for `count` invocations of a linear kernel with `wg`-wide workgroups. */
export function linearGroups(count: number, wg = LINEAR_WG): [number, number] {
  return grid(Math.ceil(count / wg));
}

// ---------------------------------------------------------------- shared WGSL

/** Highest rank the strided kernels index (higher ranks are rejected with a clear error). */
export const MAX_RANK = 8;

/** The largest finite f32, as a WGSL literal. */
export const F32_MAX = '3.4028234663852886e38';

/**
 * `quiet_nan()` and `neg_inf()`: runtime values, because WGSL rejects NaN and infinities in
 * constant expressions.
 */
export const SPECIAL_FLOATS_WGSL = /* wgsl */ `
var<private> nan_bits: u32 = 0x7fc00000u;
var<private> neg_inf_bits: u32 = 0xff800000u;
fn quiet_nan() -> f32 { return bitcast<f32>(nan_bits); }
fn neg_inf() -> f32 { return bitcast<f32>(neg_inf_bits); }
`;
