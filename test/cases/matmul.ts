// Op cases of the matmul family: 2-D products with every transpose combination, batch dims that
// broadcast, 1-D operands (torch.matmul's rules) and the fused bias + activation, on shapes that
// are not tile multiples and on shapes whose axes are multiples of 4 (the vec4 paths).
import { matmul } from '../../src/tensor/ops/matmul.js';
import { matmulRef, type Arr } from '../../src/tensor/reference/index.js';
import type { Tensor } from '../../src/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

type Activation = 'none' | 'relu' | 'gelu' | 'geluTanh';
interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Adds a bias input of shape [N]. */
  bias?: boolean;
  activation?: Activation;
  grad?: boolean;
  what?: string;
}

/** Stored shape of a rows × cols operand (transposed when `trans`). */
const stored = (rows: number, cols: number, trans: boolean): number[] => (trans ? [cols, rows] : [rows, cols]);

function matmulCase(sa: number[], sb: number[], seed: number, o: MatmulOptions = {}): OpCase {
  const { transA = false, transB = false, activation } = o;
  // The contraction length sets the f32 rounding error of each output.
  const K = sa.length === 1 ? sa[0]! : transA ? sa[sa.length - 2]! : sa[sa.length - 1]!;
  const N = sb.length === 1 ? 1 : transB ? sb[sb.length - 2]! : sb[sb.length - 1]!;
  const flags = [transA && 'transA', transB && 'transB', o.bias && 'bias', activation && activation !== 'none' && activation].filter(Boolean);
  return {
    family: 'matmul',
    op: 'matmul',
    name: `matmul ${shapeText(sa)} @ ${shapeText(sb)}${flags.length ? ` ${flags.join(' ')}` : ''}${o.what ? ` (${o.what})` : ''}`,
    inputs: seeded(seed, (r) => [r.uniform(sa), r.uniform(sb), ...(o.bias ? [r.uniform([N])] : [])]),
    gpu: (a: Tensor, b: Tensor, bias?: Tensor) => matmul(a, b, { transA, transB, bias, activation }),
    ref: (a: Arr, b: Arr, bias?: Arr) => matmulRef(a, b, { transA, transB, bias, activation }),
    atol: 2e-6 * K + 1e-6,
    rtol: 1e-5,
    ...(o.grad ? { grad: {} } : {}),
  };
}

// M x K x N, none a multiple of any tile, and one with every axis a multiple of 4 (vec4 paths).
const shapes2d: [number, number, number][] = [[1, 1, 1], [37, 29, 53], [65, 64, 197], [32, 64, 48]];
const batched: [number[], number[], boolean, boolean][] = [
  [[2, 3, 5, 7], [3, 7, 9], false, false],
  [[4, 1, 6, 5], [1, 3, 9, 5], false, true],
  [[3, 9, 12], [9, 12], true, false],
  [[6, 8], [2, 3, 8, 4], false, false],
  [[2, 1, 3, 1, 5, 4], [1, 2, 1, 2, 4, 3], false, false],
  [[2, 12, 16], [2, 8, 12], true, true],
];
const activations: Activation[] = ['none', 'relu', 'gelu', 'geluTanh'];
const bools = [false, true];

export const cases: OpCase[] = [
  ...shapes2d.flatMap(([M, K, N], i) => bools.flatMap((transA) => bools.map((transB) =>
    matmulCase(stored(M, K, transA), stored(K, N, transB), 17 + 4 * i + 2 * +transA + +transB, { transA, transB })))),
  ...batched.map(([sa, sb, transA, transB], i) => matmulCase(sa, sb, 23 + i, { transA, transB, what: 'batch dims broadcast' })),
  ...activations.flatMap((activation, i) => ([[19, 23, 31], [24, 16, 40]] as const).map(([M, K, N], j) =>
    matmulCase([M, K], [N, K], 29 + 2 * i + j, { transB: true, bias: true, activation }))),
  matmulCase([2, 7, 5], [5, 6], 30, { activation: 'gelu', what: 'batched, no bias' }),
  // 1-D operands behave like torch.matmul.
  matmulCase([7], [7, 5], 37, { what: 'vector @ matrix' }),
  matmulCase([6, 7], [7], 38, { what: 'matrix @ vector' }),
  matmulCase([9], [9], 39, { what: 'vector @ vector' }),
  matmulCase([4], [3, 4, 6], 40, { what: 'vector @ batched matrix' }),
  matmulCase([2, 3, 5], [5], 41, { what: 'batched matrix @ vector' }),
  // Gradients: every transpose combination, broadcast batch dims, bias and each activation, 1-D.
  ...bools.flatMap((transA) => bools.map((transB) => matmulCase(stored(5, 7, transA), stored(7, 6, transB), 41 + 2 * +transA + +transB, { transA, transB, grad: true }))),
  matmulCase([2, 3, 4, 5], [3, 5, 2], 43, { grad: true, what: 'batch dims broadcast' }),
  matmulCase([3, 1, 4, 5], [1, 2, 3, 5], 44, { transB: true, grad: true, what: 'batch dims broadcast' }),
  matmulCase([4, 3], [2, 4, 5], 45, { transA: true, grad: true, what: 'batch dims broadcast' }),
  ...activations.map((activation, i) => matmulCase([2, 3, 6], [5, 6], 47 + i, { transB: true, bias: true, activation, grad: true })),
  matmulCase([5], [5, 4], 53, { grad: true, what: 'vector @ matrix' }),
  matmulCase([3, 5], [5], 54, { grad: true, what: 'matrix @ vector' }),
];

function benchMatmul(M: number, K: number, N: number, o: MatmulOptions & { heavy?: boolean; id?: string } = {}): BenchCase {
  const plain = !o.transA && !o.transB && !o.bias && !o.activation;
  return {
    ...matmulCase(stored(M, K, !!o.transA), stored(K, N, !!o.transB), M * 31 + K * 17 + N, o),
    id: o.id ?? (M === K && K === N ? `matmul-${M}` : `matmul-${M}x${K}x${N}`),
    flops: 2 * M * N * K,
    ...(o.heavy ? { heavy: true } : {}),
    ...(plain ? { peer: { kind: 'matmul' } as const } : {}),
  };
}

export const benchCases: BenchCase[] = [
  benchMatmul(256, 256, 256),
  benchMatmul(512, 512, 512),
  benchMatmul(1024, 1024, 1024),
  benchMatmul(2048, 2048, 2048, { heavy: true }),
  // ViT-S MLP/QKV-like: 4096 tokens (e.g. 16 images × 256 patches), 384 → 1152.
  benchMatmul(4096, 384, 1152),
  // The same as a Linear layer: x·Wᵀ + b with the fused GELU.
  benchMatmul(1024, 384, 1152, { transB: true, bias: true, activation: 'gelu', id: 'matmul-linear-gelu-1024x384x1152' }),
];
