// iFAM (docs/methods.md, method A): stage 1 discovers parts on the full image, a Gumbel-softmax
// straight-through hard mask keeps the task-relevant patches, stage 2 is a ViT in which no token
// attends to a masked patch. The mask's gradient flows from stage 2 into stage 1 through the
// fused attention's ∂/∂keyMask unless `jointGrad` is off (the authors' code cuts it).
import { Tensor, tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Linear, LayerNorm } from '../nn/layers.js';
import { truncNormal_ } from '../nn/init.js';
import { record, noGrad } from '../autograd/tape.js';
import { gumbel, rand } from '../tensor/ops/random.js';
import { layerNorm } from '../tensor/ops/layernorm.js';
import { ShapeError, fmt, sameShape } from '../tensor/shape.js';
import { VisionTransformer } from './vit.js';
import { vitConfig, tokenCounts, type PresetName, type ViTConfig } from './config.js';

export interface IFAMOptions {
  /** Foreground parts K (a background part is added). */
  parts: number;
  numClasses: number;
  /** Gumbel-softmax temperature τ. */
  tau: number;
  /** Probability of dropping a whole foreground part in training. */
  partDropout: number;
  /** Let stage 2's loss reach stage 1 through the mask. */
  jointGrad: boolean;
  /** Multiplies the mask gradient stage 2 sends into stage 1 (1 = as docs/methods.md states). */
  jointGradScale: number;
}

/**
 * Forward value `hard`, gradient to `soft`: the straight-through estimator, exact in the forward
 * pass (no `hard − soft + soft` rounding).
 */
export function straightThrough(hard: Tensor, soft: Tensor): Tensor {
  if (!sameShape(hard.shape, soft.shape)) throw new ShapeError('straightThrough', `shapes ${fmt(hard.shape)} and ${fmt(soft.shape)} differ`);
  const y = noGrad(() => hard.clone());
  return record(y, 'straightThrough', [soft], (g) => [g.clone()]);
}

/** Identity in the forward pass; multiplies the gradient by `scale` in the backward pass. */
export function scaleGradient(x: Tensor, scale: number): Tensor {
  const y = noGrad(() => x.clone());
  return record(y, 'scaleGradient', [x], (g) => [g.mul(scale)]);
}

export interface PartOutput {
  /** Part assignment maps A [B, K+1, g, g] (softmax over parts; background last). */
  maps: Tensor;
  /** Part logits ℓ [B, N, K+1] (before noise and temperature). */
  partLogits: Tensor;
  /** Modulated part embeddings [B, K+1, D]. */
  parts: Tensor;
  /** Stage-1 class logits [B, C] (mean over foreground parts). */
  logits: Tensor;
}

export interface IFAMMaskOptions {
  /** Sample Gumbel noise (default: in training only). */
  noise?: boolean;
  /** Foreground part indices (0..K−1) switched off in the hard mask (test-time intervention). */
  disabledParts?: readonly number[];
}

export interface IFAMOutput {
  stage1: PartOutput;
  /** Binary patch mask [B, N] in the forward pass (straight-through gradient). */
  mask: Tensor;
  /** Stage-2 logits [B, C]. */
  logits: Tensor;
}

/** Stage 1's part head: prototypes, modulation and the shared per-part classifier. */
export class PartHead extends Module {
  readonly prototypes: Tensor;
  readonly modulation: LayerNorm;
  readonly fc_class_landmarks: Linear;

  constructor(readonly dim: number, readonly parts: number, numClasses: number) {
    super();
    this.prototypes = this.param('prototypes', truncNormal_(Tensor.empty([parts + 1, dim]), { std: 0.02 }));
    this.modulation = this.module('modulation', new LayerNorm([dim, parts + 1]));
    this.fc_class_landmarks = this.module('fc_class_landmarks', new Linear(dim, numClasses, { bias: false }));
    truncNormal_(this.fc_class_landmarks.weight, { std: 0.02 });
  }

  /** ℓ_{n,k} = −‖z_n − p_k‖² for patch tokens z [B, N, D]. */
  partLogits(z: Tensor): Tensor {
    const zp = z.matmul(this.prototypes, { transB: true }); // [B, N, K+1]
    const zz = z.square().sum(-1, true); // [B, N, 1]
    const pp = this.prototypes.square().sum(-1); // [K+1]
    return zp.mul(2).sub(zz).sub(pp);
  }
}

export class IFAM extends Module {
  readonly opts: IFAMOptions;
  readonly stage1: VisionTransformer;
  readonly part_head: PartHead;
  readonly stage2: VisionTransformer;
  readonly head_norm: LayerNorm;
  readonly head: Linear;

  constructor(backbone: PresetName | Partial<ViTConfig>, opts: Partial<IFAMOptions> & { numClasses: number }, overrides: Partial<ViTConfig> = {}) {
    super();
    this.opts = { parts: 4, tau: 1, partDropout: 0.3, jointGrad: true, jointGradScale: 1, ...opts };
    if (!Number.isInteger(this.opts.parts) || this.opts.parts < 1) throw new Error(`IFAM: parts must be a positive integer, got ${this.opts.parts}`);
    const cfg = vitConfig(backbone, { ...overrides, numClasses: 0 });
    this.stage1 = this.module('stage1', new VisionTransformer(cfg));
    this.part_head = this.module('part_head', new PartHead(cfg.embedDim, this.opts.parts, this.opts.numClasses));
    this.stage2 = this.module('stage2', new VisionTransformer(cfg));
    this.head_norm = this.module('head_norm', new LayerNorm(cfg.embedDim, { eps: cfg.normEps }));
    this.head = this.module('head', new Linear(cfg.embedDim, this.opts.numClasses, { bias: false }));
    truncNormal_(this.head.weight, { std: 0.02 });
  }

  get config(): ViTConfig {
    return this.stage1.config;
  }

  /** Stage 1: part maps, part embeddings and stage-1 logits. */
  partDiscovery(x: Tensor, opts: { noise?: boolean } = {}): PartOutput {
    const { parts: K, tau } = this.opts;
    const z = this.stage1.forward(x).patchTokens; // [B, N, D]
    const [B, N, D] = z.shape as [number, number, number];
    const g = Math.round(Math.sqrt(N));
    const partLogits = this.part_head.partLogits(z);
    const noisy = (opts.noise ?? this.training) ? partLogits.add(gumbel(partLogits.shape)) : partLogits;
    const A = noisy.div(tau).softmax(-1); // [B, N, K+1]
    // v_k = Σ_n A_{n,k} z_n / N  → [B, K+1, D]
    const v = A.matmul(z, { transA: true }).div(N);
    const mod = this.part_head.modulation;
    const vm = layerNorm(v.transpose(1, 2), [D, K + 1], mod.weight, mod.bias, mod.eps).transpose(1, 2); // [B, K+1, D]
    let fg = vm.slice(1, 0, K);
    if (this.training && this.opts.partDropout > 0) fg = fg.mul(partDropMask(B, K, this.opts.partDropout, 1));
    const perPart = this.part_head.fc_class_landmarks.forward(fg); // [B, K, C]
    const logits = perPart.mean(1);
    const maps = A.transpose(1, 2).reshape(B, K + 1, g, g);
    return { maps, partLogits, parts: vm, logits };
  }

  /**
   * The hard patch mask from part logits: fresh Gumbel noise in training (and on request),
   * dropped foreground parts in training; forward value 1[max_fg A' > A'_bg], straight-through
   * gradient of Σ_fg A'. `disabledParts` (foreground indices) is a test-time intervention: those
   * parts' assignments are zeroed before the comparison, so their patches go to the background
   * unless another foreground part still beats it.
   */
  hardMask(partLogits: Tensor, opts: IFAMMaskOptions = {}): Tensor {
    const { parts: K, tau } = this.opts;
    const [B] = partLogits.shape as [number, number, number];
    const noisy = (opts.noise ?? this.training) ? partLogits.add(gumbel(partLogits.shape)) : partLogits;
    let A = noisy.div(tau).softmax(-1); // [B, N, K+1]
    if (this.training && this.opts.partDropout > 0) {
      const keep = partDropMask(B, K, this.opts.partDropout, 2); // [B, 1, K+1] with background kept
      A = A.mul(keep);
    }
    if (opts.disabledParts?.length) A = A.mul(disabledPartsKeep(K, opts.disabledParts));
    const fg = A.slice(2, 0, K);
    const bg = A.slice(2, K, K + 1).squeeze(2);
    const hard = noGrad(() => fg.max(2).gt(bg));
    const soft = fg.sum(2);
    return straightThrough(hard, soft);
  }

  forward(x: Tensor, opts: IFAMMaskOptions = {}): IFAMOutput {
    const stage1 = this.partDiscovery(x, opts);
    let mask = this.hardMask(stage1.partLogits, opts);
    if (!this.opts.jointGrad) mask = mask.detach();
    else if (this.opts.jointGradScale !== 1) mask = scaleGradient(mask, this.opts.jointGradScale);
    return { stage1, mask, logits: this.classifyMasked(x, mask) };
  }

  /**
   * Stage 2 on `x` seeing only the patches `mask` [B, N] keeps: the class logits [B, C]. forward
   * uses it with stage 1's mask; a counterfactual can hold another image's mask fixed.
   */
  classifyMasked(x: Tensor, mask: Tensor): Tensor {
    const out = this.stage2.forward(x, { keyMask: mask });
    return this.head.forward(this.head_norm.forward(out.cls));
  }
}

/** Keep-multipliers [K+1] with zeros at the disabled foreground parts (validated). */
function disabledPartsKeep(K: number, disabled: readonly number[]): Tensor {
  const keep = new Float32Array(K + 1).fill(1);
  for (const p of disabled) {
    if (!Number.isInteger(p) || p < 0 || p >= K) {
      throw new Error(`IFAM.hardMask: disabledParts must be foreground part indices in [0, ${K}), got [${disabled.join(', ')}]`);
    }
    keep[p] = 0;
  }
  return tensor(keep, { shape: [K + 1] });
}

/**
 * Keep-multipliers dropping whole foreground parts with probability p: shape [B, 1, K+1] (axis
 * 2 is parts, background always kept) when `partAxis` is 2, or [B, K, 1] over foreground parts
 * when it is 1. Dropped parts are zeroed without rescaling, as in PDiscoFormer.
 */
function partDropMask(B: number, K: number, p: number, partAxis: 1 | 2): Tensor {
  return noGrad(() => {
    const u = rand([B, K]);
    const keepFg = u.ge(p);
    u.dispose();
    if (partAxis === 2) {
      const ones = tensor(new Float32Array(B).fill(1), { shape: [B, 1] });
      const withBg = concatLast(keepFg, ones);
      return withBg.reshape(B, 1, K + 1);
    }
    return keepFg.reshape(B, K, 1);
  });
}

function concatLast(a: Tensor, b: Tensor): Tensor {
  return a.pad([[0, b.shape[1]!]]).add(b.pad([[a.shape[1]!, 0]]));
}

export { tokenCounts };
