// What a run will do, from its flags: the model spec, the loss weights, the optimiser's parameter
// groups and the phases (robustvit: a baseline phase, unless --init gives one, then relevance).
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { vitConfig, type PresetName, type ViTConfig } from '../vit/config.js';
import { DEFAULT_PART_LOSS_WEIGHTS } from '../vit/part_losses.js';
import type { LossWeights, Method, ModelSpec } from '../vit/methods.js';
import { UsageError, type ParsedArgs } from './args.js';

/** One stretch of training with its own loss, length, learning rate and optimiser. */
export interface Phase {
  name: 'train' | 'baseline' | 'relevance';
  loss: Method | 'relevance';
  epochs: number;
  lr: number;
}

export function modelSpec(args: ParsedArgs, numClasses: number): ModelSpec {
  const preset = args.model as PresetName;
  let vit: ViTConfig;
  try {
    vit = vitConfig(preset, { imageSize: args['image-size'], ...(args['patch-size'] ? { patchSize: args['patch-size'] } : {}) });
  } catch (e) {
    const patch = args['patch-size'] ? ` --patch-size ${args['patch-size']}` : '';
    throw new UsageError(`--model ${preset} --image-size ${args['image-size']}${patch}: ${(e as Error).message}`);
  }
  const method = args.method as Method;
  return {
    method, preset, vit, numClasses,
    ...(method === 'ifam' ? { ifam: { parts: args.parts, tau: args.tau, partDropout: args['part-dropout'], jointGrad: args['joint-grad'], jointGradScale: args['joint-grad-scale'] } } : {}),
  };
}

export function lossWeights(args: ParsedArgs): LossWeights {
  return {
    labelSmoothing: args['label-smoothing'],
    stage1: args['w-stage1'],
    stage2: args['w-stage2'],
    parts: {
      ...DEFAULT_PART_LOSS_WEIGHTS,
      presence: args['w-presence'], equivariance: args['w-equivariance'], orthogonality: args['w-orthogonality'],
      totalVariation: args['w-tv'], backgroundPresence: args['w-background'], entropy: args['w-entropy'],
    },
    relevance: { background: args['w-bg'], foreground: args['w-fg'], classification: args['w-cls'], temperature: args.temperature, target: args['cls-target'] as 'prediction' | 'label' },
  };
}

/** Decay matrices; not biases, norms, tokens, position embeddings, prototypes, LayerScale. */
export function paramGroups(model: Module, weightDecay: number) {
  const decay: Tensor[] = [], plain: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const noDecay = p.rank < 2 || /(^|\.)(cls_token|reg_token|pos_embed|prototypes)$/.test(name);
    (noDecay ? plain : decay).push(p);
  }
  return [{ params: decay, weightDecay }, { params: plain, weightDecay: 0 }];
}

/** The run's phases: robustvit fine-tunes a baseline it trains first (unless --init gives one). */
export function planPhases(args: ParsedArgs, method: Method): Phase[] {
  return method === 'robustvit'
    ? [...(args.init || args['base-epochs'] === 0 ? [] : [{ name: 'baseline' as const, loss: 'baseline' as const, epochs: args['base-epochs'], lr: args.lr }]), { name: 'relevance', loss: 'relevance', epochs: args.epochs, lr: args['relevance-lr'] }]
    : [{ name: 'train', loss: method, epochs: args.epochs, lr: args.lr }];
}
