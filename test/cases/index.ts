// The op-case registry: every family's cases (test sizes, for the suites) and bench cases (for
// bench/kernels.ts), one file per family named as in src/shaders, src/tensor/ops and
// src/tensor/reference.
import type { Family } from '../../src/tensor/ops/names.js';
import type { BenchCase, OpCase } from './case.js';
import * as attention from './attention.js';
import * as gather from './gather.js';
import * as image from './image.js';
import * as layernorm from './layernorm.js';
import * as loss from './loss.js';
import * as matmul from './matmul.js';
import * as movement from './movement.js';
import * as optim from './optim.js';
import * as pointwise from './pointwise.js';
import * as random from './random.js';
import * as reduce from './reduce.js';
import * as softmax from './softmax.js';

/** Each family's cases, in the order the benchmark runs them. */
export const REGISTRY: Record<Family, { cases: OpCase[]; benchCases: BenchCase[] }> = {
  matmul, softmax, layernorm, pointwise, reduce, movement, gather, image, attention, loss, random, optim,
};

export const BENCH_CASES: BenchCase[] = Object.values(REGISTRY).flatMap((f) => f.benchCases);
