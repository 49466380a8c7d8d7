// Evaluation with masked patches removed physically: gather each image's kept tokens (after
// position embeddings), pad to the batch's largest count with masked padding, and run the blocks
// on fewer tokens. Same logits as masking, less compute.
import { Tensor, tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { indexSelect } from '../tensor/ops/gather.js';
import type { VisionTransformer, ViTOutput } from './vit.js';

export interface DroppedOutput extends ViTOutput {
  logits: Tensor;
  /** Kept-token count of each image. */
  counts: number[];
  /** Tokens the blocks ran on: the batch's largest count (shorter images are padded). */
  tokensKept: number;
}

/** Runs `model` on `x` [B, C, S, S] keeping only tokens whose mask is nonzero (no gradients). */
export async function dropMaskedTokens(model: VisionTransformer, x: Tensor, patchMask: Tensor): Promise<DroppedOutput> {
  const embedded = noGrad(() => model.embed(x));
  const [B, T, D] = embedded.shape as [number, number, number];
  const full = noGrad(() => model.fullKeyMask(patchMask, B, T));
  const m = await full.data();
  const kept: number[][] = [];
  for (let b = 0; b < B; b++) {
    const rows: number[] = [];
    for (let t = 0; t < T; t++) if (m[b * T + t] !== 0) rows.push(b * T + t);
    kept.push(rows);
  }
  const Tmax = Math.max(...kept.map((r) => r.length));
  const index: number[] = [];
  const padMask: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Tmax; t++) {
      const have = t < kept[b]!.length;
      // Padding repeats the image's CLS row and is masked out as a key.
      index.push(have ? kept[b]![t]! : b * T);
      padMask.push(have ? m[kept[b]![t]!]! : 0);
    }
  }
  const out = noGrad(() => {
    const flat = embedded.reshape(B * T, D);
    const gathered = indexSelect(flat, 0, Int32Array.from(index)).reshape(B, Tmax, D);
    return model.forwardTokens(gathered, { keyMask: tensor(padMask, { shape: [B, Tmax] }) });
  });
  embedded.dispose();
  if (full !== patchMask) full.dispose();
  return { ...out, logits: out.logits!, counts: kept.map((r) => r.length), tokensKept: Tmax };
}
