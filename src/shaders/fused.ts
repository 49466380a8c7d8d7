// The WGSL of a fused elementwise chain: one kernel that reads the chain's inputs once, evaluates
// every op of the chain in registers, and writes only the values something still holds. Each op's
// expression comes from the pointwise tables (src/shaders/pointwise.ts), the same entries that
// give the unfused kernels their WGSL, so an op is defined once. The plan (which ops, how each
// input is read, which values are written) is the kernel's key; shapes, strides and scalar
// operands are uniforms, so a new batch size compiles nothing.
import { MAX_RANK, linearMain, uniforms, type Kernel, type Uniforms, type UniformSpec } from './kernel.js';
import { BINARY, POINTWISE_HELPERS_WGSL, UNARY, type BinaryName, type UnaryName } from './pointwise.js';

/** One table expression as a function of the operands it actually reads. */
export interface PointwiseExpr {
  /** Table entry and role, a WGSL identifier: `exp`, `exp_dx`, `mul_da`. */
  id: string;
  /** Operand names the body reads, in call order (unread ones are never loaded). */
  params: readonly string[];
  body: string;
}

const exprs = new Map<string, PointwiseExpr>();
function expr(id: string, candidates: readonly string[], body: string): PointwiseExpr {
  let e = exprs.get(id);
  if (!e) {
    e = { id, params: candidates.filter((p) => new RegExp(`\\b${p}\\b`).test(body)), body };
    exprs.set(id, e);
  }
  return e;
}

/** A unary table entry: its forward (`x`) or its gradient (`x`, `y`, `g`). */
export function unaryExpr(op: UnaryName, role: 'fwd' | 'dx'): PointwiseExpr {
  const def = UNARY[op];
  return role === 'fwd' ? expr(op, ['x'], def.wgsl) : expr(`${op}_dx`, ['x', 'y', 'g'], def.dx ?? '0.0');
}

/** A binary table entry: its forward (`a`, `b`) or a gradient (`a`, `b`, `y`, `g`). */
export function binaryExpr(op: BinaryName, role: 'fwd' | 'da' | 'db'): PointwiseExpr {
  const def = BINARY[op];
  if (role === 'fwd') return expr(op, ['a', 'b'], def.wgsl);
  return expr(`${op}_${role}`, ['a', 'b', 'y', 'g'], (role === 'da' ? def.da : def.db) ?? '0.0');
}

/**
 * How the kernel reads one input buffer, per output index `i`:
 * - `flat`: the input has the output's element count, read at `i` (a vec4 in vec4 kernels);
 * - `one`: a single element, read once and splatted;
 * - `strided`: broadcast along some dimensions, read at a strided offset (in vec4 kernels the
 *   innermost dimension is contiguous and read as vec4s);
 * - `splat`: vec4 kernels only, broadcast along the innermost dimension: one element per vec4.
 */
export type LeafRead = 'flat' | 'one' | 'strided' | 'splat';

export interface FusedPlan {
  /** Four elements per invocation (vec4 loads and stores) or one. */
  vec4: boolean;
  /** Input bindings, in binding order from binding 1. */
  leaves: readonly LeafRead[];
  /** Ops in evaluation order; an argument is `l<k>` (input k), `n<k>` (op k) or `s<k>` (scalar k). */
  nodes: readonly { expr: PointwiseExpr; args: readonly string[] }[];
  /** Ops whose values are written, one output binding each after the inputs. */
  outputs: readonly number[];
  /** Scalar operands (uniforms). */
  scalars: number;
}

const CODES: Record<LeafRead, string> = { flat: 'f', one: 'o', strided: 't', splat: 's' };

/** The uniform fields of a plan: strides exist only when some input is strided or splat. */
export function fusedUniformSpec(strided: number, scalars: number): UniformSpec {
  const spec: Record<string, 'u32' | readonly ['u32' | 'f32', number]> = { count: 'u32' };
  if (strided > 0) Object.assign(spec, { rank: 'u32', shape: ['u32', MAX_RANK], strides: ['u32', MAX_RANK * strided] });
  if (scalars > 0) spec.scalars = ['f32', scalars];
  return spec;
}

/** Uniform words a plan needs (the block holds UNIFORM_WORDS); mirrors the struct layout. */
export function fusedUniformWords(strided: number, scalars: number): number {
  const head = strided > 0 ? 4 + MAX_RANK + MAX_RANK * strided : 4;
  return head + Math.ceil(scalars / 4) * 4;
}

const kernels = new Map<string, Kernel>();

export function fusedKey(plan: FusedPlan): string {
  const leaves = plan.leaves.map((l) => CODES[l]).join('');
  const nodes = plan.nodes.map((n) => `${n.expr.id}(${n.args.join(',')})`).join(';');
  return `fused${plan.vec4 ? 4 : 1}_${leaves}_s${plan.scalars}_${nodes}_o${plan.outputs.join('.')}`;
}

/** The kernel of a plan, built once per key. */
export function fusedKernel(plan: FusedPlan): Kernel {
  const key = fusedKey(plan);
  let k = kernels.get(key);
  if (!k) {
    const strided = plan.leaves.filter((l) => l === 'strided' || l === 'splat').length;
    const u: Uniforms<UniformSpec> = uniforms(fusedUniformSpec(strided, plan.scalars));
    k = { key, uniforms: u, access: [...plan.leaves.map(() => 'read' as const), ...plan.outputs.map(() => 'read_write' as const)], wgsl: () => fusedSource(plan) };
    kernels.set(key, k);
  }
  return k;
}

function fusedSource(plan: FusedPlan): string {
  const v = plan.vec4;
  const vec = 'vec4<f32>';
  const lines: string[] = [POINTWISE_HELPERS_WGSL];
  plan.leaves.forEach((l, k) => {
    const elem = v && (l === 'flat' || l === 'strided') ? vec : 'f32';
    lines.push(`@group(0) @binding(${k + 1}) var<storage, read> L${k}: array<${elem}>;`);
  });
  plan.outputs.forEach((_, j) => {
    lines.push(`@group(0) @binding(${plan.leaves.length + j + 1}) var<storage, read_write> Y${j}: array<${v ? vec : 'f32'}>;`);
  });
  const seen = new Set<string>();
  for (const n of plan.nodes) {
    if (seen.has(n.expr.id)) continue;
    seen.add(n.expr.id);
    lines.push(`fn op_${n.expr.id}(${n.expr.params.map((p) => `${p}: f32`).join(', ')}) -> f32 { return ${n.expr.body}; }`);
  }
  lines.push(linearMain());
  lines.push('  if (i >= params.count) { return; }');
  // Strided inputs: one walk over the (merged) output shape gives every input's offset, so the
  // integer divisions (scalarised on CPUs) are paid once per element, not once per input.
  const strided = plan.leaves.map((l, k) => [l, k] as const).filter(([l]) => l === 'strided' || l === 'splat');
  if (strided.length) {
    lines.push('  var rem = i;');
    strided.forEach(([, k]) => lines.push(`  var o${k} = 0u;`));
    lines.push('  for (var d = 0u; d < params.rank; d++) {');
    lines.push('    let axis = params.rank - 1u - d;');
    lines.push('    let size = params_shape(axis);');
    lines.push('    let idx = rem % size;');
    lines.push('    rem = rem / size;');
    strided.forEach(([, k], s) => lines.push(`    o${k} += idx * params_strides(${s * MAX_RANK}u + axis);`));
    lines.push('  }');
  }
  plan.leaves.forEach((l, k) => {
    const load = l === 'flat' ? `L${k}[i]` : l === 'one' ? `L${k}[0]` : `L${k}[o${k}]`;
    lines.push(`  let l${k} = ${v && (l === 'one' || l === 'splat') ? `${vec}(${load})` : load};`);
  });
  for (let s = 0; s < plan.scalars; s++) lines.push(`  let s${s} = params_scalars(${s}u);`);
  plan.nodes.forEach((n, k) => {
    const call = (c: string) => `op_${n.expr.id}(${n.args.map((a) => (a[0] === 's' || !c ? a : `${a}.${c}`)).join(', ')})`;
    lines.push(`  let n${k} = ${v ? `${vec}(${['x', 'y', 'z', 'w'].map(call).join(', ')})` : call('')};`);
  });
  plan.outputs.forEach((n, j) => lines.push(`  Y${j}[i] = n${n};`));
  lines.push('}');
  return lines.join('\n');
}
