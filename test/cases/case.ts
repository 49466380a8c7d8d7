// The op-case registry's vocabulary: an op case is one call of one op on given shapes, with its
// float64 reference, its tolerances and whether its backward is checked by finite differences.
// The op suites (test/<family>.test.ts) run every case for correctness; bench/kernels.ts runs the
// bench-sized cases for speed and checks their outputs with the same references.
import { tensor, type Tensor } from '../../src/index.js';
import type { Family } from '../../src/tensor/ops/names.js';
import { arr, numel, type Arr } from '../../src/tensor/reference/index.js';
import { mulberry32 } from '../../src/data/random.js';

/** How a case's backward is checked against central differences of its reference. */
export interface GradCheckSpec {
  /** Which inputs to check (default all). */
  check?: number[];
  /** Step of the central difference (default 1e-4). */
  h?: number;
  atol?: number;
  rtol?: number;
}

/** What the kernel benchmark's peers (jax-js, TF.js) know how to run, for the cases they have. */
export type PeerWorkload =
  | { kind: 'matmul' }
  | { kind: 'softmax' }
  | { kind: 'layernorm'; eps: number }
  | { kind: 'gelu-chain' };

export interface OpCase {
  family: Family;
  /** The op as a user calls it (`softmax`, `layerNorm`, `gelu(x·a + b)`): suites group cases by it. */
  op: string;
  /** The op and its shapes (`softmax [4, 150] axis 1`): names the failure and the benchmark row. */
  name: string;
  /** Fresh inputs on every call (f32-representable float64), so a gradient check may perturb them. */
  inputs(): Arr[];
  /** The op on the GPU, one tensor per input. */
  gpu(...xs: Tensor[]): Tensor;
  /** Its float64 reference. */
  ref(...xs: Arr[]): Arr;
  /** Forward tolerance: |gpu − ref| <= atol + rtol·|ref|. */
  atol: number;
  rtol: number;
  /** Checks the backward of every input (or `check`) by central differences; absent: forward only. */
  grad?: GradCheckSpec;
}

/** A case sized for the kernel benchmark. */
export interface BenchCase extends OpCase {
  /** Stable id for result files and `--only` (`matmul-1024`, `softmax-4096x197`). */
  id: string;
  /** Floating-point operations of one call (matmul, attention); the rest are rated by traffic. */
  flops?: number;
  /** Too slow on a software adapter for `--quick`. */
  heavy?: boolean;
  /** Set when jax-js and TF.js run the same workload. */
  peer?: PeerWorkload;
}

/** A seeded source of f32-representable random inputs (the data layer's mulberry32). */
export class Inputs {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = mulberry32(seed);
  }

  /** Uniform in [lo, hi), rounded to f32 so the GPU and the reference see the same values. */
  uniform(shape: readonly number[], lo = -2, hi = 2): Arr {
    const a = arr(shape);
    for (let i = 0; i < a.data.length; i++) a.data[i] = Math.fround(lo + (hi - lo) * this.r());
    return a;
  }

  /** Integers in [0, n), as float64 values (indices, class targets, small values with ties). */
  integers(shape: readonly number[], n: number): Arr {
    return arr(shape, Array.from({ length: numel(shape) }, () => Math.floor(this.r() * n)));
  }

  /** 0/1 values, 1 with probability `p`. */
  bernoulli(shape: readonly number[], p: number): Arr {
    return arr(shape, Array.from({ length: numel(shape) }, () => (this.r() < p ? 1 : 0)));
  }
}

/** `fn` with fresh seeded `Inputs` on every call: the body of an `OpCase.inputs`. */
export function seeded(seed: number, fn: (r: Inputs) => Arr[]): () => Arr[] {
  return () => fn(new Inputs(seed));
}

/**
 * The largest |actual − expected| / (atol + rtol·|expected|) and where (≤ 1 passes); NaN where a
 * value is expected fails, as does a length mismatch.
 */
export function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): { worst: number; at: number } {
  if (actual.length !== expected.length) return { worst: Infinity, at: -1 };
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (a === e) continue;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) return { worst: Infinity, at: i };
      continue;
    }
    const ratio = Math.abs(a - e) / (atol + rtol * Math.abs(e));
    // NaN in the output must fail: compare with !(<=).
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      at = i;
    }
  }
  return { worst, at };
}

export const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * A constant operand that is not an input of the case (an index tensor, a condition, targets):
 * made on first use and kept (no tidy disposes it), so timing a case never re-uploads it.
 */
export function constant(a: Arr): () => Tensor {
  let t: Tensor | null = null;
  return () => (t ??= tensor(Float32Array.from(a.data), { shape: a.shape }).keep());
}
