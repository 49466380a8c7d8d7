// The flags of `node train.js`: one table with type, default, bounds and help for each, a parser
// with clear errors, the checks of which flags go together, and the --help text generated from the
// same table.
import { PRESETS, type PresetName } from '../vit/config.js';

export type FlagType = 'int' | 'number' | 'string' | 'bool';

export interface FlagSpec {
  type: FlagType;
  default: number | string | boolean | null;
  help: string;
  group: string;
  choices?: readonly string[];
  /** Shown instead of the type in --help. */
  metavar?: string;
  /** Inclusive bounds of a number; an upper bound stops a typo from asking for unbounded memory. */
  min?: number;
  max?: number;
  /** May differ from the run's own value on --resume (every other flag must stay as it was). */
  resumable?: boolean;
}

export const FLAGS = {
  // What to train
  method: { type: 'string', default: 'ifam', choices: ['ifam', 'baseline', 'robustvit'], group: 'What to run', help: 'ifam: two-stage ViT with learned hard masks; baseline: plain ViT (ERM); robustvit: relevance-map fine-tuning of a baseline' },
  benchmark: { type: 'string', default: 'fashion', choices: ['fashion', 'synthetic'], group: 'What to run', help: 'fashion: Fashion-MNIST objects on land/water backgrounds (needs the dataset-fashion-mnist package or --fashion-dir); synthetic: embedded shapes benchmark (no download)' },
  data: { type: 'string', default: null, metavar: 'DIR', group: 'What to run', help: 'train on a Waterbirds-layout folder instead of a benchmark (metadata.csv: img_id,img_filename,y,split,place[,mask_filename])' },
  eval: { type: 'string', default: null, metavar: 'CHECKPOINT', group: 'What to run', help: 'evaluate a saved checkpoint (or an export directory, see --export) on the test split (with --data for a folder) and exit' },
  export: { type: 'string', default: null, metavar: 'CHECKPOINT', group: 'What to run', help: 'write the checkpoint for PyTorch/timm to --to (default: <checkpoint folder>/pytorch) and exit: timm-named weights without optimiser state (iFAM: one file per stage and one for the heads) and config.json with the timm.create_model arguments; see docs/pytorch.md' },
  import: { type: 'string', default: null, metavar: 'DIR', group: 'What to run', help: 'turn an export directory (as --export writes it or python/webfam_torch saves it after training) into a checkpoint at --to (default: DIR/checkpoint.safetensors) and exit; --eval and --init also take such a directory' },
  to: { type: 'string', default: null, metavar: 'PATH', group: 'What to run', help: 'where --export writes its directory, or --import its checkpoint' },
  'with-data': { type: 'bool', default: false, group: 'What to run', help: '--export: also write the train/val/test splits the data flags describe (give the run\'s --benchmark, --classes, sizes or --data) to data/*.safetensors (images in [0, 1], labels, places) for python/webfam_torch' },
  resume: { type: 'bool', default: false, group: 'What to run', help: 'continue <out>/<name> from its last checkpoint (optimizer, schedule and RNG state included) with the flags in its config.json; only --epochs (to extend the run), --pictures, --stop-after, --quiet, --json and --debug may be given differently' },
  'stop-after': { type: 'int', default: 0, min: 0, max: 100_000, resumable: true, metavar: 'EPOCHS', group: 'What to run', help: 'stop after this many epochs of this invocation, saving a checkpoint as Ctrl-C does (0 = run to the end); continue with --resume' },
  // Data
  'image-size': { type: 'int', default: 32, min: 1, max: 1024, group: 'Data', help: 'image side in pixels, a multiple of the model preset\'s patch size' },
  classes: { type: 'string', default: 'sneaker,ankle-boot', metavar: 'A,B[,...]', group: 'Data', help: 'fashion benchmark: the two Fashion-MNIST classes (t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot); the first goes with land, the second with water. More than two make a pretraining set instead, with the background independent of the class (see README, "A backbone pretrained here")' },
  'fashion-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist', metavar: 'DIR', group: 'Data', help: 'fashion benchmark: folder with Fashion-MNIST\'s four IDX files (.gz or not)' },
  'train-size': { type: 'int', default: 2048, min: 1, max: 1_000_000, group: 'Data', help: 'benchmarks: training images' },
  'val-size': { type: 'int', default: 400, min: 1, max: 1_000_000, group: 'Data', help: 'benchmarks: validation images (groups balanced)' },
  'test-size': { type: 'int', default: 1000, min: 1, max: 1_000_000, group: 'Data', help: 'benchmarks: test images (groups balanced; fashion: from Fashion-MNIST\'s test set)' },
  agreement: { type: 'number', default: 0.95, group: 'Data', help: 'benchmarks: share of training images whose background agrees with the class' },
  'skip-bad': { type: 'bool', default: false, group: 'Data', help: 'skip unreadable images and malformed CSV rows (and report them) instead of stopping' },
  augment: { type: 'bool', default: true, group: 'Data', help: 'random horizontal flips in training (--no-augment to turn off)' },
  // Model
  model: { type: 'string', default: 'webfam_tiny', choices: Object.keys(PRESETS) as PresetName[], metavar: 'PRESET', group: 'Model', help: `ViT preset: ${Object.keys(PRESETS).join(', ')}` },
  'patch-size': { type: 'int', default: 0, min: 0, max: 1024, group: 'Model', help: 'patch side in pixels, overriding the preset\'s (0 = the preset\'s); a finer grid means a finer iFAM mask and more tokens (webfam_tiny at patch 2: 4× the tokens, about 5× the time per step)' },
  weights: { type: 'string', default: null, metavar: 'FILE', group: 'Model', help: 'start the backbone(s) from pretrained safetensors: timm/DINOv2 weights (images get ImageNet\'s normalisation), or a webfam checkpoint such as a pretraining run\'s checkpoint.safetensors (images get the normalisation it was trained with); the head starts fresh' },
  init: { type: 'string', default: null, metavar: 'FILE', group: 'Model', help: 'robustvit: the baseline checkpoint (or export directory) to fine-tune (default: train a baseline first)' },
  // Optimisation
  epochs: { type: 'int', default: 3, min: 1, max: 100_000, resumable: true, group: 'Optimisation', help: 'training epochs (with --resume: a larger number extends the run)' },
  'batch-size': { type: 'int', default: 16, min: 1, max: 4096, group: 'Optimisation', help: 'images per step' },
  lr: { type: 'number', default: 1e-3, group: 'Optimisation', help: 'peak learning rate (AdamW)' },
  'weight-decay': { type: 'number', default: 0.05, group: 'Optimisation', help: 'AdamW decoupled weight decay' },
  'warmup-epochs': { type: 'number', default: 0.3, group: 'Optimisation', help: 'linear warm-up before the cosine decay' },
  clip: { type: 'number', default: 2.0, group: 'Optimisation', help: 'global gradient-norm clipping (0 = off)' },
  'label-smoothing': { type: 'number', default: 0.1, group: 'Optimisation', help: 'label smoothing of the classification losses' },
  seed: { type: 'int', default: 0, min: 0, max: 2 ** 32 - 1, group: 'Optimisation', help: 'seed for data, initialisation, noise and shuffling' },
  select: { type: 'string', default: 'last', choices: ['last', 'val-worst', 'val-avg'], group: 'Optimisation', help: 'the model that is tested at the end: the last epoch\'s, or the epoch (of the final phase) with the best validation worst-group (val-worst) or average (val-avg) accuracy, also kept as best.safetensors' },
  // iFAM
  parts: { type: 'int', default: 4, min: 1, max: 64, group: 'iFAM', help: 'foreground parts K (a background part is added)' },
  tau: { type: 'number', default: 1, group: 'iFAM', help: 'Gumbel-softmax temperature' },
  'part-dropout': { type: 'number', default: 0.3, group: 'iFAM', help: 'probability of dropping a whole foreground part in training' },
  'joint-grad': { type: 'bool', default: false, group: 'iFAM', help: 'let stage 2\'s loss train stage 1 through the mask, as the paper describes (the authors\' code cuts it); off by default because under a spurious background it teaches the mask the shortcut (README, Results)' },
  'joint-grad-scale': { type: 'number', default: 1, group: 'iFAM', help: 'multiply the mask gradient stage 2 sends to stage 1 (1 = as the paper describes)' },
  'eval-noise': { type: 'bool', default: false, group: 'iFAM', help: 'sample Gumbel noise at evaluation too (the authors\' code does)' },
  'w-stage1': { type: 'number', default: 0, group: 'iFAM', help: 'weight of stage 1\'s own cross-entropy; 0 (ours) leaves stage 1 to find parts without labels, so the mask cannot learn the background shortcut (the authors use 1)' },
  'w-stage2': { type: 'number', default: 1, group: 'iFAM', help: 'weight of stage 2 cross-entropy' },
  'w-presence': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the part presence loss' },
  'w-equivariance': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the equivariance loss' },
  'w-orthogonality': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the part-embedding orthogonality loss' },
  'w-tv': { type: 'number', default: 0.2, group: 'iFAM', help: 'weight of the total-variation loss (the authors use 1 on a 37×37 patch grid; on our 8×8 grid boundaries cost far more per patch)' },
  'w-background': { type: 'number', default: 2, group: 'iFAM', help: 'weight of the enforced background presence loss' },
  'w-entropy': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the pixel-wise entropy loss' },
  // robustvit
  'base-epochs': { type: 'int', default: 3, min: 0, max: 100_000, group: 'robustvit', help: 'epochs of baseline training when no --init is given (0: the relevance losses train the model from its initialisation; give it --cls-target label and a larger --relevance-lr)' },
  'w-bg': { type: 'number', default: 2, group: 'robustvit', help: 'weight of the background relevance loss' },
  'w-fg': { type: 'number', default: 0.3, group: 'robustvit', help: 'weight of the foreground relevance loss' },
  'w-cls': { type: 'number', default: 0.2, group: 'robustvit', help: 'weight of the classification loss' },
  'cls-target': { type: 'string', default: 'prediction', choices: ['prediction', 'label'], group: 'robustvit', help: 'target of the classification loss: the model\'s own prediction (the paper: keep what the fine-tuned model predicts) or the image\'s label' },
  temperature: { type: 'number', default: 1, group: 'robustvit', help: 'temperature of the classification term' },
  'relevance-lr': { type: 'number', default: 3e-5, group: 'robustvit', help: 'learning rate of the relevance fine-tuning (chosen on validation worst-group accuracy: 3e-4 and 1e-4 collapse the classifier)' },
  // Output
  name: { type: 'string', default: null, group: 'Output', help: 'run name, a plain folder name: outputs go to <out>/<name>/ (default: <method>-<date>-<time>)' },
  out: { type: 'string', default: 'runs', metavar: 'DIR', group: 'Output', help: 'folder holding the runs' },
  json: { type: 'bool', default: false, resumable: true, group: 'Output', help: 'print one JSON object with the run\'s metrics and config as the only line on stdout (the summary goes to stderr)' },
  pictures: { type: 'bool', default: true, resumable: true, group: 'Output', help: 'write mask/part/relevance pictures and curves (--no-pictures to skip)' },
  quiet: { type: 'bool', default: false, resumable: true, group: 'Output', help: 'no progress bars' },
  debug: { type: 'bool', default: false, resumable: true, group: 'Output', help: 'print the stack trace with an error message (errors in your input are otherwise one line)' },
  help: { type: 'bool', default: false, resumable: true, group: 'Output', help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;
type ValueOf<S extends FlagSpec> = S['type'] extends 'bool' ? boolean : S['type'] extends 'string' ? string | null : number;
export type Args = { -readonly [K in FlagName]: ValueOf<(typeof FLAGS)[K]> };
/** Parsed flags and which of them the user gave. */
export type ParsedArgs = Args & { explicit: Set<FlagName> };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function closest(name: string): string | null {
  let best: string | null = null, bestD = 3;
  for (const k of Object.keys(FLAGS)) {
    const d = editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return dp[a.length]![b.length]!;
}

/** Parses argv (without node and the script). Throws UsageError naming the flag. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const args = Object.fromEntries(Object.entries(FLAGS).map(([k, s]) => [k, s.default])) as Record<string, unknown>;
  const explicit = new Set<FlagName>();
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '-h') { args.help = true; continue; }
    if (!tok.startsWith('--')) throw new UsageError(`unexpected argument "${tok}" (flags start with --; see --help)`);
    let [name, value] = tok.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let negated = false;
    if (!(name in FLAGS) && name.startsWith('no-') && name.slice(3) in FLAGS) {
      name = name.slice(3);
      negated = true;
    }
    const spec = (FLAGS as Record<string, FlagSpec>)[name];
    if (!spec) {
      const near = closest(name);
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}; see --help`);
    }
    explicit.add(name as FlagName);
    if (spec.type === 'bool') {
      if (value !== undefined && !['true', 'false', '1', '0'].includes(value)) throw new UsageError(`--${name} takes no value (or true/false), got "${value}"`);
      args[name] = negated ? false : value === undefined ? true : value === 'true' || value === '1';
      continue;
    }
    if (negated) throw new UsageError(`--no-${name} is only for on/off flags`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value (${spec.metavar ?? spec.type})`);
    }
    if (spec.type === 'string') {
      if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}; got "${value}"`);
      args[name] = value;
    } else {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got "${value}"`);
      if (spec.type === 'int' && !Number.isInteger(n)) throw new UsageError(`--${name} needs a whole number, got "${value}"`);
      args[name] = n;
    }
  }
  const a = args as Args;
  for (const [k, spec] of Object.entries(FLAGS) as [FlagName, FlagSpec][]) {
    const v = a[k];
    if (typeof v !== 'number') continue;
    if (spec.min !== undefined && v < spec.min) throw new UsageError(spec.min === 1 && spec.type === 'int' ? `--${k} must be positive, got ${v}` : `--${k} must be at least ${spec.min}, got ${v}`);
    if (spec.max !== undefined && v > spec.max) throw new UsageError(`--${k} must be at most ${spec.max}, got ${v}`);
  }
  for (const k of ['lr', 'weight-decay', 'clip', 'warmup-epochs', 'relevance-lr'] as const) {
    if (!((a[k] as number) >= 0)) throw new UsageError(`--${k} must be non-negative, got ${a[k]}`);
  }
  if (!(a.agreement >= 0 && a.agreement <= 1)) throw new UsageError(`--agreement must be in [0, 1], got ${a.agreement}`);
  if (!(a['part-dropout'] >= 0 && a['part-dropout'] < 1)) throw new UsageError(`--part-dropout must be in [0, 1), got ${a['part-dropout']}`);
  // Both divide: zero would make every loss NaN at the first step.
  for (const k of ['tau', 'temperature'] as const) if (!(a[k] > 0)) throw new UsageError(`--${k} must be positive, got ${a[k]}`);
  if (!(a['label-smoothing'] >= 0 && a['label-smoothing'] < 1)) throw new UsageError(`--label-smoothing must be in [0, 1), got ${a['label-smoothing']}`);
  const patch = a['patch-size'] || PRESETS[a.model as PresetName].patchSize;
  if (!a.eval && a['image-size'] % patch !== 0) {
    const below = Math.floor(a['image-size'] / patch) * patch, above = below + patch;
    const whose = a['patch-size'] ? '--patch-size' : `${a.model}'s patch size`;
    throw new UsageError(`--image-size ${a['image-size']} is not a multiple of ${whose} ${patch} (try ${below > 0 ? `${below} or ` : ''}${above})`);
  }
  if (a.name !== null) checkRunName(a.name);
  return Object.assign(a, { explicit });
}

/** A run name is one folder inside --out: never a path that could leave it. */
export function checkRunName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.length > 200) {
    throw new UsageError(`--name ${JSON.stringify(name)} must be a plain folder name (no "/", not "." or "..", at most 200 characters): the run goes to <out>/<name>/`);
  }
}

/** Flags that only mean something for one method (their group in FLAGS), and what they need. */
const METHOD_GROUPS: Record<string, string> = { iFAM: 'ifam', robustvit: 'robustvit' };
/** Flags that describe a benchmark's composition; a --data folder has its own. */
const BENCHMARK_FLAGS: readonly FlagName[] = ['benchmark', 'train-size', 'val-size', 'test-size', 'agreement', 'classes', 'fashion-dir'];
/** What --eval uses: the data to test on, how to batch it, and how to report. */
const EVAL_FLAGS: readonly FlagName[] = ['eval', ...BENCHMARK_FLAGS, 'data', 'skip-bad', 'batch-size', 'eval-noise', 'seed', 'json', 'quiet', 'debug', 'help'];

/**
 * Whether a training flag means anything for this method and data source (--resume restores only
 * those from a run's config.json, so a run made before these checks existed still resumes).
 */
export function flagApplies(k: FlagName, method: string, data: boolean, benchmark: string): boolean {
  const only = METHOD_GROUPS[FLAGS[k].group];
  if (only && only !== method) return false;
  if (k === 'init' && method !== 'robustvit') return false;
  if (data) return !BENCHMARK_FLAGS.includes(k);
  if (k === 'skip-bad') return false;
  return !(benchmark === 'synthetic' && (k === 'classes' || k === 'fashion-dir'));
}

/**
 * Refuses flags that would be ignored: another method's settings, benchmark composition with a
 * --data folder, Fashion-MNIST settings with the synthetic benchmark, training flags with --eval
 * (whose model, and so method and image size, come from the checkpoint). `evalMethod` is the
 * checkpoint's method once --eval has read it.
 */
export function checkApplicable(args: ParsedArgs, evalMethod?: string): void {
  const given = [...args.explicit];
  const name = (k: FlagName) => `--${k}`;
  if (args.eval) {
    // Other 'What to run' flags are modes of their own, whose combinations are checked where they are run.
    const training = given.filter((k) => !EVAL_FLAGS.includes(k) && !(FLAGS[k].group === 'What to run' && !['method', 'resume', 'stop-after'].includes(k)));
    if (training.length) throw new UsageError(`${training.map(name).join(', ')} ${training.length > 1 ? 'do' : 'does'} not apply to --eval, which tests a trained model as it is (its method, model and image size come from the checkpoint)`);
    if (evalMethod && evalMethod !== 'ifam' && args.explicit.has('eval-noise')) throw new UsageError(`--eval-noise applies to iFAM checkpoints only; this one is ${evalMethod}`);
  } else {
    const method = args.method!;
    for (const k of given) {
      const only = METHOD_GROUPS[FLAGS[k].group];
      if (only && only !== method) throw new UsageError(`--${k} is ${only === 'ifam' ? 'an iFAM' : 'a robustvit'} setting and does not apply to --method ${method}`);
    }
    if (args.explicit.has('init') && method !== 'robustvit') throw new UsageError(`--init (the baseline checkpoint robustvit fine-tunes) does not apply to --method ${method}; to start from pretrained weights use --weights`);
    if (args.init && args.explicit.has('base-epochs')) throw new UsageError('--base-epochs does not apply with --init: no baseline is trained when one is given');
    if (args.init && args.weights) throw new UsageError('--weights and --init exclude each other: --init loads a whole trained baseline, which would overwrite the weights');
  }
  if (args.data) {
    if (args.explicit.has('benchmark')) throw new UsageError('--benchmark and --data exclude each other: --data DIR trains on the folder instead of a benchmark');
    const benchmark = given.filter((k) => BENCHMARK_FLAGS.includes(k));
    if (benchmark.length) throw new UsageError(`${benchmark.map(name).join(', ')} ${benchmark.length > 1 ? 'describe' : 'describes'} a benchmark and ${benchmark.length > 1 ? 'do' : 'does'} not apply with --data, whose folder has its own splits`);
  } else {
    if (args['skip-bad'] && args.explicit.has('skip-bad')) throw new UsageError('--skip-bad applies to --data folders only');
    if (args.benchmark === 'synthetic') {
      const fashion = given.filter((k) => k === 'classes' || k === 'fashion-dir');
      if (fashion.length) throw new UsageError(`${fashion.map(name).join(', ')} ${fashion.length > 1 ? 'apply' : 'applies'} to the Fashion-MNIST benchmark, not to --benchmark synthetic`);
    }
  }
}

/** The --help text, generated from FLAGS; `program` is how the user started it (`npx webfam train` says so). */
export function helpText(program = 'node train.js'): string {
  const lines = [
    'node train.js [flags]',
    '',
    'Trains a ViT on data where background and class are spuriously correlated and reports average',
    'and worst-group accuracy, plus how well the masks / relevance maps segment the object.',
    'With no flags: iFAM on the Fashion-MNIST benchmark (3½–6½ minutes on a 2-core CPU).',
    '',
    'Examples:',
    '  node train.js                                  # iFAM on the Fashion-MNIST benchmark',
    '  node train.js --method baseline --epochs 4     # plain ViT, for comparison',
    '  node train.js --method robustvit --init runs/base/checkpoint.safetensors',
    '  node train.js --weights bench/backbones/fashion8-webfam_tiny.safetensors   # from the backbone pretrained here',
    '  node train.js --data ~/waterbirds --model vit_small_patch14_reg4_dinov2 --image-size 224 --weights dinov2_s_reg4.safetensors',
    '  node train.js --eval runs/ifam-x/checkpoint.safetensors',
    '  node train.js --name mine --resume             # continue an interrupted run with its own flags',
    '  node train.js --name mine --resume --epochs 6  # ...and extend it to 6 epochs',
    '  node train.js --export runs/x/checkpoint.safetensors --with-data   # for PyTorch: docs/pytorch.md',
    '  node train.js --import runs/x/pytorch-continued # back from PyTorch, then --eval the checkpoint',
    '',
    'Outputs in <out>/<name>/: config.json, metrics.json, checkpoint.safetensors (every epoch,',
    'written atomically), log.jsonl (one JSON line per step: losses, lr, img/s; `tail -f` it),',
    'pictures/*.png (parts, masks, relevance maps for test images of every group; loss and',
    'accuracy curves). Ctrl-C or SIGTERM saves a checkpoint and exits; --resume continues from it',
    'with the flags in config.json.',
    '',
    'A mistake in the flags or the data stops with one line "train.js: ..." and exit code 2',
    '(--debug adds the stack trace); a diverging loss exits with 3, an interruption with 130',
    '(SIGINT) or 143 (SIGTERM) after saving.',
  ];
  const groups = new Map<string, string[]>();
  for (const [name, s] of Object.entries(FLAGS) as [string, FlagSpec][]) {
    const left = s.type === 'bool' ? `--${name}${s.default === true ? ` / --no-${name}` : ''}` : `--${name} ${s.metavar ?? (s.choices ? s.choices.join('|') : s.type.toUpperCase())}`;
    const bounds = s.max !== undefined ? `${s.min !== undefined ? `${s.min}–` : 'at most '}${s.max}` : '';
    const dflt = s.default === null || s.type === 'bool' && s.default === false ? (bounds ? ` (${bounds})` : '') : ` (default: ${s.default}${bounds ? `; ${bounds}` : ''})`;
    const list = groups.get(s.group) ?? [];
    list.push(`  ${left.padEnd(34)} ${s.help}${dflt}`);
    groups.set(s.group, list);
  }
  for (const [g, list] of groups) lines.push('', `${g}:`, ...list);
  // Another program name keeps the examples' comments aligned.
  const shift = 'node train.js'.length - program.length;
  return lines
    .map((l) => l.replace(/^( {2}node train\.js.*?)( +)#/, (_, cmd: string, gap: string) => `${cmd}${' '.repeat(Math.max(1, gap.length + shift))}#`))
    .join('\n')
    .replaceAll('node train.js', program);
}
