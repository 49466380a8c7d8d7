// Op cases of the attention family: fused masked attention (with and without a key mask, self
// and cross attention, head sizes that are and are not multiples of 4, sequences longer than a
// tile), its gradients (dq, dk, dv and the mask's), the masked softmax, and the head
// reshuffles (qkvHeads, mergeHeads).
import { maskedAttention, maskedSoftmax, mergeHeads, qkvHeads } from '../../src/tensor/ops/attention.js';
import { arr, gatherRef, maskedAttentionRef, maskedSoftmaxRef, permute, type Arr } from '../../src/tensor/reference/index.js';
import type { Tensor } from '../../src/index.js';
import { seeded, shapeText, type BenchCase, type Inputs, type OpCase } from './case.js';

/** q, k, v and a key mask [B, Tk] (key 0 always kept, the others with probability keepProb). */
function qkvm(r: Inputs, B: number, H: number, Tq: number, Tk: number, D: number, keepProb: number): Arr[] {
  const q = r.uniform([B, H, Tq, D], -1.5, 1.5), k = r.uniform([B, H, Tk, D], -1.5, 1.5), v = r.uniform([B, H, Tk, D]);
  const m = r.bernoulli([B, Tk], keepProb);
  for (let b = 0; b < B; b++) m.data[b * Tk] = 1;
  return [q, k, v, m];
}

function attentionCase(B: number, H: number, Tq: number, Tk: number, D: number, seed: number, o: { masked: boolean; keepProb?: number; grad?: boolean }): OpCase {
  return {
    family: 'attention',
    op: 'maskedAttention',
    name: `maskedAttention B=${B} H=${H} Tq=${Tq} Tk=${Tk} d=${D}${o.masked ? ' masked' : ' unmasked'}`,
    inputs: seeded(seed, (r) => qkvm(r, B, H, Tq, Tk, D, o.keepProb ?? 0.6).slice(0, o.masked ? 4 : 3)),
    gpu: (q, k, v, m) => maskedAttention(q!, k!, v!, m),
    ref: (q, k, v, m) => maskedAttentionRef(q!, k!, v!, m ?? null).out,
    atol: 3e-6,
    rtol: 1e-4,
    ...(o.grad ? { grad: { h: 1e-5 } } : {}),
  };
}

function maskedSoftmaxCase(shape: number[], maskShape: number[], seed: number, grad: boolean): OpCase {
  return {
    family: 'attention',
    op: 'maskedSoftmax',
    name: `maskedSoftmax ${shapeText(shape)} mask ${shapeText(maskShape)}`,
    // Soft mask weights in (0, 1], as iFAM's relaxed masks are.
    inputs: seeded(seed, (r) => [r.uniform(shape, -3, 3), r.uniform(maskShape, 0.05, 1)]),
    gpu: (s, m) => maskedSoftmax(s, m),
    ref: (s, m) => maskedSoftmaxRef(s, m),
    atol: 1e-6,
    rtol: 1e-5,
    ...(grad ? { grad: {} } : {}),
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

export const cases: OpCase[] = [
  ...([[2, 3, 65, 32], [1, 2, 197, 64], [1, 1, 1374, 64], [3, 2, 7, 16]] as const).flatMap(([B, H, T, D]) =>
    [true, false].map((masked) => attentionCase(B, H, T, T, D, T + D, { masked }))),
  attentionCase(2, 2, 19, 33, 16, 8, { masked: true }),
  // A head size that is not a multiple of 4 (scalar lanes).
  attentionCase(1, 2, 11, 11, 6, 51, { masked: true, grad: true }),
  // dq, dk, dv and dkeyMask (finite where the mask is 0).
  attentionCase(2, 2, 13, 13, 8, 17, { masked: true, keepProb: 0.5, grad: true }),
  // No mask, T not a multiple of the tile.
  attentionCase(1, 3, 37, 37, 16, 23, { masked: false, grad: true }),
  maskedSoftmaxCase([2, 3, 5, 9], [2, 1, 1, 9], 61, true),
  maskedSoftmaxCase([4, 70], [70], 62, true),
  ...([0, 1, 2] as const).map((which) => qkvHeadsCase(2, 5, 3, 4, which, 63 + which, true)),
  mergeHeadsCase(2, 3, 5, 4, 66, true),
];

// ViT-S at 224 px: 16 images, 6 heads of 64, 197 tokens.
const [B, H, T, D] = [16, 6, 197, 64];
export const benchCases: BenchCase[] = [
  { ...attentionCase(B, H, T, T, D, 1, { masked: true }), id: 'attention-masked-16x6x197x64', flops: 4 * B * H * T * T * D },
  { ...maskedSoftmaxCase([B, H, T, T], [B, 1, 1, T], 2, false), id: 'masked-softmax-16x6x197x197' },
  { ...qkvHeadsCase(B, T, H, D, 1, 3, false), id: 'qkv-heads-16x197x1152' },
  { ...mergeHeadsCase(B, H, T, D, 4, false), id: 'merge-heads-16x6x197x64' },
];
