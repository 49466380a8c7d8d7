// Training a tiny model in the page on the demo's share of the benchmark (512 training and 64
// validation objects, composed exactly as `node train.js` composes them): the same losses as `node train.js`
// (iFAM without the equivariance term, to keep steps short), AdamW with a cosine schedule, and a
// balanced validation set evaluated as training goes, reported through callbacks for the plot.
import { crossEntropy, data, noGrad, optim, tensor, tidy, vit, type Tensor } from '../src/index.js';
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
const NORMALIZE = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as const;
const IMAGE_SIZE = 32;
const VAL_SIZE = 64;

function buildTinyModel(method: TrainMethod): { spec: vit.ModelSpec; model: vit.IFAM | vit.VisionTransformer } {
  const cfg = vit.vitConfig('webfam_test', { imageSize: IMAGE_SIZE });
  if (method === 'ifam') {
    const ifam = { parts: 3, tau: 1, partDropout: 0.3, jointGrad: true };
    return { spec: { method, preset: 'webfam_test', vit: cfg, numClasses: 2, ifam }, model: new vit.IFAM(cfg, { ...ifam, numClasses: 2 }) };
  }
  return { spec: { method, preset: 'webfam_test', vit: cfg, numClasses: 2 }, model: new vit.VisionTransformer({ ...cfg, numClasses: 2 }) };
}

function batchLoss(method: TrainMethod, model: vit.IFAM | vit.VisionTransformer, x: Tensor, labels: Int32Array): Tensor {
  if (method === 'baseline') return crossEntropy((model as vit.VisionTransformer).forward(x).logits!, labels, { labelSmoothing: 0.1 });
  const out = (model as vit.IFAM).forward(x);
  const maps = out.stage1.maps;
  // train.js's from-scratch weights: total variation at 0.2, as boundaries on a small patch grid
  // cost far more per patch than on the authors' 37×37 one.
  const w = { ...vit.DEFAULT_PART_LOSS_WEIGHTS, totalVariation: 0.2 };
  return crossEntropy(out.logits, labels, { labelSmoothing: 0.1 })
    .add(crossEntropy(out.stage1.logits, labels, { labelSmoothing: 0.1 }))
    .add(vit.presenceLoss(maps).mul(w.presence))
    .add(vit.orthogonalityLoss(out.stage1.parts).mul(w.orthogonality))
    .add(vit.totalVariationLoss(maps).mul(w.totalVariation))
    .add(vit.backgroundPresenceLoss(maps).mul(w.backgroundPresence))
    .add(vit.entropyLoss(maps).mul(w.entropy));
}

/** Average and worst-group accuracy on the balanced validation images. */
async function evaluate(method: TrainMethod, model: vit.IFAM | vit.VisionTransformer, val: data.FashionBenchmark): Promise<{ accuracy: number; worstGroup: number }> {
  model.eval();
  const b = val.batch(Array.from({ length: val.length }, (_, i) => i), NORMALIZE);
  const logits = tidy(() => noGrad(() => {
    const x = tensor(b.images, { shape: [b.size, 3, IMAGE_SIZE, IMAGE_SIZE] });
    return method === 'ifam' ? (model as vit.IFAM).forward(x, { noise: false }).logits : (model as vit.VisionTransformer).forward(x).logits!;
  }));
  const v = await logits.data();
  logits.dispose();
  model.train();
  const right = new Array<number>(val.groupNames.length).fill(0), seen = right.slice();
  for (let i = 0; i < b.size; i++) {
    const pred = v[2 * i + 1]! > v[2 * i]! ? 1 : 0;
    seen[b.groups[i]!]!++;
    if (pred === b.labels[i]) right[b.groups[i]!]!++;
  }
  const accs = right.map((r, g) => r / Math.max(1, seen[g]!));
  return { accuracy: right.reduce((a, c) => a + c, 0) / b.size, worstGroup: Math.min(...accs) };
}

/** Trains a fresh tiny model; resolves with it as a checkpoint the page can classify with. */
export async function trainTiny(cfg: TrainConfig, cb: TrainCallbacks, objects: { train: data.SampleObjects; val: data.SampleObjects }): Promise<Checkpoint> {
  const { spec, model } = buildTinyModel(cfg.method);
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
    cb.onEval({ step: 0, ...(await evaluate(cfg.method, model, val)) });
    for (let epoch = 0; step < cfg.steps; epoch++) {
      for await (const b of loader.epoch(epoch)) {
        opt.setLr(schedule(step));
        const loss = tidy(() => {
          const x = tensor(b.images, { shape: [b.size, 3, IMAGE_SIZE, IMAGE_SIZE] });
          const l = batchLoss(cfg.method, model, x, b.labels);
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
        if (step % evalEvery === 0 || step === cfg.steps || stop) cb.onEval({ step, ...(await evaluate(cfg.method, model, val)) });
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
