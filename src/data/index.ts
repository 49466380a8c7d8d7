// The data layer: the Fashion-MNIST benchmark (and IDX files), the embedded synthetic benchmark,
// Waterbirds-layout folders (Node), augmentation, batching with prefetch, and the picture helpers
// (PNG, heat maps, grids, charts) used to show results.
export * from './dataset.js';
export * from './synthetic.js';
export * from './fashion.js';
export { PLACES, randomBackground, backgroundColour, type Background } from './backgrounds.js';
export * from './csv.js';
export * from './image.js';
export * from './augment.js';
export * from './loader.js';
export * from './waterbirds.js';
export { hash32, mulberry32, streamFor, permutation } from './random.js';
export * from '../io/png.js';
export * from '../io/idx.js';
export * from '../io/plot.js';
