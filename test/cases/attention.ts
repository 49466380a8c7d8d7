// Op cases of the attention family: fused masked attention (with and without a key mask, self
// and cross attention, head sizes that are and are not multiples of 4, sequences longer than a
// tile), binary, fractional and all-zero mask rows, its gradients (dq, dk, dv and the mask's), the
// masked softmax (its row kernel, rows held in registers and streamed, and the composed fallback
// for other broadcasts), and the head
// reshuffles (qkvHeads, mergeHeads), and attention straight from a fused qkv projection (qkvAttention). test/attention.test.ts runs the attention cases down both
// paths (fused kernel, and matmul → masked softmax → matmul).
import { attentionConfig, maskedAttention, maskedSoftmax, mergeHeads, qkvAttention, qkvHeads } from '../../src/tensor/ops/attention.js';
import { arr, gatherRef, maskedAttentionRef, maskedSoftmaxRef, permute, type Arr } from '../../src/tensor/reference/index.js';
import type { Tensor } from '../../src/index.js';
import { seeded, shapeText, type BenchCase, type Inputs, type OpCase } from './case.js';

interface MaskOptions {
  /** Probability that a key is kept (key 0 always is, unless its batch is dropped). */
  keepProb?: number;
  /** Kept keys get weights in [0.05, 1] (iFAM's relaxed masks) instead of 1. */
  soft?: boolean;
  /** The last batch keeps no key at all: its rows attend to nothing. */
  dropLastBatch?: boolean;
}

/** A key mask [B, Tk] of weights ≥ 0, zeros included. */
function keyMask(r: Inputs, B: number, Tk: number, o: MaskOptions): Arr {
  const m = r.bernoulli([B, Tk], o.keepProb ?? 0.6);
  const w = r.uniform([B, Tk], 0.05, 1);
  for (let i = 0; i < B * Tk; i++) {
    if (i % Tk === 0) m.data[i] = 1;
    if (o.soft) m.data[i] = m.data[i]! * w.data[i]!;
    if (o.dropLastBatch && i >= (B - 1) * Tk) m.data[i] = 0;
  }
  return m;
}

/** q, k, v and a key mask [B, Tk]. */
function qkvm(r: Inputs, B: number, H: number, Tq: number, Tk: number, D: number, o: MaskOptions): Arr[] {
  const q = r.uniform([B, H, Tq, D], -1.5, 1.5), k = r.uniform([B, H, Tk, D], -1.5, 1.5), v = r.uniform([B, H, Tk, D]);
  return [q, k, v, keyMask(r, B, Tk, o)];
}

function attentionCase(B: number, H: number, Tq: number, Tk: number, D: number, seed: number, o: MaskOptions & { masked: boolean; grad?: boolean }): OpCase {
  const maskText = o.masked ? `${o.soft ? ' soft' : ''} masked${o.dropLastBatch ? ', last batch fully' : ''}` : ' unmasked';
  return {
    family: 'attention',
    op: 'maskedAttention',
    name: `maskedAttention B=${B} H=${H} Tq=${Tq} Tk=${Tk} d=${D}${maskText}`,
    inputs: seeded(seed, (r) => qkvm(r, B, H, Tq, Tk, D, o).slice(0, o.masked ? 4 : 3)),
    gpu: (q, k, v, m) => maskedAttention(q!, k!, v!, m),
    ref: (q, k, v, m) => maskedAttentionRef(q!, k!, v!, m ?? null).out,
    atol: 3e-6,
    rtol: 1e-4,
    ...(o.grad ? { grad: { h: 1e-5 } } : {}),
  };
}

/**
 * Soft mask weights in (0, 1], as iFAM's relaxed masks are; with `zeros`, some weights 0 and,
 * with `emptyRow`, the mask's first row all 0 (its rows of s attend to nothing, so their mask
 * gradient is a jump and only s's gradient is checked).
 */
function maskedSoftmaxCase(shape: number[], maskShape: number[], seed: number, grad: boolean, o: { zeros?: boolean; emptyRow?: boolean } = {}): OpCase {
  const T = maskShape[maskShape.length - 1]!;
  return {
    family: 'attention',
    op: 'maskedSoftmax',
    name: `maskedSoftmax ${shapeText(shape)} mask ${shapeText(maskShape)}${o.zeros ? ' with zeros' : ''}${o.emptyRow ? ', an empty row' : ''}`,
    inputs: seeded(seed, (r) => {
      const s = r.uniform(shape, -3, 3), m = r.uniform(maskShape, 0.05, 1), drop = r.bernoulli(maskShape, 0.3);
      for (let i = 0; i < m.data.length; i++) {
        if (o.zeros && drop.data[i] && i % T !== 0) m.data[i] = 0;
        if (o.emptyRow && i < T) m.data[i] = 0;
      }
      return [s, m];
    }),
    gpu: (s, m) => maskedSoftmax(s, m),
    ref: (s, m) => maskedSoftmaxRef(s, m),
    atol: 1e-6,
    rtol: 1e-5,
    ...(grad ? { grad: o.emptyRow ? { check: [0] } : {} } : {}),
  };
}

function qkvHeadsCase(B: number, T: number, H: number, d: number, which: 0 | 1 | 2, seed: number, grad: boolean): OpCase {
  return {
    family: 'attention',
    op: 'qkvHeads',
    name: `qkvHeads [${B}, ${T}, 3·${H}·${d}] part ${which}`,
    inputs: seeded(seed, (r) => [r.uniform([B, T, 3 * H * d])]),
    gpu: (qkv) => qkvHeads(qkv, which, H),
    // [B, T, 3, H, d] → part `which` → [B, H, T, d].
    ref: (qkv) => permute(arr([B, T, H, d], gatherRef.indexSelect(arr([B, T, 3, H, d], qkv.data), 2, [which]).data), [0, 2, 1, 3]),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

function mergeHeadsCase(B: number, H: number, T: number, d: number, seed: number, grad: boolean): OpCase {
  return {
    family: 'attention',
    op: 'mergeHeads',
    name: `mergeHeads ${shapeText([B, H, T, d])}`,
    inputs: seeded(seed, (r) => [r.uniform([B, H, T, d])]),
    gpu: (x: Tensor) => mergeHeads(x),
    ref: (x) => arr([B, T, H * d], permute(x, [0, 2, 1, 3]).data),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

/** Reference: [B, T, 3, H, d] → heads `which` as [B, H, T, d]. */
function headsRef(qkv: Arr, B: number, T: number, H: number, d: number, which: number): Arr {
  return permute(arr([B, T, H, d], gatherRef.indexSelect(arr([B, T, 3, H, d], qkv.data), 2, [which]).data), [0, 2, 1, 3]);
}

function qkvAttentionCase(B: number, T: number, H: number, d: number, seed: number, o: { masked: boolean; soft?: boolean; grad?: boolean }): OpCase {
  return {
    family: 'attention',
    op: 'qkvAttention',
    name: `qkvAttention [${B}, ${T}, 3·${H}·${d}]${o.masked ? `${o.soft ? ' soft' : ''} masked` : ' unmasked'}`,
    inputs: seeded(seed, (r) => {
      const qkv = r.uniform([B, T, 3 * H * d], -1.5, 1.5);
      return o.masked ? [qkv, keyMask(r, B, T, { keepProb: 0.5, soft: o.soft })] : [qkv];
    }),
    gpu: (qkv, m) => qkvAttention(qkv!, H, m),
    ref: (qkv, m) => {
      const [q, k, v] = [0, 1, 2].map((w) => headsRef(qkv!, B, T, H, d, w));
      return arr([B, T, H * d], permute(maskedAttentionRef(q!, k!, v!, m ?? null).out, [0, 2, 1, 3]).data);
    },
    atol: 3e-6,
    rtol: 1e-4,
    ...(o.grad ? { grad: { h: 1e-5 } } : {}),
  };
}

export const cases: OpCase[] = [
  ...([[2, 3, 65, 32], [1, 2, 197, 64], [1, 1, 1374, 64], [3, 2, 7, 16]] as const).flatMap(([B, H, T, D]) =>
    [true, false].map((masked) => attentionCase(B, H, T, T, D, T + D, { masked }))),
  attentionCase(2, 2, 19, 33, 16, 8, { masked: true }),
  // A head size that is not a multiple of 4 (scalar lanes).
  attentionCase(1, 2, 11, 11, 6, 51, { masked: true, grad: true }),
  // dq, dk, dv and dkeyMask (finite where the mask is 0).
  attentionCase(2, 2, 13, 13, 8, 17, { masked: true, keepProb: 0.5, grad: true }),
  attentionCase(2, 2, 13, 13, 8, 18, { masked: true, keepProb: 0.5, soft: true, grad: true }),
  // No mask, T not a multiple of the tile.
  attentionCase(1, 3, 37, 37, 16, 23, { masked: false, grad: true }),
  // Rows that attend to nothing give 0; iFAM-sized and ViT-sized soft masks.
  attentionCase(3, 2, 21, 21, 8, 19, { masked: true, dropLastBatch: true }),
  attentionCase(4, 3, 65, 65, 32, 20, { masked: true, soft: true, keepProb: 0.4, dropLastBatch: true }),
  attentionCase(2, 2, 197, 197, 64, 21, { masked: true, soft: true, keepProb: 0.5 }),
  maskedSoftmaxCase([2, 3, 5, 9], [2, 1, 1, 9], 61, true),
  maskedSoftmaxCase([4, 70], [70], 62, true),
  maskedSoftmaxCase([3, 2, 7, 70], [3, 1, 1, 70], 67, true, { zeros: true }),
  maskedSoftmaxCase([3, 2, 5, 13], [3, 1, 1, 13], 68, true, { zeros: true, emptyRow: true }),
  maskedSoftmaxCase([2, 3, 197, 197], [2, 1, 1, 197], 69, false, { zeros: true, emptyRow: true }),
  // Rows longer than the kernel holds in registers stream from memory.
  maskedSoftmaxCase([1, 2, 3, 300], [1, 1, 1, 300], 72, false, { zeros: true }),
  maskedSoftmaxCase([2, 1, 260], [2, 1, 260], 73, true, { zeros: true, emptyRow: true }),
  // Masks that broadcast otherwise take the composed fallback.
  maskedSoftmaxCase([2, 3, 5, 9], [1, 3, 1, 9], 70, true, { zeros: true }),
  maskedSoftmaxCase([2, 3, 5, 9], [3, 5, 9], 71, true),
  ...([0, 1, 2] as const).map((which) => qkvHeadsCase(2, 5, 3, 4, which, 63 + which, true)),
  mergeHeadsCase(2, 3, 5, 4, 66, true),
  // Gradients to qkv and to the mask through the inner graph; a head size that is not a multiple
  // of 4; the iFAM/ViT token count (65) forward.
  qkvAttentionCase(2, 7, 2, 4, 80, { masked: true, grad: true }),
  qkvAttentionCase(2, 6, 3, 4, 81, { masked: true, soft: true, grad: true }),
  qkvAttentionCase(1, 9, 2, 6, 82, { masked: false, grad: true }),
  qkvAttentionCase(3, 65, 3, 32, 83, { masked: true, soft: true }),
];

/** The case with maskedAttention forced down one path (the choice is made when the op is called). */
function onPath(c: OpCase, path: 'fused' | 'composed'): OpCase {
  return {
    ...c,
    name: `${c.name} (${path})`,
    gpu: (...xs) => {
      attentionConfig.variant = path;
      try {
        return c.gpu(...xs);
      } finally {
        attentionConfig.variant = 'auto';
      }
    },
  };
}

// ViT-S at 224 px: 16 images, 6 heads of 64, 197 tokens; and webfam_tiny's iFAM attention.
const [B, H, T, D] = [16, 6, 197, 64];
export const benchCases: BenchCase[] = [
  { ...attentionCase(B, H, T, T, D, 1, { masked: true }), id: 'attention-masked-16x6x197x64', flops: 4 * B * H * T * T * D },
  ...(['fused', 'composed'] as const).map((path) => ({
    ...onPath(attentionCase(B, H, T, T, D, 1, { masked: true }), path), id: `attention-masked-${path}-16x6x197x64`, flops: 4 * B * H * T * T * D,
  })),
  ...(['fused', 'composed'] as const).map((path) => ({
    ...onPath(attentionCase(32, 3, 65, 65, 32, 5, { masked: true, soft: true }), path), id: `attention-masked-${path}-32x3x65x32`, flops: 4 * 32 * 3 * 65 * 65 * 32,
  })),
  { ...maskedSoftmaxCase([B, H, T, T], [B, 1, 1, T], 2, false), id: 'masked-softmax-16x6x197x197' },
  { ...qkvHeadsCase(B, T, H, D, 1, 3, false), id: 'qkv-heads-16x197x1152' },
  { ...mergeHeadsCase(B, H, T, D, 4, false), id: 'merge-heads-16x6x197x64' },
];
