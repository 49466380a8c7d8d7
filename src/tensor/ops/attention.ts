// maskedAttention(q, k, v, keyMask?): the fused attention kernel with its backward (dq, dk, dv
// and dkeyMask), plus the composed path (matmul → masked softmax → matmul) used when the caller
// wants the attention probabilities as graph tensors (relevance maps need ∂y/∂A).
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, fmt } from '../shape.js';
import { record, noGrad } from '../../autograd/tape.js';
import {
  attentionBackwardKeyKernel, attentionBackwardQueryKernel, attentionForwardKernel, attentionTile,
} from '../../shaders/attention.js';
import { fill, where } from './pointwise.js';
import { gatherStrided, scatterStrided } from './movement.js';

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
 * The same attention composed from primitives (scores matmul, masked softmax, value matmul),
 * returning the probabilities [B, H, Tq, Tk] as a graph tensor. Slower and T×T in memory; use
 * it when ∂/∂probabilities is needed (relevance maps) and as the reference for the fused kernel.
 */
export function maskedAttentionComposed(q: Tensor, k: Tensor, v: Tensor, keyMask?: Tensor | null, opts: AttentionOptions = {}): { out: Tensor; probs: Tensor } {
  const [B, , , Tk, D] = checkInputs(q, k, v, keyMask);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const s = q.matmul(k, { transB: true }).mul(scale);
  const probs = keyMask ? maskedSoftmax(s, keyMask.reshape([B, 1, 1, Tk])) : s.softmax(-1);
  const out = probs.matmul(v);
  return { out, probs };
}

/**
 * Softmax with multiplicative weights on the last axis: a_j = m_j·exp(s_j) / Σ_k m_k·exp(s_k),
 * differentiable in s and m (m broadcasts against s). The shift by the max over kept entries is
 * taken without gradient (it cancels mathematically).
 */
export function maskedSoftmax(s: Tensor, m: Tensor): Tensor {
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

/**
 * The q, k or v heads of a fused qkv projection, [B, T, 3·H·d] → [B, H, T, d] (`which` 0, 1, 2),
 * in one strided gather (no permute + slice copies); backward scatters into the qkv gradient.
 */
export function qkvHeads(qkv: Tensor, which: 0 | 1 | 2, numHeads: number): Tensor {
  if (qkv.rank !== 3 || qkv.shape[2]! % (3 * numHeads) !== 0) {
    throw new ShapeError('qkvHeads', `expects [B, T, 3·heads·d] with ${numHeads} heads, got ${fmt(qkv.shape)}`);
  }
  const [B, T, C3] = qkv.shape as [number, number, number];
  const C = C3 / 3, d = C / numHeads;
  const strides = [T * C3, d, C3, 1];
  const base = which * C;
  const y = gatherStrided('qkvHeads', qkv, [B, numHeads, T, d], base, strides);
  return record(y, 'qkvHeads', [qkv], (g) => {
    const gx = fill(qkv.shape, 0);
    scatterStrided('qkvHeads backward', g, gx, base, strides);
    return [gx];
  });
}

/** [B, H, T, d] → [B, T, H·d] (heads side by side, as timm's attention output). */
export function mergeHeads(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError('mergeHeads', `expects [B, H, T, d], got ${fmt(x.shape)}`);
  const [B, H, T, d] = x.shape as [number, number, number, number];
  return x.permute(0, 2, 1, 3).reshape(B, T, H * d);
}
