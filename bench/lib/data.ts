// Seeded random inputs for the benchmarks, and float64 spot checks of each library's output:
// a benchmark of a kernel that computes the wrong thing would be meaningless.
import { erf64 } from '../../src/tensor/reference/pointwise.js';
import { mulberry32 } from '../../src/data/random.js';

/** Deterministic PRNG (the data layer's mulberry32), so every library sees exactly the same inputs. */
export const rng = mulberry32;

/**
 * Uniform values in [lo, hi). Random rather than constant on purpose: jax-js folds constant
 * inputs such as `ones` into the kernel and would then be timed doing less work.
 */
export function randomF32(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Result of comparing a few sampled outputs with float64. `ok` when `worst <= 1`. */
export interface CheckResult {
  ok: boolean;
  /** Largest |error| / tolerance over the sampled outputs (<= 1 passes). */
  worst: number;
  /** How many output values were compared. */
  compared: number;
}

/** Accumulates |actual - expected| / (atol + rtol·scale) over sampled outputs. */
export class SpotCheck {
  private worst = 0;
  private compared = 0;
  constructor(private readonly atol: number, private readonly rtol: number) {}

  add(actual: number, expected: number, scale = Math.abs(expected)): void {
    const ratio = Math.abs(actual - expected) / (this.atol + this.rtol * scale);
    // NaN (an unwritten or broken output) must fail, so compare with `!(<=)`.
    if (!(ratio <= this.worst)) this.worst = Number.isNaN(ratio) ? Infinity : ratio;
    this.compared++;
  }

  result(): CheckResult {
    return { ok: this.worst <= 1, worst: this.worst, compared: this.compared };
  }
}

/** `count` distinct-ish random indices below `n` (always including the first and the last). */
export function sampleIndices(r: () => number, n: number, count: number): number[] {
  const out = new Set<number>([0, n - 1]);
  while (out.size < Math.min(count, n)) out.add(Math.floor(r() * n));
  return [...out];
}

/** C[i][j] of A[M,K]·B[K,N] at sampled (i, j), in float64; tolerance scales with Σ|a||b|. */
export function checkMatmul(a: Float32Array, b: Float32Array, c: Float32Array, M: number, K: number, N: number): CheckResult {
  const r = rng(7);
  // f32 accumulation over K terms: the error grows with K and with Σ|a·b|, not with |c|.
  const check = new SpotCheck(1e-6, 2e-6 * Math.sqrt(K));
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(r() * M), j = Math.floor(r() * N);
    let sum = 0, abs = 0;
    for (let k = 0; k < K; k++) {
      const p = a[i * K + k]! * b[k * N + j]!;
      sum += p;
      abs += Math.abs(p);
    }
    check.add(c[i * N + j]!, sum, abs);
  }
  return check.result();
}

/** Softmax over the last axis of [rows, cols], on sampled whole rows. */
export function checkSoftmax(x: Float32Array, y: Float32Array, rows: number, cols: number): CheckResult {
  const check = new SpotCheck(1e-6, 1e-4);
  for (const row of sampleIndices(rng(11), rows, 16)) {
    const o = row * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[o + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[o + j]! - m);
    for (let j = 0; j < cols; j++) check.add(y[o + j]!, Math.exp(x[o + j]! - m) / s);
  }
  return check.result();
}

/** Layer norm over the last axis of [rows, cols] with weight/bias [cols], on sampled rows. */
export function checkLayerNorm(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, rows: number, cols: number, eps: number): CheckResult {
  const check = new SpotCheck(1e-4, 1e-4);
  for (const row of sampleIndices(rng(13), rows, 16)) {
    const o = row * cols;
    let mean = 0;
    for (let j = 0; j < cols; j++) mean += x[o + j]!;
    mean /= cols;
    let v = 0;
    for (let j = 0; j < cols; j++) v += (x[o + j]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / cols + eps);
    for (let j = 0; j < cols; j++) check.add(y[o + j]!, (x[o + j]! - mean) * inv * w[j]! + b[j]!);
  }
  return check.result();
}

/** Exact (erf) GELU, the float64 reference of the pointwise chain. */
export function gelu64(v: number): number {
  return 0.5 * v * (1 + erf64(v * Math.SQRT1_2));
}

/** gelu(x·a + b), elementwise over same-shape x, a, b, at sampled positions. */
export function checkGeluChain(x: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array): CheckResult {
  const check = new SpotCheck(1e-5, 1e-4);
  for (const i of sampleIndices(rng(17), x.length, 512)) check.add(y[i]!, gelu64(x[i]! * a[i]! + b[i]!));
  return check.result();
}
