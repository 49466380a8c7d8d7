// The flags of `node train.js`: one table with type, default and help for each, a parser with
// clear errors, and the --help text generated from the same table.

export type FlagType = 'int' | 'number' | 'string' | 'bool';

export interface FlagSpec {
  type: FlagType;
  default: number | string | boolean | null;
  help: string;
  group: string;
  choices?: readonly string[];
  /** Shown instead of the type in --help. */
  metavar?: string;
}

export const FLAGS = {
  // What to train
  method: { type: 'string', default: 'ifam', choices: ['ifam', 'baseline', 'robustvit'], group: 'What to run', help: 'ifam: two-stage ViT with learned hard masks; baseline: plain ViT (ERM); robustvit: relevance-map fine-tuning of a baseline' },
  benchmark: { type: 'string', default: 'fashion', choices: ['fashion', 'synthetic'], group: 'What to run', help: 'fashion: Fashion-MNIST objects on land/water backgrounds (needs the dataset-fashion-mnist package or --fashion-dir); synthetic: embedded shapes benchmark (no download)' },
  data: { type: 'string', default: null, metavar: 'DIR', group: 'What to run', help: 'train on a Waterbirds-layout folder instead of a benchmark (metadata.csv: img_id,img_filename,y,split,place[,mask_filename])' },
  eval: { type: 'string', default: null, metavar: 'CHECKPOINT', group: 'What to run', help: 'evaluate a saved checkpoint on the test split (with --data for a folder) and exit' },
  resume: { type: 'bool', default: false, group: 'What to run', help: 'continue runs/<name> from its last checkpoint (optimizer, schedule and RNG state included)' },
  'stop-after': { type: 'int', default: 0, metavar: 'EPOCHS', group: 'What to run', help: 'stop after this many epochs of this invocation, saving a checkpoint as Ctrl-C does (0 = run to the end); continue with --resume' },
  // Data
  'image-size': { type: 'int', default: 32, group: 'Data', help: 'image side in pixels (the model preset decides the patch size)' },
  classes: { type: 'string', default: 'sneaker,ankle-boot', metavar: 'A,B', group: 'Data', help: 'fashion benchmark: the two Fashion-MNIST classes (t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot); the first goes with land, the second with water' },
  'fashion-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist', metavar: 'DIR', group: 'Data', help: 'fashion benchmark: folder with Fashion-MNIST\'s four IDX files (.gz or not)' },
  'train-size': { type: 'int', default: 2048, group: 'Data', help: 'benchmarks: training images' },
  'val-size': { type: 'int', default: 400, group: 'Data', help: 'benchmarks: validation images (groups balanced)' },
  'test-size': { type: 'int', default: 1000, group: 'Data', help: 'benchmarks: test images (groups balanced; fashion: from Fashion-MNIST\'s test set)' },
  agreement: { type: 'number', default: 0.95, group: 'Data', help: 'benchmarks: share of training images whose background agrees with the class' },
  'skip-bad': { type: 'bool', default: false, group: 'Data', help: 'skip unreadable images and malformed CSV rows (and report them) instead of stopping' },
  augment: { type: 'bool', default: true, group: 'Data', help: 'random horizontal flips in training (--no-augment to turn off)' },
  // Model
  model: { type: 'string', default: 'webfam_tiny', group: 'Model', help: 'ViT preset: webfam_test, webfam_tiny, webfam_small, vit_small_patch16_224, vit_base_patch16_224, vit_small_patch14_reg4_dinov2, vit_base_patch14_reg4_dinov2' },
  weights: { type: 'string', default: null, metavar: 'FILE', group: 'Model', help: 'start the backbone(s) from pretrained timm/DINOv2 safetensors' },
  init: { type: 'string', default: null, metavar: 'FILE', group: 'Model', help: 'robustvit: the baseline checkpoint to fine-tune (default: train a baseline first)' },
  // Optimisation
  epochs: { type: 'int', default: 3, group: 'Optimisation', help: 'training epochs' },
  'batch-size': { type: 'int', default: 16, group: 'Optimisation', help: 'images per step' },
  lr: { type: 'number', default: 1e-3, group: 'Optimisation', help: 'peak learning rate (AdamW)' },
  'weight-decay': { type: 'number', default: 0.05, group: 'Optimisation', help: 'AdamW decoupled weight decay' },
  'warmup-epochs': { type: 'number', default: 0.3, group: 'Optimisation', help: 'linear warm-up before the cosine decay' },
  clip: { type: 'number', default: 2.0, group: 'Optimisation', help: 'global gradient-norm clipping (0 = off)' },
  'label-smoothing': { type: 'number', default: 0.1, group: 'Optimisation', help: 'label smoothing of the classification losses' },
  seed: { type: 'int', default: 0, group: 'Optimisation', help: 'seed for data, initialisation, noise and shuffling' },
  select: { type: 'string', default: 'last', choices: ['last', 'val-worst', 'val-avg'], group: 'Optimisation', help: 'the model that is tested at the end: the last epoch\'s, or the epoch (of the final phase) with the best validation worst-group (val-worst) or average (val-avg) accuracy, also kept as best.safetensors' },
  // iFAM
  parts: { type: 'int', default: 4, group: 'iFAM', help: 'foreground parts K (a background part is added)' },
  tau: { type: 'number', default: 1, group: 'iFAM', help: 'Gumbel-softmax temperature' },
  'part-dropout': { type: 'number', default: 0.3, group: 'iFAM', help: 'probability of dropping a whole foreground part in training' },
  'joint-grad': { type: 'bool', default: true, group: 'iFAM', help: 'let stage 2 train stage 1 through the mask (--no-joint-grad cuts it, like the authors\' code)' },
  'joint-grad-scale': { type: 'number', default: 1, group: 'iFAM', help: 'multiply the mask gradient stage 2 sends to stage 1 (1 = as the paper describes)' },
  'eval-noise': { type: 'bool', default: false, group: 'iFAM', help: 'sample Gumbel noise at evaluation too (the authors\' code does)' },
  'w-stage1': { type: 'number', default: 1, group: 'iFAM', help: 'weight of stage 1 cross-entropy' },
  'w-stage2': { type: 'number', default: 1, group: 'iFAM', help: 'weight of stage 2 cross-entropy' },
  'w-presence': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the part presence loss' },
  'w-equivariance': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the equivariance loss' },
  'w-orthogonality': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the part-embedding orthogonality loss' },
  'w-tv': { type: 'number', default: 0.2, group: 'iFAM', help: 'weight of the total-variation loss (the authors use 1 on a 37×37 patch grid; on our 8×8 grid boundaries cost far more per patch)' },
  'w-background': { type: 'number', default: 2, group: 'iFAM', help: 'weight of the enforced background presence loss' },
  'w-entropy': { type: 'number', default: 1, group: 'iFAM', help: 'weight of the pixel-wise entropy loss' },
  // robustvit
  'base-epochs': { type: 'int', default: 3, group: 'robustvit', help: 'epochs of baseline training when no --init is given' },
  'w-bg': { type: 'number', default: 2, group: 'robustvit', help: 'weight of the background relevance loss' },
  'w-fg': { type: 'number', default: 0.3, group: 'robustvit', help: 'weight of the foreground relevance loss' },
  'w-cls': { type: 'number', default: 0.2, group: 'robustvit', help: 'weight of the self-prediction classification loss' },
  temperature: { type: 'number', default: 1, group: 'robustvit', help: 'temperature of the classification term' },
  'relevance-lr': { type: 'number', default: 3e-4, group: 'robustvit', help: 'learning rate of the relevance fine-tuning' },
  // Output
  name: { type: 'string', default: null, group: 'Output', help: 'run name: outputs go to <out>/<name>/ (default: <method>-<date>-<time>)' },
  out: { type: 'string', default: 'runs', metavar: 'DIR', group: 'Output', help: 'folder holding the runs' },
  json: { type: 'bool', default: false, group: 'Output', help: 'make the last stdout line one JSON object with the run\'s metrics' },
  pictures: { type: 'bool', default: true, group: 'Output', help: 'write mask/part/relevance pictures and curves (--no-pictures to skip)' },
  quiet: { type: 'bool', default: false, group: 'Output', help: 'no progress bars' },
  help: { type: 'bool', default: false, group: 'Output', help: 'show this help' },
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
  const positive: FlagName[] = ['epochs', 'batch-size', 'image-size', 'parts', 'train-size', 'val-size', 'test-size'];
  for (const k of positive) if (!((a[k] as number) > 0)) throw new UsageError(`--${k} must be positive, got ${a[k]}`);
  for (const k of ['lr', 'weight-decay', 'clip', 'warmup-epochs', 'tau', 'relevance-lr', 'temperature'] as const) {
    if (!((a[k] as number) >= 0)) throw new UsageError(`--${k} must be non-negative, got ${a[k]}`);
  }
  if (!(a.agreement >= 0 && a.agreement <= 1)) throw new UsageError(`--agreement must be in [0, 1], got ${a.agreement}`);
  if (!(a['part-dropout'] >= 0 && a['part-dropout'] < 1)) throw new UsageError(`--part-dropout must be in [0, 1), got ${a['part-dropout']}`);
  if (!(a['label-smoothing'] >= 0 && a['label-smoothing'] < 1)) throw new UsageError(`--label-smoothing must be in [0, 1), got ${a['label-smoothing']}`);
  return Object.assign(a, { explicit });
}

/** The --help text, generated from FLAGS. */
export function helpText(): string {
  const lines = [
    'node train.js [flags]',
    '',
    'Trains a ViT on data where background and class are spuriously correlated and reports average',
    'and worst-group accuracy, plus how well the masks / relevance maps segment the object.',
    'With no flags: iFAM on the embedded synthetic benchmark (a few minutes on a 2-core CPU).',
    '',
    'Examples:',
    '  node train.js                                  # iFAM on the synthetic benchmark',
    '  node train.js --method baseline --epochs 4     # plain ViT, for comparison',
    '  node train.js --method robustvit --init runs/base/checkpoint.safetensors',
    '  node train.js --data ~/waterbirds --model vit_small_patch14_reg4_dinov2 --image-size 224 --weights dinov2_s_reg4.safetensors',
    '  node train.js --eval runs/ifam-x/checkpoint.safetensors',
    '  node train.js --name mine --resume             # continue an interrupted run',
    '',
    'Outputs in <out>/<name>/: config.json, metrics.json, checkpoint.safetensors (every epoch,',
    'written atomically), pictures/*.png (parts, masks, relevance maps for test images of every',
    'group; loss and accuracy curves). Ctrl-C saves and exits; --resume continues.',
  ];
  const groups = new Map<string, string[]>();
  for (const [name, s] of Object.entries(FLAGS) as [string, FlagSpec][]) {
    const left = s.type === 'bool' ? `--${name}${s.default === true ? ` / --no-${name}` : ''}` : `--${name} ${s.metavar ?? (s.choices ? s.choices.join('|') : s.type.toUpperCase())}`;
    const dflt = s.default === null || s.type === 'bool' && s.default === false ? '' : ` (default: ${s.default})`;
    const list = groups.get(s.group) ?? [];
    list.push(`  ${left.padEnd(34)} ${s.help}${dflt}`);
    groups.set(s.group, list);
  }
  for (const [g, list] of groups) lines.push('', `${g}:`, ...list);
  return lines.join('\n');
}
