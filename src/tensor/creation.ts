// Tensor creation: zeros, ones, full, arange, eye, and the *Like variants. Random tensors
// (rand, randn, gumbel) come from the counter-based generator in src/tensor/ops/random.ts.
import { Tensor, tensor } from './tensor.js';
import { fill } from './ops/pointwise.js';
import { scatterStrided } from './ops/movement.js';
import { checkShape, type Shape } from './shape.js';

export { rand, randn, gumbel, randLike, randnLike, manualSeed, getRngState, setRngState, type RandomOptions, type RngState } from './ops/random.js';

export interface CreateOptions {
  requiresGrad?: boolean;
}

function made(t: Tensor, opts?: CreateOptions): Tensor {
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full(shape: Shape, value: number, opts?: CreateOptions): Tensor {
  return made(fill(checkShape('full', shape), value), opts);
}
export function zeros(shape: Shape, opts?: CreateOptions): Tensor {
  return full(shape, 0, opts);
}
export function ones(shape: Shape, opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}
export function fullLike(x: Tensor, value: number, opts?: CreateOptions): Tensor {
  return full(x.shape, value, opts);
}
export function zerosLike(x: Tensor, opts?: CreateOptions): Tensor {
  return full(x.shape, 0, opts);
}
export function onesLike(x: Tensor, opts?: CreateOptions): Tensor {
  return full(x.shape, 1, opts);
}

/**
 * Evenly spaced values in [start, end): `arange(5)` is 0..4. As in PyTorch, the length is
 * ceil((end - start) / step) and value i is start + i·step computed in float64, then rounded.
 */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (![start, end, step].every(Number.isFinite)) throw new Error(`arange: start ${start}, end ${end} and step ${step} must be finite`);
  if (step === 0) throw new Error('arange: step must be nonzero');
  if ((end - start) * step < 0) throw new Error(`arange: end ${end} cannot be reached from start ${start} with step ${step} (the step has the wrong sign)`);
  const n = Math.ceil((end - start) / step);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return made(tensor(values, { shape: [n] }), opts);
}

/** The n×m identity matrix (m defaults to n). */
export function eye(n: number, m = n, opts?: CreateOptions): Tensor {
  const shape = checkShape('eye', [n, m]);
  const out = fill(shape, 0);
  const k = Math.min(n, m);
  if (k > 0) {
    // Ones on the diagonal: a strided scatter with stride m + 1 through the flat buffer.
    const diagonal = fill([k], 1);
    scatterStrided('eye', diagonal, out, 0, [m + 1]);
    diagonal.dispose();
  }
  return made(out, opts);
}
