// Matrix multiply front-end: torch.matmul semantics (1-D operands, NumPy-broadcast batch dims
// passed to the kernel as strides, 0 on broadcast dims, so nothing is copied), transposed
// operands read in place, and a fused bias + activation epilogue; plus its backward rule.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import type { Runtime } from '../runtime.js';
import { ShapeError, broadcastShapes, broadcastStrides, checkLive, fmt, numel } from '../shape.js';
import { isGradEnabled, record } from '../../autograd/tape.js';
import { linearGroups } from '../../shaders/kernel.js';
import { unaryBackwardKernel } from '../../shaders/pointwise.js';
import {
  MAX_BATCH_RANK, MM_ACTIVATION_CODE, MM_FLAG_BIAS, MM_FLAG_STORE_PRE, simdGrid, simdMatmulKernel, tiledGrid,
  tiledMatmulKernel, type MatmulActivation, type SimdConfig, type TiledConfig,
} from '../../shaders/matmul.js';
import { reduce, sumTo } from './reduce.js';
import { reshape } from './movement.js';
import { fixedSubgroupSize } from './rows.js';

export interface MatmulOptions {
  /** Use a's last two axes transposed, without a copy. */
  transA?: boolean;
  /** Use b's last two axes transposed, without a copy. */
  transB?: boolean;
  /** Added to every output row (shape [N]). */
  bias?: Tensor;
  /** Applied after the bias. */
  activation?: 'none' | 'gelu' | 'geluTanh' | 'relu';
}

const ACTIVATIONS: readonly MatmulActivation[] = ['none', 'gelu', 'geluTanh', 'relu'];

/**
 * Kernel choice, exposed for tests and benchmarks. 'auto' runs the simd kernel on CPU adapters
 * whose subgroups have one fixed size (lavapipe: 8 = one AVX2 register), the tiled kernel
 * elsewhere. The tilings are the knobs of src/shaders/matmul.ts; `null` means "pick by shape".
 */
export const matmulConfig: {
  variant: 'auto' | 'simd' | 'tiled';
  simd: Omit<SimdConfig, 'lanes'> | null;
  tiled: TiledConfig | null;
} = { variant: 'auto', simd: null, tiled: null };

// Measured on lavapipe (llvmpipe 256-bit, 2 cores): 32 broadcast rows x 32 columns beat 24, 16,
// 40, 48 and 64 rows (and two column quads per lane) at 512..2048 and at the ViT step's shapes
// (bench/results/matmul-tiling-2026-12-01-lavapipe.md): more rows feed more FMAs per B load
// until the spilled accumulators cost more than the loads they save. Rows a tile computes past
// M are wasted work, so 24 rows take over where they waste less (M = 65: 72 rows instead of
// 96), and matrices of a few rows take 8, so fewer lanes idle.
function pickSimd(M: number): Omit<SimdConfig, 'lanes'> {
  if (M <= 8) return { rows: 8, colVec4s: 1 };
  const padded = (rows: number) => Math.ceil(M / rows) * rows;
  return { rows: padded(32) <= padded(24) ? 32 : 24, colVec4s: 1 };
}

// GPUs: 64x64 tiles (16x16 invocations x 4x4 outputs, a 16-deep k slab: 8 KiB of workgroup
// memory); when that leaves too few workgroups to fill the GPU, 32x32 tiles (2x2 outputs each).
const TILED_LARGE: TiledConfig = { TM: 4, TN: 4, BK: 16 };
const TILED_SMALL: TiledConfig = { TM: 2, TN: 2, BK: 16 };
const MIN_LARGE_TILES = 128;

/** Whether the adapter runs on the CPU (lavapipe, SwiftShader, a fallback adapter). */
export function isCpuAdapter(r: Runtime): boolean {
  const info = (r.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const d = r.adapterDescription;
  return d.architecture === 'software' || !!info?.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(`${d.description} ${d.device}`);
}

/** Subgroup width when the adapter is a CPU one with fixed-size subgroups, else 0. */
function simdLanes(r: Runtime): number {
  const lanes = fixedSubgroupSize(r);
  return isCpuAdapter(r) && (lanes === 4 || lanes === 8) ? lanes : 0;
}

/** Pads a batch shape / strides to MAX_BATCH_RANK entries at the front. */
function padBatch(xs: readonly number[], fillWith: number): number[] {
  return [...new Array(MAX_BATCH_RANK - xs.length).fill(fillWith), ...xs];
}

/** C = op(a)·op(b) (+ bias, activation) for operands of rank >= 2. */
function matmulCore(a: Tensor, b: Tensor, transA: boolean, transB: boolean, bias: Tensor | null, act: MatmulActivation): Tensor {
  const ra = a.rank, rb = b.rank;
  const M = a.shape[ra - (transA ? 1 : 2)]!, Ka = a.shape[ra - (transA ? 2 : 1)]!;
  const Kb = b.shape[rb - (transB ? 1 : 2)]!, N = b.shape[rb - (transB ? 2 : 1)]!;
  const desc = `${fmt(a.shape)}${transA ? 'ᵀ' : ''} @ ${fmt(b.shape)}${transB ? 'ᵀ' : ''}`;
  if (Ka !== Kb) {
    throw new ShapeError('matmul', `inner dimensions differ: ${fmt(a.shape)}${transA ? ' (transposed)' : ''} has ${Ka} columns, ${fmt(b.shape)}${transB ? ' (transposed)' : ''} has ${Kb} rows`);
  }
  const K = Ka;
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes('matmul', aBatch, bBatch);
  if (batch.length > MAX_BATCH_RANK) throw new ShapeError('matmul', `at most ${MAX_BATCH_RANK} batch dimensions are supported, got ${fmt(batch)} from ${desc}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) throw new ShapeError('matmul', `bias must have shape [${N}] for ${desc}, got ${fmt(bias.shape)}`);

  const out = Tensor.empty([...batch, M, N]);
  const wantGrad = isGradEnabled() && (a.requiresGrad || b.requiresGrad || !!bias?.requiresGrad);
  // A fused activation's backward needs its input, the pre-activation z = op(a)·op(b) + bias.
  // When gradients are recorded the kernel also writes z (one extra store per output, in the
  // same pass); the alternative, matmul + bias then the standalone activation op, costs a
  // whole extra read-and-write pass over the output, with or without gradients.
  const pre = act !== 'none' && wantGrad ? Tensor.empty(out.shape) : null;
  if (out.size > 0) {
    const r = rt();
    const lanes = matmulConfig.variant === 'tiled' ? 0 : simdLanes(r);
    if (matmulConfig.variant === 'simd' && !lanes) throw new Error('matmul: the simd kernel needs a CPU adapter with fixed-size subgroups');
    const nb = numel(batch);
    const layout = { transA, transB };
    let kernel, gx: number, gy: number;
    if (lanes) {
      const cfg: SimdConfig = { lanes, ...(matmulConfig.simd ?? pickSimd(M)) };
      kernel = simdMatmulKernel(layout, cfg, { vecA: (transA ? M : K) % 4 === 0, vecB: (transB ? K : N) % 4 === 0, vecC: N % 4 === 0 });
      [gx, gy] = simdGrid(cfg, M, N);
    } else {
      const [lx, ly] = tiledGrid(TILED_LARGE, M, N);
      const cfg = matmulConfig.tiled ?? (lx * ly * nb >= MIN_LARGE_TILES ? TILED_LARGE : TILED_SMALL);
      kernel = tiledMatmulKernel(layout, cfg);
      [gx, gy] = tiledGrid(cfg, M, N);
    }
    const aStrides = padBatch(broadcastStrides(aBatch, batch).map((s) => s * M * K), 0);
    const bStrides = padBatch(broadcastStrides(bBatch, batch).map((s) => s * K * N), 0);
    // At least 16 bytes bound (pool buffers have 256+): a vec4 view of an empty operand needs one vec4.
    const bind = (t: Tensor) => ({ buffer: t.buffer, bytes: Math.max(16, t.size * 4) });
    // Unused Bias / Z slots get stand-ins: A (read-only, like Bias) and the scratch buffer.
    const buffers = [bind(a), bind(b), bind(bias ?? a), bind(out), pre ? bind(pre) : { buffer: r.scratch, bytes: 256 }];
    const flags = (bias ? MM_FLAG_BIAS : 0) | (pre ? MM_FLAG_STORE_PRE : 0);
    const label = `matmul ${desc}${bias ? ' + bias' : ''}${act !== 'none' ? ` ${act}` : ''}`;
    for (let z0 = 0; z0 < nb; z0 += 65535) {
      const uniforms = { M, N, K, zOffset: z0, batch: padBatch(batch, 1), aBatchStrides: aStrides, bBatchStrides: bStrides, flags, activation: MM_ACTIVATION_CODE[act] };
      r.dispatch(kernel, { label, buffers, uniforms, workgroups: [gx, gy, Math.min(65535, nb - z0)] });
    }
  }
  const inputs = bias ? [a, b, bias] : [a, b];
  const y = record(out, 'matmul', inputs, (g) => {
    // The activation's backward reads the pre-activation the kernel saved alongside.
    let gz = g;
    if (pre) {
      gz = Tensor.empty(out.shape);
      const count = Math.ceil(out.size / 4);
      rt().dispatch(unaryBackwardKernel(act as Exclude<MatmulActivation, 'none'>), {
        label: `matmul ${act} backward ${fmt(out.shape)}`,
        buffers: [pre.binding4, out.binding4, g.binding4, gz.binding4],
        uniforms: { count },
        workgroups: linearGroups(count),
      });
    }
    // The transposes are flags, so no operand is ever materialised transposed.
    let ga: Tensor | null = null, gb: Tensor | null = null, gbias: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transA ? matmulCore(b, gz, transB, true, null, 'none') : matmulCore(gz, b, false, !transB, null, 'none');
      ga = sumTo(full, a.shape);
      full.dispose();
    }
    if (b.requiresGrad) {
      const full = transB ? matmulCore(gz, a, true, transA, null, 'none') : matmulCore(a, gz, !transA, false, null, 'none');
      gb = sumTo(full, b.shape);
      full.dispose();
    }
    if (bias?.requiresGrad) gbias = reduce('sum', gz, [...Array(gz.rank - 1).keys()], false);
    if (gz !== g) gz.dispose();
    return [ga, gb, gbias];
  });
  if (pre && !y.node) pre.dispose();
  return y;
}

/**
 * torch.matmul with in-place transposes and a fused epilogue: [..., M, K] @ [..., K, N] with
 * broadcast batch dims; a 1-D operand is a row (left) or column (right) vector whose axis is
 * dropped from the result. `bias` ([N]) and `activation` apply to the output.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkLive('matmul', a, b, ...(opts.bias ? [opts.bias] : []));
  const act = opts.activation ?? 'none';
  if (!ACTIVATIONS.includes(act)) throw new ShapeError('matmul', `unknown activation '${act}' (use ${ACTIVATIONS.join(', ')})`);
  if (a.rank === 0 || b.rank === 0) throw new ShapeError('matmul', `operands must have rank >= 1, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  if ((a.rank === 1 && opts.transA) || (b.rank === 1 && opts.transB)) {
    throw new ShapeError('matmul', `transA/transB need an operand of rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  if (a.rank >= 2 && b.rank >= 2) return matmulCore(a, b, !!opts.transA, !!opts.transB, opts.bias ?? null, act);
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const y = matmulCore(a2, b2, !!opts.transA, !!opts.transB, opts.bias ?? null, act);
  let shape = [...y.shape];
  if (a.rank === 1) shape.splice(shape.length - 2, 1);
  if (b.rank === 1) shape = shape.slice(0, -1);
  const out = reshape(y, shape);
  // The temporary views are only needed if the graph holds them.
  if (!y.node) {
    y.dispose();
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
  }
  return out;
}
