// float64 CPU references for every op family (used by the tests; small and readable, not fast).
export * from './array.js';
export { UNARY as unaryTable, BINARY as binaryTable, erf64, erfc64 } from '../../shaders/pointwise.js';
export * from './attention.js';
export * from './matmul.js';
export * as gatherRef from './gather.js';
export { philox4x32, randomBits, randomRef } from '../../shaders/random.js';
export * from './optim.js';
export * as imageRef from './image.js';
export * from './nn.js';
