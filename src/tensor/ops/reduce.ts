// Reductions over any set of axes with keepdim: sum, mean, max, min, logsumexp, var, argmax,
// argmin; and sumTo (sum a broadcast gradient back down to an operand's shape).
import { Tensor, type Axes } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, fmt, normAxes, normAxis, numel, sameShape, type Shape } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { grid, linearGroups } from '../../shaders/kernel.js';
import { COLUMN4_OPS, ROW_WG, columnReduce4Kernel, columnReduceKernel, rowReduceKernel, type ReduceOp } from '../../shaders/reduce.js';
import { permute, reshape, expand } from './movement.js';
import { binary, unary } from './pointwise.js';

/** Runs a kernel reduction of `x` over sorted `axes`; returns the keepdim-less result. */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[], correction = 0): Tensor {
  const keptShape = x.shape.filter((_, i) => !axes.includes(i));
  // Make the reduced axes one contiguous run: [outer, R, inner].
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  let src = x;
  let lo: number, hi: number;
  if (contiguous && axes.length > 0) {
    lo = axes[0]!;
    hi = axes[axes.length - 1]! + 1;
  } else {
    const kept = [...x.shape.keys()].filter((i) => !axes.includes(i));
    src = permute(x, [...kept, ...axes]);
    lo = kept.length;
    hi = x.rank;
  }
  const outer = numel(src.shape.slice(0, lo));
  const R = numel(src.shape.slice(lo, hi));
  const inner = numel(src.shape.slice(hi));
  const y = Tensor.empty(keptShape);
  const label = `${op} ${fmt(x.shape)} over axes [${axes.join(', ')}]`;
  if (R === 0 && (op === 'argmax' || op === 'argmin' || op === 'max' || op === 'min')) {
    throw new ShapeError(op, `cannot reduce over an empty axis (shape ${fmt(x.shape)})`);
  }
  const uniforms = { outer, len: R, inner, correction };
  if (inner === 1 && R >= ROW_WG) {
    rt().dispatch(rowReduceKernel(op), { label, buffers: [src.binding, y.binding], uniforms, workgroups: grid(outer) });
  } else if (inner % 4 === 0 && COLUMN4_OPS.includes(op)) {
    const inner4 = inner / 4;
    rt().dispatch(columnReduce4Kernel(op), {
      label, buffers: [src.binding4, y.binding4], uniforms: { ...uniforms, inner: inner4 }, workgroups: linearGroups(outer * inner4),
    });
  } else {
    rt().dispatch(columnReduceKernel(op), { label, buffers: [src.binding, y.binding], uniforms, workgroups: linearGroups(outer * inner) });
  }
  if (src !== x) src.dispose();
  return y;
}

function keepShape(x: Tensor, axes: number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** `g` (reduced shape) broadcast back to x's shape. */
function broadcastBack(g: Tensor, x: Tensor, axes: number[]): Tensor {
  const gk = reshape(g, keepShape(x, axes));
  const e = expand(gk, x.shape);
  if (e !== gk) gk.dispose();
  return e;
}

export type ReduceName = 'sum' | 'mean' | 'max' | 'min' | 'logsumexp';

export function reduce(op: ReduceName, x: Tensor, axesArg: Axes | null | undefined, keepdim: boolean): Tensor {
  if (x.disposed) throw new Error(`${op}: input of shape ${fmt(x.shape)} was used after dispose()`);
  const axes = normAxes(op, axesArg, x.rank);
  const R = axes.reduce((p, a) => p * x.shape[a]!, 1);
  let y: Tensor;
  if (op === 'mean') {
    const s = reduceRaw('sum', x, axes);
    y = binary('mul', s, 1 / R);
    s.dispose();
  } else {
    y = reduceRaw(op, x, axes);
  }
  const out = keepdim ? y.view(keepShape(x, axes)) : y;
  if (out !== y) y.dispose();
  return record(out, op, [x], (g) => {
    const gb = broadcastBack(g, x, axes);
    switch (op) {
      case 'sum':
        return [gb];
      case 'mean': {
        const r = binary('mul', gb, 1 / R);
        gb.dispose();
        return [r];
      }
      case 'logsumexp': {
        // d lse / dx = exp(x - lse)
        const yb = broadcastBack(out, x, axes);
        const d = binary('sub', x, yb);
        const p = unary('exp', d);
        const r = binary('mul', gb, p);
        [yb, d, p, gb].forEach((t) => t.dispose());
        return [r];
      }
      default: {
        // max/min: the gradient is shared equally by the elements equal to the extreme.
        const yb = broadcastBack(out, x, axes);
        const mask = binary('eq', x, yb);
        const count = reduceRaw('sum', mask, axes);
        const cb = broadcastBack(count, x, axes);
        const share = binary('div', mask, cb);
        const r = binary('mul', gb, share);
        [yb, mask, count, cb, share, gb].forEach((t) => t.dispose());
        return [r];
      }
    }
  });
}

export function variance(x: Tensor, axesArg: Axes | null | undefined, keepdim: boolean, correction: number): Tensor {
  const axes = normAxes('var', axesArg, x.rank);
  const R = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const y = reduceRaw('var', x, axes, correction);
  const out = keepdim ? y.view(keepShape(x, axes)) : y;
  if (out !== y) y.dispose();
  return record(out, 'var', [x], (g) => {
    // d var / dx = 2 (x - mean) / (R - correction)
    const s = reduceRaw('sum', x, axes);
    const mean = binary('mul', s, 1 / R);
    const mb = broadcastBack(mean, x, axes);
    const d = binary('sub', x, mb);
    const gb = broadcastBack(g, x, axes);
    const t = binary('mul', d, gb);
    const r = binary('mul', t, 2 / (R - correction));
    [s, mean, mb, d, gb, t].forEach((u) => u.dispose());
    return [r];
  });
}

export function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number, keepdim: boolean): Tensor {
  const a = normAxis(op, axis, x.rank);
  const y = reduceRaw(op, x, [a]);
  if (!keepdim) return y;
  const out = y.view(keepShape(x, [a]));
  y.dispose();
  return out;
}

/** Sums `g` down to `shape` (the inverse of broadcasting `shape` up to g's shape). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g.view(shape);
  const off = g.rank - shape.length;
  if (off < 0) throw new ShapeError('sumTo', `cannot sum ${fmt(g.shape)} down to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1)) axes.push(i);
    else if (shape[i - off] !== g.shape[i]) throw new ShapeError('sumTo', `cannot sum ${fmt(g.shape)} down to ${fmt(shape)}`);
  }
  const r = reduceRaw('sum', g, axes);
  const out = r.view(shape);
  r.dispose();
  return out;
}
