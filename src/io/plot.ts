// Pictures in pure TS, for the browser and for Node without native packages: image/heat-map/mask
// compositing, and a tiny 5×7 bitmap font with labelled image grids and line charts as RGB rasters
// for encodePNG/savePNG. train.js draws its figures through src/io/figure.ts, which renders SVG
// with real fonts through sharp and falls back to this font only when sharp cannot.
import { savePNG, type RasterImage } from './png.js';

export type RGB = readonly [number, number, number];

// ------------------------------------------------------------------ font

// ASCII 32..126, 7 rows of 5 bits per glyph (bit 4 = leftmost column), two hex digits per row.
const FONT_HEX = [
  '00000000000000 04040404040004 0a0a0a00000000 0a0a1f0a1f0a0a 040f140e051e04 18190204081303 0c12140815120d 0c040800000000',
  '02040808080402 08040202020408 0004150e150400 0004041f040400 000000000c0408 0000001f000000 00000000000c0c 00010204081000',
  '0e11131519110e 040c040404040e 0e11010204081f 1f02040201110e 02060a121f0202 1f101e0101110e 0608101e11110e 1f010204080808',
  '0e11110e11110e 0e11110f01020c 000c0c000c0c00 000c0c000c0408 02040810080402 00001f001f0000 08040201020408 0e110102040004',
  '0e11010d15150e 0e1111111f1111 1e11111e11111e 0e11101010110e 1c12111111121c 1f10101e10101f 1f10101e101010 0e11101711110f',
  '1111111f111111 0e04040404040e 0702020202120c 11121418141211 1010101010101f 111b1515111111 11111915131111 0e11111111110e',
  '1e11111e101010 0e11111115120d 1e11111e141211 0f10100e01011e 1f040404040404 1111111111110e 11111111110a04 1111111515150a',
  '11110a040a1111 1111110a040404 1f01020408101f 0e08080808080e 00100804020100 0e02020202020e 040a1100000000 0000000000001f',
  '08040200000000 00000e010f110f 1010161911111e 00000e1010110e 01010d1311110f 00000e111f100e 0609081c080808 000f11110f010e',
  '10101619111111 04000c0404040e 0200060202120c 10101214181412 0c04040404040e 00001a15151111 00001619111111 00000e1111110e',
  '00001e111e1010 00000d130f0101 00001619101010 00000e100e011e 08081c08080906 0000111111130d 00001111110a04 0000111115150a',
  '0000110a040a11 000011110f010e 00001f0204081f 02040408040402 04040404040404 08040402040408 00000815020000',
].join('').replace(/ /g, '');

// Letters with descenders use an eighth row (as on HD44780 character LCDs).
const DESCENDERS: Record<string, number[]> = {
  g: [0, 0, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e], j: [0x02, 0, 0x06, 0x02, 0x02, 0x02, 0x12, 0x0c],
  p: [0, 0, 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10], q: [0, 0, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x01],
  y: [0, 0, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e],
};

const GLYPH_W = 5, GLYPH_H = 8, ADVANCE = 6;
/** Height of one text line at scale 1 (glyph plus spacing). */
export const LINE_HEIGHT = 10;

function glyphRows(ch: string): number[] {
  if (ch in DESCENDERS) return DESCENDERS[ch]!;
  // Dashes of every width print as '-', other characters outside ASCII as '?'.
  let code = ch.charCodeAt(0);
  if (code === 0x2013 || code === 0x2014 || code === 0x2212) code = 45;
  if (code < 32 || code > 126) code = 63;
  const at = (code - 32) * 14;
  const rows: number[] = [];
  for (let r = 0; r < 7; r++) rows.push(parseInt(FONT_HEX.slice(at + 2 * r, at + 2 * r + 2), 16));
  rows.push(0);
  return rows;
}

/** Width in pixels of `text` at integer `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale;
}

/** Draws text with its top-left corner at (x, y); pixels outside the image are clipped. */
export function drawText(img: RasterImage, text: string, x: number, y: number, colour: RGB, scale = 1): void {
  for (let i = 0; i < text.length; i++) {
    const rows = glyphRows(text[i]!);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        if (!((rows[r]! >> (GLYPH_W - 1 - c)) & 1)) continue;
        fillRect(img, x + (i * ADVANCE + c) * scale, y + r * scale, scale, scale, colour);
      }
    }
  }
}

/** Greedy word wrap to lines of at most `maxChars` characters (long words are cut). */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > maxChars) {
      if (line) { lines.push(line); line = ''; }
      lines.push(word.slice(0, maxChars));
      word = word.slice(maxChars);
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= maxChars) line += ' ' + word;
    else { lines.push(line); line = word; }
  }
  if (line) lines.push(line);
  return lines;
}

// ------------------------------------------------------------------ raster basics

/** A new RGB image filled with `colour`. */
export function blankImage(width: number, height: number, colour: RGB = [255, 255, 255]): RasterImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(colour, i * 3);
  return { width, height, channels: 3, data };
}

export function fillRect(img: RasterImage, x: number, y: number, w: number, h: number, colour: RGB, alpha = 1): void {
  const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(img.width, Math.round(x + w)), y1 = Math.min(img.height, Math.round(y + h));
  for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) blend(img, xx, yy, colour, alpha);
}

function blend(img: RasterImage, x: number, y: number, colour: RGB, alpha: number): void {
  const o = (y * img.width + x) * img.channels;
  for (let c = 0; c < 3; c++) img.data[o + c] = Math.round(img.data[o + c]! + (colour[c]! - img.data[o + c]!) * alpha);
}

/** Pastes `src` (RGB) into `dst` at (x, y), clipped. */
export function paste(dst: RasterImage, src: RasterImage, x: number, y: number): void {
  for (let yy = 0; yy < src.height; yy++) {
    const ty = y + yy;
    if (ty < 0 || ty >= dst.height) continue;
    for (let xx = 0; xx < src.width; xx++) {
      const tx = x + xx;
      if (tx < 0 || tx >= dst.width) continue;
      const s = (yy * src.width + xx) * src.channels, d = (ty * dst.width + tx) * dst.channels;
      for (let c = 0; c < 3; c++) dst.data[d + c] = src.data[s + (src.channels >= 3 ? c : 0)]!;
    }
  }
}

/** Anti-aliased line of the given width (coverage from the distance to the segment). */
export function drawLine(img: RasterImage, x0: number, y0: number, x1: number, y1: number, colour: RGB, width = 1.5): void {
  const half = width / 2;
  const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - half - 1)), maxX = Math.min(img.width - 1, Math.ceil(Math.max(x0, x1) + half + 1));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - half - 1)), maxY = Math.min(img.height - 1, Math.ceil(Math.max(y0, y1) + half + 1));
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      const px = x + 0.5, py = y + 0.5;
      const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0;
      const d = Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
      const cover = Math.min(1, Math.max(0, half + 0.5 - d));
      if (cover > 0) blend(img, x, y, colour, cover);
    }
  }
}

// ------------------------------------------------------------------ images, maps, masks

/** [3,H,W] floats in [0,1] (or normalised, given the normalisation) → RGB raster. */
export function chwToImage(chw: ArrayLike<number>, height: number, width: number, norm?: { mean: readonly number[]; std: readonly number[] } | null): RasterImage {
  const plane = height * width;
  if (chw.length !== 3 * plane) throw new Error(`chwToImage: ${chw.length} values for a 3×${height}×${width} image`);
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const m = norm ? norm.mean[c]! : 0, s = norm ? norm.std[c]! : 1;
    for (let k = 0; k < plane; k++) data[k * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, chw[c * plane + k]! * s + m)));
  }
  return { width, height, channels: 3, data };
}

/** Nearest-neighbour enlargement by an integer factor (to look at 32-pixel images). */
export function scaleImage(img: RasterImage, factor: number): RasterImage {
  const w = img.width * factor, h = img.height * factor, ch = img.channels;
  const data = new Uint8Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * ch;
      data.set(img.data.subarray(s, s + ch), (y * w + x) * ch);
    }
  }
  return { width: w, height: h, channels: ch, data };
}

/** Bilinear resampling of a one-channel map (pixel-centre aligned), e.g. a patch grid to pixels. */
export function resizeMap(map: ArrayLike<number>, mw: number, mh: number, w: number, h: number): Float32Array {
  if (map.length !== mw * mh) throw new Error(`resizeMap: ${map.length} values for a ${mw}×${mh} map`);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(mh - 1, Math.max(0, ((y + 0.5) * mh) / h - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(mh - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(mw - 1, Math.max(0, ((x + 0.5) * mw) / w - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(mw - 1, x0 + 1), fx = sx - x0;
      const top = map[y0 * mw + x0]! * (1 - fx) + map[y0 * mw + x1]! * fx;
      const bottom = map[y1 * mw + x0]! * (1 - fx) + map[y1 * mw + x1]! * fx;
      out[y * w + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Viridis colour of t ∈ [0,1] (polynomial fit to matplotlib's table, error < 1%). */
export function viridis(t: number): RGB {
  t = Math.min(1, Math.max(0, t));
  const c = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061], [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659], [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105], [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  const out = [0, 0, 0];
  for (let ch = 0; ch < 3; ch++) {
    let v = 0;
    for (let k = 6; k >= 0; k--) v = v * t + c[k]![ch]!;
    out[ch] = Math.round(255 * Math.min(1, Math.max(0, v)));
  }
  return out as unknown as RGB;
}

function mapRange(map: ArrayLike<number>, min?: number, max?: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  return [min ?? (lo === Infinity ? 0 : lo), max ?? (hi === -Infinity ? 1 : hi)];
}

/** A w×h map as a viridis heat map, min–max scaled (or between the given min and max). */
export function heatmapRGB(map: ArrayLike<number>, w: number, h: number, opts: { min?: number; max?: number } = {}): RasterImage {
  if (map.length !== w * h) throw new Error(`heatmapRGB: ${map.length} values for a ${w}×${h} map`);
  const [lo, hi] = mapRange(map, opts.min, opts.max);
  const span = hi > lo ? hi - lo : 1;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(viridis((map[i]! - lo) / span), i * 3);
  return { width: w, height: h, channels: 3, data };
}

/** The map (any square size, or mapWidth×mapHeight) as a heat map blended over the image. */
export function overlay(image: RasterImage, map: ArrayLike<number>, alpha = 0.5, opts: { mapWidth?: number; mapHeight?: number; min?: number; max?: number } = {}): RasterImage {
  const side = Math.round(Math.sqrt(map.length));
  const mw = opts.mapWidth ?? side, mh = opts.mapHeight ?? side;
  const full = mw === image.width && mh === image.height ? map : resizeMap(map, mw, mh, image.width, image.height);
  const heat = heatmapRGB(full, image.width, image.height, opts);
  const out = toRGB(image);
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.round(out.data[i]! * (1 - alpha) + heat.data[i]! * alpha);
  return out;
}

/** Tints the pixels where mask > 0.5 with `colour` and outlines the mask's border. */
export function maskOverlay(image: RasterImage, mask: ArrayLike<number>, colour: RGB = [255, 40, 40], alpha = 0.45): RasterImage {
  const side = Math.round(Math.sqrt(mask.length));
  const full = mask.length === image.width * image.height ? mask : resizeMap(mask, side, side, image.width, image.height);
  const out = toRGB(image);
  const W = image.width, H = image.height;
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && full[y * W + x]! > 0.5;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!inside(x, y)) continue;
      const border = !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1);
      blend(out, x, y, colour, border ? 1 : alpha);
    }
  }
  return out;
}

function toRGB(img: RasterImage): RasterImage {
  if (img.channels === 3) return { ...img, data: img.data.slice() };
  const out = blankImage(img.width, img.height, [0, 0, 0]);
  paste(out, img, 0, 0);
  return out;
}

// ------------------------------------------------------------------ grids

export interface Tile {
  image: RasterImage;
  /** Caption under the tile, word-wrapped to its width. */
  label?: string;
  /** Caption colour (e.g. green for a correct prediction, red for a wrong one). */
  labelColour?: RGB;
}

/** Images in a grid, each with its caption underneath; optional title across the top. */
export function tileGrid(tiles: readonly Tile[], opts: { columns?: number; pad?: number; title?: string; background?: RGB } = {}): RasterImage {
  if (tiles.length === 0) throw new Error('tileGrid: no tiles');
  const columns = Math.max(1, Math.min(opts.columns ?? Math.ceil(Math.sqrt(tiles.length)), tiles.length));
  const pad = opts.pad ?? 6;
  const cellW = Math.max(...tiles.map((t) => t.image.width));
  const imgH = Math.max(...tiles.map((t) => t.image.height));
  const maxChars = Math.max(1, Math.floor((cellW + 1) / ADVANCE));
  const captions = tiles.map((t) => (t.label ? wrapText(t.label, maxChars) : []));
  const rows = Math.ceil(tiles.length / columns);
  const rowH: number[] = [];
  for (let r = 0; r < rows; r++) {
    const lines = Math.max(0, ...captions.slice(r * columns, (r + 1) * columns).map((c) => c.length));
    rowH.push(imgH + (lines > 0 ? 3 + lines * LINE_HEIGHT : 0));
  }
  const titleH = opts.title ? LINE_HEIGHT * 2 : 0;
  const width = columns * cellW + (columns + 1) * pad;
  const height = titleH + rowH.reduce((a, b) => a + b, 0) + (rows + 1) * pad;
  const out = blankImage(width, height, opts.background ?? [255, 255, 255]);
  if (opts.title) drawText(out, opts.title, pad, pad, [0, 0, 0], 1);
  let y = titleH + pad;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      if (i >= tiles.length) break;
      const x = pad + c * (cellW + pad);
      paste(out, tiles[i]!.image, x, y);
      captions[i]!.forEach((line, k) => drawText(out, line, x, y + imgH + 3 + k * LINE_HEIGHT, tiles[i]!.labelColour ?? [20, 20, 20]));
    }
    y += rowH[r]! + pad;
  }
  return out;
}

// ------------------------------------------------------------------ line charts

export interface Series {
  name: string;
  /** y values; NaN or missing points leave a gap. */
  values: ArrayLike<number>;
  /** x values (default 0, 1, 2, ...). */
  x?: ArrayLike<number>;
  colour?: RGB;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  yMin?: number;
  yMax?: number;
}

const PALETTE: RGB[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127]];

/** About `count` round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function formatTick(v: number, step: number): string {
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return Math.abs(v) >= 1e5 ? v.toExponential(1) : v.toFixed(digits);
}

/** Renders series as a line chart with axes, tick labels, title and legend. */
export function lineChart(series: readonly Series[], opts: ChartOptions = {}): RasterImage {
  const W = opts.width ?? 640, H = opts.height ?? 400;
  const img = blankImage(W, H);
  const xs = series.map((s) => Array.from({ length: s.values.length }, (_, i) => (s.x ? s.x[i]! : i)));
  let xLo = Infinity, xHi = -Infinity, yLo = Infinity, yHi = -Infinity;
  series.forEach((s, k) => {
    for (let i = 0; i < s.values.length; i++) {
      const y = s.values[i]!, x = xs[k]![i]!;
      if (!Number.isFinite(y) || !Number.isFinite(x)) continue;
      xLo = Math.min(xLo, x); xHi = Math.max(xHi, x); yLo = Math.min(yLo, y); yHi = Math.max(yHi, y);
    }
  });
  if (xLo === Infinity) { xLo = 0; xHi = 1; yLo = 0; yHi = 1; }
  if (opts.yMin !== undefined) yLo = opts.yMin;
  if (opts.yMax !== undefined) yHi = opts.yMax;
  if (xHi === xLo) xHi = xLo + 1;
  if (yHi === yLo) { yLo -= 0.5; yHi += 0.5; }
  const yTicks = niceTicks(yLo, yHi), xTicks = niceTicks(xLo, xHi, 6);
  const yStep = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1, xStep = xTicks.length > 1 ? xTicks[1]! - xTicks[0]! : 1;
  const yLabels = yTicks.map((v) => formatTick(v, yStep));
  const left = 12 + Math.max(...yLabels.map((l) => textWidth(l))) + (opts.yLabel ? LINE_HEIGHT + 4 : 0);
  const top = opts.title ? 26 : 12, bottom = 28 + (opts.xLabel ? LINE_HEIGHT + 2 : 0), right = 14;
  const pw = W - left - right, ph = H - top - bottom;
  if (pw < 20 || ph < 20) throw new Error(`lineChart: ${W}×${H} is too small for the axes`);
  const px = (x: number) => left + ((x - xLo) / (xHi - xLo)) * pw;
  const py = (y: number) => top + ph - ((y - yLo) / (yHi - yLo)) * ph;
  const axis: RGB = [60, 60, 60], grid: RGB = [228, 228, 228];
  yTicks.forEach((v, k) => {
    const y = Math.round(py(v));
    fillRect(img, left, y, pw, 1, grid);
    fillRect(img, left - 4, y, 4, 1, axis);
    drawText(img, yLabels[k]!, left - 6 - textWidth(yLabels[k]!), y - 3, axis);
  });
  for (const v of xTicks) {
    const x = Math.round(px(v)), label = formatTick(v, xStep);
    fillRect(img, x, top, 1, ph, grid);
    fillRect(img, x, top + ph, 1, 4, axis);
    drawText(img, label, x - Math.floor(textWidth(label) / 2), top + ph + 7, axis);
  }
  fillRect(img, left, top, 1, ph + 1, axis);
  fillRect(img, left, top + ph, pw, 1, axis);
  if (opts.title) drawText(img, opts.title, left + Math.floor((pw - textWidth(opts.title)) / 2), 8, [0, 0, 0]);
  if (opts.xLabel) drawText(img, opts.xLabel, left + Math.floor((pw - textWidth(opts.xLabel)) / 2), H - LINE_HEIGHT - 2, axis);
  if (opts.yLabel) drawVerticalText(img, opts.yLabel, 4, top + Math.floor((ph + textWidth(opts.yLabel)) / 2), axis);
  series.forEach((s, k) => {
    const colour = s.colour ?? PALETTE[k % PALETTE.length]!;
    let prev: [number, number] | null = null;
    for (let i = 0; i < s.values.length; i++) {
      const y = s.values[i]!, x = xs[k]![i]!;
      if (!Number.isFinite(y) || !Number.isFinite(x)) { prev = null; continue; }
      const pt: [number, number] = [px(x), py(Math.min(yHi, Math.max(yLo, y)))];
      if (prev) drawLine(img, prev[0], prev[1], pt[0], pt[1], colour, 1.8);
      else if (i + 1 >= s.values.length || !Number.isFinite(s.values[i + 1]!)) fillRect(img, pt[0] - 1.5, pt[1] - 1.5, 3, 3, colour);
      prev = pt;
    }
  });
  // Legend, top right inside the plot area.
  if (series.length > 0) {
    const lw = 26 + Math.max(...series.map((s) => textWidth(s.name)));
    const lx = left + pw - lw - 8, ly = top + 6;
    fillRect(img, lx - 4, ly - 4, lw + 8, series.length * 12 + 6, [255, 255, 255], 0.85);
    series.forEach((s, k) => {
      const colour = s.colour ?? PALETTE[k % PALETTE.length]!;
      drawLine(img, lx, ly + k * 12 + 3.5, lx + 18, ly + k * 12 + 3.5, colour, 2);
      drawText(img, s.name, lx + 24, ly + k * 12, [20, 20, 20]);
    });
  }
  return img;
}

/** Text rotated 90° anticlockwise, its baseline start at (x, y) going up. */
function drawVerticalText(img: RasterImage, text: string, x: number, y: number, colour: RGB): void {
  const w = textWidth(text);
  const tmp = blankImage(w, GLYPH_H, [255, 255, 255]);
  drawText(tmp, text, 0, 0, [0, 0, 0]);
  for (let ty = 0; ty < GLYPH_H; ty++) {
    for (let tx = 0; tx < w; tx++) {
      if (tmp.data[(ty * w + tx) * 3] === 0) fillRect(img, x + ty, y - tx, 1, 1, colour);
    }
  }
}

/** Renders a chart and writes it as a PNG (Node; atomic). */
export async function saveLineChart(path: string, series: readonly Series[], opts: ChartOptions = {}): Promise<void> {
  await savePNG(path, lineChart(series, opts));
}
