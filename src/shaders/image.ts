// Image kernels on NCHW tensors: unfold/fold (patches), separable resampling driven by per-axis
// tap tables (interpolate), average pooling, and grid sampling. Every backward is deterministic:
// a gather over destinations (fold, resample adjoint, pool adjoint), or, where the sources of a
// destination are data-dependent (gridSample w.r.t. its input), integer atomics on 64-bit fixed
// point, whose sum does not depend on the order of the additions.
import { SPECIAL_FLOATS_WGSL, linearMain, uniforms, type Kernel } from './kernel.js';

const ENTRY = `${linearMain('t')}
  if (t >= params.count) { return; }`;

// ---------------------------------------------------------------- unfold / fold

/** An image [N, C, H, W] cut into kh×kw windows with stride sh×sw and padding ph×pw: OH×OW of them. */
const WINDOW = uniforms({
  count: 'u32', C: 'u32', H: 'u32', W: 'u32', kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', OH: 'u32', OW: 'u32',
});
export type WindowUniforms = typeof WINDOW.spec;
const WINDOW_LETS = `let C = params.C; let H = params.H; let W = params.W;
  let kh = params.kh; let kw = params.kw; let sh = params.sh; let sw = params.sw;
  let ph = params.ph; let pw = params.pw; let OH = params.OH; let OW = params.OW;`;

/** P[n, l, f] = X[n, c, oy·sh − ph + ky, ox·sw − pw + kx] (0 in the padding); f = (c, ky, kx), l = (oy, ox). */
export function unfoldKernel(): Kernel<WindowUniforms> {
  return {
    key: 'image_unfold',
    uniforms: WINDOW,
    access: ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> P: array<f32>;
${ENTRY}
  ${WINDOW_LETS}
  let F = C * kh * kw;
  let f = t % F;
  let l = (t / F) % (OH * OW);
  let n = t / (F * OH * OW);
  let c = f / (kh * kw);
  let ky = (f / kw) % kh;
  let kx = f % kw;
  let y = i32((l / OW) * sh + ky) - i32(ph);
  let x = i32((l % OW) * sw + kx) - i32(pw);
  var v = 0.0;
  if (y >= 0 && y < i32(H) && x >= 0 && x < i32(W)) { v = X[((n * C + c) * H + u32(y)) * W + u32(x)]; }
  P[t] = v;
}`,
  };
}

/** The adjoint of unfold: Y[n, c, y, x] sums every patch entry that was read from (y, x). */
export function foldKernel(): Kernel<WindowUniforms> {
  return {
    key: 'image_fold',
    uniforms: WINDOW,
    access: ['read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> P: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${ENTRY}
  ${WINDOW_LETS}
  let x = t % W;
  let y = (t / W) % H;
  let c = (t / (W * H)) % C;
  let n = t / (W * H * C);
  let F = C * kh * kw;
  var acc = 0.0;
  // Only kernel rows with ky ≡ y + ph (mod sh) land on y.
  for (var ky = (y + ph) % sh; ky < kh; ky += sh) {
    if (y + ph < ky) { break; }
    let oy = (y + ph - ky) / sh;
    if (oy >= OH) { continue; }
    for (var kx = (x + pw) % sw; kx < kw; kx += sw) {
      if (x + pw < kx) { break; }
      let ox = (x + pw - kx) / sw;
      if (ox >= OW) { continue; }
      acc += P[(n * OH * OW + oy * OW + ox) * F + (c * kh + ky) * kw + kx];
    }
  }
  Y[t] = acc;
}`,
  };
}

// ---------------------------------------------------------------- resampling (interpolate)

// Tap table (u32 words, weights as f32 bits): for each output row oy, Ty source rows then Ty
// weights; at word `xBase` the same for output columns with Tx taps.
const RESAMPLE = uniforms({ count: 'u32', H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', Ty: 'u32', Tx: 'u32', xBase: 'u32' });
/** Y[p, oy, ox] = Σ_a Σ_b wy[oy, a] · wx[ox, b] · X[p, iy[oy, a], ix[ox, b]], p over N·C planes. */
export function resampleKernel(): Kernel<typeof RESAMPLE.spec> {
  return {
    key: 'image_resample',
    uniforms: RESAMPLE,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> TAB: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${ENTRY}
  let H = params.H; let W = params.W; let OH = params.OH; let OW = params.OW;
  let Ty = params.Ty; let Tx = params.Tx; let xBase = params.xBase;
  let ox = t % OW;
  let oy = (t / OW) % OH;
  let plane = t / (OW * OH);
  let rowBase = oy * 2u * Ty;
  let colBase = xBase + ox * 2u * Tx;
  var acc = 0.0;
  for (var a = 0u; a < Ty; a++) {
    let iy = TAB[rowBase + a];
    let wy = bitcast<f32>(TAB[rowBase + Ty + a]);
    var row = 0.0;
    for (var b = 0u; b < Tx; b++) {
      row += bitcast<f32>(TAB[colBase + Tx + b]) * X[(plane * H + iy) * W + TAB[colBase + b]];
    }
    acc += wy * row;
  }
  Y[t] = acc;
}`,
  };
}

// Inverse tables (CSR per axis): offsets[0..in] then (output index, weight bits) pairs, grouped
// by source index and in increasing output index. Rows at word 0, columns at word `xBase`.
const RESAMPLE_BACKWARD = uniforms({ count: 'u32', H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', xBase: 'u32' });
/** The adjoint of resample: GX[p, iy, ix] = Σ over the outputs that read (iy, ix) of weight · G. */
export function resampleBackwardKernel(): Kernel<typeof RESAMPLE_BACKWARD.spec> {
  return {
    key: 'image_resample_bwd',
    uniforms: RESAMPLE_BACKWARD,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> INV: array<u32>;
@group(0) @binding(3) var<storage, read_write> GX: array<f32>;
${ENTRY}
  let H = params.H; let W = params.W; let OH = params.OH; let OW = params.OW; let xBase = params.xBase;
  let ix = t % W;
  let iy = (t / W) % H;
  let plane = t / (W * H);
  let yPairs = H + 1u;
  let xPairs = xBase + W + 1u;
  var acc = 0.0;
  for (var p = INV[iy]; p < INV[iy + 1u]; p++) {
    let oy = INV[yPairs + 2u * p];
    let wy = bitcast<f32>(INV[yPairs + 2u * p + 1u]);
    var row = 0.0;
    for (var q = INV[xBase + ix]; q < INV[xBase + ix + 1u]; q++) {
      row += bitcast<f32>(INV[xPairs + 2u * q + 1u]) * G[(plane * OH + oy) * OW + INV[xPairs + 2u * q]];
    }
    acc += wy * row;
  }
  GX[t] = acc;
}`,
  };
}

// ---------------------------------------------------------------- average pooling

const POOL = uniforms({
  count: 'u32', H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', countIncludePad: 'u32',
});
export type PoolUniforms = typeof POOL.spec;
const POOL_FNS = /* wgsl */ `
// PyTorch's window of output (oy, ox): [y0, y1) x [x0, x1) clipped to the input, and its divisor
// (the window clipped to the padded input when padding counts, else to the input).
struct Window { y0: i32, y1: i32, x0: i32, x1: i32, div: f32 }
fn pool_window(oy: u32, ox: u32) -> Window {
  let H = i32(params.H); let W = i32(params.W);
  let ph = i32(params.ph); let pw = i32(params.pw);
  var y0 = i32(oy * params.sh) - ph;
  var x0 = i32(ox * params.sw) - pw;
  var y1 = min(y0 + i32(params.kh), H + ph);
  var x1 = min(x0 + i32(params.kw), W + pw);
  let padded = f32((y1 - y0) * (x1 - x0));
  y0 = max(y0, 0); x0 = max(x0, 0); y1 = min(y1, H); x1 = min(x1, W);
  let inside = f32((y1 - y0) * (x1 - x0));
  return Window(y0, y1, x0, x1, select(inside, padded, params.countIncludePad != 0u));
}`;

/** Y[p, oy, ox] = Σ over the window of X / divisor. */
export function avgPoolKernel(): Kernel<PoolUniforms> {
  return {
    key: 'image_avgpool',
    uniforms: POOL,
    access: ['read', 'read_write'],
    wgsl: () => `${POOL_FNS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${ENTRY}
  let H = params.H; let W = params.W; let OH = params.OH; let OW = params.OW;
  let ox = t % OW;
  let oy = (t / OW) % OH;
  let plane = t / (OW * OH);
  let w = pool_window(oy, ox);
  var acc = 0.0;
  for (var y = w.y0; y < w.y1; y++) {
    for (var x = w.x0; x < w.x1; x++) { acc += X[(plane * H + u32(y)) * W + u32(x)]; }
  }
  Y[t] = acc / w.div;
}`,
  };
}

/** The adjoint of avgPool: GX[p, y, x] = Σ over the windows containing (y, x) of G / divisor. */
export function avgPoolBackwardKernel(): Kernel<PoolUniforms> {
  return {
    key: 'image_avgpool_bwd',
    uniforms: POOL,
    access: ['read', 'read_write'],
    wgsl: () => `${POOL_FNS}
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> GX: array<f32>;
${ENTRY}
  let H = params.H; let W = params.W; let OH = i32(params.OH); let OW = i32(params.OW);
  let kh = i32(params.kh); let kw = i32(params.kw); let sh = i32(params.sh); let sw = i32(params.sw);
  let ph = i32(params.ph); let pw = i32(params.pw);
  let x = i32(t % W);
  let y = i32((t / W) % H);
  let plane = t / (W * H);
  // Windows oy with oy·sh − ph <= y < oy·sh − ph + kh.
  let oy0 = max(0, (y + ph - kh + sh) / sh);
  let oy1 = min(OH - 1, (y + ph) / sh);
  let ox0 = max(0, (x + pw - kw + sw) / sw);
  let ox1 = min(OW - 1, (x + pw) / sw);
  var acc = 0.0;
  for (var oy = oy0; oy <= oy1; oy++) {
    for (var ox = ox0; ox <= ox1; ox++) {
      let w = pool_window(u32(oy), u32(ox));
      if (y >= w.y0 && y < w.y1 && x >= w.x0 && x < w.x1) {
        acc += G[(plane * u32(OH) + u32(oy)) * u32(OW) + u32(ox)] / w.div;
      }
    }
  }
  GX[t] = acc;
}`,
  };
}

// ---------------------------------------------------------------- grid sampling

// One invocation per grid point (`count` = N·Ho·Wo), looping over channels. `mode`: 0 bilinear,
// 1 nearest; `padding`: 0 zeros, 1 border, 2 reflection.
const GRID_SAMPLE = uniforms({
  count: 'u32', C: 'u32', H: 'u32', W: 'u32', Ho: 'u32', Wo: 'u32', mode: 'u32', padding: 'u32', alignCorners: 'u32',
});
export type GridSampleUniforms = typeof GRID_SAMPLE.spec;
const GRID_FNS = /* wgsl */ `
// PyTorch's grid_sampler_compute_source_index, with d(source)/d(grid) in .y.
fn reflect_coord(v: f32, twiceLow: f32, twiceHigh: f32) -> vec2<f32> {
  if (twiceLow == twiceHigh) { return vec2<f32>(0.0, 0.0); }
  let lo = twiceLow * 0.5;
  let span = (twiceHigh - twiceLow) * 0.5;
  var d = v - lo;
  var g = 1.0;
  if (d < 0.0) { d = -d; g = -1.0; }
  let extra = d - span * floor(d / span);
  let flips = floor(d / span);
  if (flips - 2.0 * floor(flips * 0.5) == 0.0) { return vec2<f32>(extra + lo, g); }
  return vec2<f32>(span - extra + lo, -g);
}
fn source_coord(coord: f32, size: u32) -> vec2<f32> {
  let n = f32(size);
  let align = params.alignCorners != 0u;
  var v: f32;
  var g: f32;
  if (align) { v = (coord + 1.0) * 0.5 * (n - 1.0); g = (n - 1.0) * 0.5; }
  else { v = ((coord + 1.0) * n - 1.0) * 0.5; g = n * 0.5; }
  let padding = params.padding;
  if (padding == 2u) {
    let r = select(reflect_coord(v, -1.0, 2.0 * n - 1.0), reflect_coord(v, 0.0, 2.0 * (n - 1.0)), align);
    v = r.x; g = g * r.y;
  }
  if (padding >= 1u) {
    if (v <= 0.0) { v = 0.0; g = 0.0; }
    else if (v >= n - 1.0) { v = n - 1.0; g = 0.0; }
  }
  return vec2<f32>(v, g);
}
fn in_bounds(y: i32, x: i32) -> bool {
  return y >= 0 && y < i32(params.H) && x >= 0 && x < i32(params.W);
}`;

const GRID_POINT = `let C = params.C; let H = params.H; let W = params.W; let Ho = params.Ho; let Wo = params.Wo;
  let wo = t % Wo;
  let ho = (t / Wo) % Ho;
  let n = t / (Wo * Ho);
  let gp = (n * Ho + ho) * Wo + wo;
  let sx = source_coord(GRID[2u * gp], W);
  let sy = source_coord(GRID[2u * gp + 1u], H);
  let ix = sx.x; let iy = sy.x;
  let x0 = i32(floor(ix)); let y0 = i32(floor(iy));
  let fx = ix - floor(ix); let fy = iy - floor(iy);`;

/** Y[n, c, ho, wo] = x sampled at grid[n, ho, wo] (bilinear or nearest, PyTorch's paddings). */
export function gridSampleKernel(): Kernel<GridSampleUniforms> {
  return {
    key: 'image_grid_sample',
    uniforms: GRID_SAMPLE,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `${GRID_FNS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GRID: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${ENTRY}
  // t runs over (n, ho, wo); the tap positions are shared by every channel.
  ${GRID_POINT}
  if (params.mode == 1u) {
    let xn = i32(round(ix)); let yn = i32(round(iy));
    let ok = in_bounds(yn, xn);
    for (var c = 0u; c < C; c++) {
      var v = 0.0;
      if (ok) { v = X[((n * C + c) * H + u32(yn)) * W + u32(xn)]; }
      Y[((n * C + c) * Ho + ho) * Wo + wo] = v;
    }
    return;
  }
  let w00 = (1.0 - fx) * (1.0 - fy); let w01 = fx * (1.0 - fy);
  let w10 = (1.0 - fx) * fy; let w11 = fx * fy;
  let ok00 = in_bounds(y0, x0); let ok01 = in_bounds(y0, x0 + 1);
  let ok10 = in_bounds(y0 + 1, x0); let ok11 = in_bounds(y0 + 1, x0 + 1);
  for (var c = 0u; c < C; c++) {
    let base = (n * C + c) * H;
    var v = 0.0;
    if (ok00) { v += w00 * X[(base + u32(y0)) * W + u32(x0)]; }
    if (ok01) { v += w01 * X[(base + u32(y0)) * W + u32(x0 + 1)]; }
    if (ok10) { v += w10 * X[(base + u32(y0 + 1)) * W + u32(x0)]; }
    if (ok11) { v += w11 * X[(base + u32(y0 + 1)) * W + u32(x0 + 1)]; }
    Y[((n * C + c) * Ho + ho) * Wo + wo] = v;
  }
}`,
  };
}

/**
 * gridSample's gradient w.r.t. the grid (bilinear; nearest has none): one invocation per grid
 * point summing over channels, so no scatter is needed. Writes GGRID[n, ho, wo, 0..1].
 */
export function gridSampleGridGradKernel(): Kernel<GridSampleUniforms> {
  return {
    key: 'image_grid_sample_dgrid',
    uniforms: GRID_SAMPLE,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${GRID_FNS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GRID: array<f32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read_write> GGRID: array<f32>;
${ENTRY}
  ${GRID_POINT}
  var gx = 0.0; var gy = 0.0;
  if (params.mode == 0u) {
    let ok00 = in_bounds(y0, x0); let ok01 = in_bounds(y0, x0 + 1);
    let ok10 = in_bounds(y0 + 1, x0); let ok11 = in_bounds(y0 + 1, x0 + 1);
    for (var c = 0u; c < C; c++) {
      let base = (n * C + c) * H;
      let g = G[((n * C + c) * Ho + ho) * Wo + wo];
      var v00 = 0.0; var v01 = 0.0; var v10 = 0.0; var v11 = 0.0;
      if (ok00) { v00 = X[(base + u32(y0)) * W + u32(x0)]; }
      if (ok01) { v01 = X[(base + u32(y0)) * W + u32(x0 + 1)]; }
      if (ok10) { v10 = X[(base + u32(y0 + 1)) * W + u32(x0)]; }
      if (ok11) { v11 = X[(base + u32(y0 + 1)) * W + u32(x0 + 1)]; }
      gx += g * ((v01 - v00) * (1.0 - fy) + (v11 - v10) * fy);
      gy += g * ((v10 - v00) * (1.0 - fx) + (v11 - v01) * fx);
    }
  }
  GGRID[2u * t] = gx * sx.y;
  GGRID[2u * t + 1u] = gy * sy.y;
}`,
  };
}

// 64-bit fixed point held as (lo, hi) u32 words, two's complement. Scale: 2^k with k chosen from
// MAXG[0] = max |G| so that no destination's sum can reach 2^62 (each output point adds at most
// |G| to a given source element, and there are Ho·Wo of them per plane). Each term is truncated
// to a multiple of 2^-k <= max|G|·Ho·Wo·2^-60 (about 4e-14·max|G| for a 224x224 grid), and
// integer addition is associative, so the result does not depend on the order of the atomics.
const FIXED_FNS = /* wgsl */ `
fn fixed_exponent() -> f32 {
  let bound = MAXG[0] * f32(params.Ho * params.Wo);
  if (!(bound > 0.0)) { return 100.0; }
  return min(100.0, 61.0 - ceil(log2(bound)));
}`;

/** Accumulates G·weight into fixed-point ACC (2 words per element of x) with integer atomics. */
export function gridSampleInputGradKernel(): Kernel<GridSampleUniforms> {
  return {
    key: 'image_grid_sample_dx',
    uniforms: GRID_SAMPLE,
    access: ['read', 'read', 'read', 'read_write'],
    wgsl: () => `${GRID_FNS}
@group(0) @binding(1) var<storage, read> GRID: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> MAXG: array<f32>;
@group(0) @binding(4) var<storage, read_write> ACC: array<atomic<u32>>;
${FIXED_FNS}
fn add_fixed(i: u32, v: f32) {
  let a = abs(v);
  var hi = u32(floor(a * 2.3283064365386963e-10));
  var lo = u32(a - f32(hi) * 4294967296.0);
  if (v < 0.0) { hi = ~hi + select(0u, 1u, lo == 0u); lo = ~lo + 1u; }
  let old = atomicAdd(&ACC[2u * i], lo);
  let carry = select(0u, 1u, old + lo < old);
  atomicAdd(&ACC[2u * i + 1u], hi + carry);
}
${ENTRY}
  ${GRID_POINT}
  let scale = exp2(fixed_exponent());
  if (params.mode == 1u) {
    let xn = i32(round(ix)); let yn = i32(round(iy));
    if (!in_bounds(yn, xn)) { return; }
    for (var c = 0u; c < C; c++) {
      let g = G[((n * C + c) * Ho + ho) * Wo + wo] * scale;
      add_fixed(((n * C + c) * H + u32(yn)) * W + u32(xn), g);
    }
    return;
  }
  let w00 = (1.0 - fx) * (1.0 - fy); let w01 = fx * (1.0 - fy);
  let w10 = (1.0 - fx) * fy; let w11 = fx * fy;
  for (var c = 0u; c < C; c++) {
    let g = G[((n * C + c) * Ho + ho) * Wo + wo] * scale;
    let base = (n * C + c) * H;
    if (in_bounds(y0, x0)) { add_fixed((base + u32(y0)) * W + u32(x0), g * w00); }
    if (in_bounds(y0, x0 + 1)) { add_fixed((base + u32(y0)) * W + u32(x0 + 1), g * w01); }
    if (in_bounds(y0 + 1, x0)) { add_fixed((base + u32(y0 + 1)) * W + u32(x0), g * w10); }
    if (in_bounds(y0 + 1, x0 + 1)) { add_fixed((base + u32(y0 + 1)) * W + u32(x0 + 1), g * w11); }
  }
}`,
  };
}

/**
 * GX[i] = the fixed-point ACC[i] back in f32 (NaN everywhere if G held a NaN or an infinity).
 * `count` is the number of elements of x; Ho and Wo set the fixed-point scale.
 */
export function fixedToFloatKernel(): Kernel<GridSampleUniforms> {
  return {
    key: 'image_fixed_to_f32',
    uniforms: GRID_SAMPLE,
    access: ['read', 'read', 'read_write'],
    wgsl: () => `
@group(0) @binding(1) var<storage, read> ACC: array<u32>;
@group(0) @binding(2) var<storage, read> MAXG: array<f32>;
@group(0) @binding(3) var<storage, read_write> GX: array<f32>;
${SPECIAL_FLOATS_WGSL}
${FIXED_FNS}
${ENTRY}
  var lo = ACC[2u * t];
  var hi = ACC[2u * t + 1u];
  let negative = (hi >> 31u) != 0u;
  if (negative) { hi = ~hi + select(0u, 1u, lo == 0u); lo = ~lo + 1u; }
  let magnitude = f32(hi) * 4294967296.0 + f32(lo);
  let v = select(magnitude, -magnitude, negative) * exp2(-fixed_exponent());
  let m = MAXG[0];
  GX[t] = select(quiet_nan(), v, m - m == 0.0);
}`,
  };
}
