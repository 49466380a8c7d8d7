// The layers a ViT and an MLP need, with PyTorch's parameter names, layouts and default inits:
// Linear, LayerNorm, Dropout, GELU, ReLU, Identity.
import { Tensor } from '../tensor/tensor.js';
import { Module, type Layer } from './module.js';
import * as F from './functional.js';
import { kaimingUniform_, ones_, uniform_, zeros_ } from './init.js';

/** y = x·Wᵀ + b, weight [out, in], initialised like torch.nn.Linear (U(±1/√in) for both). */
export class Linear extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    for (const [k, v] of Object.entries({ inFeatures, outFeatures })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Linear: ${k} must be a positive integer, got ${v}`);
    }
    this.weight = this.param('weight', kaimingUniform_(Tensor.empty([outFeatures, inFeatures]), { a: Math.sqrt(5) }));
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = opts.bias === false ? null : this.param('bias', uniform_(Tensor.empty([outFeatures]), -bound, bound));
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

/** Layer normalisation over the last dimensions, weight ones and bias zeros (eps 1e-5 like PyTorch; timm's ViT uses 1e-6). */
export class LayerNorm extends Module implements Layer {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', ones_(Tensor.empty(this.normalizedShape))) : null;
    this.bias = affine && opts.bias !== false ? this.param('bias', zeros_(Tensor.empty(this.normalizedShape))) : null;
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** Inverted dropout in training mode; the identity in eval mode. */
export class Dropout extends Module implements Layer {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

export class GELU extends Module implements Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
}

export class ReLU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Identity extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}
