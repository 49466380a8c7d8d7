// Shape and data-movement ops: reshape/flatten/squeeze/unsqueeze (views, no copy), permute,
// transpose, expand, slice (with step), flip, pad, concat, stack, split — each with its backward;
// and the in-place copies into an existing tensor (from another tensor, from the host).
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, broadcastShapes, checkLive, fmt, inferReshape, normAxes, normAxis, sameShape, stridesOf } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { MAX_RANK, linearGroups, type UniformValues } from '../../shaders/kernel.js';
import { MOVE_CHUNKS, gatherKernel, scatterKernel, type MoveUniforms } from '../../shaders/movement.js';
import { fill } from './pointwise.js';
import { sumTo } from './reduce.js';

/**
 * Merges adjacent dimensions that are contiguous in both the walked shape and `strides`
 * (and drops size-1 ones), so the kernels' index loop does as few divisions as possible.
 */
function collapse(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const outShape: number[] = [], outStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && outStrides[last] === strides[d]! * n) {
      outShape[last]! *= n;
      outStrides[last] = strides[d]!;
    } else {
      outShape.push(n);
      outStrides.push(strides[d]!);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Uniforms for a strided move, collapsed, and in vec4 units when every access is 4-aligned. */
function moveUniforms(op: string, n: number, shape0: readonly number[], base: number, strides0: readonly number[]): { uniforms: UniformValues<MoveUniforms>; vec4: boolean; chunk: number } {
  if (shape0.length > MAX_RANK) throw new ShapeError(op, `rank ${shape0.length} exceeds the supported ${MAX_RANK}`);
  let { shape, strides } = collapse(shape0, strides0);
  const r = shape.length;
  const vec4 = r > 0 && strides[r - 1] === 1 && shape[r - 1]! % 4 === 0 && base % 4 === 0 && strides.every((s, i) => i === r - 1 || s % 4 === 0);
  if (vec4) {
    shape = shape.map((d, i) => (i === r - 1 ? d / 4 : d));
    strides = strides.map((s, i) => (i === r - 1 ? 1 : s / 4));
  }
  // Elements per invocation: the largest chunk that divides the innermost axis (in moved units).
  const chunk = r === 0 ? 1 : MOVE_CHUNKS.find((c) => shape[r - 1]! % c === 0)!;
  const count = (vec4 ? n / 4 : n) / chunk;
  return { uniforms: { count, rank: r, base: vec4 ? base / 4 : base, shape, strides }, vec4, chunk };
}

/** New tensor of `shape` whose element idx is x[base + Σ idx·strides] (no autograd). */
export function gatherStrided(op: string, x: Tensor, shape: readonly number[], base: number, strides: readonly number[]): Tensor {
  const y = Tensor.empty(shape);
  if (y.size === 0) return y;
  const { uniforms, vec4, chunk } = moveUniforms(op, y.size, shape, base, strides);
  rt().dispatch(gatherKernel(vec4, chunk), {
    label: `${op} ${fmt(x.shape)} -> ${fmt(shape)}`,
    buffers: vec4 ? [x.binding4, y.binding4] : [x.binding, y.binding],
    uniforms,
    workgroups: linearGroups(uniforms.count),
  });
  return y;
}

/** Writes x into `dst` at dst[base + Σ idx·strides] (no autograd; dst is modified). */
export function scatterStrided(op: string, x: Tensor, dst: Tensor, base: number, strides: readonly number[]): void {
  if (x.size === 0) return;
  const { uniforms, vec4, chunk } = moveUniforms(op, x.size, x.shape, base, strides);
  rt().dispatch(scatterKernel(vec4, chunk), {
    label: `${op} ${fmt(x.shape)} into ${fmt(dst.shape)}`,
    buffers: vec4 ? [x.binding4, dst.binding4] : [x.binding, dst.binding],
    uniforms,
    workgroups: linearGroups(uniforms.count),
  });
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const to = inferReshape('reshape', x.shape, shape);
  const y = x.view(to);
  return record(y, 'reshape', [x], (g) => [g.view(x.shape)]);
}

export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normAxis('flatten', start, x.rank), e = normAxis('flatten', end, x.rank);
  if (s > e) throw new ShapeError('flatten', `start dim ${start} is after end dim ${end} for shape ${fmt(x.shape)}`);
  const mid = x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1);
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]);
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  if (axes.length !== x.rank) throw new ShapeError('permute', `needs ${x.rank} axes for shape ${fmt(x.shape)}, got [${axes.join(', ')}]`);
  const perm = axes.map((a) => normAxis('permute', a, x.rank));
  if (new Set(perm).size !== perm.length) throw new ShapeError('permute', `[${axes.join(', ')}] is not a permutation`);
  if (perm.every((p, i) => p === i)) return reshape(x, x.shape);
  const st = stridesOf(x.shape);
  const y = gatherStrided('permute', x, perm.map((p) => x.shape[p]!), 0, perm.map((p) => st[p]!));
  return record(y, 'permute', [x], (g) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [permute(g, inv)];
  });
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  if (x.rank < 2 && a === -2 && b === -1) throw new ShapeError('transpose', `needs rank >= 2, got shape ${fmt(x.shape)}`);
  const i = normAxis('transpose', a, x.rank), j = normAxis('transpose', b, x.rank);
  const perm = [...x.shape.keys()];
  perm[i] = j;
  perm[j] = i;
  return permute(x, perm);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.rank) throw new ShapeError('expand', `cannot expand ${fmt(x.shape)} to fewer dimensions, ${fmt(shape)}`);
  const lead = shape.length - x.rank;
  const target = shape.map((d, i) => {
    if (d !== -1) return d;
    // As in torch: -1 keeps an existing size; a new leading dimension has none to keep.
    if (i < lead) throw new ShapeError('expand', `-1 at position ${i} of ${fmt(shape)} is a new leading dimension of ${fmt(x.shape)}; give its size`);
    return x.shape[i - lead]!;
  });
  const out = broadcastShapes('expand', x.shape, target);
  if (!sameShape(out, target)) throw new ShapeError('expand', `cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  if (sameShape(out, x.shape)) return reshape(x, x.shape);
  const st = stridesOf(x.shape);
  const off = out.length - x.rank;
  const strides = out.map((_, i) => (i < off || x.shape[i - off] === 1 ? 0 : st[i - off]!));
  const y = gatherStrided('expand', x, out, 0, strides);
  return record(y, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** Python-style slice along one axis: start inclusive, end exclusive, step nonzero. */
export function slice(x: Tensor, axis: number, start?: number, end?: number, step = 1): Tensor {
  const a = normAxis('slice', axis, x.rank);
  const n = x.shape[a]!;
  if (!Number.isInteger(step) || step === 0) throw new ShapeError('slice', `step must be a nonzero integer, got ${step}`);
  // Same clamping rules as Python's slice.indices().
  const norm = (v: number | undefined, dflt: number, lo: number, hi: number) => {
    if (v === undefined) return dflt;
    if (v < 0) v += n;
    return Math.min(Math.max(v, lo), hi);
  };
  const s = step > 0 ? norm(start, 0, 0, n) : norm(start, n - 1, -1, n - 1);
  const e = step > 0 ? norm(end, n, 0, n) : norm(end, -1, -1, n - 1);
  const len = Math.max(0, Math.ceil((e - s) / step));
  const st = stridesOf(x.shape);
  const shape = [...x.shape];
  shape[a] = len;
  const strides = st.map((v, i) => (i === a ? v * step : v));
  const base = len > 0 ? s * st[a]! : 0;
  const y = gatherStrided('slice', x, shape, base, strides);
  return record(y, 'slice', [x], (g) => {
    const gx = fill(x.shape, 0);
    scatterStrided('slice backward', g, gx, base, strides);
    return [gx];
  });
}

export function flip(x: Tensor, axes: number | readonly number[]): Tensor {
  const ax = normAxes('flip', axes, x.rank);
  const st = stridesOf(x.shape);
  let base = 0;
  const strides = st.map((v, i) => {
    if (!ax.includes(i)) return v;
    base += (x.shape[i]! - 1) * v;
    return -v;
  });
  const y = gatherStrided('flip', x, x.shape, base, strides);
  return record(y, 'flip', [x], (g) => [flip(g, ax)]);
}

/**
 * Constant padding. `pads[k] = [before, after]` applies to the k-th of the *last* pads.length
 * dimensions (pads for a [N, C, H, W] image's H and W: [[top, bottom], [left, right]]).
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length > x.rank) throw new ShapeError('pad', `${pads.length} padding pairs for a tensor of rank ${x.rank} (shape ${fmt(x.shape)})`);
  const off = x.rank - pads.length;
  const full = x.shape.map((_, i) => (i < off ? [0, 0] : pads[i - off]!));
  for (const [b, a] of full) {
    if (!Number.isInteger(b) || !Number.isInteger(a) || b! < 0 || a! < 0) throw new ShapeError('pad', `paddings must be non-negative integers, got ${JSON.stringify(pads)}`);
  }
  const shape = x.shape.map((d, i) => d + full[i]![0]! + full[i]![1]!);
  const y = fill(shape, value);
  const st = stridesOf(shape);
  const base = full.reduce((p, [b], i) => p + b! * st[i]!, 0);
  scatterStrided('pad', x, y, base, st);
  return record(y, 'pad', [x], (g) => [gatherStrided('pad backward', g, x.shape, base, st)]);
}

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError('concat', 'needs at least one tensor');
  const first = tensors[0]!;
  const a = normAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError('concat', `shapes ${tensors.map((u) => fmt(u.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = tensors.reduce((p, t) => p + t.shape[a]!, 0);
  const y = Tensor.empty(shape);
  const st = stridesOf(shape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    offsets.push(at);
    scatterStrided('concat', t, y, at * st[a]!, st);
    at += t.shape[a]!;
  }
  return record(y, 'concat', [...tensors], (g) =>
    tensors.map((t, k) => (t.requiresGrad ? gatherStrided('concat backward', g, t.shape, offsets[k]! * st[a]!, st) : null)),
  );
}

export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError('stack', 'needs at least one tensor');
  const a = normAxis('stack', axis, tensors[0]!.rank + 1);
  for (const t of tensors) {
    if (!sameShape(t.shape, tensors[0]!.shape)) throw new ShapeError('stack', `shapes differ: ${tensors.map((u) => fmt(u.shape)).join(', ')}`);
  }
  const parts = tensors.map((t) => unsqueeze(t, a));
  const y = concat(parts, a);
  for (const p of parts) if (!p.requiresGrad) p.dispose();
  return y;
}

/** Splits along `axis` into pieces of the given sizes, or into `sections` equal pieces. */
export function split(x: Tensor, sizesOrSections: number | readonly number[], axis = 0): Tensor[] {
  const a = normAxis('split', axis, x.rank);
  const n = x.shape[a]!;
  let sizes: number[];
  if (typeof sizesOrSections === 'number') {
    if (!Number.isInteger(sizesOrSections) || sizesOrSections <= 0 || n % sizesOrSections !== 0) {
      throw new ShapeError('split', `cannot split axis ${axis} of size ${n} into ${sizesOrSections} equal parts (shape ${fmt(x.shape)})`);
    }
    sizes = new Array(sizesOrSections).fill(n / sizesOrSections);
  } else {
    sizes = [...sizesOrSections];
    if (sizes.reduce((p, d) => p + d, 0) !== n) throw new ShapeError('split', `sizes [${sizes.join(', ')}] do not add up to ${n} (axis ${axis} of ${fmt(x.shape)})`);
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(slice(x, a, at, at + s));
    at += s;
  }
  return out;
}

/** Overwrites `dst` with the values of `src` (same number of elements; no autograd). */
export function copyInto_(dst: Tensor, src: Tensor): Tensor {
  checkLive('copyInto_', dst, src);
  if (src.size !== dst.size) throw new ShapeError('copyInto_', `cannot copy ${fmt(src.shape)} into ${fmt(dst.shape)}`);
  rt().copy(src.buffer, 0, dst.buffer, 0, dst.size * 4);
  return dst;
}

/** Overwrites `dst` with host values (as many as it has elements; no autograd). */
export function uploadInto_(dst: Tensor, values: Float32Array): Tensor {
  checkLive('uploadInto_', dst);
  if (values.length !== dst.size) throw new ShapeError('uploadInto_', `${values.length} values for a tensor of shape ${fmt(dst.shape)}`);
  if (values.length) rt().write(dst.buffer, values);
  return dst;
}
