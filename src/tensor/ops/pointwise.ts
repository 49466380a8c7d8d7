// Pointwise ops (unary, binary with broadcasting and scalars, where, clamp, fill) and their
// backward rules. Kernels come from src/shaders/pointwise.ts, float64 references from
// src/tensor/reference/pointwise.ts. With fusion on (the default), unary and binary ops and their
// gradients are recorded as nodes of a fused kernel (src/tensor/fusion.ts) built from the same
// table entries; with `init({ fuse: false })` each dispatches its own kernel.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, broadcastShapes, broadcastStrides, checkLive, mergeDimensions, fmt, numel, sameShape, type Shape } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { MAX_RANK, linearGroups as groups } from '../../shaders/kernel.js';
import {
  BINARY, UNARY, binaryBackwardKernel4, binaryFlatBackwardKernel, binaryFlatKernel, binaryKernel4, binaryStridedBackwardKernel,
  binaryStridedKernel, clampKernel, fillKernel, scalarBackwardKernel, scalarKernel, unaryBackwardKernel, unaryKernel, whereKernel,
  type BinaryName, type StridedUniforms, type UnaryName, type Vec4Mode,
} from '../../shaders/pointwise.js';
import type { UniformValues } from '../../shaders/kernel.js';
import { binaryExpr, unaryExpr } from '../../shaders/fused.js';
import { fusedOp } from '../fusion.js';
import { sumTo } from './reduce.js';

/** Whether pointwise ops of `size` elements are recorded for fusion (empty tensors never are). */
const fusing = (size: number) => size > 0 && rt().fuse;

/** Flat kernels handle four elements per invocation (see src/shaders/pointwise.ts). */
const vec4s = (n: number) => Math.ceil(n / 4);
const groups4 = (n: number) => groups(vec4s(n));

/** A tensor of `shape` filled with `value`. */
export function fill(shape: Shape, value: number): Tensor {
  return fillInto(Tensor.empty(shape), value);
}

/** Overwrites every element of `out` with `value` (no autograd; for initialisers). */
export function fillInto(out: Tensor, value: number, label = `fill ${fmt(out.shape)}`): Tensor {
  checkLive('fill', out);
  rt().dispatch(fillKernel(), { label, buffers: [out.binding4], uniforms: { count: vec4s(out.size), value }, workgroups: groups4(out.size) });
  return out;
}

export function unary(op: UnaryName, x: Tensor): Tensor {
  const def = UNARY[op];
  if (!def) throw new Error(`unknown unary op ${op}`);
  checkLive(op, x);
  if (fusing(x.size)) {
    const y = fusedOp(`${op} ${fmt(x.shape)}`, unaryExpr(op, 'fwd'), { x }, x.shape);
    if (!def.dx) return y;
    return record(y, op, [x], (g) => [fusedOp(`${op} backward ${fmt(x.shape)}`, unaryExpr(op, 'dx'), { x, y, g }, x.shape)]);
  }
  const y = Tensor.empty(x.shape);
  rt().dispatch(unaryKernel(op), { label: `${op} ${fmt(x.shape)}`, buffers: [x.binding4, y.binding4], uniforms: { count: vec4s(x.size) }, workgroups: groups4(x.size) });
  if (!def.dx) return y;
  return record(y, op, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    rt().dispatch(unaryBackwardKernel(op), {
      label: `${op} backward ${fmt(x.shape)}`,
      buffers: [x.binding4, y.binding4, g.binding4, gx.binding4],
      uniforms: { count: vec4s(x.size) },
      workgroups: groups4(x.size),
    });
    return [gx];
  });
}

function scalarOp(op: BinaryName, x: Tensor, s: number, scalarFirst: boolean): Tensor {
  const def = BINARY[op];
  if (fusing(x.size)) {
    const label = `${op} ${fmt(x.shape)} with scalar ${s}`;
    const operands = scalarFirst ? { a: s, b: x } : { a: x, b: s };
    const y = fusedOp(label, binaryExpr(op, 'fwd'), operands, x.shape);
    if (!(scalarFirst ? def.db : def.da)) return y;
    return record(y, op, [x], (g) => [fusedOp(`${label} backward`, binaryExpr(op, scalarFirst ? 'db' : 'da'), { ...operands, y, g }, x.shape)]);
  }
  const y = Tensor.empty(x.shape);
  const uniforms = { count: vec4s(x.size), scalar: s };
  rt().dispatch(scalarKernel(op, scalarFirst), { label: `${op} ${fmt(x.shape)} with scalar ${s}`, buffers: [x.binding4, y.binding4], uniforms, workgroups: groups4(x.size) });
  if (!(scalarFirst ? def.db : def.da)) return y;
  return record(y, op, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    rt().dispatch(scalarBackwardKernel(op, scalarFirst), {
      label: `${op} backward ${fmt(x.shape)} with scalar ${s}`,
      buffers: [x.binding4, y.binding4, g.binding4, gx.binding4],
      uniforms,
      workgroups: groups4(x.size),
    });
    return [gx];
  });
}

interface StridedLayout {
  uniforms: UniformValues<StridedUniforms>;
  /** Per operand, how the vec4 kernels read it; null when the vec4 kernels do not apply. */
  vec4: Vec4Mode[] | null;
}

/**
 * Uniforms for the strided kernels: the output shape and each operand's strides. Adjacent
 * dimensions that every operand walks contiguously (or broadcasts together) are merged first,
 * so the kernel's index loop usually runs over two or three dimensions, not eight. When the
 * innermost dimension is a multiple of 4 and every operand either walks it contiguously
 * (4-aligned) or broadcasts it, the layout is in vec4 units for the vec4 kernels.
 */
function stridedLayout(op: string, n: number, outShape: Shape, operands: Shape[], allowVec4 = false): StridedLayout {
  if (outShape.length > MAX_RANK) throw new ShapeError(op, `rank ${outShape.length} exceeds the supported ${MAX_RANK}`);
  let { shape, strides: merged } = mergeDimensions(outShape, operands.map((s) => broadcastStrides(s, outShape)));
  const r = shape.length;
  let vec4: Vec4Mode[] | null = null;
  if (allowVec4 && r > 0 && shape[r - 1]! % 4 === 0) {
    const modes = merged.map((st): Vec4Mode | null => (st[r - 1] === 0 ? 's' : st[r - 1] === 1 && st.every((v) => v % 4 === 0 || v === 1) ? 'v' : null));
    if (modes.every((m) => m !== null)) {
      vec4 = modes as Vec4Mode[];
      shape = shape.map((d, i) => (i === r - 1 ? d / 4 : d));
      // vec operands count in vec4s; splatted ones keep element units (their inner stride is 0).
      merged = merged.map((st, k) => (vec4![k] === 'v' ? st.map((v, i) => (i === r - 1 ? 1 : v / 4)) : st));
    }
  }
  const [aStrides = [], bStrides = [], cStrides = []] = merged;
  return { uniforms: { count: vec4 ? n / 4 : n, rank: r, grads: 0, shape, aStrides, bStrides, cStrides }, vec4 };
}

/** Elementwise binary op with NumPy broadcasting; either side may be a plain number. */
export function binary(op: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  const def = BINARY[op];
  if (!def) throw new Error(`unknown binary op ${op}`);
  if (typeof a === 'number' && typeof b === 'number') throw new ShapeError(op, 'needs at least one tensor operand');
  if (typeof b === 'number') return (checkLive(op, a as Tensor), scalarOp(op, a as Tensor, b, false));
  if (typeof a === 'number') return (checkLive(op, b), scalarOp(op, b, a, true));
  checkLive(op, a, b);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  if (fusing(numel(outShape))) return fusedBinary(op, a, b, outShape);
  const y = Tensor.empty(outShape);
  const label = `${op} ${fmt(a.shape)} ${fmt(b.shape)}`;
  const wanted = (ga: boolean, gb: boolean) => (ga ? 1 : 0) | (gb ? 2 : 0);
  const unused = { buffer: rt().scratch, bytes: 16 };
  if (sameShape(a.shape, b.shape)) {
    // Flat: both operands have the output's shape; four elements per invocation.
    const count = vec4s(y.size);
    rt().dispatch(binaryFlatKernel(op), { label, buffers: [a.binding4, b.binding4, y.binding4], uniforms: { count }, workgroups: groups(count) });
    if (!def.da && !def.db) return y;
    return record(y, op, [a, b], (g) => {
      const ga = a.requiresGrad ? Tensor.empty(outShape) : null;
      const gb = b.requiresGrad ? Tensor.empty(outShape) : null;
      rt().dispatch(binaryFlatBackwardKernel(op), {
        label: `${label} backward`,
        buffers: [a.binding4, b.binding4, y.binding4, g.binding4, ga?.binding4 ?? unused, gb?.binding4 ?? unused],
        uniforms: { count, grads: wanted(!!ga, !!gb) },
        workgroups: groups(count),
      });
      return [ga, gb];
    });
  }
  const { uniforms, vec4: v4 } = stridedLayout(op, y.size, outShape, [a.shape, b.shape], true);
  // vec4 kernels bind whole vec4s; splatted operands and the scalar kernels bind exact ranges.
  const bindOperand = (t: Tensor, k: number) => (v4 && v4[k] === 'v' ? t.binding4 : t.binding);
  const bindOut = (t: Tensor) => (v4 ? t.binding4 : t.binding);
  const kernel = v4 ? binaryKernel4(op, v4[0]!, v4[1]!) : binaryStridedKernel(op);
  const workgroups = groups(uniforms.count);
  rt().dispatch(kernel, { label, buffers: [bindOperand(a, 0), bindOperand(b, 1), bindOut(y)], uniforms, workgroups });
  if (!def.da && !def.db) return y;
  return record(y, op, [a, b], (g) => {
    const ga = a.requiresGrad ? Tensor.empty(outShape) : null;
    const gb = b.requiresGrad ? Tensor.empty(outShape) : null;
    const bwd = v4 ? binaryBackwardKernel4(op, v4[0]!, v4[1]!) : binaryStridedBackwardKernel(op);
    rt().dispatch(bwd, {
      label: `${label} backward`,
      buffers: [bindOperand(a, 0), bindOperand(b, 1), bindOut(y), bindOut(g), ga ? bindOut(ga) : unused, gb ? bindOut(gb) : unused],
      uniforms: { ...uniforms, grads: wanted(!!ga, !!gb) },
      workgroups,
    });
    return [ga && reduceToShape(ga, a.shape), gb && reduceToShape(gb, b.shape)];
  });
}

/** A binary op and its gradients as fused nodes; gradients of broadcast operands are summed down. */
function fusedBinary(op: BinaryName, a: Tensor, b: Tensor, outShape: Shape): Tensor {
  const def = BINARY[op];
  const label = `${op} ${fmt(a.shape)} ${fmt(b.shape)}`;
  const y = fusedOp(label, binaryExpr(op, 'fwd'), { a, b }, outShape);
  if (!def.da && !def.db) return y;
  return record(y, op, [a, b], (g) => {
    const gradient = (role: 'da' | 'db', shape: Shape) => {
      const e = binaryExpr(op, role);
      // A gradient that is `g` itself (add, sub's da) needs no kernel when no summing follows.
      const full = e.body === 'g' && sameShape(g.shape, outShape) ? g.view(outShape) : fusedOp(`${label} backward`, e, { a, b, y, g }, outShape);
      return reduceToShape(full, shape);
    };
    return [a.requiresGrad ? gradient('da', a.shape) : null, b.requiresGrad ? gradient('db', b.shape) : null];
  });
}

function reduceToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const r = sumTo(g, shape);
  g.dispose();
  return r;
}

/** `cond ? a : b` elementwise (cond nonzero = true), all broadcast together. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const ta = typeof a === 'number' ? fill([], a) : a;
  const tb = typeof b === 'number' ? fill([], b) : b;
  checkLive('where', cond, ta, tb);
  const outShape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  const y = Tensor.empty(outShape);
  // Operand strides: a and b for the two sides, c for the condition.
  const { uniforms } = stridedLayout('where', y.size, outShape, [ta.shape, tb.shape, cond.shape]);
  rt().dispatch(whereKernel(), {
    label: `where ${fmt(cond.shape)} ${fmt(ta.shape)} ${fmt(tb.shape)}`,
    buffers: [cond.binding, ta.binding, tb.binding, y.binding],
    uniforms,
    workgroups: groups(y.size),
  });
  const out = record(y, 'where', [ta, tb], (g) => {
    const zero = fill([], 0);
    const ga = ta.requiresGrad ? reduceToShape(where(cond, g, zero), ta.shape) : null;
    const gb = tb.requiresGrad ? reduceToShape(where(cond, zero, g), tb.shape) : null;
    zero.dispose();
    return [ga, gb];
  });
  if (typeof a === 'number' && !out.node) ta.dispose();
  if (typeof b === 'number' && !out.node) tb.dispose();
  return out;
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  checkLive('clamp', x);
  if (!(lo <= hi)) throw new Error(`clamp: min ${lo} is greater than max ${hi}`);
  const y = Tensor.empty(x.shape);
  const uniforms = { count: x.size, lo, hi };
  rt().dispatch(clampKernel(false), { label: `clamp ${fmt(x.shape)}`, buffers: [x.binding, y.binding], uniforms, workgroups: groups(x.size) });
  return record(y, 'clamp', [x], (g) => {
    const gx = Tensor.empty(x.shape);
    rt().dispatch(clampKernel(true), { label: `clamp backward ${fmt(x.shape)}`, buffers: [x.binding, g.binding, gx.binding], uniforms, workgroups: groups(x.size) });
    return [gx];
  });
}
