// Op cases of the loss family: fused cross-entropy for every reduction, with label smoothing,
// ignoreIndex and spatial [B, C, d…] logits, with host and tensor targets; and MSE.
import { crossEntropy, mseLoss } from '../../src/tensor/ops/loss.js';
import { arr, crossEntropyRef, mseLossRef } from '../../src/tensor/reference/index.js';
import { constant, Inputs, seeded, shapeText, type BenchCase, type OpCase } from './case.js';

type Reduction = 'mean' | 'sum' | 'none';
interface CrossEntropyOptions {
  reduction?: Reduction;
  labelSmoothing?: number;
  ignoreIndex?: number;
}

/**
 * Cross-entropy of random logits of `shape` against random classes (a fixed list of them set to
 * `ignored` when given); targets go to the op as a host array or as a tensor.
 */
function crossEntropyCase(shape: number[], seed: number, opts: CrossEntropyOptions, o: { tensorTargets?: boolean; ignoredAt?: number[]; grad?: boolean } = {}): OpCase {
  const C = shape[1]!;
  const targetShape = [shape[0]!, ...shape.slice(2)];
  const targets = [...new Inputs(seed + 1000).integers(targetShape, C).data];
  for (const i of o.ignoredAt ?? []) targets[i] = opts.ignoreIndex!;
  const targetTensor = constant(arr(targetShape, targets));
  const settings = Object.entries(opts).map(([k, v]) => `${k} ${v}`).join(', ');
  return {
    family: 'loss',
    op: 'crossEntropy',
    name: `crossEntropy ${shapeText(shape)}${settings ? ` ${settings}` : ''} (${o.tensorTargets ? 'tensor' : 'host'} targets)`,
    inputs: seeded(seed, (r) => [r.uniform(shape, -3, 3)]),
    gpu: (x) => crossEntropy(x, o.tensorTargets ? targetTensor() : targets, opts),
    ref: (x) => crossEntropyRef(x, targets, opts),
    atol: 1e-5,
    rtol: 1e-5,
    ...(o.grad ? { grad: {} } : {}),
  };
}

function mseCase(shape: number[], reduction: Reduction, seed: number): OpCase {
  return {
    family: 'loss',
    op: 'mseLoss',
    name: `mseLoss ${shapeText(shape)} reduction ${reduction}`,
    inputs: seeded(seed, (r) => [r.uniform(shape, -3, 3), r.uniform(shape, -3, 3)]),
    gpu: (a, b) => mseLoss(a, b, { reduction }),
    ref: (a, b) => mseLossRef(a, b, reduction),
    atol: 1e-5,
    rtol: 1e-5,
    grad: {},
  };
}

const reductions: Reduction[] = ['mean', 'sum', 'none'];

export const cases: OpCase[] = [
  ...([[5, 7], [3, 100], [1, 1]] as const).flatMap(([B, C], i) => reductions.flatMap((reduction, j) => [0, 0.1].map((labelSmoothing, k) =>
    crossEntropyCase([B, C], 3 + 6 * i + 2 * j + k, { reduction, labelSmoothing })))),
  // Spatial logits [B, C, d1, d2] take class axis 1.
  ...(['none', 'mean'] as const).map((reduction, i) => crossEntropyCase([2, 5, 3, 2], 7 + i, { reduction, labelSmoothing: 0.2 }, { tensorTargets: true })),
  // ignoreIndex drops targets from the loss and from the mean, for host and tensor targets.
  ...reductions.flatMap((reduction, i) => [false, true].map((tensorTargets) =>
    crossEntropyCase([6, 4], 11 + i, { reduction, ignoreIndex: -100, labelSmoothing: 0.1 }, { tensorTargets, ignoredAt: [1, 4] }))),
  // Gradients: reductions, smoothing, ignoreIndex, spatial.
  crossEntropyCase([4, 6], 13, {}, { tensorTargets: true, grad: true }),
  crossEntropyCase([4, 6], 14, { reduction: 'sum', labelSmoothing: 0.15 }, { tensorTargets: true, grad: true }),
  crossEntropyCase([4, 6], 15, { reduction: 'none' }, { tensorTargets: true, grad: true }),
  crossEntropyCase([4, 6], 16, { ignoreIndex: -1, labelSmoothing: 0.1 }, { tensorTargets: true, ignoredAt: [1, 3], grad: true }),
  crossEntropyCase([2, 3, 4], 17, { labelSmoothing: 0.05 }, { tensorTargets: true, grad: true }),
  ...reductions.map((reduction, i) => mseCase([3, 5], reduction, 19 + i)),
];

export const benchCases: BenchCase[] = [
  // A classifier head's batch: 4096 samples over 1000 classes.
  { ...crossEntropyCase([4096, 1000], 4096, { labelSmoothing: 0.1 }, { tensorTargets: true }), id: 'crossentropy-4096x1000' },
  { ...mseCase([1024, 1024], 'mean', 1024), id: 'mse-1024x1024' },
];
