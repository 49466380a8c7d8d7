// webfam's public API: `import { init, tensor, nn, optim } from 'webfam'`.
// The declarations name WebGPU's types (GPUBuffer, ...); this reference, kept in dist/types/index.d.ts
// (preserve), makes a consumer's TypeScript load them from @webgpu/types, a dependency of webfam.
/// <reference types="@webgpu/types" preserve="true" />
export { init, shutdown, adapterInfo, isInitialized, type InitOptions, type AdapterDescription } from './tensor/device.js';
export { Tensor, tensor, tidy, type TensorOptions } from './tensor/tensor.js';
export { ShapeError } from './tensor/shape.js';
export { noGrad, enableGrad, isGradEnabled, grad, type GradOptions } from './autograd/tape.js';
export * from './tensor/creation.js';
export { where, clamp } from './tensor/ops/pointwise.js';
export { concat, stack, split } from './tensor/ops/movement.js';
export { dropout, type DropoutOptions } from './tensor/ops/random.js';
export { indexSelect, gather, scatterAdd, type IndexVector, type IndexArray } from './tensor/ops/gather.js';
export {
  unfold, fold, interpolate, avgPool2d, affineGrid, gridSample,
  type Pair, type PatchOptions, type InterpolateMode, type InterpolateOptions, type AvgPoolOptions, type GridSampleOptions,
} from './tensor/ops/image.js';
export { matmul } from './tensor/ops/matmul.js';
export { maskedAttention } from './tensor/ops/attention.js';
export { softmax, logSoftmax } from './tensor/ops/softmax.js';
export { layerNorm } from './tensor/ops/layernorm.js';
export { crossEntropy, mseLoss } from './tensor/ops/loss.js';
export { memory, sync, resetPeakMemory, emptyCache, startProfile, stopProfile } from './tensor/memory.js';
export type { MemoryInfo, KernelProfile } from './tensor/runtime.js';
export { seedAll } from './nn/seed.js';
export * as nn from './nn/index.js';
export * as optim from './nn/optim.js';
export * as data from './data/index.js';
export * as vit from './vit/index.js';
export {
  saveSafetensors, loadSafetensors, saveSafetensorsFile, loadSafetensorsFile, loadSafetensorsResponse,
  encodeSafetensors, decodeSafetensors, parseSafetensorsHeader, SafetensorsError,
  type HostTensor, type SafetensorsContents,
} from './io/safetensors.js';
