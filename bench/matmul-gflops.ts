// Matmul throughput in GFLOP/s on the current adapter, for square sizes and each transpose
// layout: `node dist/bench/matmul-gflops.js [sizes=256,512,1024,2048] [--layouts] [--sweep]`.
// --sweep also times the simd kernel's other tilings (CPU adapters). Not a test: numbers only.
import { init, sync, matmul, noGrad, adapterInfo, type Tensor } from '../src/index.js';
import { Tensor as TensorClass } from '../src/tensor/tensor.js';
import { matmulConfig } from '../src/tensor/ops/matmul.js';

const args = process.argv.slice(2);
const sizes = (args.find((a) => !a.startsWith('--')) ?? '256,512,1024,2048').split(',').map(Number);
const layouts = args.includes('--layouts') ? [[false, false], [false, true], [true, false], [true, true]] : [[false, false], [false, true]];
const sweep = args.includes('--sweep');

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

const name = (ta: boolean, tb: boolean) => `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`;
for (const [ta, tb] of layouts) {
  const row: string[] = [];
  for (const n of sizes) row.push(`${n}: ${(await gflops(n, ta!, tb!)).toFixed(2)}`);
  console.log(`${name(ta!, tb!).padEnd(6)} GFLOP/s  ${row.join('   ')}`);
}

if (sweep) {
  for (const simd of [{ rows: 8, colVec4s: 1 }, { rows: 16, colVec4s: 1 }, { rows: 16, colVec4s: 2 }, { rows: 24, colVec4s: 1 }, { rows: 32, colVec4s: 1 }, { rows: 24, colVec4s: 2 }]) {
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
process.exit(0);
