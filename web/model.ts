// The page's model side: checkpoints from a URL or a picked file (with progress), and one image
// through the model — class probabilities, and iFAM's hard mask and stage-1 part maps (with parts
// switched off on request), or a single-stage ViT's relevance map.
import { noGrad, tensor, tidy, vit, type Tensor } from '../src/index.js';

export type Checkpoint = vit.Checkpoint;

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

export type Progress = (loaded: number, total: number | undefined) => void;

/** Loads a train.js checkpoint from a URL (relative to the page) or a picked File. */
export function loadCheckpoint(source: string | Blob, onProgress: Progress): Promise<Checkpoint> {
  return vit.fetchCheckpoint(typeof source === 'string' ? new URL(source, location.href) : source, { onProgress });
}

/** (x − mean) / std per channel, as the checkpoint was trained. */
export function normalizeImage(chw: Float32Array, norm: Checkpoint['normalize']): Float32Array {
  if (!norm) return chw;
  const plane = chw.length / 3;
  const out = new Float32Array(chw.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = (chw[c * plane + i]! - norm.mean[c]!) / norm.std[c]!;
  }
  return out;
}

/** Runs one [3, S, S] image (values in [0, 1]) through the checkpoint's model. */
export async function predict(ck: Checkpoint, chw: Float32Array, disabledParts: readonly number[] = []): Promise<Prediction> {
  const S = ck.spec.vit.imageSize;
  if (chw.length !== 3 * S * S) throw new Error(`predict: the image has ${chw.length} values, the model wants 3×${S}×${S}`);
  const grid = S / ck.spec.vit.patchSize;
  const x = tensor(normalizeImage(chw, ck.normalize), { shape: [1, 3, S, S] });
  try {
    if (ck.spec.method === 'ifam') {
      const model = ck.model as vit.IFAM;
      const out = tidy(() => noGrad(() => {
        const o = model.forward(x, { noise: false, disabledParts });
        return { probs: o.logits.softmax(-1), mask: o.mask, parts: o.stage1.maps };
      }));
      const [probs, mask, parts] = await readAll([out.probs, out.mask, out.parts]);
      return { probs: probs!, predicted: argmax(probs!), imageSize: S, grid, mask, parts };
    }
    // Relevance needs gradients w.r.t. the attention maps even at evaluation (nothing reaches .grad).
    const model = ck.model as vit.VisionTransformer;
    const out = tidy(() => {
      const o = model.forward(x, { returnAttention: true });
      const { map } = vit.relevanceFromAttention(model, o, null, S);
      return { probs: o.logits!.softmax(-1).detach(), relevance: map.detach() };
    });
    const [probs, relevance] = await readAll([out.probs, out.relevance]);
    return { probs: probs!, predicted: argmax(probs!), imageSize: S, grid, relevance };
  } finally {
    x.dispose();
  }
}

async function readAll(ts: Tensor[]): Promise<Float32Array[]> {
  try {
    return await Promise.all(ts.map((t) => t.data()));
  } finally {
    for (const t of ts) t.dispose();
  }
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Number of foreground parts of an iFAM checkpoint (0 for single-stage models). */
export function partCount(ck: Checkpoint): number {
  return ck.spec.method === 'ifam' ? ck.spec.ifam?.parts ?? 0 : 0;
}

/** A line describing the checkpoint. */
export function describe(ck: Checkpoint, name: string): string {
  const v = ck.spec.vit;
  const params = ck.model.numParameters();
  const what = ck.spec.method === 'ifam' ? `iFAM with ${partCount(ck)} parts + background` : ck.spec.method === 'robustvit' ? 'ViT fine-tuned on relevance maps (robustvit)' : 'baseline ViT';
  return `${name}: ${what}, ${ck.spec.preset} (${v.imageSize} px, patch ${v.patchSize}, width ${v.embedDim}, depth ${v.depth}), ${(params / 1e6).toFixed(2)} M parameters; classes ${ck.classNames.join(', ')}`;
}
