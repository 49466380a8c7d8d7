// --resume: the run's flags come back from its config.json (flags given again must agree), and
// its progress (phase, epoch, batch, step, RNG state, history) from the checkpoint's
// "webfam.progress"; both are checked against what the run is about to do.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RngState } from '../tensor/ops/random.js';
import { reasonOf } from '../io/files.js';
import type { ViTConfig } from '../vit/config.js';
import type { ModelSpec } from '../vit/methods.js';
import { metadataJson } from '../vit/checkpoint.js';
import { flagApplies, FLAGS, parseArgs, UsageError, type FlagName, type FlagSpec, type ParsedArgs } from './args.js';
import type { CurvePoint } from './pictures.js';
import type { HostCheckpoint } from './checkpoints.js';
import type { Phase } from './plan.js';
import { log } from './console.js';

/** Where a run stands, saved in every checkpoint as "webfam.progress". */
export interface Progression {
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

/** A parsed "webfam.progress" that has what resuming reads. */
function isProgression(v: unknown): v is Progression {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  const count = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  return count(p.phase) && count(p.epoch) && count(p.batch) && count(p.globalStep) && typeof p.trainSeconds === 'number'
    && typeof p.imagesSeen === 'number' && typeof p.rng === 'object' && p.rng !== null && Array.isArray(p.history)
    && typeof p.lossSum === 'number' && typeof p.lossCount === 'number';
}

/** The progress a --resume continues from, checked against the --select it is resumed with. */
export function resumedProgression(host: HostCheckpoint, select: string | null | undefined): Progression {
  const saved = metadataJson(host.metadata, 'webfam.progress', host.path);
  if (!isProgression(saved)) throw new UsageError(`--resume: ${host.path} has no valid "webfam.progress" metadata (it was not written by a training run); start a new run instead`);
  if (saved.best && saved.best.by !== select) {
    throw new UsageError(`--resume: this run chose its best epoch by --select ${saved.best.by}; resume it with the same --select`);
  }
  return saved;
}

/** A resumed checkpoint must hold the model these flags and data describe. */
export function checkResumedModel(host: HostCheckpoint, spec: ModelSpec): void {
  const saved = host.spec;
  const sameVit = (Object.keys(spec.vit) as (keyof ViTConfig)[]).every((k) => saved.vit[k] === spec.vit[k]);
  if (saved.method !== spec.method || saved.preset !== spec.preset || !sameVit || saved.numClasses !== spec.numClasses) {
    throw new UsageError(`--resume: ${host.path} holds a ${saved.method} ${saved.preset} model of ${saved.numClasses} classes at ${saved.vit.imageSize} px, which these flags and data do not describe`);
  }
}

/** --epochs may extend a resumed run, never cut it shorter than what it has trained. */
export function checkResumedLength(prog: Progression, phases: readonly Phase[]): void {
  if (prog.phase === phases.length - 1 && prog.epoch > phases[prog.phase]!.epochs) {
    throw new UsageError(`--resume: this run has already trained ${prog.epoch} epochs${phases.length > 1 ? ` of its ${phases[prog.phase]!.name} phase` : ''}; --epochs ${phases[prog.phase]!.epochs} cannot shorten it`);
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
export function restoreRunArgs(given: ParsedArgs, argv: readonly string[]): ParsedArgs {
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
