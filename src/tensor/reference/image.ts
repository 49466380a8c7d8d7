// float64 references for the image ops, written after PyTorch's own kernels as plain per-pixel
// loops (UpSample.h / upsample_*_out_frame, cpu_avg_pool, GridSampler.h, affine_grid).
import { arr, type Arr } from './array.js';

const at4 = (a: Arr, n: number, c: number, y: number, x: number) => a.data[((n * a.shape[1]! + c) * a.shape[2]! + y) * a.shape[3]! + x]!;

/** Patches [N, L, C·kh·kw] of windows at (oy·sh − ph, ox·sw − pw), zero outside the image. */
export function unfold(a: Arr, k: [number, number], s: [number, number], p: [number, number]): Arr {
  const [N, C, H, W] = a.shape as [number, number, number, number];
  const OH = (H + 2 * p[0] - k[0]) / s[0] + 1, OW = (W + 2 * p[1] - k[1]) / s[1] + 1;
  const F = C * k[0] * k[1];
  const out = arr([N, OH * OW, F]);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    for (let c = 0; c < C; c++) for (let ky = 0; ky < k[0]; ky++) for (let kx = 0; kx < k[1]; kx++) {
      const y = oy * s[0] - p[0] + ky, x = ox * s[1] - p[1] + kx;
      const v = y >= 0 && y < H && x >= 0 && x < W ? at4(a, n, c, y, x) : 0;
      out.data[(n * OH * OW + oy * OW + ox) * F + (c * k[0] + ky) * k[1] + kx] = v;
    }
  }
  return out;
}

/** Sums patches [N, L, C·kh·kw] back into [N, C, H, W] (overlaps add up). */
export function fold(pt: Arr, size: [number, number], k: [number, number], s: [number, number], p: [number, number]): Arr {
  const [N, , F] = pt.shape as [number, number, number];
  const [H, W] = size;
  const C = F / (k[0] * k[1]);
  const OH = (H + 2 * p[0] - k[0]) / s[0] + 1, OW = (W + 2 * p[1] - k[1]) / s[1] + 1;
  const out = arr([N, C, H, W]);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    for (let c = 0; c < C; c++) for (let ky = 0; ky < k[0]; ky++) for (let kx = 0; kx < k[1]; kx++) {
      const y = oy * s[0] - p[0] + ky, x = ox * s[1] - p[1] + kx;
      if (y < 0 || y >= H || x < 0 || x >= W) continue;
      out.data[((n * C + c) * H + y) * W + x]! += pt.data[(n * OH * OW + oy * OW + ox) * F + (c * k[0] + ky) * k[1] + kx]!;
    }
  }
  return out;
}

export type Mode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

/** area_pixel_compute_scale (float32 in PyTorch, as is the nearest index computation). */
function areaScale(inSize: number, outSize: number, align: boolean, factor?: number): number {
  if (align) return outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0;
  return factor !== undefined ? Math.fround(1 / factor) : Math.fround(inSize / outSize);
}

function sourceIndex(scale: number, o: number, align: boolean, cubic: boolean): number {
  if (align) return scale * o;
  const src = scale * (o + 0.5) - 0.5;
  return !cubic && src < 0 ? 0 : src;
}

function cubicCoefficients(t: number): number[] {
  const A = -0.75;
  const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
}

/**
 * PIL-style antialiasing weights (PyTorch's antialias=True): source j in [xmin, xmin + xsize)
 * weighs filter((j - center + 0.5) / max(scale, 1)), normalised to sum to 1.
 */
function antialiasWeights(scale: number, o: number, inSize: number, cubic: boolean): { xmin: number; w: number[] } {
  const interp = cubic ? 4 : 2;
  const support = scale >= 1 ? (interp / 2) * scale : interp / 2;
  const maxInterp = Math.ceil(support) * 2 + 1;
  const center = scale * (o + 0.5);
  const invscale = scale >= 1 ? 1 / scale : 1;
  const A = -0.5;
  const filter = (x: number) => {
    x = Math.abs(x);
    if (!cubic) return x < 1 ? 1 - x : 0;
    if (x < 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0;
  };
  const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
  const xsize = Math.min(Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - xmin, 0), maxInterp);
  const w = Array.from({ length: xsize }, (_, j) => filter((j + xmin - center + 0.5) * invscale));
  const total = w.reduce((p, v) => p + v, 0);
  return { xmin, w: total !== 0 ? w.map((v) => v / total) : w };
}

/** F.interpolate on [N, C, H, W] to [N, C, OH, OW]. */
export function interpolate(a: Arr, size: [number, number], mode: Mode, align = false, factors: [number?, number?] = [], antialias = false): Arr {
  const [N, C, H, W] = a.shape as [number, number, number, number];
  const [OH, OW] = size;
  const out = arr([N, C, OH, OW]);
  const sh = areaScale(H, OH, align, factors[0]), sw = areaScale(W, OW, align, factors[1]);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let v: number;
    if (antialias) {
      const ry = antialiasWeights(sh, oy, H, mode === 'bicubic'), rx = antialiasWeights(sw, ox, W, mode === 'bicubic');
      v = 0;
      ry.w.forEach((wy, j) => rx.w.forEach((wx, i) => (v += wy * wx * at4(a, n, c, ry.xmin + j, rx.xmin + i))));
    } else if (mode === 'nearest' || mode === 'nearest-exact') {
      const f = Math.fround;
      const off = mode === 'nearest' ? 0 : 0.5;
      const y = Math.min(Math.floor(f(f(oy + off) * sh)), H - 1);
      const x = Math.min(Math.floor(f(f(ox + off) * sw)), W - 1);
      v = at4(a, n, c, y, x);
    } else if (mode === 'bilinear') {
      // PyTorch's CPU kernel copies rows/columns when the sizes agree.
      const h1r = OH === H ? oy : sourceIndex(sh, oy, align, false);
      const h1 = Math.floor(h1r), h1p = h1 < H - 1 ? 1 : 0;
      const h1l = h1r - h1, h0l = 1 - h1l;
      const w1r = OW === W ? ox : sourceIndex(sw, ox, align, false);
      const w1 = Math.floor(w1r), w1p = w1 < W - 1 ? 1 : 0;
      const w1l = w1r - w1, w0l = 1 - w1l;
      v = h0l * (w0l * at4(a, n, c, h1, w1) + w1l * at4(a, n, c, h1, w1 + w1p)) +
        h1l * (w0l * at4(a, n, c, h1 + h1p, w1) + w1l * at4(a, n, c, h1 + h1p, w1 + w1p));
    } else {
      const ry = sourceIndex(sh, oy, align, true), rx = sourceIndex(sw, ox, align, true);
      const iy = Math.floor(ry), ix = Math.floor(rx);
      const cy = cubicCoefficients(ry - iy), cx = cubicCoefficients(rx - ix);
      const bounded = (y: number, x: number) => at4(a, n, c, Math.max(0, Math.min(y, H - 1)), Math.max(0, Math.min(x, W - 1)));
      v = 0;
      for (let k = 0; k < 4; k++) {
        let row = 0;
        for (let j = 0; j < 4; j++) row += cx[j]! * bounded(iy - 1 + k, ix - 1 + j);
        v += cy[k]! * row;
      }
    }
    out.data[((n * C + c) * OH + oy) * OW + ox] = v;
  }
  return out;
}

/** F.avg_pool2d (PyTorch's cpu_avg_pool, without divisor_override). */
export function avgPool2d(a: Arr, k: [number, number], s: [number, number], p: [number, number], ceilMode = false, countIncludePad = true): Arr {
  const [N, C, H, W] = a.shape as [number, number, number, number];
  const outSize = (size: number, kk: number, pp: number, ss: number) => {
    let o = (ceilMode ? Math.ceil : Math.floor)((size + 2 * pp - kk) / ss) + 1;
    if (ceilMode && (o - 1) * ss >= size + pp) o--;
    return o;
  };
  const OH = outSize(H, k[0], p[0], s[0]), OW = outSize(W, k[1], p[1], s[1]);
  const out = arr([N, C, OH, OW]);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let y0 = oy * s[0] - p[0], x0 = ox * s[1] - p[1];
    let y1 = Math.min(y0 + k[0], H + p[0]), x1 = Math.min(x0 + k[1], W + p[1]);
    const poolSize = (y1 - y0) * (x1 - x0);
    y0 = Math.max(y0, 0); x0 = Math.max(x0, 0); y1 = Math.min(y1, H); x1 = Math.min(x1, W);
    let sum = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += at4(a, n, c, y, x);
    out.data[((n * C + c) * OH + oy) * OW + ox] = sum / (countIncludePad ? poolSize : (y1 - y0) * (x1 - x0));
  }
  return out;
}

/** F.affine_grid: base grid (linspace(-1, 1), shrunk by (n-1)/n without align_corners) times theta^T. */
export function affineGrid(theta: Arr, size: [number, number, number, number], align = false): Arr {
  const [N, , H, W] = size;
  const lin = (n: number) => Array.from({ length: n }, (_, i) => (n <= 1 ? 0 : (-1 + (2 * i) / (n - 1)) * (align ? 1 : (n - 1) / n)));
  const xs = lin(W), ys = lin(H);
  const out = arr([N, H, W, 2]);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    for (let k = 0; k < 2; k++) {
      const t = (j: number) => theta.data[n * 6 + k * 3 + j]!;
      out.data[((n * H + h) * W + w) * 2 + k] = t(0) * xs[w]! + t(1) * ys[h]! + t(2);
    }
  }
  return out;
}

export type Padding = 'zeros' | 'border' | 'reflection';

function reflect(v: number, twiceLow: number, twiceHigh: number): number {
  if (twiceLow === twiceHigh) return 0;
  const lo = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
  const d = Math.abs(v - lo);
  const extra = d % span, flips = Math.floor(d / span);
  return flips % 2 === 0 ? extra + lo : span - extra + lo;
}

/** grid_sampler_compute_source_index: unnormalise, then apply the padding mode. */
function gridSource(coord: number, size: number, padding: Padding, align: boolean): number {
  let v = align ? ((coord + 1) / 2) * (size - 1) : ((coord + 1) * size - 1) / 2;
  if (padding === 'reflection') v = align ? reflect(v, 0, 2 * (size - 1)) : reflect(v, -1, 2 * size - 1);
  if (padding !== 'zeros') v = Math.min(size - 1, Math.max(v, 0));
  return v;
}

/** std::nearbyint: round half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** F.grid_sample on [N, C, H, W] at grid [N, Ho, Wo, 2]. */
export function gridSample(a: Arr, grid: Arr, mode: 'bilinear' | 'nearest', padding: Padding, align = false): Arr {
  const [N, C, H, W] = a.shape as [number, number, number, number];
  const [, Ho, Wo] = grid.shape as [number, number, number, number];
  const out = arr([N, C, Ho, Wo]);
  const read = (n: number, c: number, y: number, x: number) => (y >= 0 && y < H && x >= 0 && x < W ? at4(a, n, c, y, x) : 0);
  for (let n = 0; n < N; n++) for (let h = 0; h < Ho; h++) for (let w = 0; w < Wo; w++) {
    const g = ((n * Ho + h) * Wo + w) * 2;
    const ix = gridSource(grid.data[g]!, W, padding, align), iy = gridSource(grid.data[g + 1]!, H, padding, align);
    for (let c = 0; c < C; c++) {
      let v: number;
      if (mode === 'nearest') {
        v = read(n, c, roundHalfEven(iy), roundHalfEven(ix));
      } else {
        const xw = Math.floor(ix), yn = Math.floor(iy);
        const nw = (xw + 1 - ix) * (yn + 1 - iy), ne = (ix - xw) * (yn + 1 - iy);
        const sw = (xw + 1 - ix) * (iy - yn), se = (ix - xw) * (iy - yn);
        v = nw * read(n, c, yn, xw) + ne * read(n, c, yn, xw + 1) + sw * read(n, c, yn + 1, xw) + se * read(n, c, yn + 1, xw + 1);
      }
      out.data[((n * C + c) * Ho + h) * Wo + w] = v;
    }
  }
  return out;
}
