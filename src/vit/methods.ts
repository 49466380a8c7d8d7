// The three training methods as (model, loss-of-a-batch, evaluation forward): baseline ERM,
// iFAM (two stages, hard mask, part-discovery losses) and robustvit (relevance-map losses).
// Browser-safe: train.js, the demo page, the benchmarks and the PyTorch export all build and
// train models through this one file.
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import type { Module } from '../nn/module.js';
import { VisionTransformer } from '../vit/vit.js';
import { IFAM } from '../vit/ifam.js';
import type { ViTConfig } from '../vit/config.js';
import { relevanceFromAttention, relevanceLosses, type RelevanceLossWeights } from '../vit/relevance.js';
import {
  backgroundPresenceLoss, entropyLoss, equivarianceLoss, orthogonalityLoss, presenceLoss, randomAffine,
  totalVariationLoss, warp, type PartLossWeights,
} from '../vit/part_losses.js';
import { streamFor } from '../data/random.js';

export type Method = 'baseline' | 'ifam' | 'robustvit';

/** Everything needed to rebuild a model from a checkpoint. */
export interface ModelSpec {
  method: Method;
  preset: string;
  vit: ViTConfig;
  numClasses: number;
  ifam?: { parts: number; tau: number; partDropout: number; jointGrad: boolean; jointGradScale?: number };
}

export interface TrainBatch {
  x: Tensor;
  labels: Int32Array;
  /** Foreground masks [B, S, S] (robustvit needs them). */
  masks: Tensor | null;
}

export interface LossWeights {
  labelSmoothing: number;
  stage1: number;
  stage2: number;
  parts: PartLossWeights;
  relevance: RelevanceLossWeights;
}

/** Named scalar loss terms and their weighted total. */
export type LossTerms = Record<string, Tensor> & { total: Tensor };

/** The model of method M: an IFAM for 'ifam', a VisionTransformer with a head otherwise. */
export type MethodModel<M extends Method = Method> = M extends 'ifam' ? IFAM : VisionTransformer;

/** A freshly initialised model of the spec's method (parameters drawn from the init generator). */
export function buildModel<M extends Method>(spec: ModelSpec & { method: M }): MethodModel<M> {
  if (spec.method === 'ifam') {
    if (!spec.ifam) throw new Error('buildModel: an iFAM spec needs its ifam options');
    return new IFAM(spec.vit, { ...spec.ifam, numClasses: spec.numClasses }) as MethodModel<M>;
  }
  return new VisionTransformer({ ...spec.vit, numClasses: spec.numClasses }) as MethodModel<M>;
}

/** Loss of one training batch for the method; `step` seeds the equivariance transforms. */
export function batchLoss(method: Method | 'relevance', model: Module, b: TrainBatch, w: LossWeights, seed: number, step: number): LossTerms {
  const targets = b.labels;
  if (method === 'baseline' || method === 'robustvit') {
    const vit = model as VisionTransformer;
    const ce = crossEntropy(vit.forward(b.x).logits!, targets, { labelSmoothing: w.labelSmoothing });
    return { ce, total: ce };
  }
  if (method === 'relevance') {
    if (!b.masks) throw new Error('robustvit needs foreground masks; this data set has none (add a mask_filename column)');
    const vit = model as VisionTransformer;
    const out = vit.forward(b.x, { returnAttention: true });
    const { map } = relevanceFromAttention(vit, out, null, b.x.shape[2]!);
    const l = relevanceLosses(map, b.masks, out.logits!, w.relevance, targets);
    return { bg: l.background, fg: l.foreground, cls: l.classification, total: l.total };
  }
  const ifam = model as IFAM;
  const out = ifam.forward(b.x);
  const ce2 = crossEntropy(out.logits, targets, { labelSmoothing: w.labelSmoothing });
  const ce1 = crossEntropy(out.stage1.logits, targets, { labelSmoothing: w.labelSmoothing });
  const maps = out.stage1.maps;
  const pw = w.parts;
  const terms: Record<string, Tensor> = { ce2, ce1 };
  if (pw.presence) terms.presence = presenceLoss(maps);
  if (pw.orthogonality) terms.orthogonality = orthogonalityLoss(out.stage1.parts);
  if (pw.totalVariation) terms.tv = totalVariationLoss(maps);
  if (pw.backgroundPresence) terms.background = backgroundPresenceLoss(maps);
  if (pw.entropy) terms.entropy = entropyLoss(maps);
  if (pw.equivariance) {
    // A(T(x)) against T(A(x)) for a random affine T, the same for image and maps.
    const { theta } = randomAffine(b.x.shape[0]!, streamFor(seed, 0x6571, step));
    const warped = noGrad(() => warp(b.x, theta));
    const mapsOfWarped = ifam.partDiscovery(warped).maps;
    terms.equivariance = equivarianceLoss(mapsOfWarped, warp(maps, theta));
  }
  const weightOf: Record<string, number> = {
    ce2: w.stage2, ce1: w.stage1, presence: pw.presence, orthogonality: pw.orthogonality, tv: pw.totalVariation,
    background: pw.backgroundPresence, entropy: pw.entropy, equivariance: pw.equivariance,
  };
  let total: Tensor | null = null;
  for (const [k, t] of Object.entries(terms)) {
    const wt = t.mul(weightOf[k]!);
    total = total ? total.add(wt) : wt;
  }
  return { ...terms, total: total! };
}

export interface EvalForward {
  logits: Tensor;
  /** iFAM: binary patch mask [B, N]. */
  mask?: Tensor;
  /** iFAM: part maps [B, K+1, g, g]. */
  parts?: Tensor;
  /** baseline/robustvit: normalised relevance map [B, S, S]. */
  relevance?: Tensor;
}

/**
 * The evaluation forward pass: deterministic mask for iFAM (unless `noise`; `disabledParts`
 * switches foreground parts off), relevance maps for the single-stage models (which need a
 * backward pass, so this runs with gradients on).
 */
export function evalForward(method: Method, model: Module, x: Tensor, opts: { noise?: boolean; relevance?: boolean; disabledParts?: readonly number[] } = {}): EvalForward {
  model.eval();
  if (method === 'ifam') {
    return noGrad(() => {
      const out = (model as IFAM).forward(x, { noise: opts.noise ?? false, ...(opts.disabledParts?.length ? { disabledParts: opts.disabledParts } : {}) });
      return { logits: out.logits, mask: out.mask, parts: out.stage1.maps };
    });
  }
  const vit = model as VisionTransformer;
  if (!opts.relevance) return { logits: noGrad(() => vit.forward(x).logits!) };
  // Gradients w.r.t. attention need a graph even at evaluation; inputs do not require grad,
  // the parameters do, so the graph exists; nothing is accumulated into .grad.
  const out = vit.forward(x, { returnAttention: true });
  const { map } = relevanceFromAttention(vit, out, null, x.shape[2]!);
  return { logits: out.logits!.detach(), relevance: map.detach() };
}
