// Image ops on NCHW tensors, matching PyTorch's formulas: unfold/fold (ViT patch embedding and
// its inverse), interpolate (nearest, nearest-exact, bilinear, bicubic), avgPool2d, affineGrid
// and gridSample — each with a deterministic backward (see src/shaders/image.ts).
import { Tensor, tensor } from '../tensor.js';
import { rt } from '../device.js';
import type { Runtime } from '../runtime.js';
import { ShapeError, checkLive, fmt } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { linearGroups as groups } from '../../shaders/kernel.js';
import * as K from '../../shaders/image.js';
import { binary, fill, unary } from './pointwise.js';
import { reduce } from './reduce.js';
import { reshape, slice } from './movement.js';

/** A size given as one number for both axes or as [height, width]. */
export type Pair = number | readonly [number, number];

function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ShapeError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

function check4d(op: string, x: Tensor, what = 'input'): [number, number, number, number] {
  if (x.disposed) throw new Error(`${op}: the ${what} of shape ${fmt(x.shape)} was used after dispose()`);
  if (x.rank !== 4) throw new ShapeError(op, `expects an NCHW ${what} of rank 4, got shape ${fmt(x.shape)}`);
  return x.shape as unknown as [number, number, number, number];
}

// ---------------------------------------------------------------- unfold / fold

export interface PatchOptions {
  /** Step between patches (default: the kernel size, i.e. non-overlapping patches). */
  stride?: Pair;
  /** Zero padding on each side (default 0). */
  padding?: Pair;
}

/** kh×kw windows with stride sh×sw and padding ph×pw, OH×OW of them. */
interface Windows { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; OH: number; OW: number }

/** Window geometry; windows must tile the padded image exactly (no rows or columns left over). */
function patchGeometry(op: string, H: number, W: number, kernel: Pair, opts: PatchOptions): Windows {
  const [kh, kw] = pair(op, 'kernel', kernel, 1);
  const [sh, sw] = pair(op, 'stride', opts.stride ?? [kh, kw], 1);
  const [ph, pw] = pair(op, 'padding', opts.padding ?? 0, 0);
  const spanH = H + 2 * ph - kh, spanW = W + 2 * pw - kw;
  if (spanH < 0 || spanW < 0 || spanH % sh !== 0 || spanW % sw !== 0) {
    throw new ShapeError(op, `kernel ${kh}x${kw} with stride ${sh}x${sw} and padding ${ph}x${pw} does not tile a ${H}x${W} image exactly (for patches, H and W must be multiples of the patch size)`);
  }
  return { kh, kw, sh, sw, ph, pw, OH: spanH / sh + 1, OW: spanW / sw + 1 };
}

function unfoldRaw(label: string, x: Tensor, geo: Windows): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = Tensor.empty([N, geo.OH * geo.OW, C * geo.kh * geo.kw]);
  rt().dispatch(K.unfoldKernel(), { label, buffers: [x.binding, y.binding], uniforms: { count: y.size, C, H, W, ...geo }, workgroups: groups(y.size) });
  return y;
}

function foldRaw(label: string, p: Tensor, shape: number[], geo: Windows): Tensor {
  const [, C, H, W] = shape as [number, number, number, number];
  const y = Tensor.empty(shape);
  rt().dispatch(K.foldKernel(), { label, buffers: [p.binding, y.binding], uniforms: { count: y.size, C, H, W, ...geo }, workgroups: groups(y.size) });
  return y;
}

/**
 * Patches of an image: [N, C, H, W] -> [N, L, C·kh·kw], L = OH·OW patches in row-major order,
 * features in PyTorch's conv-weight order (c, ky, kx), so `weight.reshape(D, -1)` of a conv
 * [D, C, P, P] multiplies them directly. (torch's F.unfold returns the transpose, [N, C·k·k, L],
 * and defaults to stride 1; here the stride defaults to the kernel size.)
 */
export function unfold(x: Tensor, kernel: Pair, opts: PatchOptions = {}): Tensor {
  const [N, C, H, W] = check4d('unfold', x);
  const geo = patchGeometry('unfold', H, W, kernel, opts);
  const label = `unfold ${fmt(x.shape)} kernel ${JSON.stringify(kernel)}`;
  const y = unfoldRaw(label, x, geo);
  return record(y, 'unfold', [x], (g) => [foldRaw(`${label} backward`, g, [N, C, H, W], geo)]);
}

/** The adjoint of unfold: [N, L, C·kh·kw] patches summed back into [N, C, H, W]. */
export function fold(patches: Tensor, outputSize: Pair, kernel: Pair, opts: PatchOptions = {}): Tensor {
  checkLive('fold', patches);
  const [H, W] = pair('fold', 'outputSize', outputSize, 1);
  const geo = patchGeometry('fold', H, W, kernel, opts);
  const { kh, kw, OH, OW } = geo;
  const [N, L, F] = patches.shape as [number, number, number];
  if (patches.rank !== 3 || L !== OH * OW || F % (kh * kw) !== 0) {
    throw new ShapeError('fold', `patches of shape ${fmt(patches.shape)} do not match ${OH * OW} patches of ${kh}x${kw} pixels for a ${H}x${W} output ([N, ${OH * OW}, C·${kh * kw}] expected)`);
  }
  const shape = [N, F / (kh * kw), H, W];
  const label = `fold ${fmt(patches.shape)} -> ${fmt(shape)}`;
  const y = foldRaw(label, patches, shape, geo);
  return record(y, 'fold', [patches], (g) => [unfoldRaw(`${label} backward`, g, geo)]);
}

// ---------------------------------------------------------------- interpolate

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

export interface InterpolateOptions {
  /** Default 'nearest', as in PyTorch. */
  mode?: InterpolateMode;
  /** bilinear/bicubic only: map corner pixel centres onto each other (default false). */
  alignCorners?: boolean;
  /** Instead of a size: output = floor(input · factor), and coordinates scale by 1/factor. */
  scaleFactor?: number | readonly [number, number];
  /**
   * bilinear/bicubic only: PyTorch's antialias=True (PIL's filters: the kernel widens by the
   * downscale factor, weights renormalised at the borders, bicubic with a = -0.5). timm resizes
   * position embeddings this way.
   */
  antialias?: boolean;
}

/** The source taps of each output index along one axis: T indices and T weights per output. */
interface AxisTaps { T: number; index: Uint32Array; weight: Float32Array }

const keys = (a: number) => (x: number) => {
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
};
const cubic = keys(-0.75);
// antialias=True uses PIL's filters: Keys with a = -0.5, and the triangle.
const cubicAntialias = keys(-0.5);
const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));

/** area_pixel_compute_scale, in float32 as PyTorch computes it. */
function areaScale(inSize: number, outSize: number, align: boolean, factor: number | undefined): number {
  const f = Math.fround;
  if (align) return outSize > 1 ? f((inSize - 1) / (outSize - 1)) : 0;
  return factor !== undefined ? f(1 / factor) : f(inSize / outSize);
}

/** Taps per output along an axis (for antialias: PyTorch's max_interp_size). */
function tapCount(mode: InterpolateMode, antialias: boolean, inSize: number, outSize: number, align: boolean, factor: number | undefined): number {
  const base = mode === 'bicubic' ? 4 : mode === 'bilinear' ? 2 : 1;
  if (!antialias) return base;
  const scale = areaScale(inSize, outSize, align, factor);
  return Math.ceil(scale >= 1 ? (base / 2) * scale : base / 2) * 2 + 1;
}

/** PyTorch's per-axis source indices and weights (UpSample.h, UpSampleKernel.cpp). */
function axisTaps(mode: InterpolateMode, antialias: boolean, align: boolean, inSize: number, outSize: number, factor: number | undefined): AxisTaps {
  const f = Math.fround;
  const T = tapCount(mode, antialias, inSize, outSize, align, factor);
  const index = new Uint32Array(outSize * T), weight = new Float32Array(outSize * T);
  const scale = areaScale(inSize, outSize, align, factor);
  for (let o = 0; o < outSize; o++) {
    const at = o * T;
    if (antialias) {
      // _compute_indices_min_size_weights_aa: a filter over [center - support, center + support).
      const filter = mode === 'bicubic' ? cubicAntialias : triangle;
      const halfWidth = mode === 'bicubic' ? 2 : 1;
      const support = scale >= 1 ? halfWidth * scale : halfWidth;
      const invscale = scale >= 1 ? 1 / scale : 1;
      const center = scale * (o + 0.5);
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xsize = Math.max(0, Math.min(Math.min(Math.trunc(center + support + 0.5), inSize) - xmin, T));
      let total = 0;
      const w: number[] = [];
      for (let j = 0; j < xsize; j++) total += w[j] = filter((j + xmin - center + 0.5) * invscale);
      for (let j = 0; j < xsize; j++) {
        index[at + j] = xmin + j;
        weight[at + j] = total !== 0 ? w[j]! / total : w[j]!;
      }
    } else if (mode === 'nearest' || mode === 'nearest-exact') {
      // Computed in float32 by PyTorch; the floor depends on that rounding.
      const src = mode === 'nearest' ? f(o * scale) : f(f(o + 0.5) * scale);
      index[at] = Math.min(Math.floor(src), inSize - 1);
      weight[at] = 1;
    } else if (mode === 'bilinear') {
      if (inSize === outSize) {
        index[at] = index[at + 1] = o;
        weight[at] = 1;
        continue;
      }
      const real = align ? scale * o : Math.max(scale * (o + 0.5) - 0.5, 0);
      const i0 = Math.min(Math.floor(real), inSize - 1);
      const lambda = Math.min(Math.max(real - i0, 0), 1);
      index[at] = i0;
      index[at + 1] = i0 + (i0 < inSize - 1 ? 1 : 0);
      weight[at] = 1 - lambda;
      weight[at + 1] = lambda;
    } else {
      const real = align ? scale * o : scale * (o + 0.5) - 0.5;
      const i0 = Math.min(Math.floor(real), inSize - 1);
      const t = Math.min(Math.max(real - i0, 0), 1);
      const w = [cubic(t + 1), cubic(t), cubic(1 - t), cubic(2 - t)];
      for (let j = 0; j < 4; j++) {
        index[at + j] = Math.max(0, Math.min(i0 - 1 + j, inSize - 1));
        weight[at + j] = w[j]!;
      }
    }
  }
  return { T, index, weight };
}

/** Forward table words: per output, T indices then T weight bits. */
function tapWords(t: AxisTaps): Uint32Array {
  const out = t.index.length / t.T;
  const words = new Uint32Array(2 * t.index.length);
  const bits = new Float32Array(words.buffer);
  for (let o = 0; o < out; o++) {
    for (let a = 0; a < t.T; a++) {
      words[2 * o * t.T + a] = t.index[o * t.T + a]!;
      bits[2 * o * t.T + t.T + a] = t.weight[o * t.T + a]!;
    }
  }
  return words;
}

/** Inverse table words: offsets[0..in] then (output, weight bits) pairs grouped by source. */
function inverseWords(t: AxisTaps, inSize: number): Uint32Array {
  const lists: number[][] = Array.from({ length: inSize }, () => []);
  for (let k = 0; k < t.index.length; k++) {
    if (t.weight[k] !== 0) lists[t.index[k]!]!.push(Math.floor(k / t.T), k);
  }
  const pairs = lists.reduce((p, l) => p + l.length / 2, 0);
  const words = new Uint32Array(inSize + 1 + 2 * pairs);
  const bits = new Float32Array(words.buffer);
  let at = 0;
  lists.forEach((l, i) => {
    words[i] = at;
    for (let q = 0; q < l.length; q += 2) {
      words[inSize + 1 + 2 * at] = l[q]!;
      bits[inSize + 1 + 2 * at + 1] = t.weight[l[q + 1]!]!;
      at++;
    }
  });
  words[inSize] = at;
  return words;
}

/** Two axis sections in one word buffer; `base` is where the second (columns) starts. */
function joinSections(a: Uint32Array, b: Uint32Array): { words: Uint32Array; base: number } {
  const words = new Uint32Array(a.length + b.length);
  words.set(a);
  words.set(b, a.length);
  return { words, base: a.length };
}

// Tap tables are small and reused every step (same sizes), so they stay on the GPU, keyed by
// everything that determines them; the cache is dropped when the device changes.
const TABLE_CACHE_LIMIT = 64;
interface Table { t: Tensor; base: number }
let tableCache = new Map<string, Table>();
let tableRuntime: Runtime | null = null;

function cachedTable(key: string, make: () => { words: Uint32Array; base: number }): Table {
  if (tableRuntime !== rt()) {
    tableCache = new Map();
    tableRuntime = rt();
  }
  let entry = tableCache.get(key);
  if (entry && !entry.t.disposed) {
    tableCache.delete(key);
    tableCache.set(key, entry); // most recently used last
    return entry;
  }
  const { words, base } = make();
  // keep(): a table outlives the tidy scope that first needed it.
  entry = { t: Tensor.empty([words.length]).keep(), base };
  rt().write(entry.t.buffer, words);
  tableCache.set(key, entry);
  if (tableCache.size > TABLE_CACHE_LIMIT) {
    const [oldKey, old] = tableCache.entries().next().value as [string, Table];
    tableCache.delete(oldKey);
    old.t.dispose();
  }
  return entry;
}

/** Resizes the last two axes of an NCHW tensor with PyTorch's F.interpolate formulas. */
export function interpolate(x: Tensor, size?: Pair | null, opts: InterpolateOptions = {}): Tensor {
  const [N, C, H, W] = check4d('interpolate', x);
  const mode = opts.mode ?? 'nearest';
  if (!['nearest', 'nearest-exact', 'bilinear', 'bicubic'].includes(mode)) throw new Error(`interpolate: unknown mode '${mode}' (nearest, nearest-exact, bilinear or bicubic)`);
  if (opts.alignCorners !== undefined && mode.startsWith('nearest')) throw new Error(`interpolate: alignCorners only applies to bilinear and bicubic, not ${mode}`);
  const align = opts.alignCorners ?? false;
  let OH: number, OW: number;
  let factors: [number | undefined, number | undefined] = [undefined, undefined];
  if (size !== undefined && size !== null) {
    if (opts.scaleFactor !== undefined) throw new Error('interpolate: give either a size or a scaleFactor, not both');
    [OH, OW] = pair('interpolate', 'size', size, 1);
  } else {
    if (opts.scaleFactor === undefined) throw new Error('interpolate: needs a size or a scaleFactor');
    const sf = typeof opts.scaleFactor === 'number' ? [opts.scaleFactor, opts.scaleFactor] : [...opts.scaleFactor];
    if (!sf.every((v) => v > 0 && Number.isFinite(v))) throw new Error(`interpolate: scaleFactor must be positive, got ${JSON.stringify(opts.scaleFactor)}`);
    factors = [sf[0], sf[1]];
    [OH, OW] = [Math.floor(H * sf[0]!), Math.floor(W * sf[1]!)];
    if (OH < 1 || OW < 1) throw new ShapeError('interpolate', `scaleFactor ${JSON.stringify(opts.scaleFactor)} gives an empty output for input ${fmt(x.shape)}`);
  }
  const aa = opts.antialias ?? false;
  if (aa && mode.startsWith('nearest')) throw new Error(`interpolate: antialias only applies to bilinear and bicubic, not ${mode}`);
  const rows = () => axisTaps(mode, aa, align, H, OH, factors[0]);
  const cols = () => axisTaps(mode, aa, align, W, OW, factors[1]);
  const key = `${mode}|${aa}|${align}|${H}>${OH}|${W}>${OW}|${factors.join(',')}`;
  const Ty = tapCount(mode, aa, H, OH, align, factors[0]), Tx = tapCount(mode, aa, W, OW, align, factors[1]);
  const table = cachedTable(`fwd|${key}`, () => joinSections(tapWords(rows()), tapWords(cols())));
  const y = Tensor.empty([N, C, OH, OW]);
  const label = `interpolate ${mode} ${fmt(x.shape)} -> ${OH}x${OW}`;
  rt().dispatch(K.resampleKernel(), {
    label,
    buffers: [x.binding, table.t.binding, y.binding],
    uniforms: { count: y.size, H, W, OH, OW, Ty, Tx, xBase: table.base },
    workgroups: groups(y.size),
  });
  return record(y, 'interpolate', [x], (g) => {
    const inv = cachedTable(`inv|${key}`, () => joinSections(inverseWords(rows(), H), inverseWords(cols(), W)));
    const gx = Tensor.empty(x.shape);
    rt().dispatch(K.resampleBackwardKernel(), {
      label: `${label} backward`,
      buffers: [g.binding, inv.t.binding, gx.binding],
      uniforms: { count: gx.size, H, W, OH, OW, xBase: inv.base },
      workgroups: groups(gx.size),
    });
    return [gx];
  });
}

// ---------------------------------------------------------------- average pooling

export interface AvgPoolOptions {
  /** Round the output size up, as PyTorch's ceil_mode (default false). */
  ceilMode?: boolean;
  /** Divide by the window including zero padding (PyTorch's default, true). */
  countIncludePad?: boolean;
}

/** PyTorch's pooling_output_shape. */
function poolOutputSize(size: number, k: number, pad: number, stride: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * pad - k + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** 2-D average pooling of an NCHW tensor (stride defaults to the kernel size). */
export function avgPool2d(x: Tensor, kernel: Pair, stride?: Pair | null, padding: Pair = 0, opts: AvgPoolOptions = {}): Tensor {
  const [N, C, H, W] = check4d('avgPool2d', x);
  const [kh, kw] = pair('avgPool2d', 'kernel', kernel, 1);
  const [sh, sw] = pair('avgPool2d', 'stride', stride ?? [kh, kw], 1);
  const [ph, pw] = pair('avgPool2d', 'padding', padding, 0);
  if (2 * ph > kh || 2 * pw > kw) throw new ShapeError('avgPool2d', `padding ${ph}x${pw} must be at most half the kernel ${kh}x${kw}`);
  const ceil = opts.ceilMode ?? false;
  const OH = poolOutputSize(H, kh, ph, sh, ceil), OW = poolOutputSize(W, kw, pw, sw, ceil);
  if (OH < 1 || OW < 1) throw new ShapeError('avgPool2d', `kernel ${kh}x${kw} does not fit input ${fmt(x.shape)} with padding ${ph}x${pw}`);
  const y = Tensor.empty([N, C, OH, OW]);
  const uniforms = { count: y.size, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad: opts.countIncludePad === false ? 0 : 1 };
  const label = `avgPool2d ${fmt(x.shape)} kernel ${kh}x${kw} stride ${sh}x${sw} padding ${ph}x${pw}`;
  rt().dispatch(K.avgPoolKernel(), { label, buffers: [x.binding, y.binding], uniforms, workgroups: groups(y.size) });
  return record(y, 'avgPool2d', [x], (g) => {
    const gx = Tensor.empty(x.shape);
    rt().dispatch(K.avgPoolBackwardKernel(), { label: `${label} backward`, buffers: [g.binding, gx.binding], uniforms: { ...uniforms, count: gx.size }, workgroups: groups(gx.size) });
    return [gx];
  });
}

// ---------------------------------------------------------------- affine grids and sampling

/** PyTorch's normalised pixel-centre coordinates along an axis of `n` pixels, in [-1, 1]. */
function baseCoords(n: number, align: boolean): Float32Array {
  const v = new Float32Array(n);
  if (n <= 1) return v;
  for (let i = 0; i < n; i++) v[i] = align ? -1 + (2 * i) / (n - 1) : (2 * i + 1) / n - 1;
  return v;
}

/**
 * Sampling grid [N, H, W, 2] of the affine maps theta [N, 2, 3] over an output of size
 * [N, C, H, W] (torch.nn.functional.affine_grid); grid[..., 0] is x, grid[..., 1] is y.
 * Composed from broadcast multiply-adds, so its gradient w.r.t. theta comes for free.
 */
export function affineGrid(theta: Tensor, size: readonly number[], opts: { alignCorners?: boolean } = {}): Tensor {
  if (theta.disposed) throw new Error(`affineGrid: theta of shape ${fmt(theta.shape)} was used after dispose()`);
  if (size.length !== 4) throw new ShapeError('affineGrid', `size must be [N, C, H, W], got ${fmt(size)}`);
  const [N, , H, W] = size as [number, number, number, number];
  if (theta.rank !== 3 || theta.shape[0] !== N || theta.shape[1] !== 2 || theta.shape[2] !== 3) {
    throw new ShapeError('affineGrid', `theta must be [N, 2, 3] with N = ${N} for size ${fmt(size)}, got ${fmt(theta.shape)}`);
  }
  const align = opts.alignCorners ?? false;
  const xs = tensor(baseCoords(W, align), { shape: [1, 1, W, 1] });
  const ys = tensor(baseCoords(H, align), { shape: [1, H, 1, 1] });
  const column = (j: number) => reshape(slice(theta, 2, j, j + 1), [N, 1, 1, 2]);
  const c0 = column(0), c1 = column(1), c2 = column(2);
  const a = binary('mul', c0, xs), b = binary('mul', c1, ys);
  const ab = binary('add', a, b);
  const grid = binary('add', ab, c2);
  // Without a graph nothing refers to the intermediates; with one, the graph owns them.
  if (!grid.requiresGrad) for (const t of [xs, ys, c0, c1, c2, a, b, ab]) t.dispose();
  return grid;
}

export interface GridSampleOptions {
  /** 'bilinear' (default) or 'nearest'. */
  mode?: 'bilinear' | 'nearest';
  /** Where samples outside [-1, 1] read: 'zeros' (default), 'border' or 'reflection'. */
  paddingMode?: 'zeros' | 'border' | 'reflection';
  /** -1 and 1 are the centres of the corner pixels (true) or their outer edges (false, default). */
  alignCorners?: boolean;
}

const PADDING_MODES = ['zeros', 'border', 'reflection'];

/**
 * Samples x [N, C, H, W] at grid [N, Ho, Wo, 2] (x, y in [-1, 1]) like
 * torch.nn.functional.grid_sample. Gradients flow to x (deterministic fixed-point accumulation)
 * and, for bilinear, to the grid.
 */
export function gridSample(x: Tensor, grid: Tensor, opts: GridSampleOptions = {}): Tensor {
  const [N, C, H, W] = check4d('gridSample', x);
  const [gN, Ho, Wo, two] = check4d('gridSample', grid, 'grid');
  if (gN !== N || two !== 2) throw new ShapeError('gridSample', `grid must be [N, Ho, Wo, 2] with N = ${N} for input ${fmt(x.shape)}, got ${fmt(grid.shape)}`);
  const mode = opts.mode ?? 'bilinear';
  const padding = opts.paddingMode ?? 'zeros';
  if (mode !== 'bilinear' && mode !== 'nearest') throw new Error(`gridSample: unknown mode '${mode}' (bilinear or nearest)`);
  if (!PADDING_MODES.includes(padding)) throw new Error(`gridSample: unknown paddingMode '${padding}' (zeros, border or reflection)`);
  const y = Tensor.empty([N, C, Ho, Wo]);
  const uniforms = { count: N * Ho * Wo, C, H, W, Ho, Wo, mode: mode === 'nearest' ? 1 : 0, padding: PADDING_MODES.indexOf(padding), alignCorners: opts.alignCorners ? 1 : 0 };
  const label = `gridSample ${mode} ${fmt(x.shape)} grid ${fmt(grid.shape)}`;
  rt().dispatch(K.gridSampleKernel(), { label, buffers: [x.binding, grid.binding, y.binding], uniforms, workgroups: groups(uniforms.count) });
  return record(y, 'gridSample', [x, grid], (g) => {
    let gx: Tensor | null = null, gg: Tensor | null = null;
    if (x.requiresGrad) {
      // max |g| picks the fixed-point scale (read on the GPU; the host never waits).
      const absG = unary('abs', g);
      const maxG = reduce('max', absG, null, false);
      const acc = fill([2 * x.size], 0);
      rt().dispatch(K.gridSampleInputGradKernel(), { label: `${label} backward (input)`, buffers: [grid.binding, g.binding, maxG.binding, acc.binding], uniforms, workgroups: groups(uniforms.count) });
      gx = Tensor.empty(x.shape);
      rt().dispatch(K.fixedToFloatKernel(), { label: `${label} backward (to f32)`, buffers: [acc.binding, maxG.binding, gx.binding], uniforms: { ...uniforms, count: x.size }, workgroups: groups(x.size) });
      for (const t of [absG, maxG, acc]) t.dispose();
    }
    if (grid.requiresGrad) {
      gg = Tensor.empty(grid.shape);
      rt().dispatch(K.gridSampleGridGradKernel(), { label: `${label} backward (grid)`, buffers: [x.binding, grid.binding, g.binding, gg.binding], uniforms, workgroups: groups(uniforms.count) });
    }
    return [gx, gg];
  });
}
