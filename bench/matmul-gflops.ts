// Matmul throughput in GFLOP/s on the current adapter, for square sizes and each transpose
// layout: `node dist/bench/matmul-gflops.js [sizes=256,512,1024,2048] [--layouts] [--sweep] [--step]`.
// --sweep also times the simd kernel's other tilings (CPU adapters); --step times each tiling on
// the linear layers of the bench:step ViT (webfam_small, batch 32: M = 2080 rows; forward x·Wᵀ,
// input gradient dY·W, weight gradient dYᵀ·x, per block). Not a test: numbers only.
import { init, sync, matmul, noGrad, adapterInfo, type Tensor } from '../src/index.js';
import { Tensor as TensorClass } from '../src/tensor/tensor.js';
import { matmulConfig } from '../src/tensor/ops/matmul.js';

const args = process.argv.slice(2);
const sizes = (args.find((a) => !a.startsWith('--')) ?? '256,512,1024,2048').split(',').map(Number);
const layouts = args.includes('--layouts') ? [[false, false], [false, true], [true, false], [true, true]] : [[false, false], [false, true]];
const sweep = args.includes('--sweep');
const stepShapes = args.includes('--step');

await init();
const info = adapterInfo();
console.log(`adapter: ${info.description || info.device} (${info.architecture}, ${info.backend})`);

/** Median GFLOP/s of a few timed rounds, each `reps` back-to-back products between syncs. */
async function gflops(n: number, transA: boolean, transB: boolean): Promise<number> {
  const a: Tensor = TensorClass.empty([n, n]), b: Tensor = TensorClass.empty([n, n]);
  const flop = 2 * n ** 3;
  const reps = Math.max(1, Math.min(50, Math.round(2e9 / flop)));
  const run = () => noGrad(() => matmul(a, b, { transA, transB }).dispose());
  run();
  await sync(); // compiles the pipeline outside the timing
  const rounds: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    await sync();
    rounds.push((flop * reps) / ((performance.now() - t0) / 1000) / 1e9);
  }
  a.dispose();
  b.dispose();
  return rounds.sort((x, y) => x - y)[1]!;
}

const SIMD_TILINGS = [8, 16, 24, 32, 40, 48].map((rows) => ({ rows, colVec4s: 1 })).concat([{ rows: 16, colVec4s: 2 }, { rows: 24, colVec4s: 2 }]);

/** Median ms of a few rounds of five back-to-back runs of `f` between syncs. */
async function medianMs(f: () => void): Promise<number> {
  f();
  await sync();
  const ts: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) f();
    await sync();
    ts.push((performance.now() - t0) / 5);
  }
  return ts.sort((x, y) => x - y)[2]!;
}

const name = (ta: boolean, tb: boolean) => `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`;
for (const [ta, tb] of layouts) {
  const row: string[] = [];
  for (const n of sizes) row.push(`${n}: ${(await gflops(n, ta!, tb!)).toFixed(2)}`);
  console.log(`${name(ta!, tb!).padEnd(6)} GFLOP/s  ${row.join('   ')}`);
}

if (sweep) {
  for (const simd of SIMD_TILINGS) {
    matmulConfig.variant = 'simd';
    matmulConfig.simd = simd;
    const row: string[] = [];
    try {
      for (const n of sizes) row.push(`${n}: ${(await gflops(n, false, false)).toFixed(2)}`);
    } catch (e) {
      row.push(`unavailable (${(e as Error).message})`);
    }
    console.log(`simd rows=${simd.rows} colVec4s=${simd.colVec4s}  ${row.join('   ')}`);
  }
  matmulConfig.variant = 'tiled';
  matmulConfig.simd = null;
  for (const tiled of [{ TM: 4, TN: 4, BK: 16 }, { TM: 2, TN: 2, BK: 16 }, { TM: 8, TN: 4, BK: 8 }]) {
    matmulConfig.tiled = tiled;
    const row: string[] = [];
    for (const n of sizes.filter((s) => s <= 1024)) row.push(`${n}: ${(await gflops(n, false, false)).toFixed(2)}`);
    console.log(`tiled ${tiled.TM}x${tiled.TN} BK=${tiled.BK}  ${row.join('   ')}`);
  }
}
if (stepShapes) {
  const M = 32 * 65; // batch 32 × (64 patches + CLS)
  const shapes = [[192, 576], [192, 192], [192, 768], [768, 192]] as const; // [in, out]: qkv, proj, fc1, fc2
  for (const simd of [{ rows: 16, colVec4s: 1 }, { rows: 24, colVec4s: 1 }, { rows: 32, colVec4s: 1 }, { rows: 40, colVec4s: 1 }, { rows: 48, colVec4s: 1 }]) {
    matmulConfig.variant = 'simd';
    matmulConfig.simd = simd;
    let total = 0;
    const parts: string[] = [];
    for (const [K, N] of shapes) {
      const x = TensorClass.empty([M, K]), w = TensorClass.empty([N, K]), dy = TensorClass.empty([M, N]);
      const fwd = await medianMs(() => noGrad(() => matmul(x, w, { transB: true }).dispose()));
      const dx = await medianMs(() => noGrad(() => matmul(dy, w).dispose()));
      const dw = await medianMs(() => noGrad(() => matmul(dy, x, { transA: true }).dispose()));
      total += fwd + dx + dw;
      parts.push(`${K}→${N} ${fwd.toFixed(1)}/${dx.toFixed(1)}/${dw.toFixed(1)}`);
      for (const t of [x, w, dy]) t.dispose();
    }
    console.log(`step shapes, simd rows=${simd.rows}: ${total.toFixed(1)} ms per block (x·Wᵀ/dY·W/dYᵀ·x ms: ${parts.join(', ')})`);
  }
  matmulConfig.variant = 'auto';
  matmulConfig.simd = null;
}
process.exit(0);
