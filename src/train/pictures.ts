// The pictures a run leaves behind: for test images of every group, the image, the stage-1 part
// maps, the hard mask over the image (iFAM) or the relevance heatmap (baseline/robustvit); and the
// loss/accuracy curves.
import { blankImage, chwToImage, heatmapRGB, maskOverlay, overlay, saveLineChart, scaleImage, tileGrid, type RGB, type Tile } from '../io/plot.js';
import { savePNG, type RasterImage } from '../io/png.js';
import type { ImageDataset } from '../data/dataset.js';
import type { SampleOutputs } from './evaluate.js';
import { upsamplePatchMask } from './evaluate.js';

const PART_COLOURS: RGB[] = [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230]];
const BACKGROUND: RGB = [90, 90, 90];

/** Colours each pixel by its most likely part (background grey), blended over the image. */
export function partMapImage(image: RasterImage, parts: Float32Array, K1: number): RasterImage {
  const g = Math.round(Math.sqrt(parts.length / K1));
  const S = image.width;
  const out = blankImage(S, image.height);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const cell = Math.floor((y * g) / S) * g + Math.floor((x * g) / S);
    let best = 0;
    for (let k = 1; k < K1; k++) if (parts[k * g * g + cell]! > parts[best * g * g + cell]!) best = k;
    const c = best === K1 - 1 ? BACKGROUND : PART_COLOURS[best % PART_COLOURS.length]!;
    const o = (y * S + x) * out.channels, o2 = (y * S + x) * image.channels;
    for (let ch = 0; ch < 3; ch++) out.data[o + ch] = Math.round(0.45 * image.data[o2 + ch]! + 0.55 * c[ch]!);
  }
  return out;
}

/** One row per sample: image, parts, mask overlay and/or relevance heatmap, ground truth. */
export function samplePanel(samples: readonly SampleOutputs[], ds: ImageDataset, title: string, zoom: number): RasterImage {
  const tiles: Tile[] = [];
  let columns = 0;
  for (const s of samples) {
    const S = Math.round(Math.sqrt(s.image.length / 3));
    const img = chwToImage(s.image, S, S);
    const row: Tile[] = [];
    const right = s.pred === s.label;
    const groupName = ds.groupNames[s.label * ds.numPlaces + s.place] ?? `y=${s.label} place=${s.place}`;
    row.push({ image: scaleImage(img, zoom), label: `${groupName}: pred ${ds.classNames[s.pred] ?? s.pred} (${(100 * s.probs[s.pred]!).toFixed(0)}%)`, labelColour: right ? [0, 120, 0] : [200, 0, 0] });
    if (s.parts) {
      const K1 = Math.round(s.parts.length / (s.mask?.length ?? 1));
      row.push({ image: scaleImage(partMapImage(img, s.parts, K1), zoom), label: 'stage-1 parts (grey = background)' });
    }
    if (s.mask) {
      const g = Math.round(Math.sqrt(s.mask.length));
      const kept = s.mask.reduce((a, b) => a + b, 0);
      // Masked-out patches are tinted; the model's stage 2 cannot look at them.
      const dropped = upsamplePatchMask(s.mask.map((v) => 1 - v), g, S);
      row.push({ image: scaleImage(maskOverlay(img, dropped, [20, 20, 20], 0.75), zoom), label: `hard mask: ${kept}/${s.mask.length} patches kept` });
    }
    if (s.relevance) row.push({ image: scaleImage(overlay(img, s.relevance, 0.6), zoom), label: 'relevance map' });
    if (s.gtMask) row.push({ image: scaleImage(heatmapRGB(s.gtMask, S, S, { min: 0, max: 1 }), zoom), label: 'ground-truth object' });
    columns = row.length;
    tiles.push(...row);
  }
  return tileGrid(tiles, { columns, title });
}

export async function saveSamplePicture(path: string, samples: readonly SampleOutputs[], ds: ImageDataset, title: string): Promise<void> {
  if (samples.length === 0) return;
  const S = Math.round(Math.sqrt(samples[0]!.image.length / 3));
  await savePNG(path, samplePanel(samples, ds, title, Math.max(1, Math.round(128 / S))));
}

export interface CurvePoint {
  epoch: number;
  train_loss: number;
  val_avg_acc: number;
  val_worst_group_acc: number;
}

export async function saveCurves(path: string, history: readonly CurvePoint[], title: string): Promise<void> {
  if (history.length === 0) return;
  const x = history.map((h) => h.epoch);
  await saveLineChart(path, [
    { name: 'train loss', values: history.map((h) => h.train_loss), x },
    { name: 'val accuracy', values: history.map((h) => h.val_avg_acc), x },
    { name: 'val worst-group accuracy', values: history.map((h) => h.val_worst_group_acc), x },
  ], { title, xLabel: 'epoch', width: 640, height: 360 });
}
