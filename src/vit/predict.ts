// One image through a checkpoint's model, as a page shows it: class probabilities, and iFAM's hard
// mask and stage-1 part maps (with chosen parts switched off), or a single-stage ViT's relevance
// map. Browser-safe; the demo page classifies through it.
import { tensor, tidy, type Tensor } from '../tensor/tensor.js';
import type { Normalization } from '../data/dataset.js';
import { evalForward } from './methods.js';
import type { Checkpoint } from './checkpoint.js';

export interface Prediction {
  probs: Float32Array;
  predicted: number;
  imageSize: number;
  /** Patches per side. */
  grid: number;
  /** iFAM: binary patch mask [g·g] (1 = stage 2 sees the patch). */
  mask?: Float32Array;
  /** iFAM: part assignment maps [K+1, g, g], background last. */
  parts?: Float32Array;
  /** Single-stage ViTs: relevance map [S·S], min–max normalised. */
  relevance?: Float32Array;
}

/** (x − mean) / std per channel of a [3, S, S] image, as the checkpoint was trained. */
export function normalizeImage(chw: Float32Array, norm: Normalization | null): Float32Array {
  if (!norm) return chw;
  const plane = chw.length / 3;
  const out = new Float32Array(chw.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = (chw[c * plane + i]! - norm.mean[c]!) / norm.std[c]!;
  }
  return out;
}

/**
 * Runs one [3, S, S] image (values in [0, 1]) through the checkpoint's model. `disabledParts`
 * (iFAM's foreground part indices) are switched off, a test-time intervention.
 */
export async function predict(ck: Pick<Checkpoint, 'spec' | 'model' | 'normalize'>, chw: Float32Array, opts: { disabledParts?: readonly number[] } = {}): Promise<Prediction> {
  const S = ck.spec.vit.imageSize;
  if (chw.length !== 3 * S * S) throw new Error(`predict: the image has ${chw.length} values, the model wants 3×${S}×${S}`);
  const grid = S / ck.spec.vit.patchSize;
  const x = tensor(normalizeImage(chw, ck.normalize), { shape: [1, 3, S, S] });
  try {
    const out = tidy(() => {
      const f = evalForward(ck.spec.method, ck.model, x, { relevance: ck.spec.method !== 'ifam', disabledParts: opts.disabledParts });
      return { probs: f.logits.softmax(-1), mask: f.mask, parts: f.parts, relevance: f.relevance };
    });
    const [probs, mask, parts, relevance] = await readAll([out.probs, out.mask, out.parts, out.relevance]);
    return { probs: probs!, predicted: argmax(probs!), imageSize: S, grid, mask, parts, relevance };
  } finally {
    x.dispose();
  }
}

/** Reads every tensor given (undefined stays undefined) and disposes them. */
async function readAll(ts: (Tensor | undefined)[]): Promise<(Float32Array | undefined)[]> {
  try {
    return await Promise.all(ts.map((t) => t?.data()));
  } finally {
    for (const t of ts) t?.dispose();
  }
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
