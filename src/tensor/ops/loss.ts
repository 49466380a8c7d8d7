// Losses: fused cross-entropy (logsumexp and target pick per row in one kernel, backward
// softmax − smoothed one-hot; kernels in src/shaders/loss.ts) and MSE (composed).
import { Tensor, tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, fmt, numel, sameShape } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { grid, linearGroups } from '../../shaders/kernel.js';
import { crossEntropyBackwardKernel, crossEntropyKernel } from '../../shaders/loss.js';
import { rowPlan } from './rows.js';

export type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

export interface CrossEntropyOptions {
  /** ε in q = (1 − ε)·onehot + ε/C (default 0). */
  labelSmoothing?: number;
  /** 'mean' (default) over the non-ignored targets, 'sum', or 'none' (shape [B, ...]). */
  reduction?: Reduction;
  /** Targets equal to this contribute no loss and no gradient, and are not counted by 'mean'. */
  ignoreIndex?: number;
}

/** Class indices: a plain array, an Int32Array, or a tensor holding integer values. */
export type Targets = Tensor | readonly number[] | Int32Array;

function checkReduction(op: string, r: string): Reduction {
  if (!REDUCTIONS.includes(r as Reduction)) throw new ShapeError(op, `reduction must be one of ${REDUCTIONS.join(', ')}, got '${r}'`);
  return r as Reduction;
}

/** Reduces per-element losses; intermediates are freed unless the graph holds them. */
function applyReduction(losses: Tensor, reduction: Reduction, divisor: number | Tensor): Tensor {
  if (reduction === 'none') return losses;
  const s = losses.sum();
  if (reduction === 'sum') {
    if (!s.node) losses.dispose();
    return s;
  }
  const m = typeof divisor === 'number' ? s.mul(1 / divisor) : s.div(divisor);
  if (!m.node) [losses, s].forEach((t) => t.dispose());
  return m;
}

/**
 * Cross-entropy between logits [B, C] (or [B, C, d1, ...], classes on axis 1) and integer
 * class targets [B] (or [B, d1, ...]). Host targets are checked here: an out-of-range target
 * throws, naming it. Tensor targets cannot be checked without waiting for the GPU, so an
 * out-of-range one makes its loss (and gradient) NaN.
 */
export function crossEntropy(logits: Tensor, targets: Targets, opts: CrossEntropyOptions = {}): Tensor {
  if (logits.disposed) throw new Error(`crossEntropy: logits of shape ${fmt(logits.shape)} were used after dispose()`);
  if (logits.rank < 2) throw new ShapeError('crossEntropy', `logits must be [B, C] or [B, C, ...], got ${fmt(logits.shape)}`);
  const C = logits.shape[1]!;
  if (C === 0) throw new ShapeError('crossEntropy', `logits ${fmt(logits.shape)} have no classes`);
  const tShape = [logits.shape[0]!, ...logits.shape.slice(2)];
  const rows = numel(tShape);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new ShapeError('crossEntropy', `labelSmoothing must be in [0, 1], got ${eps}`);
  const reduction = checkReduction('crossEntropy', opts.reduction ?? 'mean');
  const ignore = opts.ignoreIndex;
  if (ignore !== undefined && !Number.isInteger(ignore)) throw new ShapeError('crossEntropy', `ignoreIndex must be an integer, got ${ignore}`);

  let t: Tensor;
  let count: number | Tensor = rows; // targets the mean divides by
  const ownTargets = !(targets instanceof Tensor);
  if (targets instanceof Tensor) {
    if (targets.disposed) throw new Error(`crossEntropy: targets of shape ${fmt(targets.shape)} were used after dispose()`);
    if (!sameShape(targets.shape, tShape)) {
      throw new ShapeError('crossEntropy', `targets ${fmt(targets.shape)} do not match logits ${fmt(logits.shape)} (expected ${fmt(tShape)})`);
    }
    t = targets;
  } else {
    if (targets.length !== rows) {
      throw new ShapeError('crossEntropy', `${targets.length} targets for logits ${fmt(logits.shape)} (expected ${rows}, shape ${fmt(tShape)})`);
    }
    let valid = 0;
    for (let i = 0; i < targets.length; i++) {
      const v = targets[i]!;
      if (v === ignore) continue;
      if (!Number.isInteger(v) || v < 0 || v >= C) {
        throw new ShapeError('crossEntropy', `target ${v} at index ${i} is not a class index in [0, ${C}) (logits ${fmt(logits.shape)}${ignore !== undefined ? `, ignoreIndex ${ignore}` : ''})`);
      }
      valid++;
    }
    count = valid;
    t = tensor(Float32Array.from(targets), { shape: tShape });
  }

  const uniforms = { rows, len: C, stride: numel(logits.shape.slice(2)), ignoreIndex: ignore ?? 0, hasIgnoreIndex: ignore !== undefined ? 1 : 0, smoothing: eps };
  const label = `crossEntropy ${fmt(logits.shape)} targets ${fmt(tShape)}`;
  const losses = Tensor.empty(tShape), lse = Tensor.empty(tShape);
  if (rows > 0) rt().dispatch(crossEntropyKernel(rowPlan()), { label, buffers: [logits.binding, t.binding, losses.binding, lse.binding], uniforms, workgroups: grid(rows) });
  const out = record(losses, 'crossEntropy', [logits], (g) => {
    const dx = Tensor.empty(logits.shape);
    if (dx.size > 0) {
      rt().dispatch(crossEntropyBackwardKernel(), {
        label: `${label} backward`,
        buffers: [logits.binding, t.binding, lse.binding, g.binding, dx.binding],
        uniforms,
        workgroups: linearGroups(dx.size),
      });
    }
    return [dx];
  });
  if (!out.node) {
    lse.dispose();
    if (ownTargets) t.dispose();
  }
  if (reduction === 'mean' && ignore !== undefined && !ownTargets) {
    // Tensor targets: count the non-ignored ones on the GPU (no readback).
    const keep = t.ne(ignore);
    count = keep.sum();
    keep.dispose();
  }
  const result = applyReduction(out, reduction, count);
  if (count instanceof Tensor && !result.node) count.dispose();
  return result;
}

/** Mean squared error between `input` and `target` of the same shape. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = checkReduction('mseLoss', opts.reduction ?? 'mean');
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError('mseLoss', `input ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  const d = input.sub(target);
  const sq = d.square();
  if (!sq.node) d.dispose();
  return applyReduction(sq, reduction, input.size);
}
