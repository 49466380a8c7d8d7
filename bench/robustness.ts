// The claim, measured: baseline (ERM), iFAM in four variants (stage 1 with or without its own
// classification loss × the mask gradient joint or cut), robustvit (its classification term on the
// model's own prediction, as published, or on the labels), and the control — the baseline
// trained on balanced groups, which shows how far the object alone takes the same model — each over
// several seeds on the default benchmark, through the real CLI (`node train.js --json`). Writes
// mean ± std of average accuracy (balanced and train-weighted), worst-group accuracy and map mIoU
// to bench/results/ and into the README between the robustness markers.
//   node dist/bench/robustness.js [--seeds 3] [--first-seed 0] [--methods baseline,ifam,ifam-joint,ifam-ce1-joint,ifam-ce1-cut,robustvit,robustvit-label,balanced]
//                                 [--quick] [--extra "--epochs 4"] [--no-readme]
//   node dist/bench/robustness.js --merge FILE.json FILE.json ... [--name BASE]   (seeds run at different times → one table,
//                                 bench/results/BASE.{json,md}; default robustness-DATE-combined)
// Rows run before 2026-12-01's change of iFAM defaults are stored under ids 'ifam' (then: stage-1
// loss on, joint gradient) and 'ifam-cut'; bench/results/robustness-2026-12-01-ids.json holds them
// under today's ids.
import { spawn } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../src/io/files.js';

interface Config {
  id: string;
  label: string;
  args: string[];
}

// Every row names its iFAM flags, so a row means the same thing whatever train.js's defaults are.
const CONFIGS: Config[] = [
  { id: 'baseline', label: 'baseline ViT (ERM)', args: ['--method', 'baseline'] },
  { id: 'ifam', label: 'iFAM (default): stage 1 without labels, mask gradient cut', args: ['--method', 'ifam', '--w-stage1', '0', '--no-joint-grad'] },
  { id: 'ifam-joint', label: 'iFAM, stage 1 without labels, joint mask gradient', args: ['--method', 'ifam', '--w-stage1', '0', '--joint-grad'] },
  { id: 'ifam-ce1-joint', label: 'iFAM, stage-1 classification loss, joint mask gradient', args: ['--method', 'ifam', '--w-stage1', '1', '--joint-grad'] },
  { id: 'ifam-ce1-cut', label: 'iFAM, stage-1 classification loss, gradient cut (the authors\' code)', args: ['--method', 'ifam', '--w-stage1', '1', '--no-joint-grad'] },
  { id: 'robustvit', label: 'robustvit (relevance maps)', args: ['--method', 'robustvit', '--cls-target', 'prediction'] },
  { id: 'robustvit-label', label: 'robustvit, classification loss on the labels', args: ['--method', 'robustvit', '--cls-target', 'label'] },
  { id: 'balanced', label: 'control: baseline trained on balanced groups', args: ['--method', 'baseline', '--agreement', '0.5'] },
];
const DEFAULT_METHODS = CONFIGS.map((c) => c.id);

interface RunResult {
  seed: number;
  avg_acc: number;
  /** Group accuracies weighted by the training split's group proportions. */
  train_weighted_acc?: number;
  worst_group_acc: number;
  mask_miou?: number;
  train_seconds: number;
  /** The whole `node train.js` invocation, start to exit. */
  wall_seconds?: number;
}

/** What one invocation (or a merge) writes to bench/results/*.json. */
interface ResultFile {
  date: string;
  quick: boolean;
  extra: string[];
  adapter: string;
  /** What train.js trained on (its `data` line). */
  data?: string;
  results: Record<string, RunResult[]>;
}

const argv = process.argv.slice(2);
// A mistake in the flags or the result files gets one line and exit code 2 (--debug: the stack).
process.on('uncaughtException', (e) => {
  process.stderr.write(argv.includes('--debug') ? `${e.stack}\n` : `robustness: ${e.message}\n`);
  process.exit(2);
});
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const date = new Date().toISOString().slice(0, 10);
const writeReadme = !argv.includes('--no-readme');


function runOnce(c: Config, seed: number, passArgs: string[]): Promise<RunResult & { adapter: string; data?: string }> {
  const args = ['train.js', ...c.args, '--seed', String(seed), '--json', '--out', 'runs/bench', '--name', `${c.id}-seed${seed}-${Date.now()}`, ...passArgs];
  process.stderr.write(`bench: node ${args.join(' ')}\n`);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${c.id} seed ${seed}: train.js exited with ${code}`));
      const m = JSON.parse(out.trim().split('\n').at(-1)!);
      resolve({
        seed, avg_acc: m.test.avg_acc, train_weighted_acc: m.test.train_weighted_acc, worst_group_acc: m.test.worst_group_acc, mask_miou: m.test.mask_miou,
        train_seconds: m.train_seconds, wall_seconds: (performance.now() - t0) / 1000, adapter: m.adapter, data: m.data,
      });
    });
  });
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
};
const fmt = (xs: (number | undefined)[]) => {
  if (xs.length === 0 || xs.some((v) => v === undefined || Number.isNaN(v))) return '–';
  const { mean, std } = stats(xs as number[]);
  // One seed has no spread to report.
  return xs.length > 1 ? `${(100 * mean).toFixed(1)} ± ${(100 * std).toFixed(1)}` : (100 * mean).toFixed(1);
};

function seedList(seeds: number[]): string {
  const s = [...seeds].sort((a, b) => a - b);
  return s.length > 2 && s.at(-1)! - s[0]! === s.length - 1 ? `${s[0]}–${s.at(-1)}` : s.join(', ');
}

function tableOf(f: ResultFile): string {
  const rows = CONFIGS.filter((c) => f.results[c.id]?.length).map((c) => {
    const r = f.results[c.id]!;
    const wall = r.every((x) => x.wall_seconds !== undefined) ? stats(r.map((x) => x.wall_seconds!)).mean.toFixed(0) : '–';
    return `| ${c.label} | ${seedList(r.map((x) => x.seed))} | ${fmt(r.map((x) => x.avg_acc))} | ${fmt(r.map((x) => x.train_weighted_acc))} | ${fmt(r.map((x) => x.worst_group_acc))} | ${fmt(r.map((x) => x.mask_miou))} | ${stats(r.map((x) => x.train_seconds)).mean.toFixed(0)} | ${wall} |`;
  });
  return [
    `${f.data ?? 'Embedded synthetic benchmark'}; test split${f.quick ? ', quick settings' : ', default flags'}${f.extra.length ? ` plus \`${f.extra.join(' ')}\`` : ''}; ${f.date}, ${f.adapter}.`,
    'Accuracy and mIoU in %, mean ± std over seeds. Average: over the balanced test set, and weighted by the training groups\' proportions (as Waterbirds papers report it); ' +
      'mIoU: the iFAM hard mask, or the relevance map thresholded at its mean, against the object\'s silhouette; train s: training alone, wall s: the whole `node train.js` run.',
    '',
    '| method | seeds | average accuracy | train-weighted average | worst-group accuracy | map mIoU | train s | wall s |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Several result files (same settings) → one, each (method, seed) once. */
function merge(paths: string[]): ResultFile {
  const files = paths.map((p) => ({ p, f: JSON.parse(readFileSync(p, 'utf8')) as ResultFile }));
  const first = files[0]!.f;
  const out: ResultFile = { date: first.date, quick: first.quick, extra: first.extra, adapter: first.adapter, data: first.data, results: {} };
  for (const { p, f } of files) {
    if (f.quick !== first.quick || f.extra.join(' ') !== first.extra.join(' ')) throw new Error(`merge: ${p} was run with other settings (quick ${f.quick}, extra "${f.extra.join(' ')}") than ${files[0]!.p}`);
    if (f.data !== first.data) throw new Error(`merge: ${p} trained on "${f.data}", ${files[0]!.p} on "${first.data}"`);
    if (f.adapter !== first.adapter) throw new Error(`merge: ${p} ran on "${f.adapter}", ${files[0]!.p} on "${first.adapter}"; figures from different adapters do not average`);
    if (f.date > out.date) out.date = f.date;
    for (const [id, runs] of Object.entries(f.results)) {
      for (const r of runs) {
        if (typeof r.seed !== 'number') throw new Error(`merge: ${p}: a ${id} result has no seed`);
        const list = (out.results[id] ??= []);
        if (list.some((x) => x.seed === r.seed)) throw new Error(`merge: ${id} seed ${r.seed} appears twice (again in ${p})`);
        list.push(r);
      }
    }
  }
  for (const list of Object.values(out.results)) list.sort((a, b) => a.seed - b.seed);
  return out;
}

async function publish(f: ResultFile, base: string): Promise<void> {
  const table = tableOf(f);
  process.stdout.write(table + '\n');
  mkdirSync('bench/results', { recursive: true });
  await writeFileAtomic(`${base}.json`, JSON.stringify(f, null, 2) + '\n');
  await writeFileAtomic(`${base}.md`, table + '\n');
  process.stderr.write(`bench: wrote ${base}.json and .md\n`);
  if (f.quick || !writeReadme) return;
  const readme = readFileSync('README.md', 'utf8');
  const start = '<!-- robustness:start -->', end = '<!-- robustness:end -->';
  if (!readme.includes(start) || !readme.includes(end)) return;
  await writeFileAtomic('README.md', readme.slice(0, readme.indexOf(start) + start.length) + '\n' + table + '\n' + readme.slice(readme.indexOf(end)));
  process.stderr.write('bench: updated the table in README.md\n');
}

if (argv.includes('--merge')) {
  const rest = argv.slice(argv.indexOf('--merge') + 1);
  const paths = rest.filter((a, i) => !a.startsWith('--') && rest[i - 1] !== '--name');
  if (paths.length === 0) throw new Error('--merge needs result files, e.g. bench/results/robustness-*.json');
  await publish(merge(paths), `bench/results/${opt('name', `robustness-${date}-combined`)}`);
} else {
  const seeds = Number(opt('seeds', '3'));
  /** Seeds run are first-seed … first-seed + seeds − 1 (to add seeds to an earlier run). */
  const firstSeed = Number(opt('first-seed', '0'));
  const methods = opt('methods', DEFAULT_METHODS.join(',')).split(',');
  const unknown = methods.filter((m) => !CONFIGS.some((c) => c.id === m));
  if (unknown.length) throw new Error(`--methods: unknown ${unknown.join(', ')}; choose from ${CONFIGS.map((c) => c.id).join(', ')}`);
  const quick = argv.includes('--quick');
  const extra = opt('extra', '').split(' ').filter(Boolean);
  const quickArgs = quick ? ['--epochs', '2', '--train-size', '512', '--val-size', '128', '--test-size', '256'] : [];
  const f: ResultFile = { date, quick, extra, adapter: 'unknown adapter', results: {} };
  for (const c of CONFIGS.filter((k) => methods.includes(k.id))) {
    f.results[c.id] = [];
    for (let s = firstSeed; s < firstSeed + seeds; s++) {
      // --base-epochs applies to robustvit only (train.js refuses flags that do not apply).
      const methodArgs = quick && c.args[c.args.indexOf('--method') + 1] === 'robustvit' ? ['--base-epochs', '2'] : [];
      const { adapter, data, ...r } = await runOnce(c, s, [...quickArgs, ...methodArgs, ...extra]);
      f.adapter = adapter ?? f.adapter;
      // The first configuration's data line describes the benchmark (the balanced control differs by design).
      f.data ??= data;
      f.results[c.id]!.push(r);
    }
  }
  // The name says what ran, so adding seeds or methods later never overwrites an earlier file.
  const subset = methods.join(',') === DEFAULT_METHODS.join(',') ? '' : `-${methods.join('+')}`;
  const seedPart = firstSeed === 0 && seeds === 3 ? '' : `-seeds${seedList(Array.from({ length: seeds }, (_, i) => firstSeed + i)).replace(/[–, ]+/g, '-')}`;
  const extraPart = extra.length ? `-${extra.join('-').replace(/[^a-z0-9.]+/gi, '-').replace(/^-+|-+$/g, '')}` : '';
  await publish(f, `bench/results/robustness-${date}${quick ? '-quick' : ''}${extraPart}${seedPart}${subset}`);
}
