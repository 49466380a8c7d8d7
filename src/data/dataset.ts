// What every image data set hands to training: samples as [3,S,S] floats in [0,1] with a label,
// a background group ("place") and maybe a foreground mask, and their assembly into batches.
import { streamFor } from './random.js';

/** One image with its labels. `image` is [3, S, S] in [0, 1]; `mask` is [S, S], 1 = object. */
export interface Sample {
  index: number;
  image: Float32Array;
  label: number;
  place: number;
  mask: Float32Array | null;
}

/** A batch on the host, ready for `tensor(images, { shape: [B, 3, S, S] })`. */
export interface Batch {
  size: number;
  imageSize: number;
  /** [B, 3, S, S], normalised if the assembly asked for it. */
  images: Float32Array;
  labels: Int32Array;
  places: Int32Array;
  /** group = label · numPlaces + place, the index into the data set's `groupNames`. */
  groups: Int32Array;
  /** [B, S, S] (1 = object), or null when the data set has no masks. */
  masks: Float32Array | null;
  /** The data-set indices of the samples. */
  indices: Int32Array;
}

/** Per-channel normalisation, applied as (x − mean) / std in batch assembly. */
export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** What models trained from scratch see (train.js and the demo page): pixels around the middle grey. */
export const SCRATCH_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

export type NormalizeOption = 'imagenet' | Normalization | null | undefined;

export function resolveNormalization(n: NormalizeOption): Normalization | null {
  if (n == null) return null;
  if (n === 'imagenet') return IMAGENET_NORMALIZATION;
  if (n.mean.length !== 3 || n.std.length !== 3 || n.std.some((s) => !(s > 0))) {
    throw new Error(`normalize: expected 3 means and 3 positive stds, got mean [${n.mean}] std [${n.std}]`);
  }
  return n;
}

/** The contract of an image data set (the synthetic benchmark and Waterbirds folders both meet it). */
export interface ImageDataset {
  readonly length: number;
  readonly imageSize: number;
  readonly numClasses: number;
  readonly numPlaces: number;
  /** Names of the groups, indexed by label · numPlaces + place. */
  readonly groupNames: readonly string[];
  readonly classNames: readonly string[];
  readonly placeNames: readonly string[];
  readonly hasMasks: boolean;
  get(i: number): Sample | Promise<Sample>;
  /** Label and place of sample i without decoding its image (for group counts and sampling). */
  labelOf(i: number): { label: number; place: number };
}

/**
 * Label and place of sample i of a two-class, two-place benchmark split: labels alternate; the place
 * agrees with the label with probability `agreement`, drawn per sample from (seed, split, i). At
 * agreement ½ the four groups are cycled through exactly, so each has a quarter of the samples.
 */
export function correlatedGroup(seed: number, splitId: number, i: number, agreement: number): { label: number; place: number } {
  const label = i & 1;
  if (agreement === 0.5) return { label, place: (i >> 1) & 1 };
  const agrees = streamFor(seed, splitId, i, 1)() < agreement;
  return { label, place: agrees ? label : 1 - label };
}

/** Group names "<class> on <place>" in the order label · numPlaces + place. */
export function groupNamesOf(classNames: readonly string[], placeNames: readonly string[]): string[] {
  const names: string[] = [];
  for (const c of classNames) for (const p of placeNames) names.push(`${c} on ${p}`);
  return names;
}

/** Packs samples into one batch, normalising the images if asked. */
export function assembleBatch(samples: readonly Sample[], imageSize: number, numPlaces: number, normalize?: NormalizeOption): Batch {
  const B = samples.length;
  const S = imageSize;
  const plane = S * S;
  const norm = resolveNormalization(normalize);
  const images = new Float32Array(B * 3 * plane);
  const labels = new Int32Array(B);
  const places = new Int32Array(B);
  const groups = new Int32Array(B);
  const indices = new Int32Array(B);
  const withMasks = B > 0 && samples.every((s) => s.mask !== null);
  const masks = withMasks ? new Float32Array(B * plane) : null;
  for (let b = 0; b < B; b++) {
    const s = samples[b]!;
    if (s.image.length !== 3 * plane) throw new Error(`assembleBatch: sample ${s.index} has ${s.image.length} values, expected 3·${S}·${S}`);
    if (norm) {
      for (let c = 0; c < 3; c++) {
        const m = norm.mean[c]!, inv = 1 / norm.std[c]!;
        const off = (b * 3 + c) * plane;
        for (let k = 0; k < plane; k++) images[off + k] = (s.image[c * plane + k]! - m) * inv;
      }
    } else {
      images.set(s.image, b * 3 * plane);
    }
    labels[b] = s.label;
    places[b] = s.place;
    groups[b] = s.label * numPlaces + s.place;
    indices[b] = s.index;
    if (masks) masks.set(s.mask!, b * plane);
  }
  return { size: B, imageSize: S, images, labels, places, groups, masks, indices };
}

/** Number of samples per group (label · numPlaces + place) over the whole data set. */
export function groupCounts(ds: ImageDataset): number[] {
  const counts = new Array<number>(ds.numClasses * ds.numPlaces).fill(0);
  for (let i = 0; i < ds.length; i++) {
    const { label, place } = ds.labelOf(i);
    counts[label * ds.numPlaces + place]!++;
  }
  return counts;
}
