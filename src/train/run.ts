// `node train.js`: data, model, optimiser and the training loop — checkpoint every epoch (atomic),
// resume (optimiser, schedule position and RNG included), Ctrl-C saves and exits, a NaN/Inf loss
// stops the run keeping the last good checkpoint — then test metrics, pictures and a summary.
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { init, type AdapterDescription } from '../tensor/device.js';
import { Tensor, tensor, tidy } from '../tensor/tensor.js';
import { getRngState, manualSeed, setRngState, type RngState } from '../tensor/ops/random.js';
import { AdamW, stateFromTensors, stateToTensors } from '../nn/optim.js';
import { clipGradNorm } from '../nn/clip.js';
import { cosineSchedule } from '../nn/schedule.js';
import { manualSeed as initSeed } from '../nn/init.js';
import type { Module } from '../nn/module.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../io/safetensors.js';
import { syntheticDataset } from '../data/synthetic.js';
import { fashionBenchmark, loadFashionMnist, FASHION_CLASSES, type FashionClass, type FashionMnist, type FashionSplit } from '../data/fashion.js';
import { IdxError } from '../io/idx.js';
import { DataLoader } from '../data/loader.js';
import { groupCounts, type ImageDataset, type NormalizeOption } from '../data/dataset.js';
import { validateFolder, waterbirdsDataset } from '../data/waterbirds.js';
import { vitConfig, type PresetName } from '../vit/config.js';
import { VisionTransformer } from '../vit/vit.js';
import { IFAM } from '../vit/ifam.js';
import { loadWeights } from '../vit/weights.js';
import { DEFAULT_PART_LOSS_WEIGHTS } from '../vit/part_losses.js';
import { parseArgs, helpText, UsageError, type Args, type ParsedArgs } from './args.js';
import { batchLoss, buildModel, type LossWeights, type Method, type ModelSpec } from './methods.js';
import { evaluate, pictureIndices, type EvalResult } from './evaluate.js';
import { saveCurves, saveSamplePicture, type CurvePoint } from './pictures.js';
import { Progress } from './progress.js';
import { checkBridgeFlags, exportCommand, importCommand, isExportDir, loadExportAsCheckpoint } from './export.js';

/** Images from scratch are normalised around the middle grey; pretrained weights want ImageNet's. */
const SCRATCH_NORMALIZATION = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as const;

interface Phase {
  name: 'train' | 'baseline' | 'relevance';
  loss: Method | 'relevance';
  epochs: number;
  lr: number;
}

interface Progression {
  phase: number;
  epoch: number;
  /** Batches of `epoch` already done (nonzero after Ctrl-C mid-epoch). */
  batch: number;
  globalStep: number;
  trainSeconds: number;
  imagesSeen: number;
  rng: RngState;
  history: (CurvePoint & { phase: string; terms?: Record<string, number> })[];
  lossSum: number;
  lossCount: number;
  /** Per loss term, the running sum over this epoch (the mean goes into metrics.json). */
  termSums?: Record<string, number>;
  /** With --select other than last: the best epoch so far (1-based, as in history) and its score. */
  best?: { by: string; epoch: number; score: number[] };
}

interface DataSplits {
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  normalize: NormalizeOption;
  description: string;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, path);
}

async function openData(args: ParsedArgs, pretrained: boolean): Promise<DataSplits> {
  const normalize: NormalizeOption = pretrained ? 'imagenet' : SCRATCH_NORMALIZATION;
  if (args.data) {
    if (args.explicit.has('benchmark')) throw new UsageError('--benchmark and --data exclude each other: --data DIR trains on the folder instead of a benchmark');
    // Bad data fails here, before any training: every row is read and every image decoded.
    const report = await validateFolder(args.data, { skipBad: args['skip-bad'] });
    if (args['skip-bad'] && report.skipped.length) log(`data: ${report.summary}`);
    const open = (split: 'train' | 'val' | 'test') => waterbirdsDataset(args.data!, { split, imageSize: args['image-size'], skipBad: args['skip-bad'], report });
    const [train, val, test] = await Promise.all([open('train'), open('val'), open('test')]);
    return { train, val, test, normalize: 'imagenet', description: `${args.data} (${train.length}/${val.length}/${test.length} images)` };
  }
  // Only training images are spuriously correlated; val and test keep all groups balanced. The
  // data seed is fixed: --seed changes the model's initialisation and the order of batches, not the data.
  const common = { imageSize: args['image-size'], seed: 0 };
  const sizes = `${args['train-size']}/${args['val-size']}/${args['test-size']} images, ${args['image-size']} px, ${Math.round(args.agreement * 100)}% background agreement in train`;
  if (args.benchmark === 'synthetic') {
    return {
      train: syntheticDataset({ ...common, split: 'train', size: args['train-size'], agreement: args.agreement }),
      val: syntheticDataset({ ...common, split: 'val', size: args['val-size'] }),
      test: syntheticDataset({ ...common, split: 'test', size: args['test-size'] }),
      normalize,
      description: `embedded synthetic benchmark (${sizes})`,
    };
  }
  const classes = parseClasses(args.classes!);
  let source: FashionMnist;
  try {
    source = await loadFashionMnist(args['fashion-dir']!);
  } catch (e) {
    if (e instanceof IdxError) throw new UsageError(`the default benchmark needs Fashion-MNIST: ${e.message}`);
    throw e;
  }
  const open = (split: FashionSplit, size: number, agreement?: number) => {
    try {
      return fashionBenchmark({ ...common, source, classes, split, size, ...(agreement === undefined ? {} : { agreement }) });
    } catch (e) {
      throw new UsageError(`--${split}-size ${size}: ${(e as Error).message.replace(/^fashionBenchmark: /, '')}`);
    }
  };
  return {
    train: open('train', args['train-size'], args.agreement),
    val: open('val', args['val-size']),
    test: open('test', args['test-size']),
    normalize,
    description: `Fashion-MNIST ${classes.join(' vs ')} on land/water (${sizes})`,
  };
}

/** --classes "a,b" as two different Fashion-MNIST class names. */
function parseClasses(value: string): [FashionClass, FashionClass] {
  const names = value.split(',').map((s) => s.trim().toLowerCase());
  const known = FASHION_CLASSES as readonly string[];
  const bad = names.find((n) => !known.includes(n));
  if (names.length !== 2 || bad !== undefined || names[0] === names[1]) {
    throw new UsageError(`--classes needs two different Fashion-MNIST classes separated by a comma (${FASHION_CLASSES.join(', ')}); got "${value}"${bad !== undefined ? ` ("${bad}" is not one)` : ''}`);
  }
  return names as [FashionClass, FashionClass];
}

function modelSpec(args: ParsedArgs, numClasses: number): ModelSpec {
  const preset = args.model as PresetName;
  const vit = vitConfig(preset, { imageSize: args['image-size'] });
  const method = args.method as Method;
  return {
    method, preset, vit, numClasses,
    ...(method === 'ifam' ? { ifam: { parts: args.parts, tau: args.tau, partDropout: args['part-dropout'], jointGrad: args['joint-grad'], jointGradScale: args['joint-grad-scale'] } } : {}),
  };
}

function lossWeights(args: ParsedArgs): LossWeights {
  return {
    labelSmoothing: args['label-smoothing'],
    stage1: args['w-stage1'],
    stage2: args['w-stage2'],
    parts: {
      ...DEFAULT_PART_LOSS_WEIGHTS,
      presence: args['w-presence'], equivariance: args['w-equivariance'], orthogonality: args['w-orthogonality'],
      totalVariation: args['w-tv'], backgroundPresence: args['w-background'], entropy: args['w-entropy'],
    },
    relevance: { background: args['w-bg'], foreground: args['w-fg'], classification: args['w-cls'], temperature: args.temperature },
  };
}

/** Decay matrices; not biases, norms, tokens, position embeddings, prototypes, LayerScale. */
function paramGroups(model: Module, weightDecay: number) {
  const decay: Tensor[] = [], plain: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const noDecay = p.rank < 2 || /(^|\.)(cls_token|reg_token|pos_embed|prototypes)$/.test(name);
    (noDecay ? plain : decay).push(p);
  }
  return [{ params: decay, weightDecay }, { params: plain, weightDecay: 0 }];
}

async function saveCheckpoint(path: string, model: Module, opt: AdamW, spec: ModelSpec, prog: Progression, normalize: NormalizeOption, classNames: readonly string[]): Promise<void> {
  const { tensors, metadata } = stateToTensors(opt.stateDict());
  await saveSafetensorsFile(path, { ...model.stateDict(), ...tensors }, {
    ...metadata,
    'webfam.spec': JSON.stringify(spec),
    'webfam.progress': JSON.stringify(prog),
    'webfam.normalize': JSON.stringify(normalize ?? null),
    'webfam.classes': JSON.stringify(classNames),
  });
}

/** The model's entries of a checkpoint (everything but the optimiser state). */
function modelEntries(tensors: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('optimizer.')));
}

/** Loads a checkpoint written by train.js: its spec, model weights and the raw contents. */
export async function loadCheckpoint(path: string): Promise<{ spec: ModelSpec; model: Module; metadata: Record<string, string>; tensors: Record<string, Tensor> }> {
  if (!existsSync(path)) throw new UsageError(`checkpoint ${path} does not exist`);
  if (isExportDir(path)) return loadExportAsCheckpoint(path);
  const { tensors, metadata } = await loadSafetensorsFile(path);
  const specJson = metadata['webfam.spec'];
  if (!specJson) throw new UsageError(`${path} is not a webfam checkpoint (no "webfam.spec" metadata); for plain timm weights use --weights`);
  const spec = JSON.parse(specJson) as ModelSpec;
  const model = buildModel(spec);
  model.loadStateDict(modelEntries(tensors));
  return { spec, model, metadata, tensors };
}

function printSummary(result: EvalResult, method: string, extra: string): void {
  const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);
  const lines = [`\n${method} — test split${extra}`, '  group                          accuracy   n'];
  for (const [g, v] of Object.entries(result.groups)) lines.push(`  ${g.padEnd(30)} ${pct(v.acc)}  ${v.n}`);
  lines.push(`  ${'average'.padEnd(30)} ${pct(result.avg_acc)}`);
  if (result.train_weighted_acc !== undefined) lines.push(`  ${'average, train-weighted'.padEnd(30)} ${pct(result.train_weighted_acc)}`);
  lines.push(`  ${'worst group'.padEnd(30)} ${pct(result.worst_group_acc)}`);
  if (result.mask_miou !== undefined) {
    const map = method === 'ifam' ? 'hard mask mIoU' : 'relevance map mIoU';
    lines.push(`  ${map.padEnd(30)} ${pct(result.mask_miou)}`);
    lines.push(`  ${'pixel accuracy'.padEnd(30)} ${pct(result.mask_pixel_acc)}`);
  }
  if (result.mask_keep_ratio !== undefined) lines.push(`  ${'patches kept by the mask'.padEnd(30)} ${pct(result.mask_keep_ratio)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function publicResult(r: EvalResult): Omit<EvalResult, 'samples'> {
  const { samples: _samples, ...rest } = r;
  return rest;
}

async function evalOnly(args: ParsedArgs, adapter: AdapterDescription): Promise<number> {
  const { spec, model, metadata, tensors } = await loadCheckpoint(args.eval!);
  for (const t of Object.values(tensors)) if (!t.name) t.dispose();
  const normalize = JSON.parse(metadata['webfam.normalize'] ?? 'null') as NormalizeOption;
  const data = await openData({ ...args, 'image-size': spec.vit.imageSize }, false);
  const result = await evaluate(spec.method, model, data.test, {
    batchSize: args['batch-size'], normalize, quiet: args.quiet, label: 'test', noise: args['eval-noise'],
    relevance: spec.method !== 'ifam', keepSamples: pictureIndices(data.test), trainGroupCounts: groupCounts(data.train),
  });
  printSummary(result, spec.method, ` (${args.eval})`);
  if (args.json) process.stdout.write(JSON.stringify({ method: spec.method, checkpoint: args.eval, adapter: adapter.description, test: publicResult(result) }) + '\n');
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      log(`train.js: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  try {
    checkBridgeFlags(args);
    const adapter = await init();
    log(`webfam on ${adapter.description || adapter.device || adapter.vendor} (${adapter.backend})`);
    if (args.export) return await exportCommand(args, openData);
    if (args.import) return await importCommand(args);
    if (args.eval) return await evalOnly(args, adapter);
    return await train(args, adapter);
  } catch (e) {
    if (e instanceof UsageError || ['DataError', 'SafetensorsError', 'IdxError'].includes((e as Error).name)) {
      log(`train.js: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}

async function train(args: ParsedArgs, adapter: AdapterDescription): Promise<number> {
  const method = args.method as Method;
  const name = args.name ?? `${method}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const dir = join(args.out!, name);
  const ckptPath = join(dir, 'checkpoint.safetensors');
  const bestPath = join(dir, 'best.safetensors');
  if (args.resume && !existsSync(ckptPath)) throw new UsageError(`--resume: ${ckptPath} does not exist (give the --name of an earlier run)`);
  if (!args.resume && existsSync(ckptPath)) throw new UsageError(`${dir} already holds a run; pass --resume to continue it, or choose another --name`);
  mkdirSync(join(dir, 'pictures'), { recursive: true });

  const data = await openData(args, !!args.weights);
  log(`data: ${data.description}`);
  const spec = modelSpec(args, data.train.numClasses);
  manualSeed(args.seed);
  initSeed(args.seed);
  const model = buildModel(spec);
  if (args.weights) {
    const contents = await loadSafetensorsFile(args.weights);
    const targets: [string, VisionTransformer][] = model instanceof IFAM ? [['stage1', model.stage1], ['stage2', model.stage2]] : [['', model as VisionTransformer]];
    for (const [, vit] of targets) {
      const r = loadWeights(vit, contents, { strict: true, allowMissing: ['head.'], ignore: ['head.', 'fc_norm.'] });
      if (r.missing.length) log(`weights: kept fresh ${r.missing.join(', ')}`);
    }
    log(`weights: loaded ${args.weights} into ${targets.map(([n]) => n || 'the model').join(' and ')}`);
  }
  if (method === 'robustvit' && args.init) {
    const { model: base } = await loadCheckpoint(args.init);
    model.loadStateDict(base.stateDict());
    log(`robustvit: fine-tuning ${args.init}`);
  }
  const phases: Phase[] = method === 'robustvit'
    ? [...(args.init ? [] : [{ name: 'baseline' as const, loss: 'baseline' as const, epochs: args['base-epochs'], lr: args.lr }]), { name: 'relevance', loss: 'relevance', epochs: args.epochs, lr: args['relevance-lr'] }]
    : [{ name: 'train', loss: method, epochs: args.epochs, lr: args.lr }];
  const weights = lossWeights(args);
  const loader = new DataLoader(data.train, {
    batchSize: args['batch-size'], shuffle: true, seed: args.seed, dropLast: true, normalize: data.normalize,
    augment: args.augment ? { flip: true } : null, prefetch: 2,
  });
  const stepsPerEpoch = loader.batchesPerEpoch;
  if (stepsPerEpoch === 0) throw new UsageError(`--batch-size ${args['batch-size']} is larger than the ${data.train.length} training images`);
  const pics = pictureIndices(data.test);

  let prog: Progression = { phase: 0, epoch: 0, batch: 0, globalStep: 0, trainSeconds: 0, imagesSeen: 0, rng: getRngState(), history: [], lossSum: 0, lossCount: 0 };
  let resumeTensors: Record<string, Tensor> | null = null;
  let resumeMeta: Record<string, string> | null = null;
  if (args.resume) {
    const { tensors, metadata } = await loadSafetensorsFile(ckptPath);
    const saved = JSON.parse(metadata['webfam.spec'] ?? 'null') as ModelSpec | null;
    if (!saved || saved.method !== spec.method || saved.preset !== spec.preset || JSON.stringify(saved.vit) !== JSON.stringify(spec.vit)) {
      throw new UsageError(`--resume: ${ckptPath} was trained with a different method or model; use the same flags as the original run`);
    }
    model.loadStateDict(modelEntries(tensors));
    prog = JSON.parse(metadata['webfam.progress']!) as Progression;
    if (prog.best && prog.best.by !== args.select) {
      throw new UsageError(`--resume: this run chose its best epoch by --select ${prog.best.by}; resume it with the same --select`);
    }
    resumeTensors = tensors;
    resumeMeta = metadata;
    log(`resume: phase ${phases[prog.phase]?.name}, epoch ${prog.epoch + 1}, batch ${prog.batch} (step ${prog.globalStep})`);
  }
  await writeJsonAtomic(join(dir, 'config.json'), { ...args, explicit: undefined, name, spec, phases, adapter: adapter.description, data: data.description });

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('\ninterrupted: saving a checkpoint at the end of this step (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const finalMetrics: Record<string, unknown> = {};
  let epochsThisRun = 0;
  try {
    for (let ph = prog.phase; ph < phases.length; ph++) {
      const phase = phases[ph]!;
      const opt = new AdamW(paramGroups(model, args['weight-decay']), { lr: phase.lr, weightDecay: args['weight-decay'] });
      const totalSteps = phase.epochs * stepsPerEpoch;
      const schedule = cosineSchedule({ baseLr: phase.lr, totalSteps, warmupSteps: Math.min(totalSteps, Math.round(args['warmup-epochs'] * stepsPerEpoch)), minLr: phase.lr * 0.01 });
      if (resumeTensors && ph === prog.phase) {
        opt.loadStateDict(stateFromTensors(resumeTensors, resumeMeta!));
        setRngState(prog.rng);
        for (const [k, t] of Object.entries(resumeTensors)) if (k.startsWith('optimizer.') || !t.name) t.dispose();
        resumeTensors = null;
      } else if (ph !== prog.phase) {
        prog = { ...prog, phase: ph, epoch: 0, batch: 0, lossSum: 0, lossCount: 0, termSums: {} };
      }
      const phaseStart = prog.globalStep - (prog.epoch * stepsPerEpoch + prog.batch);
      for (let epoch = prog.epoch; epoch < phase.epochs; epoch++) {
        model.train();
        const label = `${phases.length > 1 ? `${phase.name} ` : ''}epoch ${epoch + 1}/${phase.epochs}`;
        const bar = new Progress(label, stepsPerEpoch, args['batch-size'], args.quiet);
        const t0 = performance.now();
        let k = 0;
        let pending: Record<string, Tensor> | null = null;
        let lastLoss = NaN;
        const readPending = async () => {
          if (!pending) return;
          const vals: Record<string, number> = {};
          for (const [key, t] of Object.entries(pending)) vals[key] = (await t.data())[0]!;
          for (const t of Object.values(pending)) t.dispose();
          pending = null;
          if (!Number.isFinite(vals.total!)) {
            const terms = Object.entries(vals).map(([a, b]) => `${a}=${b}`).join(', ');
            throw new NonFiniteLoss(`loss became ${vals.total} at step ${prog.globalStep} (${terms}); the last good checkpoint is kept at ${ckptPath}. Try a lower --lr or --clip.`);
          }
          lastLoss = vals.total!;
          prog.lossSum += vals.total!;
          prog.lossCount++;
          prog.termSums ??= {};
          for (const [key, v] of Object.entries(vals)) prog.termSums[key] = (prog.termSums[key] ?? 0) + v;
        };
        for await (const b of loader.epoch(epoch)) {
          if (k++ < prog.batch) continue; // resumed mid-epoch
          const step = prog.globalStep;
          opt.setLr(schedule(step - phaseStart));
          const terms = tidy(() => {
            const x = tensor(b.images, { shape: [b.size, 3, b.imageSize, b.imageSize] });
            const masks = b.masks ? tensor(b.masks, { shape: [b.size, b.imageSize, b.imageSize] }) : null;
            const t = batchLoss(phase.loss, model, { x, labels: b.labels, masks }, weights, args.seed, step);
            t.total.backward();
            if (args.clip > 0) clipGradNorm(model.parameters(), args.clip);
            opt.step();
            opt.zeroGrad();
            return Object.fromEntries(Object.entries(t).map(([n, v]) => [n, v.detach()])) as Record<string, Tensor>;
          });
          await readPending(); // the previous step's losses, read while this step runs
          pending = terms;
          prog.globalStep++;
          prog.batch = k;
          prog.imagesSeen += b.size;
          bar.update(k, { loss: Number.isNaN(lastLoss) ? undefined : lastLoss, lr: opt.baseLr });
          if (interrupted) break;
        }
        await readPending();
        prog.trainSeconds += (performance.now() - t0) / 1000;
        if (interrupted) {
          prog.rng = getRngState();
          prog.epoch = epoch;
          await saveCheckpoint(ckptPath, model, opt, spec, prog, data.normalize, data.train.classNames);
          bar.finish('interrupted');
          log(`saved ${ckptPath}; continue with: node train.js --name ${name} --resume${args.out !== 'runs' ? ` --out ${args.out}` : ''} (and the same flags)`);
          return 130;
        }
        const trainLoss = prog.lossSum / Math.max(1, prog.lossCount);
        const val = await evaluate(method, model, data.val, { batchSize: args['batch-size'], normalize: data.normalize, quiet: true });
        bar.finish(`loss ${trainLoss.toFixed(4)}  val acc ${(100 * val.avg_acc).toFixed(1)}%  worst group ${(100 * val.worst_group_acc).toFixed(1)}%`);
        const terms = Object.fromEntries(Object.entries(prog.termSums ?? {}).map(([key, v]) => [key, v / Math.max(1, prog.lossCount)]));
        prog.history.push({ phase: phase.name, epoch: prog.history.length + 1, train_loss: trainLoss, val_avg_acc: val.avg_acc, val_worst_group_acc: val.worst_group_acc, terms });
        if (args.select !== 'last' && ph === phases.length - 1) {
          // Lexicographic: the chosen accuracy first, the other one breaks ties; the earlier epoch wins a full tie.
          const score = args.select === 'val-worst' ? [val.worst_group_acc, val.avg_acc] : [val.avg_acc, val.worst_group_acc];
          const better = !prog.best || score[0]! > prog.best.score[0]! || (score[0] === prog.best.score[0] && score[1]! > prog.best.score[1]!);
          if (better) {
            prog.best = { by: args.select!, epoch: prog.history.length, score };
            await saveCheckpoint(bestPath, model, opt, spec, { ...prog, epoch: epoch + 1, batch: 0 }, data.normalize, data.train.classNames);
          }
        }
        prog.termSums = {};
        prog.epoch = epoch + 1;
        prog.batch = 0;
        prog.lossSum = 0;
        prog.lossCount = 0;
        prog.rng = getRngState();
        await saveCheckpoint(ckptPath, model, opt, spec, prog, data.normalize, data.train.classNames);
        await writeJsonAtomic(join(dir, 'metrics.json'), { method, epochs: prog.history, final: null });
        if (args.pictures) await saveCurves(join(dir, 'pictures', 'curves.png'), prog.history, `${method}: loss and validation accuracy`);
        const lastEpoch = ph === phases.length - 1 && epoch === phase.epochs - 1;
        if (args['stop-after'] > 0 && ++epochsThisRun >= args['stop-after'] && !lastEpoch) {
          log(`stopped after ${epochsThisRun} epoch(s) as asked; continue with: node train.js --name ${name} --resume (and the same flags)`);
          return 0;
        }
      }
      opt.dispose();
    }

    if (args.select !== 'last' && prog.best) {
      // Test the selected epoch's model (checkpoint.safetensors stays the last one, for --resume).
      const { tensors } = await loadSafetensorsFile(bestPath);
      model.loadStateDict(modelEntries(tensors));
      for (const t of Object.values(tensors)) t.dispose();
      log(`--select ${args.select}: testing the model of epoch ${prog.best.epoch} (${bestPath})`);
    }
    const test = await evaluate(method, model, data.test, {
      batchSize: args['batch-size'], normalize: data.normalize, quiet: args.quiet, label: 'test', noise: args['eval-noise'],
      relevance: method !== 'ifam', keepSamples: pics, trainGroupCounts: groupCounts(data.train),
    });
    if (args.pictures) {
      await saveSamplePicture(join(dir, 'pictures', 'test-samples.png'), test.samples, data.test, `${method} on test images of every group`);
    }
    const epochs = phases.reduce((a, p) => a + p.epochs, 0);
    Object.assign(finalMetrics, {
      method, epochs, train_seconds: prog.trainSeconds, img_per_s: prog.imagesSeen / Math.max(1e-9, prog.trainSeconds),
      steps: prog.globalStep, run_dir: dir, adapter: adapter.description, data: data.description,
      ...(method === 'ifam' ? { joint_grad: args['joint-grad'] } : {}),
      val: (args.select !== 'last' && prog.best ? prog.history[prog.best.epoch - 1] : prog.history.at(-1)) ?? null,
      ...(args.select !== 'last' && prog.best ? { selected: { by: args.select, epoch: prog.best.epoch, checkpoint: bestPath } } : {}),
      test: publicResult(test),
    });
    await writeJsonAtomic(join(dir, 'metrics.json'), { method, epochs: prog.history, final: finalMetrics });
    const selected = args.select !== 'last' && prog.best ? `; model of epoch ${prog.best.epoch}, chosen by ${args.select}` : '';
    printSummary(test, method, ` after ${epochs} epochs, ${prog.trainSeconds.toFixed(0)} s of training (${(finalMetrics.img_per_s as number).toFixed(1)} img/s)${selected}`);
    process.stdout.write(`outputs in ${dir}/\n`);
    if (args.json) process.stdout.write(JSON.stringify(finalMetrics) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof NonFiniteLoss) {
      log(`train.js: ${e.message}`);
      return 3;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

class NonFiniteLoss extends Error {}
