// The claim, measured: baseline (ERM), iFAM with the joint mask gradient, iFAM with it cut (the
// authors' code) and robustvit, each over several seeds on the embedded benchmark, through the
// real CLI (`node train.js --json`). Writes mean ± std of average accuracy, worst-group accuracy
// and map mIoU to bench/results/ and into the README between the robustness markers.
//   node dist/bench/robustness.js [--seeds 3] [--first-seed 0] [--methods baseline,ifam,ifam-cut,robustvit] [--quick] [--extra "--epochs 4"]
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

interface Config {
  id: string;
  label: string;
  args: string[];
}

const CONFIGS: Config[] = [
  { id: 'baseline', label: 'baseline ViT (ERM)', args: ['--method', 'baseline'] },
  { id: 'ifam', label: 'iFAM, joint mask gradient', args: ['--method', 'ifam'] },
  { id: 'ifam-cut', label: 'iFAM, gradient cut (authors\' code)', args: ['--method', 'ifam', '--no-joint-grad'] },
  { id: 'robustvit', label: 'robustvit (relevance maps)', args: ['--method', 'robustvit'] },
];

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const seeds = Number(opt('seeds', '3'));
/** Seeds run are first-seed … first-seed + seeds − 1 (to add seeds to an earlier run). */
const firstSeed = Number(opt('first-seed', '0'));
const methods = opt('methods', CONFIGS.map((c) => c.id).join(',')).split(',');
const quick = argv.includes('--quick');
const extra = opt('extra', '').split(' ').filter(Boolean);
const quickArgs = quick ? ['--epochs', '2', '--base-epochs', '2', '--train-size', '512', '--val-size', '128', '--test-size', '256'] : [];

interface RunResult {
  avg_acc: number;
  worst_group_acc: number;
  mask_miou?: number;
  train_seconds: number;
}

function runOnce(c: Config, seed: number): Promise<RunResult> {
  const args = ['train.js', ...c.args, '--seed', String(seed), '--json', '--no-pictures', '--out', 'runs/bench', '--name', `${c.id}-seed${seed}-${Date.now()}`, ...quickArgs, ...extra];
  process.stderr.write(`bench: node ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${c.id} seed ${seed}: train.js exited with ${code}`));
      const last = out.trim().split('\n').at(-1)!;
      const m = JSON.parse(last);
      resolve({ avg_acc: m.test.avg_acc, worst_group_acc: m.test.worst_group_acc, mask_miou: m.test.mask_miou, train_seconds: m.train_seconds });
    });
  });
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
};
const fmt = (xs: number[]) => {
  if (xs.length === 0 || xs.some((v) => v === undefined || Number.isNaN(v))) return '–';
  const { mean, std } = stats(xs);
  // One seed has no spread to report.
  return xs.length > 1 ? `${(100 * mean).toFixed(1)} ± ${(100 * std).toFixed(1)}` : (100 * mean).toFixed(1);
};

const results: Record<string, RunResult[]> = {};
for (const c of CONFIGS.filter((k) => methods.includes(k.id))) {
  results[c.id] = [];
  for (let s = firstSeed; s < firstSeed + seeds; s++) results[c.id]!.push(await runOnce(c, s));
}

const date = new Date().toISOString().slice(0, 10);
const rows = CONFIGS.filter((c) => results[c.id]).map((c) => {
  const r = results[c.id]!;
  return `| ${c.label} | ${fmt(r.map((x) => x.avg_acc))} | ${fmt(r.map((x) => x.worst_group_acc))} | ${fmt(r.map((x) => x.mask_miou!))} | ${stats(r.map((x) => x.train_seconds)).mean.toFixed(0)} |`;
});
let adapter = 'unknown adapter';
try {
  adapter = JSON.parse(readFileSync(join('runs/bench', readdirLatest()), 'utf8')).adapter ?? adapter;
} catch { /* best effort */ }
const table = [
  `Embedded synthetic benchmark, ${seeds} seed(s) each${quick ? ' (quick settings)' : ''}${extra.length ? `, extra flags \`${extra.join(' ')}\`` : ''}; ${date}, ${adapter}.`,
  `Accuracy and mIoU in %${seeds > 1 ? ', mean ± std over seeds' : ''}; mIoU is the iFAM hard mask or the relevance map (thresholded at its mean) against the ground-truth object.`,
  '',
  '| method | average accuracy | worst-group accuracy | map mIoU | train s |',
  '|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(table + '\n');

mkdirSync('bench/results', { recursive: true });
const base = `bench/results/robustness-${date}${quick ? '-quick' : ''}${firstSeed ? `-from-seed${firstSeed}` : ''}`;
writeFileSync(`${base}.json`, JSON.stringify({ date, seeds, quick, extra, adapter, results }, null, 2) + '\n');
writeFileSync(`${base}.md`, table + '\n');
if (!quick && !argv.includes('--no-readme')) {
  const readme = readFileSync('README.md', 'utf8');
  const start = '<!-- robustness:start -->', end = '<!-- robustness:end -->';
  if (readme.includes(start) && readme.includes(end)) {
    const next = readme.slice(0, readme.indexOf(start) + start.length) + '\n' + table + '\n' + readme.slice(readme.indexOf(end));
    writeFileSync('README.md.tmp', next);
    renameSync('README.md.tmp', 'README.md');
  }
}

/** config.json of the newest benchmark run (it names the adapter). */
function readdirLatest(): string {
  const dirs = readdirSync('runs/bench').sort();
  return join(dirs[dirs.length - 1]!, 'config.json');
}
