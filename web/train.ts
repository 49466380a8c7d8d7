// Training a tiny model in the page on the demo's share of the benchmark (512 training and 64
// validation objects, composed exactly as `node train.js` composes them): the library's models,
// losses and evaluation, as `node train.js` uses them (iFAM without the equivariance term, to keep
// steps short), AdamW with a cosine schedule, and a balanced validation set evaluated as training
// goes, reported through callbacks for the plot.
import { data, optim, tensor, tidy, vit } from '../src/index.js';
import type { Checkpoint } from './model.js';

export type TrainMethod = 'baseline' | 'ifam';

export interface TrainConfig {
  method: TrainMethod;
  steps: number;
  batchSize: number;
  lr: number;
}

export interface EvalPoint {
  step: number;
  accuracy: number;
  worstGroup: number;
}

export interface TrainCallbacks {
  onStep(step: number, loss: number): void;
  onEval(point: EvalPoint): void;
  /** Checked after every step; true stops the run (the model trained so far is kept). */
  shouldStop(): boolean;
}

/** What from-scratch models are trained with in train.js (pixels around the middle grey). */
const NORMALIZE = data.SCRATCH_NORMALIZATION;
const IMAGE_SIZE = 32;
const VAL_SIZE = 64;

/**
 * train.js's from-scratch loss weights (total variation at 0.2, as boundaries on a small patch
 * grid cost far more per patch than on the authors' 37×37 one; stage 1 without its own
 * classification loss, so the mask is learnt without labels), without the equivariance term.
 */
const LOSS_WEIGHTS: vit.LossWeights = {
  labelSmoothing: 0.1, stage1: 0, stage2: 1,
  parts: { ...vit.DEFAULT_PART_LOSS_WEIGHTS, totalVariation: 0.2, equivariance: 0 },
  relevance: vit.DEFAULT_RELEVANCE_WEIGHTS,
};

function tinySpec(method: TrainMethod): vit.ModelSpec {
  const cfg = vit.vitConfig('webfam_test', { imageSize: IMAGE_SIZE });
  return { method, preset: 'webfam_test', vit: cfg, numClasses: 2, ...(method === 'ifam' ? { ifam: { parts: 3, tau: 1, partDropout: 0.3, jointGrad: false } } : {}) };
}

/** Average and worst-group accuracy on the balanced validation images; the model goes back to training. */
async function validate(method: TrainMethod, model: vit.IFAM | vit.VisionTransformer, val: data.FashionBenchmark): Promise<{ accuracy: number; worstGroup: number }> {
  const r = await vit.evaluate(method, model, val, { batchSize: val.length, normalize: NORMALIZE });
  model.train();
  return { accuracy: r.avg_acc, worstGroup: r.worst_group_acc };
}

/** Trains a fresh tiny model; resolves with it as a checkpoint the page can classify with. */
export async function trainTiny(cfg: TrainConfig, cb: TrainCallbacks, objects: { train: data.SampleObjects; val: data.SampleObjects }): Promise<Checkpoint> {
  const spec = tinySpec(cfg.method);
  const model = vit.buildModel(spec);
  const available = objects.train.inSampleOrder.count;
  const size = Math.min(available, Math.max(cfg.batchSize, cfg.steps * cfg.batchSize));
  if (size < cfg.batchSize) throw new Error(`a batch of ${cfg.batchSize} needs that many images; the page has ${available}`);
  const train = data.fashionBenchmark({ split: 'train', source: objects.train, size, imageSize: IMAGE_SIZE, seed: 0 });
  const val = data.fashionBenchmark({ split: 'val', source: objects.val, size: Math.min(VAL_SIZE, objects.val.inSampleOrder.count), imageSize: IMAGE_SIZE, seed: 0 });
  const loader = new data.DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, seed: 0, dropLast: true, normalize: NORMALIZE, augment: { flip: true } });
  const opt = new optim.AdamW(model.parameters(), { lr: cfg.lr, weightDecay: 0.05 });
  const schedule = optim.cosineSchedule({ baseLr: cfg.lr, totalSteps: cfg.steps, warmupSteps: Math.min(cfg.steps, Math.ceil(cfg.steps / 10)), minLr: cfg.lr * 0.01 });
  const evalEvery = Math.max(5, Math.round(cfg.steps / 12));
  model.train();
  let step = 0;
  try {
    cb.onEval({ step: 0, ...(await validate(cfg.method, model, val)) });
    for (let epoch = 0; step < cfg.steps; epoch++) {
      for await (const b of loader.epoch(epoch)) {
        opt.setLr(schedule(step));
        const loss = tidy(() => {
          const x = tensor(b.images, { shape: [b.size, 3, IMAGE_SIZE, IMAGE_SIZE] });
          const l = vit.batchLoss(cfg.method, model, { x, labels: b.labels, masks: null }, LOSS_WEIGHTS, 0, step).total;
          l.backward();
          optim.clipGradNorm(model.parameters(), 2);
          opt.step();
          opt.zeroGrad();
          return l.detach();
        });
        const value = await loss.item();
        loss.dispose();
        step++;
        cb.onStep(step, value);
        if (!Number.isFinite(value)) throw new Error(`the loss became ${value} at step ${step}; try a lower learning rate`);
        const stop = cb.shouldStop();
        if (step % evalEvery === 0 || step === cfg.steps || stop) cb.onEval({ step, ...(await validate(cfg.method, model, val)) });
        if (stop || step >= cfg.steps) break;
      }
      if (cb.shouldStop()) break;
    }
  } catch (e) {
    opt.dispose();
    model.dispose();
    throw e;
  }
  opt.dispose();
  model.eval();
  return { spec, model, normalize: NORMALIZE, classNames: [...train.classNames], metadata: {} };
}
