// maskedAttention(q, k, v, keyMask?): on GPUs (and for long sequences) the fused flash-style
// kernel with its backward (dq, dk, dv and dkeyMask); on CPU adapters the composed path (matmul →
// fused masked softmax → matmul), which the same front-end also serves when the caller wants the
// attention probabilities as graph tensors (relevance maps need ∂y/∂A).
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, fmt, numel } from '../shape.js';
import { grad, isGradEnabled, record, noGrad } from '../../autograd/tape.js';
import {
  attentionBackwardKeyKernel, attentionBackwardQueryKernel, attentionForwardKernel, attentionTile,
} from '../../shaders/attention.js';
import { grid } from '../../shaders/kernel.js';
import { maskedSoftmaxBackwardKernel, maskedSoftmaxKernel } from '../../shaders/softmax.js';
import { fill, where } from './pointwise.js';
import { gatherStrided, scatterStrided } from './movement.js';
import { isCpuAdapter } from './matmul.js';
import { sumTo } from './reduce.js';
import { rowPlan } from './rows.js';

/**
 * Which path maskedAttention takes, exposed for tests and benchmarks. 'auto' composes on CPU
 * adapters while the B·H·Tq·Tk scores fit in `maxComposedScoresBytes`, and runs the fused kernel
 * elsewhere. On lavapipe the fused kernel reaches ~5 GFLOP/s where the simd matmul reaches 30–40,
 * so the two matmuls and one row kernel over the scores win; on a GPU the fused kernel saves the
 * T×T round trips through memory. The bound keeps long sequences (memory ∝ T²) fused.
 */
export const attentionConfig: { variant: 'auto' | 'fused' | 'composed'; maxComposedScoresBytes: number } = {
  variant: 'auto',
  maxComposedScoresBytes: 64 << 20,
};

function composes(B: number, H: number, Tq: number, Tk: number): boolean {
  if (attentionConfig.variant !== 'auto') return attentionConfig.variant === 'composed';
  return B * H * Tq * Tk * 4 <= attentionConfig.maxComposedScoresBytes && isCpuAdapter(rt());
}

export interface AttentionOptions {
  /** Multiplies q·k (default 1/√d). */
  scale?: number;
}

function checkInputs(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null | undefined): [number, number, number, number, number] {
  const op = 'maskedAttention';
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new ShapeError(op, `q, k, v must be [B, H, T, d]; got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== D || v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== Tk || v.shape[3] !== D) {
    throw new ShapeError(op, `q ${fmt(q.shape)}, k ${fmt(k.shape)} and v ${fmt(v.shape)} disagree (want k, v = [B, H, Tk, d] with q's B, H, d)`);
  }
  if (mask && (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== Tk)) {
    throw new ShapeError(op, `keyMask must be [B, Tk] = [${B}, ${Tk}], got ${fmt(mask.shape)}`);
  }
  if (D > 256) throw new ShapeError(op, `head size ${D} > 256 is not supported by the fused kernel`);
  if (B * H > 65535) throw new ShapeError(op, `B·H = ${B * H} exceeds 65535`);
  for (const t of [q, k, v, ...(mask ? [mask] : [])]) {
    if (t.disposed) throw new Error(`${op}: an input of shape ${fmt(t.shape)} was used after dispose()`);
  }
  return [B, H, Tq, Tk, D];
}

/**
 * Fused attention with multiplicative key masking: out_i = Σ_j a_ij v_j with
 * a_ij = m_j·exp(s_ij) / Σ_k m_k·exp(s_ik), s = scale·q·k. keyMask [B, Tk] holds weights ≥ 0
 * (1 keep, 0 drop). No B·H·T·T tensor is allocated. Gradients flow to q, k, v and keyMask.
 */
export function maskedAttention(q: Tensor, k: Tensor, v: Tensor, keyMask?: Tensor | null, opts: AttentionOptions = {}): Tensor {
  const [B, H, Tq, Tk, D] = checkInputs(q, k, v, keyMask);
  if (composes(B, H, Tq, Tk)) {
    const { out, probs } = maskedAttentionComposed(q, k, v, keyMask, opts);
    if (!out.node) probs.dispose();
    return out;
  }
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const r = rt();
  const TILE = attentionTile(D, r.device.limits.maxComputeWorkgroupStorageSize);
  const uniforms = { B, H, Tq, Tk, scale, hasMask: keyMask ? 1 : 0 };
  const maskBinding = keyMask ? keyMask.binding : { buffer: r.scratch, bytes: 4 };
  const out = Tensor.empty(q.shape);
  const lse = Tensor.empty([B, H, Tq]);
  const label = `maskedAttention q${fmt(q.shape)} k${fmt(k.shape)}${keyMask ? ` mask${fmt(keyMask.shape)}` : ''}`;
  r.dispatch(attentionForwardKernel(D, TILE), {
    label,
    buffers: [q.binding, k.binding, v.binding, maskBinding, out.binding, lse.binding],
    uniforms,
    workgroups: [Math.ceil(Tq / TILE), B * H],
  });
  const inputs = keyMask ? [q, k, v, keyMask] : [q, k, v];
  const recorded = record(out, 'maskedAttention', inputs, (g) => {
    const dq = Tensor.empty(q.shape);
    const drow = Tensor.empty([B, H, Tq]);
    r.dispatch(attentionBackwardQueryKernel(D, TILE), {
      label: `${label} backward (queries)`,
      buffers: [q.binding, k.binding, v.binding, maskBinding, out.binding, lse.binding, g.binding, dq.binding, drow.binding],
      uniforms,
      workgroups: [Math.ceil(Tq / TILE), B * H],
    });
    const dk = Tensor.empty(k.shape);
    const dv = Tensor.empty(v.shape);
    const dmHeads = Tensor.empty([B, H, Tk]);
    r.dispatch(attentionBackwardKeyKernel(D, TILE), {
      label: `${label} backward (keys)`,
      buffers: [q.binding, k.binding, v.binding, maskBinding, lse.binding, drow.binding, g.binding, dk.binding, dv.binding, dmHeads.binding],
      uniforms,
      workgroups: [Math.ceil(Tk / TILE), B * H],
    });
    drow.dispose();
    let dmask: Tensor | null = null;
    if (keyMask?.requiresGrad) dmask = dmHeads.sum(1);
    dmHeads.dispose();
    return [dq, dk, dv, dmask];
  });
  if (!recorded.node) lse.dispose();
  return recorded;
}

/**
 * The same attention composed: scores matmul, masked scaled softmax (one row kernel), value
 * matmul, returning the probabilities [B, H, Tq, Tk] as a graph tensor. T×T in memory; the path
 * maskedAttention takes on CPU adapters, and the one to use when ∂/∂probabilities is needed
 * (relevance maps).
 */
export function maskedAttentionComposed(q: Tensor, k: Tensor, v: Tensor, keyMask?: Tensor | null, opts: AttentionOptions = {}): { out: Tensor; probs: Tensor } {
  const [B, H, Tq, Tk, D] = checkInputs(q, k, v, keyMask);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const s = q.matmul(k, { transB: true });
  // The H·Tq score rows of a batch share its row of the key mask.
  const probs = maskedSoftmaxRows(s, keyMask ? keyMask.reshape([B, 1, 1, Tk]) : null, scale, H * Tq, true);
  // Without a graph nothing reads the scores again.
  if (!probs.node) s.dispose();
  const out = probs.matmul(v);
  return { out, probs };
}

/**
 * Softmax with multiplicative weights on the last axis: a_j = m_j·exp(s_j) / Σ_k m_k·exp(s_k),
 * 0 for a row with Σ = 0, differentiable in s and m (m broadcasts against s). Entries with
 * m_j = 0 change nothing, whatever s_j is. One row kernel when m's rows each serve a block of
 * consecutive rows of s (m = [..leading dims of s.., 1, .., 1, T], the attention key mask), else
 * composed from primitive ops.
 */
export function maskedSoftmax(s: Tensor, m: Tensor): Tensor {
  if (s.rank === 0) throw new ShapeError('maskedSoftmax', `expects scores with a last axis, got ${fmt(s.shape)}`);
  const group = maskRowGroup(s.shape, m.shape);
  return group === null ? maskedSoftmaxComposed(s, m) : maskedSoftmaxRows(s, m, 1, group, false);
}

/**
 * How many consecutive rows of s share one row of m, when m (right-aligned) equals s's shape on
 * leading axes, is 1 on the axes after them and T on the last; else null.
 */
function maskRowGroup(sShape: readonly number[], mShape: readonly number[]): number | null {
  const rank = sShape.length;
  if (mShape.length > rank || mShape[mShape.length - 1] !== sShape[rank - 1]) return null;
  const aligned = [...new Array<number>(rank - mShape.length).fill(1), ...mShape];
  let lead = 0;
  while (lead < rank - 1 && aligned[lead] === sShape[lead]) lead++;
  for (let a = lead; a < rank - 1; a++) if (aligned[a] !== 1) return null;
  return numel(sShape.slice(lead, rank - 1));
}

/** y = maskedSoftmax(scale·s, m) with m's row (o / group) weighting row o of s; m null: no mask. */
function maskedSoftmaxRows(s: Tensor, m: Tensor | null, scale: number, group: number, scaledName: boolean): Tensor {
  const R = s.shape[s.rank - 1]!;
  const rows = R === 0 ? 0 : s.size / R;
  const r = rt();
  const plan = rowPlan();
  const base = { rows, len: R, stride: 1, group: Math.max(1, group), scale, hasMask: m ? 1 : 0 };
  const label = `maskedSoftmax ${fmt(s.shape)}${m ? ` mask ${fmt(m.shape)}` : ''}${scaledName ? ` scale ${scale}` : ''}`;
  const maskBinding = m ? m.binding : { buffer: r.scratch, bytes: 4 };
  const y = Tensor.empty(s.shape);
  const lse = Tensor.empty(s.shape.slice(0, -1));
  if (rows > 0) {
    r.dispatch(maskedSoftmaxKernel(plan), {
      label, buffers: [s.binding, maskBinding, y.binding, lse.binding], uniforms: { ...base, maskGrad: 0 }, workgroups: grid(rows),
    });
  }
  const wantGrad = isGradEnabled() && (s.requiresGrad || !!m?.requiresGrad);
  if (!wantGrad) {
    lse.dispose();
    return y;
  }
  return record(y, 'maskedSoftmax', m ? [s, m] : [s], (g) => {
    const ds = Tensor.empty(s.shape);
    const maskGrad = !!m?.requiresGrad;
    const dmRows = maskGrad ? Tensor.empty(s.shape) : null;
    if (rows > 0) {
      r.dispatch(maskedSoftmaxBackwardKernel(plan), {
        label: `${label} backward`,
        buffers: [s.binding, y.binding, g.binding, lse.binding, ds.binding, dmRows ? dmRows.binding : { buffer: r.scratch, bytes: 4 }],
        uniforms: { ...base, maskGrad: maskGrad ? 1 : 0 },
        workgroups: grid(rows),
      });
    }
    let dm: Tensor | null = null;
    if (dmRows && m) {
      dm = sumTo(dmRows, m.shape);
      if (dm !== dmRows) dmRows.dispose();
    }
    return m ? [ds, dm] : [ds];
  });
}

/** maskedSoftmax composed from primitive ops, for masks that broadcast in other ways. */
function maskedSoftmaxComposed(s: Tensor, m: Tensor): Tensor {
  const kept = m.gt(0);
  const shift = noGrad(() => {
    const masked = where(kept, s, -3.4e38);
    const mx = masked.max(-1, true);
    masked.dispose();
    // Rows with nothing kept: shift by 0 (their result is 0/0 → handled below).
    const finite = where(mx.gt(-3e38), mx, 0);
    mx.dispose();
    return finite;
  });
  // exp of masked scores far above the kept maximum would overflow; 80 keeps it finite in f32.
  const e = s.sub(shift).minimum(80).exp().mul(m);
  const z = e.sum(-1, true);
  const safeZ = where(z.gt(0), z, 1);
  // kept and shift are read by the backward of `sub`; the graph (or tidy) frees them.
  return e.div(safeZ);
}

/** Where the q, k or v heads sit in a fused qkv projection [B, T, 3·H·d]: [B, H, T, d] strides. */
function qkvLayout(op: string, qkv: Tensor, which: 0 | 1 | 2, numHeads: number): { shape: number[]; base: number; strides: number[] } {
  if (qkv.rank !== 3 || qkv.shape[2]! % (3 * numHeads) !== 0) {
    throw new ShapeError(op, `expects [B, T, 3·heads·d] with ${numHeads} heads, got ${fmt(qkv.shape)}`);
  }
  const [B, T, C3] = qkv.shape as [number, number, number];
  const C = C3 / 3, d = C / numHeads;
  return { shape: [B, numHeads, T, d], base: which * C, strides: [T * C3, d, C3, 1] };
}

/**
 * The q, k or v heads of a fused qkv projection, [B, T, 3·H·d] → [B, H, T, d] (`which` 0, 1, 2),
 * in one strided gather (no permute + slice copies); backward scatters into the qkv gradient.
 */
export function qkvHeads(qkv: Tensor, which: 0 | 1 | 2, numHeads: number): Tensor {
  const { shape, base, strides } = qkvLayout('qkvHeads', qkv, which, numHeads);
  const y = gatherStrided('qkvHeads', qkv, shape, base, strides);
  return record(y, 'qkvHeads', [qkv], (g) => {
    const gx = fill(qkv.shape, 0);
    scatterStrided('qkvHeads backward', g, gx, base, strides);
    return [gx];
  });
}

/**
 * Attention straight from a fused qkv projection: [B, T, 3·H·d] → [B, T, H·d] (heads merged), the
 * values and gradients of qkvHeads ×3 → maskedAttention → mergeHeads. The difference is the tape:
 * one node whose backward writes the q, k and v gradients into one qkv-shaped buffer with three
 * scatters that cover it, where three qkvHeads nodes would each zero-fill a qkv-sized gradient
 * for its third and the tape would add the three. Inside, the heads are leaves of a small graph
 * of their own (the attention and the merge), walked by `grad` when the node's backward runs.
 */
export function qkvAttention(qkv: Tensor, numHeads: number, keyMask?: Tensor | null, opts: AttentionOptions = {}): Tensor {
  const layouts = ([0, 1, 2] as const).map((w) => qkvLayout('qkvAttention', qkv, w, numHeads));
  const heads = noGrad(() => layouts.map(({ shape, base, strides }) => gatherStrided('qkvAttention', qkv, shape, base, strides)));
  const wantGrad = isGradEnabled() && (qkv.requiresGrad || !!keyMask?.requiresGrad);
  if (!wantGrad) {
    const o = maskedAttention(heads[0]!, heads[1]!, heads[2]!, keyMask, opts);
    for (const h of heads) h.dispose();
    const out = mergeHeads(o);
    if (out !== o) o.dispose();
    return out;
  }
  for (const h of heads) h.requiresGrad = qkv.requiresGrad;
  // The mask enters the inner graph as a leaf too, so `grad` stops there instead of walking on
  // into (and freeing) the outer graph that made it.
  const mask = keyMask ? keyMask.detach() : null;
  if (mask && keyMask!.requiresGrad) mask.requiresGrad = true;
  const inner = mergeHeads(maskedAttention(heads[0]!, heads[1]!, heads[2]!, mask, opts));
  const out = noGrad(() => inner.view(inner.shape));
  return record(out, 'qkvAttention', keyMask ? [qkv, keyMask] : [qkv], (g) => {
    const wrt = [...heads, ...(mask?.requiresGrad ? [mask] : [])].filter((t) => t.requiresGrad);
    // The inner graph is kept: the caller's backward may retain its graph and walk it again
    // (freeing the outer node drops the last reference to it).
    const grads = grad(inner, wrt, { gradOutputs: [g], retainGraph: true });
    let dqkv: Tensor | null = null;
    if (qkv.requiresGrad) {
      dqkv = Tensor.empty(qkv.shape);
      layouts.forEach(({ base, strides }, w) => scatterStrided('qkvAttention backward', grads[w]!, dqkv!, base, strides));
    }
    const dmask = mask?.requiresGrad ? grads[grads.length - 1]! : null;
    grads.forEach((t) => t !== dmask && t.dispose());
    return [dqkv, dmask];
  });
}

/** [B, H, T, d] → [B, T, H·d] (heads side by side, as timm's attention output). */
export function mergeHeads(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError('mergeHeads', `expects [B, H, T, d], got ${fmt(x.shape)}`);
  const [B, H, T, d] = x.shape as [number, number, number, number];
  return x.permute(0, 2, 1, 3).reshape(B, T, H * d);
}
