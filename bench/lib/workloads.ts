// The kernel workloads every library runs: shapes, inputs, the work they count (FLOPs for
// matmul, ideal memory traffic for the memory-bound ops) and the float64 check of the output.
import { checkGeluChain, checkLayerNorm, checkMatmul, checkSoftmax, randomF32, rng, type CheckResult } from './data.js';

export type Family = 'matmul' | 'softmax' | 'layernorm' | 'pointwise';

export type Workload =
  | { family: 'matmul'; M: number; K: number; N: number }
  | { family: 'softmax'; rows: number; cols: number }
  | { family: 'layernorm'; rows: number; cols: number; eps: number }
  | { family: 'pointwise'; rows: number; cols: number };

export interface WorkloadSpec {
  /** Stable id used in file names and `--only` filters, e.g. `matmul-1024`. */
  id: string;
  /** What a reader sees in the table, e.g. `matmul 1024×1024×1024`. */
  title: string;
  work: Workload;
  /** 2·M·N·K for matmul; undefined for the memory-bound ops. */
  flops?: number;
  /** Bytes an ideal (fully fused) kernel must read and write once. */
  bytes: number;
  /** Bytes of one output (bounds how many outputs a sample may keep alive). */
  outputBytes: number;
  /** Expensive enough on a software adapter to be skipped by `--quick`. */
  heavy?: boolean;
  /** Host inputs, in the order the peers take them. */
  inputs(): Float32Array[];
  /** Float64 spot check of one output against those inputs. */
  check(inputs: Float32Array[], output: Float32Array): CheckResult;
}

const F32 = 4;

function matmul(M: number, K: number, N: number, title: string, heavy = false): WorkloadSpec {
  return {
    id: M === K && K === N ? `matmul-${M}` : `matmul-${M}x${K}x${N}`,
    title,
    work: { family: 'matmul', M, K, N },
    flops: 2 * M * N * K,
    bytes: (M * K + K * N + M * N) * F32,
    outputBytes: M * N * F32,
    heavy,
    inputs: () => {
      const r = rng(M * 31 + K * 17 + N);
      return [randomF32(r, M * K), randomF32(r, K * N)];
    },
    check: ([a, b], c) => checkMatmul(a!, b!, c, M, K, N),
  };
}

function softmax(rows: number, cols: number, title: string): WorkloadSpec {
  return {
    id: `softmax-${rows}x${cols}`,
    title,
    work: { family: 'softmax', rows, cols },
    bytes: 2 * rows * cols * F32,
    outputBytes: rows * cols * F32,
    // Attention-logit-like spread, so exp() sees a realistic range.
    inputs: () => [randomF32(rng(rows + cols), rows * cols, -8, 8)],
    check: ([x], y) => checkSoftmax(x!, y, rows, cols),
  };
}

function layerNorm(rows: number, cols: number, title: string): WorkloadSpec {
  const eps = 1e-6;
  return {
    id: `layernorm-${rows}x${cols}`,
    title,
    work: { family: 'layernorm', rows, cols, eps },
    bytes: (2 * rows * cols + 2 * cols) * F32,
    outputBytes: rows * cols * F32,
    inputs: () => {
      const r = rng(rows * 3 + cols);
      return [randomF32(r, rows * cols, -3, 3), randomF32(r, cols, 0.5, 1.5), randomF32(r, cols, -0.5, 0.5)];
    },
    check: ([x, w, b], y) => checkLayerNorm(x!, w!, b!, y, rows, cols, eps),
  };
}

function pointwise(rows: number, cols: number, title: string): WorkloadSpec {
  const n = rows * cols;
  return {
    id: `gelu-chain-${rows}x${cols}`,
    title,
    work: { family: 'pointwise', rows, cols },
    // x, a, b read once, y written once.
    bytes: 4 * n * F32,
    outputBytes: n * F32,
    inputs: () => {
      const r = rng(n + 5);
      return [randomF32(r, n, -3, 3), randomF32(r, n, 0.5, 1.5), randomF32(r, n, -0.5, 0.5)];
    },
    check: ([x, a, b], y) => checkGeluChain(x!, a!, b!, y),
  };
}

/** Every workload, in the order they run. */
export const WORKLOADS: WorkloadSpec[] = [
  matmul(256, 256, 256, 'matmul 256³'),
  matmul(512, 512, 512, 'matmul 512³'),
  matmul(1024, 1024, 1024, 'matmul 1024³'),
  matmul(2048, 2048, 2048, 'matmul 2048³', true),
  // ViT-S MLP/QKV-like: 4096 tokens (e.g. 16 images × 256 patches), 384 → 1152.
  matmul(4096, 384, 1152, 'matmul ViT 4096×384·384×1152'),
  softmax(4096, 197, 'softmax [4096, 197]'),
  // ViT-B attention: 12 heads × 197 queries, over 197 keys.
  softmax(12 * 197, 197, 'softmax [12·197, 197]'),
  layerNorm(4096, 384, 'layer norm [4096, 384]'),
  pointwise(4096, 1024, 'gelu(x·a + b) [4096, 1024]'),
];
