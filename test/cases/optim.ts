// Op cases of the optim family: one AdamW update and one SGD-with-momentum update of a parameter
// and its state (PyTorch's rules), and clipping by the global gradient norm. The ops update in
// place, so each case updates copies of its inputs and returns the new values side by side.
import { adamwUpdate_, clipByGlobalNorm_, sgdUpdate_ } from '../../src/tensor/ops/optim.js';
import { concat, stack } from '../../src/tensor/ops/movement.js';
import { adamwRefStep, arr, clipGradNormRef, sgdRefStep, type Arr } from '../../src/tensor/reference/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

const adamw = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.05 };
/** The step about to be taken (past the first, so both bias corrections matter). */
const STEP = 3;

function adamwCase(shape: number[], seed: number): OpCase {
  return {
    family: 'optim',
    op: 'adamwUpdate_',
    name: `adamwUpdate_ ${shapeText(shape)} step ${STEP} (p, m, v stacked)`,
    inputs: seeded(seed, (r) => [r.uniform(shape, -1, 1), r.uniform(shape, -1, 1), r.uniform(shape, -0.1, 0.1), r.uniform(shape, 0, 0.01)]),
    gpu: (p, g, m, v) => {
      const [p2, m2, v2] = [p!.clone(), m!.clone(), v!.clone()];
      adamwUpdate_(p2, g!, m2, v2, { lr: adamw.lr, beta1: adamw.betas[0], beta2: adamw.betas[1], eps: adamw.eps, weightDecay: adamw.weightDecay, step: STEP });
      return stack([p2, m2, v2]);
    },
    ref: (p, g, m, v) => {
      const s = { p: Float64Array.from(p!.data), m: Float64Array.from(m!.data), v: Float64Array.from(v!.data), step: STEP - 1 };
      adamwRefStep(s, g!.data, adamw);
      return arr([3, ...shape], [...s.p, ...s.m, ...s.v]);
    },
    atol: 1e-6,
    rtol: 1e-5,
  };
}

const sgd = { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true, weightDecay: 0.01 };

function sgdCase(shape: number[], seed: number): OpCase {
  return {
    family: 'optim',
    op: 'sgdUpdate_',
    name: `sgdUpdate_ ${shapeText(shape)} nesterov momentum (p, buffer stacked)`,
    inputs: seeded(seed, (r) => [r.uniform(shape, -1, 1), r.uniform(shape, -1, 1), r.uniform(shape, -0.1, 0.1)]),
    gpu: (p, g, buf) => {
      const [p2, b2] = [p!.clone(), buf!.clone()];
      sgdUpdate_(p2, g!, b2, { ...sgd, firstStep: false });
      return stack([p2, b2]);
    },
    ref: (p, g, buf) => {
      const s = { p: Float64Array.from(p!.data), buf: Float64Array.from(buf!.data), step: 1 };
      sgdRefStep(s, g!.data, sgd);
      return arr([2, ...shape], [...s.p, ...s.buf]);
    },
    atol: 1e-6,
    rtol: 1e-5,
  };
}

function clipCase(shapes: number[][], maxNorm: number, seed: number): OpCase {
  return {
    family: 'optim',
    op: 'clipByGlobalNorm_',
    name: `clipByGlobalNorm_ ${shapes.map(shapeText).join(' ')} to ${maxNorm} (norm, then the gradients)`,
    inputs: seeded(seed, (r) => shapes.map((s) => r.uniform(s, -1, 1))),
    gpu: (...gs) => {
      const copies = gs.map((g) => g.clone());
      const norm = clipByGlobalNorm_(copies, maxNorm);
      return concat([norm.reshape(1), ...copies.map((c) => c.reshape(-1))], 0);
    },
    ref: (...gs: Arr[]) => {
      const { norm, clipped } = clipGradNormRef(gs.map((g) => g.data), maxNorm);
      const flat = [norm, ...clipped.flatMap((c) => [...c])];
      return arr([flat.length], flat);
    },
    atol: 1e-6,
    rtol: 1e-5,
  };
}

export const cases: OpCase[] = [
  adamwCase([37, 29], 1),
  adamwCase([5], 2),
  sgdCase([37, 29], 3),
  // Norm above maxNorm (scaled down) and below it (unchanged); chunks of several sizes.
  clipCase([[37, 29], [5], [3, 300]], 1, 4),
  clipCase([[7], [2, 3]], 100, 5),
];

export const benchCases: BenchCase[] = [
  { ...adamwCase([1024, 1024], 1), id: 'adamw-1024x1024' },
  { ...sgdCase([1024, 1024], 2), id: 'sgd-1024x1024' },
  { ...clipCase([[1024, 1024], [1024], [384, 1152]], 1, 3), id: 'clip-global-norm-1.4M' },
];
