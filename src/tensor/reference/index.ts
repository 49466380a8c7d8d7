// float64 CPU references for every op family (used by the tests and the benchmarks' checks;
// small and readable, not fast), one file per family, named as in src/shaders and src/tensor/ops.
export * from './array.js';
export * from './pointwise.js';
export * from './reduce.js';
export * from './movement.js';
export * as gatherRef from './gather.js';
export * from './matmul.js';
export * from './attention.js';
export * as imageRef from './image.js';
export * from './softmax.js';
export * from './layernorm.js';
export * from './loss.js';
export * from './random.js';
export * from './optim.js';
