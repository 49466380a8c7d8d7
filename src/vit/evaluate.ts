// Evaluation of a trained model on a split: average, per-group and worst-group accuracy, and
// how well its maps segment the object (iFAM hard mask; relevance map thresholded at its mean).
// Also keeps the outputs of a few chosen images for the pictures. Browser-safe: train.js (with a
// progress bar, src/train/evaluate.ts) and the demo page's training both evaluate through it.
import { tensor, tidy } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { Batch, ImageDataset, NormalizeOption } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { groupAccuracy, SegmentationMeter, type SegmentationScore } from './metrics.js';
import { evalForward, type Method } from './methods.js';

export interface SampleOutputs {
  index: number;
  image: Float32Array;
  label: number;
  place: number;
  pred: number;
  probs: number[];
  gtMask: Float32Array | null;
  /** iFAM: binary patch mask (g·g) and part maps ((K+1)·g·g). */
  mask?: Float32Array;
  parts?: Float32Array;
  /** Relevance map S·S (normalised). */
  relevance?: Float32Array;
}

export interface EvalResult {
  /** Share of all images classified right (on balanced val/test: the mean of the group accuracies). */
  avg_acc: number;
  /**
   * Group accuracies weighted by the training split's group proportions, the "average accuracy" of
   * Waterbirds papers (given when evaluate() is told those proportions).
   */
  train_weighted_acc?: number;
  worst_group_acc: number;
  groups: Record<string, { acc: number; n: number }>;
  /** Segmentation of the iFAM hard mask or the relevance map against ground-truth masks. */
  mask_miou?: number;
  mask_pixel_acc?: number;
  map_ap?: number;
  /** Share of patches the iFAM mask keeps. */
  mask_keep_ratio?: number;
  samples: SampleOutputs[];
}

/** Nearest upsampling of a g×g patch mask to S×S pixels. */
export function upsamplePatchMask(mask: ArrayLike<number>, g: number, S: number): Float32Array {
  const out = new Float32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = mask[Math.floor((y * g) / S) * g + Math.floor((x * g) / S)]!;
  return out;
}

export interface EvaluateOptions {
  batchSize: number;
  normalize: NormalizeOption;
  /** Dataset indices whose outputs come back in `samples` (for pictures). */
  keepSamples?: readonly number[];
  /** iFAM: sample the Gumbel noise as in training instead of the deterministic mask. */
  noise?: boolean;
  /** Compute relevance maps (baseline/robustvit; slower). */
  relevance?: boolean;
  /** Samples per group (label · places + place) in the training split, for train_weighted_acc. */
  trainGroupCounts?: readonly number[];
  /** Called after each batch with the batches done and their total. */
  onBatch?: (done: number, total: number) => void;
}

/** Evaluates `model` (left in eval mode) on every image of `ds`, in order. */
export async function evaluate(method: Method, model: Module, ds: ImageDataset, opts: EvaluateOptions): Promise<EvalResult> {
  const loader = new DataLoader(ds, { batchSize: opts.batchSize, shuffle: false, normalize: opts.normalize, prefetch: 2 });
  const preds = new Int32Array(ds.length), ys = new Int32Array(ds.length), places = new Int32Array(ds.length);
  const meter = new SegmentationMeter();
  const keep = new Set(opts.keepSamples ?? []);
  const samples: SampleOutputs[] = [];
  let segmented = 0, kept = 0, patches = 0;
  let k = 0;
  for await (const b of loader.epoch(0)) {
    const B = b.size, S = b.imageSize;
    const outs = tidy(() => {
      const x = tensor(b.images, { shape: [B, 3, S, S] });
      const f = evalForward(method, model, x, { noise: opts.noise, relevance: opts.relevance });
      return { probs: f.logits.softmax(-1), mask: f.mask, parts: f.parts, relevance: f.relevance };
    });
    const probs = await outs.probs.data();
    const mask = outs.mask ? await outs.mask.data() : null;
    const parts = outs.parts ? await outs.parts.data() : null;
    const rel = outs.relevance ? await outs.relevance.data() : null;
    for (const t of [outs.probs, outs.mask, outs.parts, outs.relevance]) t?.dispose();
    const C = probs.length / B;
    const N = mask ? mask.length / B : 0;
    const g = Math.round(Math.sqrt(N));
    const P = parts ? parts.length / B : 0;
    for (let i = 0; i < B; i++) {
      const idx = b.indices[i]!;
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      preds[idx] = best;
      ys[idx] = b.labels[i]!;
      places[idx] = b.places[i]!;
      const gt = b.masks ? b.masks.subarray(i * S * S, (i + 1) * S * S) : null;
      if (mask) {
        const m = mask.subarray(i * N, (i + 1) * N);
        for (const v of m) kept += v;
        patches += N;
        if (gt) {
          meter.add(upsamplePatchMask(m, g, S), gt, 0.5);
          segmented++;
        }
      }
      if (rel && gt) {
        meter.add(rel.subarray(i * S * S, (i + 1) * S * S), gt);
        segmented++;
      }
      if (keep.has(idx)) {
        samples.push({
          index: idx, image: rawImage(b, i, ds), label: b.labels[i]!, place: b.places[i]!, pred: best,
          probs: Array.from(probs.subarray(i * C, (i + 1) * C)), gtMask: gt ? Float32Array.from(gt) : null,
          mask: mask ? Float32Array.from(mask.subarray(i * N, (i + 1) * N)) : undefined,
          parts: parts ? Float32Array.from(parts.subarray(i * P, (i + 1) * P)) : undefined,
          relevance: rel ? Float32Array.from(rel.subarray(i * S * S, (i + 1) * S * S)) : undefined,
        });
      }
    }
    opts.onBatch?.(++k, loader.batchesPerEpoch);
  }
  const acc = groupAccuracy(preds, ys, places);
  const named: EvalResult['groups'] = {};
  for (const [key, v] of Object.entries(acc.groups)) {
    const [, y, p] = /y=(\d+),place=(\d+)/.exec(key)!;
    named[ds.groupNames[Number(y) * ds.numPlaces + Number(p)] ?? key] = { acc: v.acc, n: v.n };
  }
  let weighted: number | undefined;
  if (opts.trainGroupCounts) {
    let sum = 0, total = 0;
    opts.trainGroupCounts.forEach((n, g) => {
      const acc = named[ds.groupNames[g]!]?.acc;
      if (acc === undefined || n === 0) return;
      sum += n * acc;
      total += n;
    });
    weighted = total > 0 ? sum / total : undefined;
  }
  const seg: SegmentationScore | null = segmented ? meter.result() : null;
  samples.sort((a, b2) => (opts.keepSamples ?? []).indexOf(a.index) - (opts.keepSamples ?? []).indexOf(b2.index));
  return {
    avg_acc: acc.avgAcc,
    ...(weighted === undefined ? {} : { train_weighted_acc: weighted }),
    worst_group_acc: acc.worstGroupAcc,
    groups: named,
    ...(seg ? { mask_miou: seg.mIoU, mask_pixel_acc: seg.pixelAcc, map_ap: seg.ap } : {}),
    ...(patches ? { mask_keep_ratio: kept / patches } : {}),
    samples,
  };
}

/** The un-normalised image of batch row i (pictures show what a person would see). */
function rawImage(b: Batch, i: number, ds: ImageDataset): Float32Array {
  const S = b.imageSize;
  const s = ds.get(b.indices[i]!);
  if (s instanceof Promise) return Float32Array.from(b.images.subarray(i * 3 * S * S, (i + 1) * 3 * S * S));
  return Float32Array.from(s.image);
}

/** A few test images from every group (the same ones every epoch and run). */
export function pictureIndices(ds: ImageDataset, perGroup = 2): number[] {
  const want = new Map<number, number[]>();
  for (let i = 0; i < ds.length; i++) {
    const { label, place } = ds.labelOf(i);
    const gIdx = label * ds.numPlaces + place;
    const list = want.get(gIdx) ?? [];
    if (list.length < perGroup) list.push(i);
    want.set(gIdx, list);
  }
  return [...want.entries()].sort(([a], [b]) => a - b).flatMap(([, v]) => v);
}
