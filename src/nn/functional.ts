// nn.functional: the stateless forms of the layers and losses (torch.nn.functional's names in
// camelCase), as thin compositions of the engine's ops.
import type { Tensor } from '../tensor/tensor.js';
import { ShapeError, fmt } from '../tensor/shape.js';
import * as sm from '../tensor/ops/softmax.js';
import type { MatmulOptions } from '../tensor/ops/matmul.js';
import * as random from '../tensor/ops/random.js';

/**
 * y = x·Wᵀ + b with W of shape [out, in] (PyTorch's layout); x is [..., in]. `activation` is
 * applied in the matmul's epilogue (one kernel for fc1 + GELU).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: { activation?: MatmulOptions['activation'] } = {}): Tensor {
  if (weight.rank !== 2) throw new ShapeError('linear', `weight must be [out, in], got ${fmt(weight.shape)}`);
  const [out, inF] = weight.shape as [number, number];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) throw new ShapeError('linear', `input ${fmt(x.shape)} does not end in ${inF} (weight ${fmt(weight.shape)})`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== out)) throw new ShapeError('linear', `bias ${fmt(bias.shape)} for weight ${fmt(weight.shape)}`);
  const mm: MatmulOptions = { transB: true, activation: opts.activation ?? 'none', ...(bias ? { bias } : {}) };
  if (x.rank === 2) return x.matmul(weight, mm);
  // Leading dimensions fold into the matmul's rows (a free reshape), then unfold.
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([-1, inF]);
  const y2 = x2.matmul(weight, mm);
  return y2.reshape([...lead, out]);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return sm.softmax(x, axis);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return sm.logSoftmax(x, axis);
}

export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return x.gelu(opts);
}

export function relu(x: Tensor): Tensor {
  return x.relu();
}

// The fused engine ops, under the names torch.nn.functional uses.
export { layerNorm } from '../tensor/ops/layernorm.js';
export { crossEntropy, mseLoss, type Reduction, type CrossEntropyOptions, type Targets } from '../tensor/ops/loss.js';

/** Inverted dropout: zeroes elements with probability p, scales the rest by 1 / (1 − p); identity when not training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return random.dropout(x, p, { training });
}

/**
 * Fused attention with multiplicative key masking (gradients reach the mask), and the same
 * straight from a fused qkv projection [B, T, 3·H·d] (timm's layout) as one tape node
 * (`qkvAttention`); see src/tensor/ops/attention.ts.
 */
export { maskedAttention, maskedAttentionComposed, maskedSoftmax, qkvAttention, type AttentionOptions } from '../tensor/ops/attention.js';
