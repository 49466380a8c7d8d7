// float64 CPU references for every op family (used by the tests; small and readable, not fast).
export * from './array.js';
export { UNARY as unaryTable, BINARY as binaryTable, erf64, erfc64 } from '../../shaders/pointwise.js';
export * from './attention.js';
export * from './matmul.js';
