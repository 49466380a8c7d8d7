// Drawing on the page's canvases: the input, the hard mask over it, the part assignment, the
// relevance heat map, one small map per part, and the training curves (loss and accuracy in two
// panels that sit side by side or stack with the width). Model-sized pictures are enlarged by
// whole pixels, so every patch shows as the square it is.
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

export interface Curves {
  loss: CurvePoint[];
  acc: CurvePoint[];
  worst: CurvePoint[];
  totalSteps: number;
  /** The step at which the user stopped the run, marked on the x axis. */
  stoppedAt?: number;
}

interface Series {
  name: string;
  points: CurvePoint[];
  colour: string;
  dash?: number[];
}

const INK = '#1d232a', MUTED = '#5b6570', GRID = '#e3e6ea', AXIS = '#8a929b';

/** Round step ticks (whole steps only) from 0 to `total`. */
function stepTicks(total: number, width: number): number[] {
  const count = Math.max(2, Math.min(6, Math.floor(width / 70)));
  return data.niceTicks(0, total, count).filter(Number.isInteger);
}

/**
 * One panel: a title, a legend that wraps, a plot whose y range has a margin of 4% of its span on
 * both sides (curves at 0% or 100% stay clear of the frame), whole-step x ticks.
 */
function panel(ctx: CanvasRenderingContext2D, box: { x: number; y: number; w: number; h: number }, o: {
  title: string; series: Series[]; totalSteps: number; yMax: number; yTicks: number[]; yLabel: (v: number) => string; stoppedAt?: number;
}): void {
  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = INK;
  ctx.font = 'bold 13px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.fillText(o.title, box.x + 4, box.y + 15);
  ctx.font = '12px system-ui, sans-serif';
  let lx = box.x + 4, ly = box.y + 33;
  for (const s of o.series) {
    const w = 24 + ctx.measureText(s.name).width + 14;
    if (lx > box.x + 4 && lx + w > box.x + box.w) {
      lx = box.x + 4;
      ly += 16;
    }
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 2.5;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    ctx.moveTo(lx, ly - 4);
    ctx.lineTo(lx + 18, ly - 4);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = INK;
    ctx.fillText(s.name, lx + 23, ly);
    lx += w;
  }
  const labels = o.yTicks.map(o.yLabel);
  const left = box.x + 8 + Math.max(...labels.map((l) => ctx.measureText(l).width));
  // Room on the right for half the last step label, which is centred on the plot's right edge.
  const ticks = stepTicks(o.totalSteps, box.w - (left - box.x));
  const right = box.x + box.w - Math.max(10, ctx.measureText(String(ticks.at(-1) ?? '')).width / 2 + 4);
  const top = ly + 12, bottom = box.y + box.h - 36;
  const pw = right - left, ph = bottom - top;
  const margin = 0.04 * o.yMax;
  const xOf = (s: number) => left + (pw * s) / Math.max(1, o.totalSteps);
  const yOf = (v: number) => bottom - (ph * (Math.min(o.yMax + margin, Math.max(-margin, v)) + margin)) / (o.yMax + 2 * margin);
  ctx.lineWidth = 1;
  ctx.fillStyle = MUTED;
  o.yTicks.forEach((v, k) => {
    const y = Math.round(yOf(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(right, y);
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText(labels[k]!, left - 5, y + 4);
  });
  ctx.textAlign = 'center';
  for (const s of ticks) {
    const x = Math.round(xOf(s)) + 0.5;
    ctx.strokeStyle = AXIS;
    ctx.beginPath();
    ctx.moveTo(x, bottom);
    ctx.lineTo(x, bottom + 4);
    ctx.stroke();
    ctx.fillText(String(s), x, bottom + 17);
  }
  ctx.fillText('step', left + pw / 2, box.y + box.h - 4);
  ctx.strokeStyle = AXIS;
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top);
  ctx.lineTo(left + 0.5, bottom + 0.5);
  ctx.lineTo(right, bottom + 0.5);
  ctx.stroke();
  if (o.stoppedAt !== undefined) {
    const x = Math.round(xOf(o.stoppedAt)) + 0.5;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.textAlign = x > left + pw / 2 ? 'right' : 'left';
    ctx.fillStyle = '#8a4b00';
    ctx.fillText('stopped', x + (x > left + pw / 2 ? -4 : 4), top + 12);
  }
  for (const s of o.series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.colour;
    ctx.fillStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    s.points.forEach((p, i) => (i ? ctx.lineTo(xOf(p.step), yOf(p.value)) : ctx.moveTo(xOf(p.step), yOf(p.value))));
    ctx.stroke();
    ctx.setLineDash([]);
    for (const p of s.points.length < 40 ? s.points : s.points.slice(-1)) {
      ctx.beginPath();
      ctx.arc(xOf(p.step), yOf(p.value), 2.6, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/**
 * The training loss and the validation accuracies in two panels: side by side on a wide screen,
 * one above the other on a narrow one. The canvas is sized to the width it is shown at (times
 * the device's pixel ratio), so text stays readable instead of being scaled down with the picture.
 */
export function drawCurves(canvas: HTMLCanvasElement, c: Curves): void {
  // The width CSS gives the canvas (100% of its box, less its border), whatever its pixel size.
  const cssW = Math.max(260, Math.floor(canvas.clientWidth || canvas.parentElement?.clientWidth || 720));
  const stacked = cssW < 560;
  const panelH = stacked ? 200 : 250;
  const cssH = stacked ? 2 * panelH + 10 : panelH;
  const dpr = Math.min(3, Math.max(1, globalThis.devicePixelRatio || 1));
  if (canvas.width !== Math.round(cssW * dpr)) canvas.width = Math.round(cssW * dpr);
  if (canvas.height !== Math.round(cssH * dpr)) canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, cssW, cssH);
  const finite = c.loss.map((p) => p.value).filter(Number.isFinite);
  const top = finite.length ? Math.max(1e-3, ...finite) : 1;
  const rough = data.niceTicks(0, top, 4);
  const step = rough.length > 1 ? rough[1]! - rough[0]! : top;
  const lossMax = Math.ceil(top / step - 1e-9) * step;
  const lossTicks = Array.from({ length: Math.round(lossMax / step) + 1 }, (_, i) => i * step);
  const digits = Math.max(0, Math.min(4, -Math.floor(Math.log10(step) + 1e-9)));
  const half = stacked ? cssW : cssW / 2;
  panel(ctx, { x: 0, y: 0, w: half, h: panelH }, {
    title: 'Training loss', totalSteps: c.totalSteps, yMax: lossMax, yTicks: lossTicks, yLabel: (v) => v.toFixed(digits), stoppedAt: c.stoppedAt,
    series: [{ name: 'each step', points: c.loss, colour: '#1f6feb' }],
  });
  panel(ctx, stacked ? { x: 0, y: panelH + 10, w: cssW, h: panelH } : { x: half, y: 0, w: half, h: panelH }, {
    title: 'Validation accuracy', totalSteps: c.totalSteps, yMax: 1, yTicks: [0, 0.25, 0.5, 0.75, 1], yLabel: (v) => `${Math.round(100 * v)}%`, stoppedAt: c.stoppedAt,
    series: [{ name: 'average', points: c.acc, colour: '#e36209' }, { name: 'worst group', points: c.worst, colour: '#b42318', dash: [6, 4] }],
  });
}
