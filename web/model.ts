// The page's model side: checkpoints from a URL or a picked file (with progress), and the lines
// the page shows about them. Classifying an image is the library's vit.predict.
import { vit } from '../src/index.js';

export type Checkpoint = vit.Checkpoint;
export type Prediction = vit.Prediction;

export type Progress = (loaded: number, total: number | undefined) => void;

/** Loads a train.js checkpoint from a URL (relative to the page) or a picked File. */
export function loadCheckpoint(source: string | Blob, onProgress: Progress): Promise<Checkpoint> {
  return vit.fetchCheckpoint(typeof source === 'string' ? new URL(source, location.href) : source, { onProgress, where: typeof source === 'string' ? source : 'the file' });
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
