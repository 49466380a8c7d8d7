// How far training moved a run's weights from their initialisation: ‖θ − θ₀‖ / ‖θ₀‖ over all
// weights and per tensor kind. θ₀ is rebuilt exactly as train.js builds it (same seed, same spec),
// so the figure needs nothing saved at the start. (Weight RMS alone cannot tell a frozen model from
// one that moved while weight decay shrank it; the relative distance can.)
//   node dist/bench/weight-drift.js runs/<name> [--json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { init } from '../src/tensor/device.js';
import { seedAll } from '../src/nn/seed.js';
import { loadSafetensorsFile } from '../src/io/safetensors.js';
import { buildModel, type ModelSpec } from '../src/vit/methods.js';

const dir = process.argv[2];
if (!dir || dir.startsWith('--')) {
  process.stderr.write('usage: node dist/bench/weight-drift.js RUN_DIR [--json]   (a folder written by node train.js)\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { seed: number; spec: ModelSpec; weights: string | null; init: string | null };
if (config.weights || config.init) {
  process.stderr.write(`weight-drift: ${dir} started from ${config.weights ?? config.init}, not from a seeded initialisation\n`);
  process.exit(2);
}
await init();
seedAll(config.seed);
const start = buildModel(config.spec).stateDict();
const { tensors } = await loadSafetensorsFile(join(dir, 'checkpoint.safetensors'));

/** Tensor kinds: matrices (decayed), vectors (biases, norms; not decayed), tokens and embeddings. */
const kindOf = (name: string, rank: number) => (/(cls_token|reg_token|pos_embed|prototypes)$/.test(name) ? 'tokens' : rank >= 2 ? 'matrices' : 'vectors');
const sums: Record<string, { diff: number; init: number; final: number; count: number }> = {};
for (const [name, t0] of Object.entries(start)) {
  const t = tensors[name];
  if (!t) throw new Error(`${name} is not in the checkpoint`);
  const [a, b] = [await t0.data(), await t.data()];
  for (const kind of ['all', kindOf(name, t0.rank)]) {
    const s = (sums[kind] ??= { diff: 0, init: 0, final: 0, count: 0 });
    for (let i = 0; i < a.length; i++) {
      s.diff += (b[i]! - a[i]!) ** 2;
      s.init += a[i]! ** 2;
      s.final += b[i]! ** 2;
    }
    s.count += a.length;
  }
}
const rows = Object.entries(sums).map(([kind, s]) => ({
  kind, values: s.count, relative_change: Math.sqrt(s.diff / s.init), rms_init: Math.sqrt(s.init / s.count), rms_final: Math.sqrt(s.final / s.count),
}));
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ run: dir, rows }) + '\n');
else {
  process.stdout.write(`${dir}: ‖θ − θ₀‖ / ‖θ₀‖ (and RMS at init → now)\n`);
  for (const r of rows) process.stdout.write(`  ${r.kind.padEnd(9)} ${r.values.toString().padStart(8)} values  ${r.relative_change.toFixed(3)}  (RMS ${r.rms_init.toFixed(4)} → ${r.rms_final.toFixed(4)})\n`);
}
process.exit(0);
