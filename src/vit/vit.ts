// The Vision Transformer both methods share, with timm's module and parameter names so
// safetensors weights move both ways between webfam and PyTorch:
//   patch_embed.proj.{weight,bias}  cls_token  reg_token  pos_embed
//   blocks.{i}.norm1  .attn.qkv  .attn.proj  .ls1.gamma  .norm2  .mlp.fc1  .mlp.fc2  .ls2.gamma
//   norm  head
// Attention runs through the fused masked kernel; a key mask removes patches as keys/values in
// every block (their queries still run). On request the forward returns the final-norm patch
// tokens (iFAM stage 1) and every block's attention probabilities (relevance maps).
import { Tensor } from '../tensor/tensor.js';
import { Module, ModuleList } from '../nn/module.js';
import { Linear, LayerNorm } from '../nn/layers.js';
import { linear } from '../nn/functional.js';
import { truncNormal_, zeros_, constant_ } from '../nn/init.js';
import { concat } from '../tensor/ops/movement.js';
import { rand } from '../tensor/ops/random.js';
import { unfold, interpolate } from '../tensor/ops/image.js';
import { maskedAttentionComposed, mergeHeads, qkvAttention, qkvHeads } from '../tensor/ops/attention.js';
import { ShapeError, fmt } from '../tensor/shape.js';
import { noGrad } from '../autograd/tape.js';
import { tokenCounts, vitConfig, type PresetName, type ViTConfig } from './config.js';

/** Stride-P convolution as unfold + matmul; the weight keeps the conv layout [D, C, P, P]. */
export class PatchEmbed extends Module {
  readonly proj: Module & { weight: Tensor; bias: Tensor };

  constructor(readonly patchSize: number, inChans: number, embedDim: number) {
    super();
    const proj = new Module() as Module & { weight: Tensor; bias: Tensor };
    const fanIn = inChans * patchSize * patchSize;
    // timm (and PyTorch's Conv2d) default: U(±1/√fanIn) for the bias; weights get lecun-ish
    // trunc normal so from-scratch training starts well.
    proj.weight = proj.param('weight', truncNormal_(Tensor.empty([embedDim, inChans, patchSize, patchSize]), { std: Math.sqrt(1 / fanIn) }));
    proj.bias = proj.param('bias', zeros_(Tensor.empty([embedDim])));
    this.proj = this.module('proj', proj);
  }

  /** [B, C, H, W] → [B, N, D], patches in row-major grid order. */
  forward(x: Tensor): Tensor {
    const D = this.proj.weight.shape[0]!;
    const patches = unfold(x, this.patchSize); // [B, N, C·P·P]
    const w = this.proj.weight.reshape(D, -1);
    // linear folds [B, N] into the rows of one matmul (one weight gradient, not B summed ones).
    return linear(patches, w, this.proj.bias);
  }
}

class LayerScale extends Module {
  readonly gamma: Tensor;
  constructor(dim: number, init: number) {
    super();
    this.gamma = this.param('gamma', constant_(Tensor.empty([dim]), init));
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.gamma);
  }
}

export interface AttentionCall {
  /** Key weights [B, T] (1 keep, 0 drop); none = attend to every token. */
  keyMask?: Tensor | null;
  /** Compute through the composed path and return the probabilities [B, H, T, T]. */
  returnProbs?: boolean;
}

export class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;

  constructor(dim: number, readonly numHeads: number, qkvBias: boolean) {
    super();
    this.qkv = this.module('qkv', new Linear(dim, dim * 3, { bias: qkvBias }));
    this.proj = this.module('proj', new Linear(dim, dim));
  }

  forward(x: Tensor, call: AttentionCall = {}): { out: Tensor; probs?: Tensor } {
    const qkv = this.qkv.forward(x);
    if (!call.returnProbs) return { out: this.proj.forward(qkvAttention(qkv, this.numHeads, call.keyMask)) };
    // The probabilities must be nodes of the caller's graph (relevance maps differentiate with
    // respect to them), so this path keeps every step on the outer tape.
    const q = qkvHeads(qkv, 0, this.numHeads);
    const k = qkvHeads(qkv, 1, this.numHeads);
    const v = qkvHeads(qkv, 2, this.numHeads);
    const { out: o, probs } = maskedAttentionComposed(q, k, v, call.keyMask);
    return { out: this.proj.forward(mergeHeads(o)), probs };
  }
}

export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.module('fc1', new Linear(dim, hidden));
    this.fc2 = this.module('fc2', new Linear(hidden, dim));
  }
  forward(x: Tensor): Tensor {
    // fc1 + bias + exact GELU in one fused matmul epilogue, over B·T rows (folded by linear).
    const h = linear(x, this.fc1.weight, this.fc1.bias, { activation: 'gelu' });
    return this.fc2.forward(h);
  }
}

/** Per-sample stochastic depth: zeroes a residual branch for whole samples, rescales the rest. */
function dropPath(x: Tensor, p: number, training: boolean): Tensor {
  if (!training || p === 0) return x;
  const keep = noGrad(() => {
    const u = rand([x.shape[0]!, ...x.shape.slice(1).map(() => 1)]);
    const k = u.ge(p).mul(1 / (1 - p));
    u.dispose();
    return k;
  });
  return x.mul(keep);
}

export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly ls1: LayerScale | null;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly ls2: LayerScale | null;

  constructor(c: ViTConfig, readonly dropPathRate: number) {
    super();
    this.norm1 = this.module('norm1', new LayerNorm(c.embedDim, { eps: c.normEps }));
    this.attn = this.module('attn', new Attention(c.embedDim, c.numHeads, c.qkvBias));
    this.ls1 = c.layerScale ? this.module('ls1', new LayerScale(c.embedDim, c.layerScale)) : null;
    this.norm2 = this.module('norm2', new LayerNorm(c.embedDim, { eps: c.normEps }));
    this.mlp = this.module('mlp', new Mlp(c.embedDim, Math.round(c.embedDim * c.mlpRatio)));
    this.ls2 = c.layerScale ? this.module('ls2', new LayerScale(c.embedDim, c.layerScale)) : null;
  }

  forward(x: Tensor, call: AttentionCall = {}): { out: Tensor; probs?: Tensor } {
    const { out: a, probs } = this.attn.forward(this.norm1.forward(x), call);
    const x1 = x.add(dropPath(this.ls1 ? this.ls1.forward(a) : a, this.dropPathRate, this.training));
    const m = this.mlp.forward(this.norm2.forward(x1));
    return { out: x1.add(dropPath(this.ls2 ? this.ls2.forward(m) : m, this.dropPathRate, this.training)), probs };
  }
}

export interface ViTForwardOptions {
  /**
   * Which tokens may be attended to: [B, N] over patches (prefix tokens are always kept) or
   * [B, T] over all tokens; values ≥ 0, 1 keep, 0 drop. Gradients flow into it.
   */
  keyMask?: Tensor | null;
  /** Return every block's attention probabilities [B, H, T, T] (composed path, T×T memory). */
  returnAttention?: boolean;
}

export interface ViTOutput {
  /** [B, numClasses] (absent when numClasses is 0). */
  logits?: Tensor;
  /** Final-norm tokens [B, T, D]. */
  tokens: Tensor;
  /** Final-norm CLS token [B, D]. */
  cls: Tensor;
  /** Final-norm patch tokens [B, N, D]. */
  patchTokens: Tensor;
  /** Per block [B, H, T, T] (with returnAttention). */
  attention?: Tensor[];
  /** The full-token key mask used, [B, T]. */
  keyMask?: Tensor;
}

export class VisionTransformer extends Module {
  readonly config: ViTConfig;
  readonly patch_embed: PatchEmbed;
  readonly cls_token: Tensor;
  readonly reg_token: Tensor | null;
  readonly pos_embed: Tensor;
  readonly blocks: ModuleList<Block>;
  readonly norm: LayerNorm;
  readonly head: Linear | null;

  constructor(preset: PresetName | Partial<ViTConfig>, overrides: Partial<ViTConfig> = {}) {
    super();
    const c = (this.config = vitConfig(preset, overrides));
    const { patches } = tokenCounts(c);
    // Registration order = timm's state-dict order.
    this.cls_token = this.param('cls_token', truncNormal_(Tensor.empty([1, 1, c.embedDim]), { std: 1e-6 }));
    this.reg_token = c.regTokens ? this.param('reg_token', truncNormal_(Tensor.empty([1, c.regTokens, c.embedDim]), { std: 1e-6 })) : null;
    // timm: position embeddings cover every prefix token unless no_embed_class.
    const posLen = c.noEmbedClass ? patches : patches + 1 + c.regTokens;
    this.pos_embed = this.param('pos_embed', truncNormal_(Tensor.empty([1, posLen, c.embedDim]), { std: 0.02 }));
    this.patch_embed = this.module('patch_embed', new PatchEmbed(c.patchSize, c.inChans, c.embedDim));
    const blocks: Block[] = [];
    for (let i = 0; i < c.depth; i++) blocks.push(new Block(c, c.depth > 1 ? (c.dropPath * i) / (c.depth - 1) : c.dropPath));
    this.blocks = this.module('blocks', new ModuleList(blocks));
    this.norm = this.module('norm', new LayerNorm(c.embedDim, { eps: c.normEps }));
    this.head = c.numClasses > 0 ? this.module('head', new Linear(c.embedDim, c.numClasses)) : null;
    if (this.head) {
      truncNormal_(this.head.weight, { std: 0.02 });
      zeros_(this.head.bias!);
    }
    for (const b of blocks) {
      for (const lin of [b.attn.qkv, b.attn.proj, b.mlp.fc1, b.mlp.fc2]) {
        truncNormal_(lin.weight, { std: 0.02 });
        if (lin.bias) zeros_(lin.bias);
      }
    }
  }

  /** Position embeddings for a grid of `grid`×`grid` patches (bicubic resize when it differs). */
  positionEmbedding(grid: number): Tensor {
    const c = this.config;
    const prefix = c.noEmbedClass ? 0 : 1 + c.regTokens;
    const stored = this.pos_embed.shape[1]! - prefix;
    const storedGrid = Math.round(Math.sqrt(stored));
    if (storedGrid === grid) return this.pos_embed;
    return resizePosEmbed(this.pos_embed, prefix, storedGrid, grid);
  }

  /** Patch embedding + prefix tokens + position embeddings: [B, T, D]. */
  embed(x: Tensor): Tensor {
    const c = this.config;
    if (x.rank !== 4 || x.shape[1] !== c.inChans || x.shape[2] !== x.shape[3] || x.shape[2]! % c.patchSize !== 0) {
      throw new ShapeError('VisionTransformer', `expects images [B, ${c.inChans}, S, S] with S a multiple of ${c.patchSize}, got ${fmt(x.shape)}`);
    }
    const B = x.shape[0]!;
    const grid = x.shape[2]! / c.patchSize;
    const patches = this.patch_embed.forward(x);
    const pos = this.positionEmbedding(grid);
    const cls = this.cls_token.expand(B, 1, c.embedDim);
    const prefix = this.reg_token ? [cls, this.reg_token.expand(B, c.regTokens, c.embedDim)] : [cls];
    if (c.noEmbedClass) return concat([...prefix, patches.add(pos)], 1);
    return concat([...prefix, patches], 1).add(pos);
  }

  /** A [B, N] patch mask widened to [B, T] with ones for the prefix tokens. */
  fullKeyMask(mask: Tensor, B: number, T: number): Tensor {
    const prefix = 1 + this.config.regTokens;
    if (mask.rank === 2 && mask.shape[0] === B && mask.shape[1] === T) return mask;
    if (mask.rank === 2 && mask.shape[0] === B && mask.shape[1] === T - prefix) {
      const ones = Tensor.empty([B, prefix]);
      constant_(ones, 1);
      return concat([ones, mask], 1);
    }
    throw new ShapeError('VisionTransformer', `keyMask must be [B, N] = [${B}, ${T - prefix}] or [B, T] = [${B}, ${T}], got ${fmt(mask.shape)}`);
  }

  /** Runs the blocks on embedded tokens [B, T, D] and applies the final norm. */
  forwardTokens(tokens: Tensor, opts: ViTForwardOptions = {}): ViTOutput {
    const [B, T] = tokens.shape as [number, number, number];
    const keyMask = opts.keyMask ? this.fullKeyMask(opts.keyMask, B, T) : undefined;
    const attention: Tensor[] = [];
    let x = tokens;
    for (const blk of this.blocks) {
      const { out, probs } = blk.forward(x, { keyMask, returnProbs: opts.returnAttention });
      if (probs) attention.push(probs);
      x = out;
    }
    const normed = this.norm.forward(x);
    const prefix = 1 + this.config.regTokens;
    const cls = normed.slice(1, 0, 1).reshape(B, this.config.embedDim);
    const patchTokens = normed.slice(1, prefix);
    const logits = this.head ? this.head.forward(cls) : undefined;
    return { logits, tokens: normed, cls, patchTokens, attention: opts.returnAttention ? attention : undefined, keyMask };
  }

  forward(x: Tensor, opts: ViTForwardOptions = {}): ViTOutput {
    return this.forwardTokens(this.embed(x), opts);
  }
}

/**
 * Resizes position embeddings [1, prefix + g·g, D] to a new grid with bicubic interpolation
 * (align_corners false, antialiased), as timm's resample_abs_pos_embed; prefix entries are kept.
 */
export function resizePosEmbed(pos: Tensor, prefix: number, fromGrid: number, toGrid: number): Tensor {
  const D = pos.shape[2]!;
  if (pos.shape[1] !== prefix + fromGrid * fromGrid) {
    throw new ShapeError('resizePosEmbed', `position embeddings ${fmt(pos.shape)} do not hold ${prefix} prefix + ${fromGrid}×${fromGrid} entries`);
  }
  const gridPart = prefix ? pos.slice(1, prefix) : pos;
  const img = gridPart.reshape(1, fromGrid, fromGrid, D).permute(0, 3, 1, 2);
  // timm's resample_abs_pos_embed: bicubic, antialias on (it matters when shrinking).
  const resized = interpolate(img, [toGrid, toGrid], { mode: 'bicubic', alignCorners: false, antialias: true });
  const back = resized.permute(0, 2, 3, 1).reshape(1, toGrid * toGrid, D);
  return prefix ? concat([pos.slice(1, 0, prefix), back], 1) : back;
}
