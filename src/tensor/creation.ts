// Tensor creation: zeros, ones, full, arange, eye, and the *Like variants.
// (rand/randn with the counter-based RNG live in src/tensor/ops/random.ts.)
import { Tensor } from './tensor.js';
import { fill } from './ops/pointwise.js';
import { checkShape, type Shape } from './shape.js';

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
