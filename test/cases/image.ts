// Op cases of the image family, against references written after PyTorch's kernels: unfold and
// fold with kernel, stride and padding; interpolate in every mode, both alignCorners settings and
// with antialiasing, on odd sizes up and down; avgPool2d (count_include_pad, ceil_mode);
// affineGrid; gridSample in both modes and every padding mode; with their gradients.
import { affineGrid, avgPool2d, fold, gridSample, interpolate, unfold } from '../../src/tensor/ops/image.js';
import { arr, imageRef, type Arr } from '../../src/tensor/reference/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

type P2 = [number, number];
type Mode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';
type Padding = 'zeros' | 'border' | 'reflection';
const p2 = (p: P2) => `${p[0]}x${p[1]}`;

function unfoldCase(shape: number[], k: P2, s: P2, p: P2, seed: number, grad = false): OpCase {
  return {
    family: 'image',
    op: 'unfold',
    name: `unfold ${shapeText(shape)} kernel ${p2(k)} stride ${p2(s)} padding ${p2(p)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => unfold(x, k, { stride: s, padding: p }),
    ref: (x) => imageRef.unfold(x, k, s, p),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

function foldCase(shape: number[], k: P2, s: P2, p: P2, seed: number, grad = false): OpCase {
  const size: P2 = [shape[2]!, shape[3]!];
  // The patches' shape is what unfold makes of `shape`.
  const patchShape = imageRef.unfold(arr(shape), k, s, p).shape;
  return {
    family: 'image',
    op: 'fold',
    name: `fold ${shapeText(patchShape)} to ${p2(size)} kernel ${p2(k)} stride ${p2(s)} padding ${p2(p)}`,
    inputs: seeded(seed, (r) => [r.uniform(patchShape)]),
    gpu: (x) => fold(x, size, k, { stride: s, padding: p }),
    ref: (x) => imageRef.fold(x, size, k, s, p),
    atol: 1e-6,
    rtol: 1e-6,
    ...(grad ? { grad: {} } : {}),
  };
}

function interpolateCase(shape: number[], size: P2, mode: Mode, align: boolean | undefined, seed: number, o: { antialias?: boolean; grad?: boolean } = {}): OpCase {
  return {
    family: 'image',
    op: 'interpolate',
    name: `interpolate ${mode}${align ? ' alignCorners' : ''}${o.antialias ? ' antialias' : ''} ${shapeText(shape)} -> ${p2(size)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => interpolate(x, size, { mode, alignCorners: align, ...(o.antialias ? { antialias: true } : {}) }),
    ref: (x) => imageRef.interpolate(x, size, mode, align ?? false, [], !!o.antialias),
    atol: 2e-5,
    rtol: 2e-5,
    ...(o.grad ? { grad: {} } : {}),
  };
}

function avgPoolCase(shape: number[], k: P2, s: P2, p: P2, ceilMode: boolean, countIncludePad: boolean, seed: number, grad = false): OpCase {
  return {
    family: 'image',
    op: 'avgPool2d',
    name: `avgPool2d ${shapeText(shape)} kernel ${p2(k)} stride ${p2(s)} padding ${p2(p)}${ceilMode ? ' ceilMode' : ''}${countIncludePad ? '' : ' excluding padding'}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => avgPool2d(x, k, s, p, { ceilMode, countIncludePad }),
    ref: (x) => imageRef.avgPool2d(x, k, s, p, ceilMode, countIncludePad),
    atol: 1e-6,
    rtol: 1e-5,
    ...(grad ? { grad: {} } : {}),
  };
}

/** Rotation by `angle`, scale and translation, as random augmentations build them. */
export function affineTheta(params: [number, number, number, number][]): Arr {
  const out = arr([params.length, 2, 3]);
  params.forEach(([angle, scale, tx, ty], n) => {
    const c = Math.fround(Math.cos(angle) * scale), s = Math.fround(Math.sin(angle) * scale);
    out.data.set([c, -s, Math.fround(tx), s, c, Math.fround(ty)], n * 6);
  });
  return out;
}

function affineGridCase(params: [number, number, number, number][], size: [number, number, number, number], align: boolean, grad = false): OpCase {
  return {
    family: 'image',
    op: 'affineGrid',
    name: `affineGrid ${params.length} transforms to ${shapeText(size)}${align ? ' alignCorners' : ''}`,
    inputs: () => [affineTheta(params)],
    gpu: (theta) => affineGrid(theta, size, { alignCorners: align }),
    ref: (theta) => imageRef.affineGrid(theta, size, align),
    atol: 1e-6,
    rtol: 1e-6,
    ...(grad ? { grad: {} } : {}),
  };
}

/** gridSample of an image by a grid reaching beyond [-1, 1] (so the padding modes matter). */
function gridSampleCase(shape: number[], gridShape: number[], reach: number, mode: 'bilinear' | 'nearest', paddingMode: Padding, alignCorners: boolean, seed: number, grad = false): OpCase {
  return {
    family: 'image',
    op: 'gridSample',
    name: `gridSample ${mode} ${paddingMode}${alignCorners ? ' alignCorners' : ''} ${shapeText(shape)} grid ${shapeText(gridShape)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape), r.uniform(gridShape, -reach, reach)]),
    gpu: (x, g) => gridSample(x, g, { mode, paddingMode, alignCorners }),
    ref: (x, g) => imageRef.gridSample(x, g, mode, paddingMode, alignCorners),
    // The f32 sample coordinate ((g + 1)·W − 1)/2 is off by up to about W·2⁻²⁴ pixels, so the
    // error grows with the image's side: 1e-5 up to the tests' 9 pixels, proportionally beyond.
    atol: 1e-5 * Math.max(1, Math.max(shape[2]!, shape[3]!) / 9),
    rtol: 1e-5,
    // Bilinear: gradients for the image and the grid (piecewise smooth: a small step keeps the
    // differences off the kinks); nearest: the image only.
    ...(grad ? { grad: mode === 'bilinear' ? { h: 1e-6 } : { check: [0] } } : {}),
  };
}

const modes: [Mode, boolean | undefined][] = [
  ['nearest', undefined], ['nearest-exact', undefined], ['bilinear', false], ['bilinear', true], ['bicubic', false], ['bicubic', true],
];
const paddings: Padding[] = ['zeros', 'border', 'reflection'];
const bools = [false, true];

const patchCases: [number[], P2, P2, P2][] = [
  [[1, 2, 7, 9], [3, 3], [2, 2], [1, 1]],
  [[2, 1, 5, 6], [2, 3], [1, 3], [0, 0]],
  [[1, 3, 6, 5], [4, 2], [2, 1], [1, 0]],
];
const poolCases: [number[], P2, P2, P2, boolean, boolean][] = [
  [[2, 3, 7, 9], [3, 3], [1, 1], [1, 1], false, true], // the iFAM losses' 3x3/1/1
  [[1, 2, 7, 9], [2, 2], [2, 2], [0, 0], false, true],
  [[1, 2, 8, 7], [3, 2], [2, 1], [1, 0], false, true],
  [[1, 1, 7, 9], [3, 3], [2, 2], [1, 1], false, false],
  [[1, 2, 8, 7], [3, 3], [2, 2], [1, 1], true, true],
  [[1, 2, 6, 7], [2, 3], [2, 2], [1, 1], true, false],
];

export const cases: OpCase[] = [
  ...patchCases.flatMap(([shape, k, s, p], i) => [unfoldCase(shape, k, s, p, 10 + i, true), foldCase(shape, k, s, p, 20 + i, true)]),
  ...([[[1, 2, 7, 9], [13, 5]], [[1, 1, 37, 37], [16, 16]], [[2, 1, 3, 4], [8, 11]], [[1, 2, 5, 6], [5, 6]], [[1, 1, 1, 5], [4, 1]]] as [number[], P2][])
    .flatMap(([shape, size], i) => modes.map(([mode, align]) => interpolateCase(shape, size, mode, align, 30 + i))),
  ...([[[1, 2, 5, 4], [7, 3]], [[2, 1, 6, 3], [4, 8]]] as [number[], P2][])
    .flatMap(([shape, size], i) => modes.map(([mode, align]) => interpolateCase(shape, size, mode, align, 40 + i, { grad: true }))),
  ...([[[1, 2, 37, 37], [16, 16]], [[1, 1, 7, 9], [13, 5]], [[2, 1, 12, 5], [4, 9]]] as [number[], P2][])
    .flatMap(([shape, size], i) => (['bilinear', 'bicubic'] as const).flatMap((mode) => bools.map((align) => interpolateCase(shape, size, mode, align, 50 + i, { antialias: true })))),
  ...(['bilinear', 'bicubic'] as const).map((mode) => interpolateCase([1, 1, 9, 6], [4, 7], mode, false, 15, { antialias: true, grad: true })),
  ...poolCases.map(([shape, k, s, p, ceilMode, countIncludePad], i) => avgPoolCase(shape, k, s, p, ceilMode, countIncludePad, 60 + i, true)),
  ...bools.flatMap((align) => [
    affineGridCase([[0.3, 1.1, 0.1, -0.2], [-1.2, 0.8, -0.3, 0.05]], [2, 3, 7, 9], align),
    affineGridCase([[0.3, 1.1, 0.1, -0.2], [-1.2, 0.8, -0.3, 0.05]], [2, 3, 5, 4], align, true),
  ]),
  ...(['bilinear', 'nearest'] as const).flatMap((mode) => paddings.flatMap((padding) => bools.map((align) =>
    gridSampleCase([2, 3, 7, 9], [2, 5, 6, 2], 1.6, mode, padding, align, 6)))),
  ...(['bilinear', 'nearest'] as const).flatMap((mode) => paddings.flatMap((padding) => bools.map((align) =>
    gridSampleCase([1, 2, 5, 6], [1, 4, 3, 2], 1.4, mode, padding, align, 8, true)))),
];

// A batch of 16 images at 224 px, as the augmentations and the patch embedding see them.
const images = [16, 3, 224, 224];
export const benchCases: BenchCase[] = [
  { ...unfoldCase(images, [16, 16], [16, 16], [0, 0], 1), id: 'unfold-16x3x224x224-p16' },
  { ...foldCase(images, [16, 16], [16, 16], [0, 0], 2), id: 'fold-16x3x224x224-p16' },
  { ...interpolateCase([16, 3, 112, 112], [224, 224], 'bilinear', false, 3), id: 'interpolate-bilinear-112-224' },
  { ...interpolateCase(images, [112, 112], 'bicubic', false, 4, { antialias: true }), id: 'interpolate-bicubic-antialias-224-112' },
  { ...avgPoolCase([16, 1, 224, 224], [3, 3], [1, 1], [1, 1], false, true, 5), id: 'avgpool-3x3-16x1x224x224' },
  { ...affineGridCase(Array.from({ length: 16 }, (_, n) => [0.1 * n, 1, 0.01 * n, 0] as [number, number, number, number]), [16, 3, 224, 224], false), id: 'affine-grid-16x224x224' },
  { ...gridSampleCase(images, [16, 224, 224, 2], 1.1, 'bilinear', 'zeros', false, 6), id: 'grid-sample-bilinear-16x3x224x224' },
];
