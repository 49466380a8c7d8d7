// Drawing on the page's canvases: the input, the hard mask over it, the part assignment, the
// relevance heat map, one small map per part, and the training curves. Model-sized pictures are
// enlarged by whole pixels, so every patch shows as the square it is.
import { data } from '../src/index.js';

type RasterImage = data.RasterImage;
type RGB = readonly [number, number, number];

const DISPLAY = 192;
/** Foreground part colours (a colour-blind-friendlier set); background is grey. */
export const PART_COLOURS: readonly RGB[] = [
  [230, 159, 0], [0, 114, 178], [0, 158, 115], [204, 121, 167], [213, 94, 0], [86, 180, 233], [240, 228, 66], [120, 60, 160],
];
export const BACKGROUND_COLOUR: RGB = [150, 150, 150];

export function partColour(k: number, K: number): RGB {
  return k === K ? BACKGROUND_COLOUR : PART_COLOURS[k % PART_COLOURS.length]!;
}

export function cssColour(c: RGB): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Puts an RGB raster on a canvas, resizing the canvas to it. */
export function putRaster(canvas: HTMLCanvasElement, img: RasterImage): void {
  canvas.width = img.width;
  canvas.height = img.height;
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += img.channels) {
    rgba[i] = img.data[j]!;
    rgba[i + 1] = img.data[j + (img.channels >= 3 ? 1 : 0)]!;
    rgba[i + 2] = img.data[j + (img.channels >= 3 ? 2 : 0)]!;
    rgba[i + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, img.width, img.height), 0, 0);
}

/** The image enlarged by a whole factor to about DISPLAY pixels. */
export function displayImage(chw: Float32Array, S: number): RasterImage {
  return data.scaleImage(data.chwToImage(chw, S, S), Math.max(1, Math.floor(DISPLAY / S)));
}

/** A g×g patch grid at w×w pixels, nearest neighbour (patches stay square). */
function patchesToPixels(values: ArrayLike<number>, g: number, w: number): Float32Array {
  const out = new Float32Array(w * w);
  for (let y = 0; y < w; y++) {
    const row = Math.min(g - 1, Math.floor((y * g) / w)) * g;
    for (let x = 0; x < w; x++) out[y * w + x] = values[row + Math.min(g - 1, Math.floor((x * g) / w))]!;
  }
  return out;
}

/** Masked patches dimmed to slate, kept patches untouched and outlined in amber. */
export function maskPicture(base: RasterImage, mask: ArrayLike<number>, g: number): RasterImage {
  const full = patchesToPixels(mask, g, base.width);
  const dimmed = { ...base, data: base.data.slice() };
  for (let i = 0; i < full.length; i++) {
    if (full[i]! > 0.5) continue;
    for (let c = 0; c < 3; c++) dimmed.data[3 * i + c] = Math.round(0.22 * base.data[3 * i + c]! + 0.78 * 38);
  }
  return data.maskOverlay(dimmed, full, [255, 191, 0], 0);
}

/** Each patch tinted with its strongest part's colour (parts [K+1, g, g], background last). */
export function partsPicture(base: RasterImage, parts: Float32Array, K1: number, g: number, disabled: ReadonlySet<number>): RasterImage {
  const assign = new Float32Array(g * g);
  for (let p = 0; p < g * g; p++) {
    let best = 0;
    for (let k = 1; k < K1; k++) if (parts[k * g * g + p]! > parts[best * g * g + p]!) best = k;
    assign[p] = best;
  }
  const full = patchesToPixels(assign, g, base.width);
  const out = { ...base, data: base.data.slice() };
  for (let i = 0; i < full.length; i++) {
    const k = full[i]!;
    const colour = partColour(k, K1 - 1);
    // Switched-off parts keep their colour but faintly, so the change in the mask stays readable.
    const a = k === K1 - 1 ? 0.35 : disabled.has(k) ? 0.2 : 0.6;
    for (let c = 0; c < 3; c++) out.data[3 * i + c] = Math.round((1 - a) * base.data[3 * i + c]! + a * colour[c]!);
  }
  return out;
}

/** Share of patches whose strongest part is k, for every part. */
export function partShares(parts: Float32Array, K1: number, g: number): number[] {
  const counts = new Array<number>(K1).fill(0);
  for (let p = 0; p < g * g; p++) {
    let best = 0;
    for (let k = 1; k < K1; k++) if (parts[k * g * g + p]! > parts[best * g * g + p]!) best = k;
    counts[best]!++;
  }
  return counts;
}

/** One part's assignment map as a viridis heat map from 0 to 1. */
export function partMapPicture(parts: Float32Array, k: number, g: number, size = 96): RasterImage {
  const map = parts.subarray(k * g * g, (k + 1) * g * g);
  return data.scaleImage(data.heatmapRGB(map, g, g, { min: 0, max: 1 }), Math.max(1, Math.floor(size / g)));
}

/** The relevance map (S×S, in [0, 1]) blended over the image. */
export function relevancePicture(base: RasterImage, relevance: Float32Array, S: number): RasterImage {
  const full = base.width === S ? relevance : data.resizeMap(relevance, S, S, base.width, base.height);
  return data.overlay(base, full, 0.55, { min: 0, max: 1 });
}

export interface CurvePoint {
  step: number;
  value: number;
}

/** Loss (left axis) and validation accuracies (right axis, 0–100 %) against the step. */
export function drawCurves(canvas: HTMLCanvasElement, loss: CurvePoint[], acc: CurvePoint[], worst: CurvePoint[], totalSteps: number): void {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width, H = canvas.height;
  const pad = { l: 52, r: 52, t: 30, b: 34 };
  const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = '12px system-ui, sans-serif';
  const maxLoss = loss.length ? Math.max(1e-6, ...loss.map((p) => p.value).filter(Number.isFinite)) * 1.05 : 1;
  const xOf = (s: number) => pad.l + (pw * s) / Math.max(1, totalSteps);
  const yLoss = (v: number) => pad.t + ph * (1 - v / maxLoss);
  const yAcc = (v: number) => pad.t + ph * (1 - v);
  // Grid and axes.
  ctx.strokeStyle = '#e3e6ea';
  ctx.fillStyle = '#5b6570';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + (ph * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(pad.l + pw, y);
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText((maxLoss * (1 - i / 4)).toFixed(2), pad.l - 6, y + 4);
    ctx.textAlign = 'left';
    ctx.fillText(`${Math.round(100 * (1 - i / 4))}%`, pad.l + pw + 6, y + 4);
  }
  ctx.textAlign = 'center';
  for (const s of data.niceTicks(0, totalSteps, 5).filter(Number.isInteger)) ctx.fillText(String(s), xOf(s), H - pad.b + 16);
  ctx.fillText('step', pad.l + pw / 2, H - 4);
  const line = (pts: CurvePoint[], y: (v: number) => number, colour: string, dash: number[] = []) => {
    if (!pts.length) return;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(dash);
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(xOf(p.step), y(p.value)) : ctx.moveTo(xOf(p.step), y(p.value))));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = colour;
    for (const p of pts.length < 40 ? pts : pts.slice(-1)) ctx.fillRect(xOf(p.step) - 2, y(p.value) - 2, 4, 4);
  };
  line(loss, yLoss, '#1f6feb');
  line(acc, yAcc, '#e36209');
  line(worst, yAcc, '#b42318', [6, 4]);
  // Legend.
  const items: [string, string][] = [['training loss (left)', '#1f6feb'], ['val accuracy (right)', '#e36209'], ['val worst group (right)', '#b42318']];
  let x = pad.l;
  ctx.textAlign = 'left';
  for (const [name, colour] of items) {
    ctx.fillStyle = colour;
    ctx.fillRect(x, 10, 14, 4);
    ctx.fillStyle = '#1d232a';
    ctx.fillText(name, x + 18, 16);
    x += ctx.measureText(name).width + 40;
  }
}
