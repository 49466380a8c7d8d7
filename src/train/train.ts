// A training run, as named steps: check everything the user gave before the GPU starts (resume
// state, data, model spec, --weights, --init, phases); make and lock the run folder; build the
// model (seeded, pretrained weights, fine-tuning start, resumed state); train (./epoch.ts); test
// and report (./report.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getRngState } from '../tensor/ops/random.js';
import { seedAll } from '../nn/seed.js';
import type { Module } from '../nn/module.js';
import { loadSafetensors, parseSafetensorsHeader, readSafetensorsFile } from '../io/safetensors.js';
import type { NormalizeOption } from '../data/dataset.js';
import { CHECKPOINT_KEYS, OPTIMIZER_PREFIX, checkCheckpoint } from '../vit/checkpoint.js';
import { DataLoader } from '../data/loader.js';
import { VisionTransformer } from '../vit/vit.js';
import { IFAM } from '../vit/ifam.js';
import { loadWeights } from '../vit/weights.js';
import { buildModel, type Method, type ModelSpec } from '../vit/methods.js';
import { checkApplicable, UsageError, type ParsedArgs } from './args.js';
import { log, oneLine, startGpu } from './console.js';
import { openData } from './data.js';
import { lossWeights, modelSpec, planPhases, type Phase } from './plan.js';
import { checkpointModel, checkpointModelInto, isFolder, loadCheckpoint, readCheckpointHost, saveCheckpoint, warnNonFinite, type HostCheckpoint } from './checkpoints.js';
import { checkResumedLength, checkResumedModel, resumedProgression, type Progression } from './resume.js';
import { inRunFolder, writeJsonAtomic, type RunFolder } from './folder.js';
import { trainPhases, type ResumedState, type TrainingRun } from './epoch.js';
import { testAndReport } from './report.js';
import { StepLog } from './steplog.js';

/** A run whose inputs are all read and checked (nothing is on the GPU yet). */
interface PlannedRun extends Pick<TrainingRun, 'args' | 'method' | 'name' | 'dir' | 'ckptPath' | 'bestPath' | 'data' | 'loader'> {
  spec: ModelSpec;
  phases: Phase[];
  prog: Progression;
  resumeHost: HostCheckpoint | null;
  weightsBytes: Uint8Array | null;
  initHost: HostCheckpoint | null;
}

/** `node train.js [flags]` (after --resume restored the run's flags): the exit code. */
export async function train(args: ParsedArgs): Promise<number> {
  const run = await planRun(args);
  return inRunFolder(run.dir, run.ckptPath, (folder) => trainInFolder(run, folder));
}

/** Reads and checks everything the run needs from the user's files, before the run folder is made and the GPU starts. */
async function planRun(args: ParsedArgs): Promise<PlannedRun> {
  checkApplicable(args);
  const method = args.method as Method;
  const name = args.name ?? `${method}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const dir = join(args.out!, name);
  const ckptPath = join(dir, 'checkpoint.safetensors');
  const bestPath = join(dir, 'best.safetensors');
  if (existsSync(dir) && !isFolder(dir)) throw new UsageError(`the run folder ${dir} exists and is not a folder`);
  if (!args.resume && existsSync(ckptPath)) throw new UsageError(`${dir} already holds a run; pass --resume to continue it, or choose another --name`);

  const resumeHost = args.resume ? await readCheckpointHost(ckptPath, '--resume') : null;
  const prog: Progression = resumeHost
    ? resumedProgression(resumeHost, args.select)
    : { phase: 0, epoch: 0, batch: 0, globalStep: 0, trainSeconds: 0, imagesSeen: 0, rng: getRngState(), history: [], lossSum: 0, lossCount: 0 };
  const weightsBytes = args.weights ? await readSafetensorsFile(args.weights) : null;
  const data = await openData(args, weightsBytes ? { normalize: weightsNormalization(weightsBytes, args.weights!) } : null, true);
  log(`data: ${data.description}`);
  const spec = modelSpec(args, data.train.numClasses);
  if (resumeHost) checkResumedModel(resumeHost, spec);
  const initHost = args.init && !isFolder(args.init) ? await readCheckpointHost(args.init, '--init') : null;
  if (initHost) {
    if (initHost.spec.method === 'ifam') throw new UsageError(`--init needs a baseline (or robustvit) checkpoint to fine-tune; ${args.init} is an ifam checkpoint`);
    warnNonFinite(initHost.tensors, args.init!, 'fine-tuning them will not work');
  }
  const phases = planPhases(args, method);
  if (resumeHost) checkResumedLength(prog, phases);
  const loader = new DataLoader(data.train, {
    batchSize: args['batch-size'], shuffle: true, seed: args.seed, dropLast: true, normalize: data.normalize,
    augment: args.augment ? { flip: true } : null, prefetch: 2,
  });
  if (loader.batchesPerEpoch === 0) throw new UsageError(`--batch-size ${args['batch-size']} is larger than the ${data.train.length} training images`);
  return { args, method, name, dir, ckptPath, bestPath, data, spec, phases, loader, prog, resumeHost, weightsBytes, initHost };
}

/** The run itself, once its inputs are checked and its folder is made and locked. */
async function trainInFolder(run: PlannedRun, folder: RunFolder): Promise<number> {
  const { args, method, name, dir, ckptPath, data, spec, phases, resumeHost } = run;
  const adapter = await startGpu();
  seedAll(args.seed);
  const model = buildModel(spec);
  if (run.weightsBytes) loadPretrained(model, run.weightsBytes, args, spec);
  if (method === 'robustvit' && args.init) await loadFineTuningStart(model, args.init, run.initHost);
  let resumed: ResumedState | null = null;
  if (resumeHost) {
    resumed = { tensors: checkpointModelInto(model, resumeHost).tensors, metadata: resumeHost.metadata };
    log(`resume: phase ${phases[run.prog.phase]?.name}, epoch ${run.prog.epoch + 1}, batch ${run.prog.batch} (step ${run.prog.globalStep})`);
  }
  const config = { ...args, explicit: undefined, name, spec, phases, adapter: adapter.description, data_description: data.description };
  await writeJsonAtomic(join(dir, 'config.json'), config);
  const stepLog = await openStepLog(dir, resumeHost ? run.prog.globalStep : null);
  const { prog, exit } = await trainPhases({
    args, method, name, dir, ckptPath, bestPath: run.bestPath, data, phases, loader: run.loader, model, weights: lossWeights(args), stepLog,
    wasInterrupted: folder.wasInterrupted,
    save: async (path, opt, p) => {
      await saveCheckpoint(path, model, opt, spec, p, data.normalize, data.train.classNames);
      if (path === ckptPath) folder.onCheckpoint();
    },
  }, run.prog, resumed);
  if (exit !== null) return exit;
  return testAndReport({ args, method, dir, bestPath: run.bestPath, data, phases, model, adapter, config }, prog);
}

/**
 * The normalisation the images get when a backbone starts from --weights: the one a webfam
 * checkpoint was trained with (checked as every checkpoint is), else ImageNet's, which timm and
 * DINOv2 weights expect.
 */
function weightsNormalization(bytes: Uint8Array, path: string): NormalizeOption {
  const header = parseSafetensorsHeader(bytes);
  if (header.metadata[CHECKPOINT_KEYS.spec] === undefined) return 'imagenet';
  const tensors = Object.fromEntries(header.entries.map((e) => [e.name, e]));
  return checkCheckpoint({ tensors, metadata: header.metadata }, { where: path }).normalize;
}

/**
 * --weights: pretrained timm weights, or a webfam checkpoint (its optimiser state is skipped), into
 * the ViT (both stages of iFAM); the head stays fresh.
 */
function loadPretrained(model: Module, bytes: Uint8Array, args: ParsedArgs, spec: ModelSpec): void {
  const contents = loadSafetensors(bytes);
  const targets: [string, VisionTransformer][] = model instanceof IFAM ? [['stage1', model.stage1], ['stage2', model.stage2]] : [['', model as VisionTransformer]];
  try {
    for (const [, vit] of targets) {
      const r = loadWeights(vit, contents, { strict: true, allowMissing: ['head.'], ignore: ['head.', 'fc_norm.', OPTIMIZER_PREFIX] });
      if (r.missing.length) log(`weights: kept fresh ${r.missing.join(', ')}`);
    }
  } catch (e) {
    throw new UsageError(`--weights ${args.weights} does not fit --model ${spec.preset} at ${spec.vit.imageSize} px: ${oneLine((e as Error).message.replace(/^loadStateDict \(\w+\): /, ''))}`);
  } finally {
    for (const t of Object.values(contents.tensors)) t.dispose();
  }
  log(`weights: loaded ${args.weights} into ${targets.map(([n]) => n || 'the model').join(' and ')}`);
}

/** robustvit --init: starts from a trained baseline (a checkpoint read earlier, or an export folder). */
async function loadFineTuningStart(model: Module, init: string, host: HostCheckpoint | null): Promise<void> {
  const { model: base, spec: baseSpec } = host ? checkpointModel(host) : await loadCheckpoint(init);
  try {
    model.loadStateDict(base.stateDict());
  } catch (e) {
    throw new UsageError(`--init ${init} (a ${baseSpec.preset} model of ${baseSpec.numClasses} classes at ${baseSpec.vit.imageSize} px) does not fit this run's model: ${oneLine((e as Error).message.replace(/^loadStateDict \(\w+\): /, ''))}`);
  } finally {
    base.dispose();
  }
  log(`robustvit: fine-tuning ${init}`);
}

/** log.jsonl, one line per optimiser step; a resumed run first cuts it back to the checkpoint's step. */
async function openStepLog(dir: string, resumedAtStep: number | null): Promise<StepLog> {
  if (resumedAtStep === null) return StepLog.create(join(dir, 'log.jsonl'));
  const { log: resumed, warning } = await StepLog.resume(join(dir, 'log.jsonl'), resumedAtStep);
  if (warning) log(`train.js: warning: ${warning}`);
  return resumed;
}
