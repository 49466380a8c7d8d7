// `node train.js`: data, model, optimiser and the training loop — checkpoint every epoch (atomic),
// resume (optimiser, schedule position and RNG included, flags from the run's config.json), Ctrl-C
// or SIGTERM saves and exits, a NaN/Inf loss stops the run keeping the last good checkpoint — then
// test metrics, pictures and a summary. Everything a user can get wrong (flags, data, files,
// folders) is checked before the GPU starts where possible, and ends in one line and exit code 2.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { init, type AdapterDescription } from '../tensor/device.js';
import { Tensor, tensor, tidy } from '../tensor/tensor.js';
import { getRngState, setRngState, type RngState } from '../tensor/ops/random.js';
import { AdamW, stateFromTensors } from '../nn/optim.js';
import { clipGradNorm } from '../nn/clip.js';
import { cosineSchedule } from '../nn/schedule.js';
import { seedAll } from '../nn/seed.js';
import type { Module } from '../nn/module.js';
import { decodeSafetensors, loadSafetensors, readSafetensorsFile, saveSafetensorsFile, type HostTensor } from '../io/safetensors.js';
import { reasonOf } from '../io/files.js';
import { syntheticDataset } from '../data/synthetic.js';
import { fashionBenchmark, loadFashionMnist, FASHION_CLASSES, type FashionClass, type FashionMnist, type FashionSplit } from '../data/fashion.js';
import { IdxError } from '../io/idx.js';
import { DataLoader } from '../data/loader.js';
import { groupCounts, type ImageDataset, type Normalization, type NormalizeOption } from '../data/dataset.js';
import { validateFolder, waterbirdsDataset, type FolderReport } from '../data/waterbirds.js';
import { vitConfig, type PresetName, type ViTConfig } from '../vit/config.js';
import { VisionTransformer } from '../vit/vit.js';
import { IFAM } from '../vit/ifam.js';
import { loadWeights } from '../vit/weights.js';
import { DEFAULT_PART_LOSS_WEIGHTS } from '../vit/part_losses.js';
import { checkApplicable, flagApplies, FLAGS, parseArgs, helpText, UsageError, type FlagName, type FlagSpec, type ParsedArgs } from './args.js';
import { batchLoss, buildModel, type LossWeights, type Method, type ModelSpec } from '../vit/methods.js';
import { checkCheckpoint, checkpointEntries, metadataJson, modelEntries, type CheckpointHeader } from '../vit/checkpoint.js';
import { evaluate, pictureIndices, type EvalResult } from './evaluate.js';
import { saveCurves, saveSamplePicture, type CurvePoint } from './pictures.js';
import { Progress } from './progress.js';
import { StepLog } from './steplog.js';
import type { FigureBackend } from '../io/figure.js';
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

async function openData(args: ParsedArgs, pretrained: boolean, forTraining = false): Promise<DataSplits> {
  const normalize: NormalizeOption = pretrained ? 'imagenet' : SCRATCH_NORMALIZATION;
  if (args.data) {
    if (args.explicit.has('benchmark')) throw new UsageError('--benchmark and --data exclude each other: --data DIR trains on the folder instead of a benchmark');
    // Bad data fails here, before any training: every row is read and every image decoded.
    const report = await validateFolder(args.data, { skipBad: args['skip-bad'] });
    if (args['skip-bad'] && report.skipped.length) log(`data: ${report.summary}`);
    checkFolderSplits(report, forTraining);
    const open = (split: 'train' | 'val' | 'test') => waterbirdsDataset(args.data!, { split, imageSize: args['image-size'], skipBad: args['skip-bad'], report });
    const [train, val, test] = await Promise.all([open('train'), open('val'), open('test')]);
    return { train, val, test, normalize: 'imagenet', description: `${args.data} (${train.length}/${val.length}/${test.length} images, ${report.numClasses} classes, ${report.numPlaces} places)` };
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

/**
 * What a folder must hold to train (or test) on: at least two classes, every split non-empty, and
 * every class present in the training split (a class seen only in val or test is a typo in y far
 * more often than a real class). Names the folder, and the line of the offending row.
 */
function checkFolderSplits(report: FolderReport, forTraining: boolean): void {
  const where = report.csvPath;
  if (report.rows.length > 0 && report.numClasses < 2) {
    throw new UsageError(`${where}: every usable row has y = 0, and a classifier needs at least two classes (y = 0 and y = 1)`);
  }
  const names = ['train', 'val', 'test'] as const;
  for (const k of forTraining ? [0, 1, 2] : [2]) {
    if (report.splitCounts[k as 0 | 1 | 2] === 0) throw new UsageError(`${where}: no usable rows in the ${names[k]} split (split = ${k})${report.skipped.length ? `; ${report.summary}` : ''}`);
  }
  if (!forTraining) return;
  const trainRows = new Map<number, number>();
  for (const r of report.rows) if (r.split === 0) trainRows.set(r.y, (trainRows.get(r.y) ?? 0) + 1);
  const stray = report.rows.find((r) => !trainRows.has(r.y));
  if (stray) throw new UsageError(`${where}:${stray.line}: y = ${stray.y} has no row in the training split (split = 0), so the model could never learn that class`);
  // A handful of rows of a class next to hundreds of the others is more likely a typo in y.
  const most = Math.max(...trainRows.values());
  for (const [y, n] of trainRows) {
    if (n <= 5 && n < 0.01 * most) {
      const first = report.rows.find((r) => r.split === 0 && r.y === y)!;
      log(`train.js: warning: class y = ${y} has only ${n} training row${n > 1 ? 's' : ''} (the first on ${where}:${first.line}) against ${most} for the largest class; a typo in y?`);
    }
  }
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
  let vit: ViTConfig;
  try {
    vit = vitConfig(preset, { imageSize: args['image-size'] });
  } catch (e) {
    throw new UsageError(`--model ${preset} --image-size ${args['image-size']}: ${(e as Error).message}`);
  }
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
  const { tensors, metadata } = checkpointEntries(model, { spec, normalize, classNames, optimizer: opt, metadata: { 'webfam.progress': JSON.stringify(prog) } });
  await saveSafetensorsFile(path, tensors, metadata);
}

/** A checkpoint read and checked on the host, before anything goes to the GPU. */
interface HostCheckpoint extends CheckpointHeader {
  path: string;
  tensors: Record<string, HostTensor>;
}

/**
 * Reads a checkpoint written by train.js into host memory: a regular file of bounded size, a
 * valid safetensors header, metadata that checkCheckpoint accepts (a well-formed spec that matches
 * the weights the file holds). `flag` names the flag that gave the path, for messages.
 */
async function readCheckpointHost(path: string, flag: string): Promise<HostCheckpoint> {
  if (!existsSync(path)) throw new UsageError(`${flag}: checkpoint ${path} does not exist`);
  const { tensors, metadata } = decodeSafetensors(await readSafetensorsFile(path));
  return { path, ...checkCheckpoint({ tensors, metadata }, { where: path, plainWeightsHint: 'for plain timm weights use --weights' }), tensors };
}

/** Warns (one line) when weights hold NaN or infinite values: whatever is measured with them is meaningless. */
function warnNonFinite(tensors: Record<string, HostTensor>, path: string, what: string): void {
  let bad = 0, total = 0;
  const names: string[] = [];
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith('optimizer.')) continue;
    let here = 0;
    for (const v of t.data) if (!Number.isFinite(v)) here++;
    total += t.data.length;
    if (here) {
      bad += here;
      names.push(k);
    }
  }
  if (bad) {
    log(`train.js: warning: ${bad.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} weights in ${path} are NaN or infinite (${names.slice(0, 3).join(', ')}${names.length > 3 ? `, and ${names.length - 3} more tensors` : ''}); ${what}`);
  }
}

/**
 * Uploads a host checkpoint's tensors (`all`: the optimiser state too, for --resume) and loads the
 * model's entries into `model`; returns the uploaded tensors.
 */
function checkpointModelInto(model: Module, host: HostCheckpoint, all = true): { tensors: Record<string, Tensor> } {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(host.tensors)) if (all || !k.startsWith('optimizer.')) tensors[k] = tensor(t.data, { shape: t.shape });
  try {
    model.loadStateDict(modelEntries(tensors));
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new UsageError(`${host.path}: the weights do not fit the model its spec describes: ${oneLine((e as Error).message.replace(/^loadStateDict \(\w+\): /, ''))}`);
  }
  return { tensors };
}

/** Builds the model of a host checkpoint on the GPU. */
function checkpointModel(host: HostCheckpoint): LoadedModel {
  const model = buildModel(host.spec);
  try {
    const { tensors } = checkpointModelInto(model, host, false);
    for (const t of Object.values(tensors)) t.dispose();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { spec: host.spec, model, normalize: host.normalize };
}

/** A model read from a checkpoint file or an export directory, with what its inputs need. */
interface LoadedModel {
  spec: ModelSpec;
  model: Module;
  normalize: Normalization | null;
}

/** Loads a checkpoint written by train.js, or an export directory. */
async function loadCheckpoint(path: string): Promise<LoadedModel> {
  if (!existsSync(path)) throw new UsageError(`checkpoint ${path} does not exist`);
  if (isExportDir(path)) return loadExportAsCheckpoint(path);
  return checkpointModel(await readCheckpointHost(path, 'checkpoint'));
}

/** Whether a path names a folder (export directories are folders; checkpoints are files). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The test table; on stderr when stdout is kept for --json's one line. */
function printSummary(result: EvalResult, method: string, extra: string, out: NodeJS.WritableStream = process.stdout): void {
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
  out.write(lines.join('\n') + '\n');
}

function publicResult(r: EvalResult): Omit<EvalResult, 'samples'> {
  const { samples: _samples, ...rest } = r;
  return rest;
}

async function evalOnly(args: ParsedArgs): Promise<number> {
  checkApplicable(args);
  // A checkpoint file is read and checked before the GPU starts (a folder is an export, loaded later).
  const host = isFolder(args.eval!) ? null : await readCheckpointHost(args.eval!, '--eval');
  if (host) {
    checkApplicable(args, host.spec.method);
    warnNonFinite(host.tensors, args.eval!, 'the accuracy below is meaningless');
  }
  const adapter = await startGpu();
  const { spec, model, normalize } = host ? checkpointModel(host) : await loadCheckpoint(args.eval!);
  const data = await openData({ ...args, 'image-size': spec.vit.imageSize }, false);
  if (data.test.numClasses !== spec.numClasses) {
    throw new UsageError(`--eval: ${args.eval} classifies ${spec.numClasses} classes, but the test data has ${data.test.numClasses}`);
  }
  const result = await evaluate(spec.method, model, data.test, {
    batchSize: args['batch-size'], normalize, quiet: args.quiet, label: 'test', noise: args['eval-noise'],
    relevance: spec.method !== 'ifam', keepSamples: pictureIndices(data.test), trainGroupCounts: groupCounts(data.train),
  });
  printSummary(result, spec.method, ` (${args.eval})`, args.json ? process.stderr : process.stdout);
  if (args.json) process.stdout.write(JSON.stringify({ method: spec.method, checkpoint: args.eval, adapter: adapter.description, data: data.description, config: { spec, normalize }, test: publicResult(result) }) + '\n');
  return 0;
}

/** Starts the GPU (after everything that can be checked without it) and says which adapter runs. */
async function startGpu(): Promise<AdapterDescription> {
  const adapter = await init();
  log(`webfam on ${adapter.description || adapter.device || adapter.vendor} (${adapter.backend})`);
  return adapter;
}

/** Errors in what the user gave (flags, data, files): one line, exit code 2. */
const USER_ERRORS = new Set(['UsageError', 'DataError', 'SafetensorsError', 'IdxError', 'FileError', 'ImageDecodeError', 'SpecError', 'CheckpointError']);

/** A multi-line message (a list of problems, a GPU error with its call site) as one line. */
export function oneLine(message: string, maxItems = 5): string {
  const lines = message.split('\n').map((l) => l.trim().replace(/^- /, '')).filter(Boolean);
  if (lines.length <= 1) return lines[0] ?? '';
  const items = lines.slice(1);
  const shown = items.slice(0, maxItems).join('; ');
  const sep = /[:;]$/.test(lines[0]!) ? ' ' : ': ';
  return `${lines[0]}${sep}${shown}${items.length > maxItems ? `; … and ${items.length - maxItems} more` : ''}`;
}

/**
 * The single place errors end up: user errors print one line (exit 2), a diverging loss exits 3,
 * GPU memory exhaustion one line (exit 1); anything else is a bug in webfam and keeps its stack
 * trace (exit 1). --debug adds the stack trace to every message.
 */
function reportError(e: unknown, debug: boolean): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = () => { if (debug && err.stack) log(err.stack); };
  const errno = err as NodeJS.ErrnoException;
  if (USER_ERRORS.has(err.name)) {
    log(`train.js: ${oneLine(err.message)}`);
    stack();
    return 2;
  }
  if (typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    // A file-system call on a path the user chose (the run folder, a file) failed.
    log(`train.js: cannot ${errno.syscall} ${errno.path ?? ''}: ${reasonOf(err)}`.replace('  ', ' '));
    stack();
    return 2;
  }
  if (err instanceof NonFiniteLoss) {
    log(`train.js: ${err.message}`);
    stack();
    return 3;
  }
  if (/out of GPU memory|GPU out of memory|largest buffer this GPU allows/.test(err.message)) {
    log(`train.js: ${oneLine(err.message)}; try a smaller --batch-size, --image-size or --model`);
    stack();
    return 1;
  }
  log(`train.js: internal error (a bug in webfam, not a problem with your input; please report it with the trace below): ${oneLine(err.message)}`);
  log(err.stack ?? '(no stack trace)');
  return 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  // Known before parsing, so even an error in the flags can show its trace.
  let debug = argv.some((a) => /^--debug(=(true|1))?$/.test(a));
  // `node train.js --help | head`: a reader that went away is not an error (stdout carries only
  // the final summary and --json, written after everything is saved).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    let args = parseArgs(argv);
    debug = args.debug;
    if (args.help) {
      process.stdout.write(helpText() + '\n');
      return 0;
    }
    checkBridgeFlags(args);
    if (args.export) {
      await startGpu();
      return await exportCommand(args, openData);
    }
    if (args.import) {
      await startGpu();
      return await importCommand(args);
    }
    if (args.eval) return await evalOnly(args);
    if (args.resume) args = restoreRunArgs(args, argv);
    return await train(args);
  } catch (e) {
    return reportError(e, debug);
  }
}

/** Flags that belong to one invocation, not to the run: never restored by --resume. */
const PER_INVOCATION: readonly FlagName[] = ['resume', 'name', 'out', 'help', 'debug', 'quiet', 'json', 'stop-after'];

/** The flags a run's config.json restores: its configuration, not modes such as --eval. */
function restorable(k: FlagName): boolean {
  if (PER_INVOCATION.includes(k)) return false;
  return FLAGS[k].group !== 'What to run' || ['method', 'benchmark', 'data'].includes(k);
}

/**
 * `--name X --resume`: the run's flags come from its config.json; flags given now must equal
 * them, except the few marked resumable (--epochs to extend, output flags). Changed ones are
 * refused by name: a resumed run continues exactly the run that was started.
 */
function restoreRunArgs(given: ParsedArgs, argv: readonly string[]): ParsedArgs {
  if (!given.name) throw new UsageError('--resume needs the --name of the run to continue');
  const dir = join(given.out!, given.name);
  const configPath = join(dir, 'config.json');
  if (!existsSync(join(dir, 'checkpoint.safetensors'))) throw new UsageError(`--resume: ${join(dir, 'checkpoint.safetensors')} does not exist (give the --name of an earlier run${given.out !== 'runs' ? '' : ', and --out if it was not runs'})`);
  let saved: Record<string, unknown>;
  try {
    const st = statSync(configPath);
    if (!st.isFile() || st.size > 1 << 20) throw new Error(st.isFile() ? 'over 1 MiB' : 'not a regular file');
    saved = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) throw new Error('not a JSON object');
  } catch (e) {
    throw new UsageError(`--resume: cannot read the run's flags from ${configPath} (${(e as NodeJS.ErrnoException).code ? reasonOf(e) : (e as Error).message})`);
  }
  // Older config.json files kept the data description under "data", where the --data flag now
  // is: "<folder> (n/n/n images)" for a folder, a benchmark's description otherwise.
  const oldFormat = !('data_description' in saved);
  if (oldFormat) {
    const folder = typeof saved.data === 'string' ? /^(.*) \(\d+\/\d+\/\d+ images\)$/.exec(saved.data) : null;
    saved = { ...saved, data: folder && !/^(embedded synthetic benchmark|Fashion-MNIST) /.test(saved.data as string) ? folder[1] : null };
  }
  const restoredArgv: string[] = [];
  const savedMethod = String(saved.method ?? FLAGS.method.default), savedBenchmark = String(saved.benchmark ?? FLAGS.benchmark.default);
  for (const [k, spec] of Object.entries(FLAGS) as [FlagName, FlagSpec][]) {
    if (!restorable(k) || !flagApplies(k, savedMethod, typeof saved.data === 'string', savedBenchmark)) continue;
    const v = saved[k];
    if (v === undefined || v === null || v === spec.default) continue;
    restoredArgv.push(`--${k}=${String(v)}`);
  }
  let restored: ParsedArgs;
  try {
    restored = parseArgs(restoredArgv);
  } catch (e) {
    throw new UsageError(`--resume: ${configPath}: ${(e as Error).message}`);
  }
  const changed = [...given.explicit].filter((k) => restorable(k) && !(FLAGS[k] as FlagSpec).resumable && String(given[k]) !== String(restored[k]));
  if (changed.length) {
    const what = changed.map((k) => `--${k} ${String(given[k])} (the run has ${String(restored[k])})`).join(', ');
    const allowed = (Object.entries(FLAGS) as [FlagName, FlagSpec][]).filter(([k, s]) => s.resumable && k !== 'help').map(([k]) => `--${k}`);
    throw new UsageError(`--resume continues the run exactly as it was configured in ${configPath}, so it refuses ${what}; only ${allowed.join(', ')} may be given differently (or start a new run with another --name)`);
  }
  const args = parseArgs([...restoredArgv, ...argv]);
  if (args.epochs !== restored.epochs) {
    log(`resume: --epochs ${args.epochs} instead of the run's ${restored.epochs}; the learning-rate schedule now spans the new length, so this is not an exact continuation of the original run`);
  }
  return args;
}

/**
 * Creates a folder and its missing parents one by one (Node's recursive mkdir loops forever under
 * /proc); returns the folders it created, outermost first.
 */
function makeFolders(dir: string): string[] {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  if (existsSync(p) && !statSync(p).isDirectory()) throw new UsageError(`cannot create the run folder ${dir}: ${p} is not a folder`);
  for (const q of missing) {
    try {
      mkdirSync(q);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(q).isDirectory()) continue;
      throw new UsageError(`cannot create the run folder ${dir}: ${reasonOf(e)} (${q})`);
    }
  }
  return missing;
}

/**
 * One train.js at a time per run folder: a lock file with the process id. A lock whose process is
 * gone (killed with SIGKILL, the machine restarted) is taken over. Returns the release function.
 */
function lockRun(dir: string): () => void {
  const lock = join(dir, 'train.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new UsageError(`cannot lock the run folder ${dir}: ${reasonOf(e)}`);
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new UsageError(`${dir} is in use by another train.js (process ${pid}); wait for it to finish, or if no such run is going on, remove ${lock}`);
      }
      rmSync(lock, { force: true });
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try { unlinkSync(lock); } catch { /* already gone */ }
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what an interrupted atomic write leaves (name.tmp-...), in the run folder and its pictures. */
function removeStaleTemporaries(dir: string): number {
  let removed = 0;
  for (const d of [dir, join(dir, 'pictures')]) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (!/\.tmp-[0-9a-z-]+$/i.test(f)) continue;
      rmSync(join(d, f), { force: true });
      removed++;
    }
  }
  return removed;
}

async function train(args: ParsedArgs): Promise<number> {
  checkApplicable(args);
  const method = args.method as Method;
  const name = args.name ?? `${method}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const dir = join(args.out!, name);
  const ckptPath = join(dir, 'checkpoint.safetensors');
  const bestPath = join(dir, 'best.safetensors');
  if (existsSync(dir) && !isFolder(dir)) throw new UsageError(`the run folder ${dir} exists and is not a folder`);
  if (!args.resume && existsSync(ckptPath)) throw new UsageError(`${dir} already holds a run; pass --resume to continue it, or choose another --name`);

  // Everything that reads the user's files runs before the run folder is made and the GPU starts.
  const resumeHost = args.resume ? await readCheckpointHost(ckptPath, '--resume') : null;
  let prog: Progression = { phase: 0, epoch: 0, batch: 0, globalStep: 0, trainSeconds: 0, imagesSeen: 0, rng: getRngState(), history: [], lossSum: 0, lossCount: 0 };
  if (resumeHost) {
    const saved = metadataJson(resumeHost.metadata, 'webfam.progress', ckptPath);
    if (!isProgression(saved)) throw new UsageError(`--resume: ${ckptPath} has no valid "webfam.progress" metadata (it was not written by a training run); start a new run instead`);
    prog = saved;
    if (prog.best && prog.best.by !== args.select) {
      throw new UsageError(`--resume: this run chose its best epoch by --select ${prog.best.by}; resume it with the same --select`);
    }
  }
  const data = await openData(args, !!args.weights, true);
  log(`data: ${data.description}`);
  const spec = modelSpec(args, data.train.numClasses);
  if (resumeHost) {
    const saved = resumeHost.spec;
    const sameVit = (Object.keys(spec.vit) as (keyof ViTConfig)[]).every((k) => saved.vit[k] === spec.vit[k]);
    if (saved.method !== spec.method || saved.preset !== spec.preset || !sameVit || saved.numClasses !== spec.numClasses) {
      throw new UsageError(`--resume: ${ckptPath} holds a ${saved.method} ${saved.preset} model of ${saved.numClasses} classes at ${saved.vit.imageSize} px, which these flags and data do not describe`);
    }
  }
  const weightsBytes = args.weights ? await readSafetensorsFile(args.weights) : null;
  const initHost = args.init && !isFolder(args.init) ? await readCheckpointHost(args.init, '--init') : null;
  if (initHost) {
    if (initHost.spec.method === 'ifam') throw new UsageError(`--init needs a baseline (or robustvit) checkpoint to fine-tune; ${args.init} is an ifam checkpoint`);
    warnNonFinite(initHost.tensors, args.init!, 'fine-tuning them will not work');
  }
  const phases: Phase[] = method === 'robustvit'
    ? [...(args.init ? [] : [{ name: 'baseline' as const, loss: 'baseline' as const, epochs: args['base-epochs'], lr: args.lr }]), { name: 'relevance', loss: 'relevance', epochs: args.epochs, lr: args['relevance-lr'] }]
    : [{ name: 'train', loss: method, epochs: args.epochs, lr: args.lr }];
  if (resumeHost && prog.phase === phases.length - 1 && prog.epoch > phases[prog.phase]!.epochs) {
    throw new UsageError(`--resume: this run has already trained ${prog.epoch} epochs${phases.length > 1 ? ` of its ${phases[prog.phase]!.name} phase` : ''}; --epochs ${phases[prog.phase]!.epochs} cannot shorten it`);
  }
  const loader = new DataLoader(data.train, {
    batchSize: args['batch-size'], shuffle: true, seed: args.seed, dropLast: true, normalize: data.normalize,
    augment: args.augment ? { flip: true } : null, prefetch: 2,
  });
  const stepsPerEpoch = loader.batchesPerEpoch;
  if (stepsPerEpoch === 0) throw new UsageError(`--batch-size ${args['batch-size']} is larger than the ${data.train.length} training images`);

  // The run folder: made now, locked against a second train.js, cleared of what an interrupted
  // write left behind, and removed again if this run fails before its first checkpoint.
  const created = makeFolders(dir);
  let unlock: () => void;
  try {
    unlock = lockRun(dir);
  } catch (e) {
    removeCreated(created);
    throw e;
  }
  let checkpointed = existsSync(ckptPath);
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      unlock();
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    interrupted = signal;
    log(`\ninterrupted (${signal}): saving a checkpoint at the end of this step (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const stale = removeStaleTemporaries(dir);
    if (stale) log(`removed ${stale} temporary file${stale > 1 ? 's' : ''} an interrupted write left in ${dir}`);
    return await trainInFolder({ args, method, name, dir, ckptPath, bestPath, data, spec, phases, loader, prog, resumeHost, weightsBytes, initHost, wasInterrupted: () => interrupted, onCheckpoint: () => { checkpointed = true; } });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unlock();
    // A run that failed before its first checkpoint leaves nothing behind (no empty folders).
    if (!checkpointed) removeCreated(created);
  }
}

/** Removes the folders makeFolders created (innermost first; parents only while empty). */
function removeCreated(created: readonly string[]): void {
  if (created.length === 0) return;
  rmSync(created.at(-1)!, { recursive: true, force: true });
  for (const d of [...created].reverse().slice(1)) {
    try {
      if (readdirSync(d).length === 0) rmSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
}

/** A parsed "webfam.progress" that has what resuming reads. */
function isProgression(v: unknown): v is Progression {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  const count = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  return count(p.phase) && count(p.epoch) && count(p.batch) && count(p.globalStep) && typeof p.trainSeconds === 'number'
    && typeof p.imagesSeen === 'number' && typeof p.rng === 'object' && p.rng !== null && Array.isArray(p.history)
    && typeof p.lossSum === 'number' && typeof p.lossCount === 'number';
}

interface RunSetup {
  args: ParsedArgs;
  method: Method;
  name: string;
  dir: string;
  ckptPath: string;
  bestPath: string;
  data: DataSplits;
  spec: ModelSpec;
  phases: Phase[];
  loader: DataLoader;
  prog: Progression;
  resumeHost: HostCheckpoint | null;
  weightsBytes: Uint8Array | null;
  initHost: HostCheckpoint | null;
  wasInterrupted: () => NodeJS.Signals | null;
  onCheckpoint: () => void;
}

/** The run itself, once its inputs are checked and its folder is made and locked. */
async function trainInFolder(run: RunSetup): Promise<number> {
  const { args, method, name, dir, ckptPath, bestPath, data, spec, phases, loader, resumeHost } = run;
  let prog = run.prog;
  const adapter = await startGpu();
  seedAll(args.seed);
  const model = buildModel(spec);
  if (run.weightsBytes) {
    const contents = loadSafetensors(run.weightsBytes);
    const targets: [string, VisionTransformer][] = model instanceof IFAM ? [['stage1', model.stage1], ['stage2', model.stage2]] : [['', model as VisionTransformer]];
    try {
      for (const [, vit] of targets) {
        const r = loadWeights(vit, contents, { strict: true, allowMissing: ['head.'], ignore: ['head.', 'fc_norm.'] });
        if (r.missing.length) log(`weights: kept fresh ${r.missing.join(', ')}`);
      }
    } catch (e) {
      throw new UsageError(`--weights ${args.weights} does not fit --model ${spec.preset} at ${spec.vit.imageSize} px: ${oneLine((e as Error).message.replace(/^loadStateDict \(\w+\): /, ''))}`);
    } finally {
      for (const t of Object.values(contents.tensors)) t.dispose();
    }
    log(`weights: loaded ${args.weights} into ${targets.map(([n]) => n || 'the model').join(' and ')}`);
  }
  if (method === 'robustvit' && args.init) {
    const { model: base, spec: baseSpec } = run.initHost ? checkpointModel(run.initHost) : await loadCheckpoint(args.init);
    try {
      model.loadStateDict(base.stateDict());
    } catch (e) {
      throw new UsageError(`--init ${args.init} (a ${baseSpec.preset} model of ${baseSpec.numClasses} classes at ${baseSpec.vit.imageSize} px) does not fit this run's model: ${oneLine((e as Error).message.replace(/^loadStateDict \(\w+\): /, ''))}`);
    } finally {
      base.dispose();
    }
    log(`robustvit: fine-tuning ${args.init}`);
  }
  const weights = lossWeights(args);
  const stepsPerEpoch = loader.batchesPerEpoch;
  const pics = pictureIndices(data.test);

  let resumeTensors: Record<string, Tensor> | null = null;
  let resumeMeta: Record<string, string> | null = null;
  if (resumeHost) {
    const { tensors } = checkpointModelInto(model, resumeHost);
    resumeTensors = tensors;
    resumeMeta = resumeHost.metadata;
    log(`resume: phase ${phases[prog.phase]?.name}, epoch ${prog.epoch + 1}, batch ${prog.batch} (step ${prog.globalStep})`);
  }
  const config = { ...args, explicit: undefined, name, spec, phases, adapter: adapter.description, data_description: data.description };
  await writeJsonAtomic(join(dir, 'config.json'), config);
  // One line per optimiser step; a resumed run first cuts the file back to the checkpoint's step.
  let stepLog: StepLog;
  if (resumeHost) {
    const { log: resumed, warning } = StepLog.resume(join(dir, 'log.jsonl'), prog.globalStep);
    if (warning) log(`train.js: warning: ${warning}`);
    stepLog = resumed;
  } else stepLog = StepLog.create(join(dir, 'log.jsonl'));

  const saveCheckpointAt = async (path: string, opt: AdamW, p: Progression) => {
    await saveCheckpoint(path, model, opt, spec, p, data.normalize, data.train.classNames);
    if (path === ckptPath) run.onCheckpoint();
  };
  const finalMetrics: Record<string, unknown> = {};
  let epochsThisRun = 0;
  {
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
        for await (const b of loader.epoch(epoch)) {
          if (k++ < prog.batch) continue; // resumed mid-epoch
          const step = prog.globalStep;
          const lr = schedule(step - phaseStart);
          opt.setLr(lr);
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
          pending = { terms, step: step + 1, lr, images: b.size };
          prog.globalStep++;
          prog.batch = k;
          prog.imagesSeen += b.size;
          bar.update(k, { loss: Number.isNaN(lastLoss) ? undefined : lastLoss, lr: opt.baseLr });
          if (run.wasInterrupted()) break;
        }
        await readPending();
        prog.trainSeconds += (performance.now() - t0) / 1000;
        const signal = run.wasInterrupted();
        if (signal) {
          prog.rng = getRngState();
          prog.epoch = epoch;
          await saveCheckpointAt(ckptPath, opt, prog);
          bar.finish('interrupted');
          log(`saved ${ckptPath}; continue with: node train.js --name ${name} --resume${args.out !== 'runs' ? ` --out ${args.out}` : ''}`);
          return signal === 'SIGTERM' ? 143 : 130;
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
            await saveCheckpointAt(bestPath, opt, { ...prog, epoch: epoch + 1, batch: 0 });
          }
        }
        prog.termSums = {};
        prog.epoch = epoch + 1;
        prog.batch = 0;
        prog.lossSum = 0;
        prog.lossCount = 0;
        prog.rng = getRngState();
        await saveCheckpointAt(ckptPath, opt, prog);
        await writeJsonAtomic(join(dir, 'metrics.json'), { method, epochs: prog.history, final: null });
        if (args.pictures) noteFigureBackend(await saveCurves(picturePath(dir, 'curves.png'), prog.history, { title: `${name} (${method}): training loss and validation accuracy`, steps: stepLog.losses, stepsPerEpoch }));
        const lastEpoch = ph === phases.length - 1 && epoch === phase.epochs - 1;
        if (args['stop-after'] > 0 && ++epochsThisRun >= args['stop-after'] && !lastEpoch) {
          log(`stopped after ${epochsThisRun} epoch(s) as asked; continue with: node train.js --name ${name} --resume${args.out !== 'runs' ? ` --out ${args.out}` : ''}`);
          return 0;
        }
      }
      opt.dispose();
    }

    if (args.select !== 'last' && prog.best) {
      // Test the selected epoch's model (checkpoint.safetensors stays the last one, for --resume).
      const { tensors } = loadSafetensors(await readSafetensorsFile(bestPath));
      model.loadStateDict(modelEntries(tensors));
      for (const t of Object.values(tensors)) t.dispose();
      log(`--select ${args.select}: testing the model of epoch ${prog.best.epoch} (${bestPath})`);
    }
    const test = await evaluate(method, model, data.test, {
      batchSize: args['batch-size'], normalize: data.normalize, quiet: args.quiet, label: 'test', noise: args['eval-noise'],
      relevance: method !== 'ifam', keepSamples: pics, trainGroupCounts: groupCounts(data.train),
    });
    if (args.pictures) {
      noteFigureBackend(await saveSamplePicture(picturePath(dir, 'test-samples.png'), test.samples, data.test, `${method} on test images of every group`));
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
    // With --json, stdout carries the one JSON line and nothing else (`| jq` works); people read stderr.
    const human = args.json ? process.stderr : process.stdout;
    printSummary(test, method, ` after ${epochs} epochs, ${prog.trainSeconds.toFixed(0)} s of training (${(finalMetrics.img_per_s as number).toFixed(1)} img/s)${selected}`, human);
    human.write(`outputs in ${dir}/ (per-step log: ${join(dir, 'log.jsonl')})\n`);
    if (args.json) process.stdout.write(JSON.stringify({ ...finalMetrics, config }) + '\n');
    return 0;
  }
}

let figureNoteShown = false;

/** Says once per run when pictures fall back to the bitmap font (sharp missing, or no font for it). */
function noteFigureBackend(backend: FigureBackend | null): void {
  if (backend !== 'raster' || figureNoteShown) return;
  figureNoteShown = true;
  log('pictures: drawn with the built-in bitmap font, as sharp is not installed or finds no font; `npm install sharp` (and a font such as fonts-dejavu-core) gives them real text');
}

/** A diverging loss: the run stops with exit code 3. */
class NonFiniteLoss extends Error {}

/** <dir>/pictures/<file>, the folder made on first use (so a failed run leaves no empty one). */
function picturePath(dir: string, file: string): string {
  mkdirSync(join(dir, 'pictures'), { recursive: true });
  return join(dir, 'pictures', file);
}
