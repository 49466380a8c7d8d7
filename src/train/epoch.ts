// The training loop: phase by phase, epoch by epoch, batch by batch. Each step's losses are read
// back while the next step runs; every epoch ends with validation, --select's best-epoch check, a
// checkpoint, metrics.json and the curves. Ctrl-C/SIGTERM save and stop at the end of the step; a
// NaN/Inf loss stops the run keeping the last good checkpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../tensor/tensor.js';
import { getRngState, setRngState } from '../tensor/ops/random.js';
import { AdamW, stateFromTensors } from '../nn/optim.js';
import { clipGradNorm } from '../nn/clip.js';
import { cosineSchedule } from '../nn/schedule.js';
import type { Module } from '../nn/module.js';
import type { DataLoader } from '../data/loader.js';
import { batchLoss, type LossWeights, type Method } from '../vit/methods.js';
import { isModelEntry } from '../vit/checkpoint.js';
import type { ParsedArgs } from './args.js';
import type { DataSplits } from './data.js';
import { paramGroups, type Phase } from './plan.js';
import type { Progression } from './resume.js';
import { evaluate } from './evaluate.js';
import { saveCurves } from './pictures.js';
import { Progress } from './progress.js';
import type { StepLog } from './steplog.js';
import { writeJsonAtomic } from './folder.js';
import { noteFigureBackend, picturePath } from './report.js';
import { selectionScore, isBetterEpoch } from './select.js';
import { log } from './console.js';

/** A diverging loss: the run stops with exit code 3. */
export class NonFiniteLoss extends Error {}

/** What the loop trains, on what, and where it writes. */
export interface TrainingRun {
  args: ParsedArgs;
  method: Method;
  name: string;
  dir: string;
  ckptPath: string;
  bestPath: string;
  data: DataSplits;
  phases: readonly Phase[];
  loader: DataLoader;
  model: Module;
  weights: LossWeights;
  stepLog: StepLog;
  wasInterrupted: () => NodeJS.Signals | null;
  /** Saves a checkpoint of the model with this optimiser and progress. */
  save: (path: string, opt: AdamW, prog: Progression) => Promise<void>;
}

/** A resumed checkpoint's uploaded tensors and metadata (its optimiser state goes into the first phase's optimiser). */
export interface ResumedState {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Trains from `prog` to the end of the last phase. Returns the progress reached, and an exit code
 * when the run stopped early (a signal: 130/143, --stop-after: 0), null when it trained to the end.
 */
export async function trainPhases(run: TrainingRun, start: Progression, resumed: ResumedState | null): Promise<{ prog: Progression; exit: number | null }> {
  const { args, phases, model } = run;
  const stepsPerEpoch = run.loader.batchesPerEpoch;
  let prog = start;
  let epochsThisRun = 0;
  for (let ph = prog.phase; ph < phases.length; ph++) {
    const phase = phases[ph]!;
    const opt = new AdamW(paramGroups(model, args['weight-decay']), { lr: phase.lr, weightDecay: args['weight-decay'] });
    const totalSteps = phase.epochs * stepsPerEpoch;
    const schedule = cosineSchedule({ baseLr: phase.lr, totalSteps, warmupSteps: Math.min(totalSteps, Math.round(args['warmup-epochs'] * stepsPerEpoch)), minLr: phase.lr * 0.01 });
    if (resumed && ph === prog.phase) {
      opt.loadStateDict(stateFromTensors(resumed.tensors, resumed.metadata));
      setRngState(prog.rng);
      for (const [k, t] of Object.entries(resumed.tensors)) if (!isModelEntry(k) || !t.name) t.dispose();
      resumed = null;
    } else if (ph !== prog.phase) {
      prog = { ...prog, phase: ph, epoch: 0, batch: 0, lossSum: 0, lossCount: 0, termSums: {} };
    }
    const phaseStart = prog.globalStep - (prog.epoch * stepsPerEpoch + prog.batch);
    for (let epoch = prog.epoch; epoch < phase.epochs; epoch++) {
      const label = `${phases.length > 1 ? `${phase.name} ` : ''}epoch ${epoch + 1}/${phase.epochs}`;
      const bar = new Progress(label, stepsPerEpoch, args['batch-size'], args.quiet);
      await trainEpoch(run, prog, { phase, opt, schedule, phaseStart, epoch, bar });
      const signal = run.wasInterrupted();
      if (signal) {
        prog.rng = getRngState();
        prog.epoch = epoch;
        await run.save(run.ckptPath, opt, prog);
        bar.finish('interrupted');
        log(`saved ${run.ckptPath}; continue with: node train.js --name ${run.name} --resume${args.out !== 'runs' ? ` --out ${args.out}` : ''}`);
        return { prog, exit: signal === 'SIGTERM' ? 143 : 130 };
      }
      await endEpoch(run, prog, { phase, opt, epoch, bar, selecting: args.select !== 'last' && ph === phases.length - 1 });
      const lastEpoch = ph === phases.length - 1 && epoch === phase.epochs - 1;
      if (args['stop-after'] > 0 && ++epochsThisRun >= args['stop-after'] && !lastEpoch) {
        log(`stopped after ${epochsThisRun} epoch(s) as asked; continue with: node train.js --name ${run.name} --resume${args.out !== 'runs' ? ` --out ${args.out}` : ''}`);
        return { prog, exit: 0 };
      }
    }
    opt.dispose();
  }
  return { prog, exit: null };
}

interface EpochPlan {
  phase: Phase;
  opt: AdamW;
  schedule: (step: number) => number;
  /** The global step at which the phase began (the schedule counts from it). */
  phaseStart: number;
  epoch: number;
  bar: Progress;
}

/** The optimiser steps of one epoch (from prog.batch when resumed mid-epoch), until its end or a signal. */
async function trainEpoch(run: TrainingRun, prog: Progression, { phase, opt, schedule, phaseStart, epoch, bar }: EpochPlan): Promise<void> {
  const { args, model, stepLog, ckptPath } = run;
  const stepsPerEpoch = run.loader.batchesPerEpoch;
  model.train();
  const t0 = performance.now();
  let k = 0;
  let pending: { terms: Record<string, Tensor>; step: number; lr: number; images: number } | null = null;
  let lastLoss = NaN;
  let imagesRead = 0;
  const readPending = async () => {
    if (!pending) return;
    const { terms, step, lr, images } = pending;
    const vals: Record<string, number> = {};
    for (const [key, t] of Object.entries(terms)) vals[key] = (await t.data())[0]!;
    for (const t of Object.values(terms)) t.dispose();
    pending = null;
    // Logged when its losses are known, so the time and rate include the step's GPU work.
    imagesRead += images;
    const seconds = (performance.now() - t0) / 1000;
    stepLog.append({ step, epoch: Math.ceil(step / stepsPerEpoch), phase: phase.name, terms: vals, lr, imgPerS: imagesRead / Math.max(1e-9, seconds), elapsedS: prog.trainSeconds + seconds });
    if (!Number.isFinite(vals.total!)) {
      const terms = Object.entries(vals).map(([a, b]) => `${a}=${b}`).join(', ');
      const kept = existsSync(ckptPath) ? `the last good checkpoint is kept at ${ckptPath}` : 'no checkpoint had been written yet, so the run folder is removed';
      throw new NonFiniteLoss(`loss became ${vals.total} at step ${prog.globalStep} (${terms}); ${kept}. Try a lower --lr or --clip.`);
    }
    lastLoss = vals.total!;
    prog.lossSum += vals.total!;
    prog.lossCount++;
    prog.termSums ??= {};
    for (const [key, v] of Object.entries(vals)) prog.termSums[key] = (prog.termSums[key] ?? 0) + v;
  };
  for await (const b of run.loader.epoch(epoch)) {
    if (k++ < prog.batch) continue; // resumed mid-epoch
    const step = prog.globalStep;
    const lr = schedule(step - phaseStart);
    opt.setLr(lr);
    const terms = tidy(() => {
      const x = tensor(b.images, { shape: [b.size, 3, b.imageSize, b.imageSize] });
      const masks = b.masks ? tensor(b.masks, { shape: [b.size, b.imageSize, b.imageSize] }) : null;
      const t = batchLoss(phase.loss, model, { x, labels: b.labels, masks }, run.weights, args.seed, step);
      t.total.backward();
      if (args.clip > 0) clipGradNorm(model.parameters(), args.clip);
      opt.step();
      opt.zeroGrad();
      return Object.fromEntries(Object.entries(t).map(([n, v]) => [n, v.detach()])) as Record<string, Tensor>;
    });
    await readPending(); // the previous step's losses, read while this step runs
    pending = { terms, step: step + 1, lr, images: b.size };
    prog.globalStep++;
    prog.batch = k;
    prog.imagesSeen += b.size;
    bar.update(k, { loss: Number.isNaN(lastLoss) ? undefined : lastLoss, lr: opt.baseLr });
    if (run.wasInterrupted()) break;
  }
  await readPending();
  prog.trainSeconds += (performance.now() - t0) / 1000;
}

/** A finished epoch: validation, history, --select's best checkpoint, the checkpoint, metrics.json, curves. */
async function endEpoch(run: TrainingRun, prog: Progression, { phase, opt, epoch, bar, selecting }: { phase: Phase; opt: AdamW; epoch: number; bar: Progress; selecting: boolean }): Promise<void> {
  const { args, method, data, model } = run;
  const trainLoss = prog.lossSum / Math.max(1, prog.lossCount);
  const val = await evaluate(method, model, data.val, { batchSize: args['batch-size'], normalize: data.normalize, quiet: true });
  bar.finish(`loss ${trainLoss.toFixed(4)}  val acc ${(100 * val.avg_acc).toFixed(1)}%  worst group ${(100 * val.worst_group_acc).toFixed(1)}%`);
  const terms = Object.fromEntries(Object.entries(prog.termSums ?? {}).map(([key, v]) => [key, v / Math.max(1, prog.lossCount)]));
  prog.history.push({ phase: phase.name, epoch: prog.history.length + 1, train_loss: trainLoss, val_avg_acc: val.avg_acc, val_worst_group_acc: val.worst_group_acc, terms });
  if (selecting) {
    const score = selectionScore(args.select!, val);
    if (isBetterEpoch(score, prog.best)) {
      prog.best = { by: args.select!, epoch: prog.history.length, score };
      await run.save(run.bestPath, opt, { ...prog, epoch: epoch + 1, batch: 0 });
    }
  }
  prog.termSums = {};
  prog.epoch = epoch + 1;
  prog.batch = 0;
  prog.lossSum = 0;
  prog.lossCount = 0;
  prog.rng = getRngState();
  await run.save(run.ckptPath, opt, prog);
  await writeJsonAtomic(join(run.dir, 'metrics.json'), { method, epochs: prog.history, final: null });
  if (args.pictures) noteFigureBackend(await saveCurves(picturePath(run.dir, 'curves.png'), prog.history, { title: `${run.name} (${method}): training loss and validation accuracy`, steps: run.stepLog.losses, stepsPerEpoch: run.loader.batchesPerEpoch }));
}
