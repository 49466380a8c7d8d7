// The `nn` namespace: modules, layers, initialisers (and seedAll) and the functional forms.
export { Module, ModuleList, Sequential, type Layer, type LoadResult } from './module.js';
export { Linear, LayerNorm, Dropout, GELU, ReLU, Identity } from './layers.js';
export * as init from './init.js';
export { seedAll } from './seed.js';
export * as functional from './functional.js';
