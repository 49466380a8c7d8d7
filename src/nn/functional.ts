// nn.functional: the stateless forms of the layers and losses (torch.nn.functional's names in
// camelCase), as thin compositions of the engine's ops.
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/tensor.js';
import { ShapeError, fmt } from '../tensor/shape.js';
import * as nnops from '../tensor/ops/nn.js';
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
  return nnops.softmax(x, axis);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return nnops.logSoftmax(x, axis);
}

export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return x.gelu(opts);
}

export function relu(x: Tensor): Tensor {
  return x.relu();
}

// ---------------------------------------------------------------------------------------------
// TEMPORARY compositions until the fused layerNorm / crossEntropy / mseLoss (src/tensor/ops/loss.ts)
// land; then these become re-exports.

export type Reduction = 'mean' | 'sum' | 'none';

export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const k = normalizedShape.length;
  if (x.rank < k || normalizedShape.some((d, i) => x.shape[x.rank - k + i] !== d)) {
    throw new ShapeError('layerNorm', `input ${fmt(x.shape)} does not end in ${fmt(normalizedShape)}`);
  }
  const axes = [...Array(k).keys()].map((i) => x.rank - k + i);
  const mu = x.mean(axes, true);
  const d = x.sub(mu);
  const v = d.square().mean(axes, true);
  let y = d.mul(v.add(eps).rsqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === 'none' ? loss : reduction === 'sum' ? loss.sum() : loss.mean();
}

export function crossEntropy(logits: Tensor, targets: Tensor, opts: { labelSmoothing?: number; reduction?: Reduction } = {}): Tensor {
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new ShapeError('crossEntropy', `logits must be [N, C] and targets [N], got ${fmt(logits.shape)} and ${fmt(targets.shape)}`);
  }
  const C = logits.shape[1]!;
  const ls = opts.labelSmoothing ?? 0;
  const logp = logits.logSoftmax(-1);
  const classes = tensor(Float32Array.from({ length: C }, (_, i) => i));
  const onehot = targets.reshape([-1, 1]).eq(classes);
  const q = onehot.mul(1 - ls).add(ls / C);
  const loss = q.mul(logp).sum(-1).neg();
  return reduce(loss, opts.reduction ?? 'mean');
}

export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  return reduce(input.sub(target).square(), opts.reduction ?? 'mean');
}

/** Inverted dropout: zeroes elements with probability p, scales the rest by 1 / (1 − p); identity when not training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return random.dropout(x, p, { training });
}
