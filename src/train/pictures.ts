// The pictures a run leaves behind: test-samples.png (for test images of every group, the image,
// the stage-1 part maps, the hard mask over the image (iFAM) or the relevance heat map
// (baseline/robustvit), the ground truth, with wrong predictions marked and a colour scale for
// every kind of map) and curves.png (the loss per step and per epoch, and the validation
// accuracies on a fixed 0–100% axis, in separate panels). Both are figures (src/io/figure.ts):
// SVG rendered by sharp with real text, or the bitmap font without sharp.
import { blankImage, chwToImage, heatmapRGB, maskOverlay, niceTicks, overlay, viridis, type RGB } from '../io/plot.js';
import type { RasterImage } from '../io/png.js';
import { saveFigure, type FigureBackend, type Painter } from '../io/figure.js';
import type { ImageDataset } from '../data/dataset.js';
import { upsamplePatchMask, type SampleOutputs } from '../vit/evaluate.js';

/** Foreground parts, as the demo page colours them (Okabe–Ito, distinguishable with colour-blindness). */
export const PART_COLOURS: readonly RGB[] = [
  [230, 159, 0], [0, 114, 178], [0, 158, 115], [204, 121, 167], [213, 94, 0], [86, 180, 233], [240, 228, 66], [120, 60, 160],
];
export const BACKGROUND_PART: RGB = [150, 150, 150];
/** What the hard mask lays over the patches stage 2 never sees. */
const HIDDEN: RGB = [20, 20, 20];

const INK: RGB = [29, 35, 42], MUTED: RGB = [91, 101, 112], GRID: RGB = [226, 229, 233], AXIS: RGB = [120, 126, 134];
const RIGHT: RGB = [23, 110, 58], WRONG: RGB = [200, 30, 30];

function partColour(k: number, K1: number): RGB {
  return k === K1 - 1 ? BACKGROUND_PART : PART_COLOURS[k % PART_COLOURS.length]!;
}

/** Colours each pixel by its most likely part (background grey), blended over the image. */
export function partMapImage(image: RasterImage, parts: Float32Array, K1: number): RasterImage {
  const g = Math.round(Math.sqrt(parts.length / K1));
  const S = image.width;
  const out = blankImage(S, image.height);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const cell = Math.floor((y * g) / S) * g + Math.floor((x * g) / S);
    let best = 0;
    for (let k = 1; k < K1; k++) if (parts[k * g * g + cell]! > parts[best * g * g + cell]!) best = k;
    const c = partColour(best, K1);
    const o = (y * S + x) * out.channels, o2 = (y * S + x) * image.channels;
    for (let ch = 0; ch < 3; ch++) out.data[o + ch] = Math.round(0.45 * image.data[o2 + ch]! + 0.55 * c[ch]!);
  }
  return out;
}

/** Greedy word wrap to lines that `p` draws at most `maxWidth` wide (a longer word gets its own line). */
export function wrapToWidth(p: Painter, text: string, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && p.textWidth(next, size) > maxWidth) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

// ------------------------------------------------------------------ test-samples.png

interface Column {
  title: string;
  tile(s: SampleOutputs, img: RasterImage, S: number): RasterImage;
  caption?(s: SampleOutputs): { text: string; colour?: RGB }[];
}

const CAPTION = 11, CAPTION_LINE = 14, PAD = 14, GAP = 12;

function columnsFor(sample: SampleOutputs, ds: ImageDataset): Column[] {
  const cols: Column[] = [{
    title: 'test image',
    tile: (_s, img) => img,
    caption: (s) => {
      const group = ds.groupNames[s.label * ds.numPlaces + s.place] ?? `y=${s.label} place=${s.place}`;
      const pred = `${ds.classNames[s.pred] ?? s.pred} ${(100 * s.probs[s.pred]!).toFixed(0)}%`;
      return [{ text: group }, s.pred === s.label ? { text: `✓ ${pred}`, colour: RIGHT } : { text: `✗ ${pred} (wrong)`, colour: WRONG }];
    },
  }];
  if (sample.parts) {
    cols.push({ title: 'stage-1 parts', tile: (s, img) => partMapImage(img, s.parts!, Math.round(s.parts!.length / (s.mask?.length ?? 1))) });
  }
  if (sample.mask) {
    cols.push({
      title: 'hard mask',
      tile: (s, img, S) => {
        const g = Math.round(Math.sqrt(s.mask!.length));
        return maskOverlay(img, upsamplePatchMask(s.mask!.map((v) => 1 - v), g, S), HIDDEN, 0.75);
      },
      caption: (s) => {
        const kept = s.mask!.reduce((a, b) => a + b, 0);
        return [kept ? { text: `${kept} of ${s.mask!.length} patches kept` } : { text: 'no patch kept: stage 2 saw nothing', colour: WRONG }];
      },
    });
  }
  if (sample.relevance) cols.push({ title: 'relevance map', tile: (s, img) => overlay(img, s.relevance!, 0.6) });
  if (sample.gtMask) cols.push({ title: 'ground truth', tile: (s, _img, S) => heatmapRGB(s.gtMask!, S, S, { min: 0, max: 1 }) });
  return cols;
}

/** The keys under the grid: one per kind of map, as colour swatches or a colour bar. */
type Key = { label: string; swatches: { colour: RGB; name: string }[] } | { label: string; bar: { low: string; high: string } };

function keysFor(sample: SampleOutputs): Key[] {
  const keys: Key[] = [];
  if (sample.parts) {
    const K1 = Math.round(sample.parts.length / (sample.mask?.length ?? 1));
    keys.push({ label: 'stage-1 parts:', swatches: Array.from({ length: K1 }, (_, k) => ({ colour: partColour(k, K1), name: k === K1 - 1 ? 'background' : `part ${k + 1}` })) });
  }
  if (sample.mask) keys.push({ label: 'hard mask:', swatches: [{ colour: HIDDEN, name: 'patch hidden from stage 2' }] });
  if (sample.relevance) keys.push({ label: 'relevance, scaled per image:', bar: { low: 'low', high: 'high' } });
  if (sample.gtMask) keys.push({ label: 'ground truth:', swatches: [{ colour: viridis(1), name: 'object' }, { colour: viridis(0), name: 'background' }] });
  return keys;
}

/** Lays the keys out left to right, wrapping at `width` (a key moves to a new line whole); draws them when `draw`; returns the height. */
function layoutKeys(p: Painter, keys: readonly Key[], x0: number, y0: number, width: number, draw: boolean): number {
  const sw = 12, line = 22, barW = 120;
  let x = x0, y = y0;
  const newLineFor = (w: number) => {
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += line;
    }
  };
  for (const key of keys) {
    const labelW = p.textWidth(key.label, CAPTION, true) + 6;
    const items = 'bar' in key
      ? [p.textWidth(key.bar.low, CAPTION) + 4 + barW + 4 + p.textWidth(key.bar.high, CAPTION)]
      : key.swatches.map((s) => sw + 4 + p.textWidth(s.name, CAPTION));
    newLineFor(labelW + items.reduce((a, b) => a + b + 12, 0));
    newLineFor(labelW + items[0]!); // a key wider than the line still keeps its label with its first item
    if (draw) p.text(x, y + 10, key.label, { size: CAPTION, bold: true });
    x += labelW;
    if ('bar' in key) {
      if (draw) {
        const lowW = p.textWidth(key.bar.low, CAPTION) + 4;
        p.text(x, y + 10, key.bar.low, { size: CAPTION, colour: MUTED });
        const bar = blankImage(barW, sw);
        for (let i = 0; i < barW; i++) for (let r = 0; r < sw; r++) bar.data.set(viridis(i / (barW - 1)), (r * barW + i) * 3);
        p.image(bar, x + lowW, y);
        p.frame(x + lowW - 1, y - 1, barW + 2, sw + 2, AXIS); // around the bar, so both its ends show
        p.text(x + lowW + barW + 4, y + 10, key.bar.high, { size: CAPTION, colour: MUTED });
      }
      x += items[0]! + 12;
    } else {
      key.swatches.forEach((s, k) => {
        if (k > 0) newLineFor(items[k]!);
        if (draw) {
          p.rect(x, y, sw, sw, s.colour);
          p.frame(x, y, sw, sw, AXIS);
          p.text(x + sw + 4, y + 10, s.name, { size: CAPTION });
        }
        x += items[k]! + 12;
      });
    }
    x += 10;
  }
  return y - y0 + line;
}

/** The sample sheet: a column per kind of picture, a row per test image, the keys underneath. */
export async function saveSamplePicture(path: string, samples: readonly SampleOutputs[], ds: ImageDataset, title: string, opts: { backend?: FigureBackend } = {}): Promise<FigureBackend | null> {
  if (samples.length === 0) return null;
  const S = Math.round(Math.sqrt(samples[0]!.image.length / 3));
  const zoom = Math.max(1, Math.round(128 / S));
  const tile = S * zoom;
  const cols = columnsFor(samples[0]!, ds);
  const keys = keysFor(samples[0]!);
  const width = Math.max(PAD * 2 + cols.length * tile + (cols.length - 1) * GAP, 420);
  const titleH = 30, headH = 22;
  const layout = (p: Painter, draw: boolean): number => {
    let y = PAD + titleH;
    if (draw) p.text(PAD, PAD + 16, title, { size: 15, bold: true });
    cols.forEach((c, k) => draw && p.text(PAD + k * (tile + GAP) + tile / 2, y + 13, c.title, { size: 12, bold: true, anchor: 'middle', colour: MUTED }));
    y += headH;
    for (const s of samples) {
      const img = chwToImage(s.image, S, S);
      let lines = 0;
      cols.forEach((c, k) => {
        const x = PAD + k * (tile + GAP);
        if (draw) p.image(c.tile(s, img, S), x, y, zoom);
        let ly = y + tile;
        for (const cap of c.caption?.(s) ?? []) {
          for (const l of wrapToWidth(p, cap.text, CAPTION, tile)) {
            ly += CAPTION_LINE;
            if (draw) p.text(x, ly - 3, l, { size: CAPTION, colour: cap.colour ?? INK });
          }
        }
        lines = Math.max(lines, (ly - y - tile) / CAPTION_LINE);
      });
      // A wrong prediction gets a red frame around its test image, visible at a glance.
      if (draw && s.pred !== s.label) p.frame(PAD - 3, y - 3, tile + 6, tile + 6, WRONG, 3);
      y += tile + lines * CAPTION_LINE + GAP + 4;
    }
    y += layoutKeys(p, keys, PAD, y, width - 2 * PAD, draw);
    return y + PAD;
  };
  // The height depends on how captions wrap, which differs between SVG text and the bitmap font.
  return saveFigure(path, width, (measure) => layout(measure, false), (p) => { layout(p, true); }, opts);
}

// ------------------------------------------------------------------ curves.png

export interface CurvePoint {
  epoch: number;
  train_loss: number;
  val_avg_acc: number;
  val_worst_group_acc: number;
  phase?: string;
}

interface PanelSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  colour: RGB;
  width?: number;
  dash?: readonly number[];
  opacity?: number;
  dots?: boolean;
}

interface Box { x: number; y: number; w: number; h: number }

/** Integer epoch ticks: every epoch up to 12, then round steps. */
export function epochTicks(epochs: number): number[] {
  if (epochs <= 12) return Array.from({ length: epochs + 1 }, (_, i) => i);
  return niceTicks(0, epochs, 6).filter((v) => Number.isInteger(v));
}

/**
 * One chart panel: title, legend, plot with grid, integer epoch ticks. The y range is padded by
 * 4% of its span on both sides, so a curve along its bottom or top (0% or 100% accuracy, a loss
 * near 0) runs clear of the frame.
 */
function panel(p: Painter, box: Box, o: { title: string; series: readonly PanelSeries[]; epochs: number; yMax: number; yTicks: readonly number[]; yLabel: (v: number) => string; boundaries: readonly { x: number; label: string }[] }): void {
  const size = 11;
  p.text(box.x, box.y + 14, o.title, { size: 13, bold: true });
  // Legend under the title, wrapping.
  let lx = box.x, ly = box.y + 32;
  for (const s of o.series) {
    const w = 22 + p.textWidth(s.name, size) + 16;
    if (lx > box.x && lx + w > box.x + box.w) {
      lx = box.x;
      ly += 16;
    }
    p.polyline([[lx, ly - 4], [lx + 18, ly - 4]], s.colour, { width: Math.max(2, s.width ?? 2), dash: s.dash });
    if (s.dots) p.dot(lx + 9, ly - 4, 3, s.colour);
    p.text(lx + 22, ly, s.name, { size });
    lx += w;
  }
  const labels = o.yTicks.map(o.yLabel);
  const left = box.x + Math.max(...labels.map((l) => p.textWidth(l, size))) + 10;
  const top = ly + 12, bottom = box.y + box.h - 34, right = box.x + box.w - 6;
  const pw = right - left, ph = bottom - top;
  const margin = 0.04 * o.yMax;
  const xOf = (x: number) => left + (pw * x) / Math.max(1e-9, o.epochs);
  const yOf = (y: number) => bottom - (ph * (Math.min(o.yMax + margin, Math.max(-margin, y)) + margin)) / (o.yMax + 2 * margin);
  o.yTicks.forEach((v, k) => {
    const y = Math.round(yOf(v)) + 0.5;
    p.polyline([[left, y], [right, y]], GRID, { width: 1 });
    p.text(left - 6, y + 4, labels[k]!, { size, anchor: 'end', colour: MUTED });
  });
  for (const e of epochTicks(o.epochs)) {
    const x = Math.round(xOf(e)) + 0.5;
    p.polyline([[x, bottom], [x, bottom + 4]], AXIS, { width: 1 });
    p.text(x, bottom + 17, String(e), { size, anchor: 'middle', colour: MUTED });
  }
  p.text(left + pw / 2, box.y + box.h - 2, 'epoch', { size, anchor: 'middle', colour: MUTED });
  p.polyline([[left + 0.5, top], [left + 0.5, bottom + 0.5], [right, bottom + 0.5]], AXIS, { width: 1 });
  for (const b of o.boundaries) {
    const x = Math.round(xOf(b.x)) + 0.5;
    p.polyline([[x, top], [x, bottom]], AXIS, { width: 1, dash: [4, 3] });
    p.text(x + 4, top + 12, b.label, { size: 10, colour: MUTED });
  }
  for (const s of o.series) {
    // Non-finite values leave a gap.
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length > 1) p.polyline(run, s.colour, { width: s.width ?? 2, dash: s.dash, opacity: s.opacity });
      run = [];
    };
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) { flush(); continue; }
      run.push([xOf(x), yOf(y)]);
    }
    flush();
    if (s.dots) for (const [x, y] of s.points) if (Number.isFinite(y)) p.dot(xOf(x), yOf(y), 3.2, s.colour);
  }
}

const LOSS_STEP: RGB = [120, 160, 220], LOSS_EPOCH: RGB = [31, 90, 190], ACC: RGB = [227, 98, 9], WORST: RGB = [180, 35, 24];

/**
 * curves.png: left, the training loss of every step (from log.jsonl) and the mean of each epoch;
 * right, validation accuracy and worst-group accuracy per epoch on a fixed 0–100% axis. Epochs
 * of different phases (robustvit's baseline, then relevance fine-tuning) are separated by a line.
 */
export async function saveCurves(path: string, history: readonly CurvePoint[], opts: { title: string; steps?: readonly { step: number; loss: number }[]; stepsPerEpoch?: number; backend?: FigureBackend }): Promise<FigureBackend | null> {
  if (history.length === 0) return null;
  const epochs = history.length;
  const perEpoch = opts.stepsPerEpoch ?? 0;
  const steps = perEpoch > 0 ? (opts.steps ?? []).filter((s) => s.step <= epochs * perEpoch) : [];
  const stepPoints = steps.map((s) => [s.step / perEpoch, s.loss] as const);
  const epochPoints = history.map((h) => [h.epoch, h.train_loss] as const);
  const finite = [...stepPoints, ...epochPoints].map(([, v]) => v).filter(Number.isFinite);
  // From 0 to the first round tick at or above the largest loss, so the top gridline is labelled.
  const top = Math.max(1e-3, ...finite);
  const roughTicks = niceTicks(0, top, 5);
  const tickStep = roughTicks.length > 1 ? roughTicks[1]! - roughTicks[0]! : top;
  const lossMax = Math.ceil(top / tickStep - 1e-9) * tickStep;
  const lossTicks = Array.from({ length: Math.round(lossMax / tickStep) + 1 }, (_, i) => i * tickStep);
  const boundaries: { x: number; label: string }[] = [];
  for (let i = 1; i < history.length; i++) {
    if (history[i]!.phase && history[i]!.phase !== history[i - 1]!.phase) boundaries.push({ x: i, label: `${history[i]!.phase} phase` });
  }
  const W = 960, H = 380, pad = 16;
  const digits = Math.max(0, Math.min(4, -Math.floor(Math.log10(tickStep) + 1e-9)));
  return saveFigure(path, W, H, (p) => {
    p.text(pad, 24, opts.title, { size: 15, bold: true });
    const half = (W - 3 * pad) / 2;
    panel(p, { x: pad, y: 40, w: half, h: H - 40 - pad }, {
      title: 'Training loss', epochs, yMax: lossMax, yTicks: lossTicks, yLabel: (v) => v.toFixed(digits), boundaries,
      series: [
        ...(stepPoints.length ? [{ name: 'each step', points: stepPoints, colour: LOSS_STEP, width: 1, opacity: 0.7 }] : []),
        { name: 'mean of each epoch', points: epochPoints, colour: LOSS_EPOCH, width: 2.2, dots: true },
      ],
    });
    panel(p, { x: 2 * pad + half, y: 40, w: half, h: H - 40 - pad }, {
      title: 'Validation accuracy', epochs, yMax: 1, yTicks: [0, 0.25, 0.5, 0.75, 1], yLabel: (v) => `${Math.round(100 * v)}%`, boundaries,
      series: [
        { name: 'average', points: history.map((h) => [h.epoch, h.val_avg_acc] as const), colour: ACC, width: 2.2, dots: true },
        { name: 'worst group', points: history.map((h) => [h.epoch, h.val_worst_group_acc] as const), colour: WORST, width: 2.2, dash: [7, 4], dots: true },
      ],
    });
  }, { backend: opts.backend });
}
