// The `nn` namespace: modules, layers, initialisers and the functional forms.
export { Module, ModuleList, Sequential, type Layer, type LoadResult } from './module.js';
export { Linear, LayerNorm, Dropout, GELU, ReLU, Identity } from './layers.js';
export * as init from './init.js';
export * as functional from './functional.js';
