// Relevance maps of a ViT (Chefer et al.) and the losses that push them onto the object.
//   y = Σ_b logit_b[c_b];  G_l = ∂y/∂A_l (constants);  R = I;  R ← R + mean_h(relu(G_l ⊙ A_l))·R
// The patch map is the CLS row over patch columns, upsampled bilinearly and min–max normalised.
// The map stays differentiable through every A_l (not through G_l), so a loss on it trains the
// network; the gradient w.r.t. the attention probabilities is taken with `grad(…, retainGraph)`.
import { Tensor, tensor } from '../tensor/tensor.js';
import { grad, noGrad } from '../autograd/tape.js';
import { interpolate } from '../tensor/ops/image.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { eye } from '../tensor/creation.js';
import type { VisionTransformer, ViTOutput } from './vit.js';

export interface RelevanceResult {
  /** The forward pass (with attention probabilities), still a live graph. */
  output: ViTOutput;
  /** Class each map explains, per image. */
  classes: Int32Array;
  /** Patch relevance [B, g, g] before upsampling. */
  patchMap: Tensor;
  /** Min–max normalised map at image resolution [B, S, S], differentiable through A_l. */
  map: Tensor;
}

/** One-hot rows [B, C] for `classes`. */
function oneHot(classes: Int32Array, C: number): Tensor {
  const v = new Float32Array(classes.length * C);
  classes.forEach((c, b) => (v[b * C + c] = 1));
  return tensor(v, { shape: [classes.length, C] });
}

/**
 * Relevance maps for `classes` (default: each image's predicted class). Runs the forward pass
 * itself so it can keep the attention probabilities in the graph.
 */
export async function relevanceMap(model: VisionTransformer, x: Tensor, opts: { classes?: Int32Array | number[]; keyMask?: Tensor | null } = {}): Promise<RelevanceResult> {
  const output = model.forward(x, { returnAttention: true, keyMask: opts.keyMask });
  const logits = output.logits;
  if (!logits) throw new Error('relevanceMap: the model has no classification head (numClasses is 0)');
  const [B, C] = logits.shape as [number, number];
  let classes: Int32Array;
  if (opts.classes) {
    classes = Int32Array.from(opts.classes);
    if (classes.length !== B) throw new Error(`relevanceMap: ${classes.length} classes given for a batch of ${B}`);
  } else {
    const am = noGrad(() => logits.argmax(-1));
    classes = Int32Array.from(await am.data());
    am.dispose();
  }
  const { patchMap, map } = relevanceFromAttention(model, output, classes, x.shape[2]!);
  return { output, classes, patchMap, map };
}

/**
 * The rollout rule on an existing forward pass (synchronous). `classes` null explains each
 * image's predicted class: Σ_b max_c logit_b[c] has exactly the gradient of Σ_b logit_b[argmax],
 * so nothing has to be read back from the GPU.
 */
export function relevanceFromAttention(model: VisionTransformer, output: ViTOutput, classes: Int32Array | null, imageSize: number): { patchMap: Tensor; map: Tensor } {
  const logits = output.logits!;
  const attn = output.attention;
  if (!attn || attn.length === 0) throw new Error('relevanceFromAttention: the forward pass was run without returnAttention');
  const [B, C] = logits.shape as [number, number];
  const y = classes ? logits.mul(oneHot(classes, C)).sum() : logits.max(-1).sum();
  const grads = grad(y, attn, { retainGraph: true });
  const T = attn[0]!.shape[2]!;
  let R = eye(T).reshape(1, T, T).expand(B, T, T);
  for (let l = 0; l < attn.length; l++) {
    const cam = grads[l]!.mul(attn[l]!).relu().mean(1); // [B, T, T]
    R = R.add(cam.matmul(R));
  }
  const prefix = 1 + model.config.regTokens;
  const g = Math.round(Math.sqrt(T - prefix));
  const clsRow = R.slice(1, 0, 1).slice(2, prefix).reshape(B, 1, g, g);
  const up = interpolate(clsRow, [imageSize, imageSize], { mode: 'bilinear', alignCorners: false }).reshape(B, imageSize * imageSize);
  const lo = noGrad(() => up.min(1, true));
  const hi = noGrad(() => up.max(1, true));
  // Min–max normalisation; the bounds are treated as constants, as in the authors' code.
  const map = up.sub(lo).div(hi.sub(lo).add(1e-8)).reshape(B, imageSize, imageSize);
  return { patchMap: clsRow.reshape(B, g, g), map };
}

export interface RelevanceLossWeights {
  background: number;
  foreground: number;
  classification: number;
  /** Temperature of the classification term (1; 0.65 DeiT-B, 0.55 DeiT-S). */
  temperature: number;
  /**
   * Target of the classification term: the model's own current prediction (the paper: keep what a
   * pretrained classifier predicts) or the image's label (for a model that predicts from the
   * background, its own predictions are the shortcut; on our benchmark the labels do not fix it
   * either, bench/results/background-swap-by-patch-2026-12-01.md).
   */
  target: 'prediction' | 'label';
}

export const DEFAULT_RELEVANCE_WEIGHTS: RelevanceLossWeights = { background: 2, foreground: 0.3, classification: 0.2, temperature: 1, target: 'prediction' };

/**
 * Chefer et al.'s losses for maps S [B, S, S] and foreground masks M [B, S, S] (1 = object):
 * L_bg = mean((S ⊙ (1−M))²), L_fg = mean((S ⊙ M − M)²), L_cls = CE(z/T, argmax z) (or CE(z/T, y)
 * with `target: 'label'`, which needs `labels`); total = 0.8·(w_bg·L_bg + w_fg·L_fg) + w_cls·L_cls.
 */
export function relevanceLosses(map: Tensor, mask: Tensor, logits: Tensor, w: RelevanceLossWeights = DEFAULT_RELEVANCE_WEIGHTS, labels?: Int32Array): { background: Tensor; foreground: Tensor; classification: Tensor; total: Tensor } {
  const background = map.mul(mask.neg().add(1)).square().mean();
  const foreground = map.mul(mask).sub(mask).square().mean();
  if (w.target === 'label' && !labels) throw new Error("relevanceLosses: target 'label' needs the batch's labels");
  // The model's own current prediction is computed on the GPU, with no read-back.
  const target = w.target === 'label' ? labels! : noGrad(() => logits.argmax(-1));
  const classification = crossEntropy(logits.div(w.temperature), target);
  const total = background.mul(w.background).add(foreground.mul(w.foreground)).mul(0.8).add(classification.mul(w.classification));
  return { background, foreground, classification, total };
}
