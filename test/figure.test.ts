// Figures (src/io/figure.ts) and the pictures a run leaves (src/train/pictures.ts): SVG rendered
// by sharp with real text, the bitmap-font fallback, curves.png's panels (lines at 0% and 100%
// clear of the frame, integer epoch ticks), and test-samples.png's marks for wrong predictions
// and its colour keys. Pixel checks use the raster backend, whose colours are exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveFigure, sharpForFigures, SvgPainter, RasterPainter } from '../src/io/figure.js';
import { decodePNG, loadPNG, savePNG, type RasterImage } from '../src/io/png.js';
import { viridis } from '../src/io/plot.js';
import { epochTicks, saveCurves, saveSamplePicture, wrapToWidth, type CurvePoint } from '../src/train/pictures.js';
import type { SampleOutputs } from '../src/train/evaluate.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { rng } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'webfam-figure-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function count(img: RasterImage, rgb: readonly number[], where: (x: number, y: number) => boolean = () => true): number {
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * img.channels;
      if (img.data[o] === rgb[0] && img.data[o + 1] === rgb[1] && img.data[o + 2] === rgb[2] && where(x, y)) n++;
    }
  }
  return n;
}

/** Rows (top to bottom) holding at least `min` pixels of the colour. */
function rowsWith(img: RasterImage, rgb: readonly number[], min = 1): number[] {
  const rows: number[] = [];
  for (let y = 0; y < img.height; y++) if (count({ ...img, height: 1, data: img.data.subarray(y * img.width * img.channels, (y + 1) * img.width * img.channels) }, rgb) >= min) rows.push(y);
  return rows;
}

test('sharp renders a figure\'s SVG with real text; the bitmap fallback draws the same figure at the same size', async () => {
  assert.ok(await sharpForFigures(), 'sharp is installed here and finds a font');
  const draw = (p: import('../src/io/figure.js').Painter) => {
    p.rect(10, 10, 30, 20, [200, 0, 0]);
    p.text(50, 28, 'Validation accuracy 100%', { size: 16, colour: [0, 0, 0] });
  };
  assert.is(await saveFigure(join(dir, 'svg.png'), 260, 40, draw), 'svg');
  assert.is(await saveFigure(join(dir, 'raster.png'), 260, 40, draw, { backend: 'raster' }), 'raster');
  for (const f of ['svg.png', 'raster.png']) {
    const img = await loadPNG(join(dir, f));
    assert.equal([img.width, img.height], [260, 40], f);
    assert.ok(count(img, [200, 0, 0]) >= 500, `${f}: the rectangle`);
    // Text: dark pixels right of the rectangle, none above or below the line.
    let ink = 0;
    for (let y = 0; y < 40; y++) for (let x = 45; x < 260; x++) if (img.data[(y * 260 + x) * img.channels]! < 100) {
      ink++;
      assert.ok(y >= 8 && y <= 34, `${f}: ink at row ${y}`);
    }
    assert.ok(ink > 150, `${f}: ${ink} text pixels`);
  }
  assert.equal(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'written atomically');
});

test('SVG text is escaped, and measured so that labels fit', () => {
  const p = new SvgPainter(100, 20);
  p.text(0, 10, 'a < b & "c"');
  assert.match(p.svg(), /a &lt; b &amp; &quot;c&quot;/);
  const r = new RasterPainter(100, 20);
  assert.is(r.textWidth('abc'), 17, 'the bitmap font: 6 px a character, less the last gap');
  assert.ok(p.textWidth('Validation accuracy', 12) > 100 && p.textWidth('Validation accuracy', 12) < 140);
  assert.equal(wrapToWidth(r, 'sneaker on water was wrong', 11, 60), ['sneaker on', 'water was', 'wrong']);
});

test('epoch ticks are whole epochs', () => {
  assert.equal(epochTicks(1), [0, 1]);
  assert.equal(epochTicks(3), [0, 1, 2, 3]);
  const many = epochTicks(40);
  assert.ok(many.every(Number.isInteger) && many[0] === 0 && many.at(-1)! <= 40 && many.length >= 4 && many.length <= 9, `${many}`);
});

const ACC = [227, 98, 9], WORST = [180, 35, 24], AXIS = [120, 126, 134];

test('curves.png: loss and accuracy in separate panels; accuracy at 0% and 100% drawn clear of the frame', async () => {
  const history: CurvePoint[] = [1, 2, 3].map((e) => ({ epoch: e, phase: 'train', train_loss: 1 / e, val_avg_acc: 1, val_worst_group_acc: 0 }));
  const steps = Array.from({ length: 30 }, (_, i) => ({ step: i + 1, loss: 1.2 - i / 40 }));
  assert.is(await saveCurves(join(dir, 'curves.png'), history, { title: 'test run', steps, stepsPerEpoch: 10, backend: 'raster' }), 'raster');
  const img = await loadPNG(join(dir, 'curves.png'));
  assert.equal([img.width, img.height], [960, 380]);
  // The accuracy panel is the right half: both series are there and nowhere in the loss panel.
  const right = (x: number) => x > img.width / 2;
  assert.ok(count(img, ACC, (x) => right(x)) > 200 && count(img, ACC, (x) => !right(x)) < 40, 'average accuracy in the right panel (the legend aside)');
  assert.ok(count(img, WORST, (x) => right(x)) > 200);
  // The x axis is the lowest long run of axis colour; 0% runs above it, 100% below the top gridline's label row.
  const axisRow = rowsWith(img, AXIS, 300).at(-1)!;
  const worstRows = rowsWith(img, WORST, 100);
  assert.ok(worstRows.length > 0 && worstRows.at(-1)! < axisRow - 3, `0% line (rows ${worstRows}) is above the axis (row ${axisRow})`);
  const accRows = rowsWith(img, ACC, 100);
  assert.ok(accRows.length > 0 && accRows[0]! > 70, `100% line at rows ${accRows} is inside the plot`);
  assert.ok(worstRows.at(-1)! - accRows[0]! > 200, 'a tall accuracy axis');
  assert.is(await saveCurves(join(dir, 'none.png'), [], { title: 'x' }), null, 'no epoch yet, no picture');
});

const groups = ['cat on land', 'cat on water', 'dog on land', 'dog on water'];
const fakeDataset = { groupNames: groups, classNames: ['cat', 'dog'], numPlaces: 2 } as unknown as ImageDataset;

function fakeSample(r: () => number, label: number, pred: number, kind: 'ifam' | 'relevance', keepNone = false): SampleOutputs {
  const S = 16, g = 4;
  const gt = Float32Array.from({ length: S * S }, (_, i) => ((i % S) > 4 && (i % S) < 11 ? 1 : 0));
  return {
    index: 0, image: Float32Array.from({ length: 3 * S * S }, () => r()), label, place: 0, pred, probs: pred ? [0.2, 0.8] : [0.8, 0.2], gtMask: kind === 'ifam' ? gt : null,
    ...(kind === 'ifam'
      ? { mask: Float32Array.from({ length: g * g }, (_, i) => (keepNone ? 0 : i % 3 === 0 ? 1 : 0)), parts: Float32Array.from({ length: 4 * g * g }, () => r()) }
      : { relevance: Float32Array.from({ length: S * S }, () => r()) }),
  };
}

test('test-samples.png: a wrong prediction is framed in red; maps come with colour keys', async () => {
  const r = rng(5);
  const right = [0, 1].map((y) => fakeSample(r, y, y, 'ifam'));
  const wrong = [fakeSample(r, 0, 1, 'ifam'), right[1]!];
  await saveSamplePicture(join(dir, 'right.png'), right, fakeDataset, 'all right', { backend: 'raster' });
  await saveSamplePicture(join(dir, 'wrong.png'), wrong, fakeDataset, 'one wrong', { backend: 'raster' });
  const a = await loadPNG(join(dir, 'right.png')), b = await loadPNG(join(dir, 'wrong.png'));
  const RED = [200, 30, 30];
  // A 3-pixel frame around a 128-pixel tile: over 4 · 3 · 128 red pixels more than the right picture's.
  assert.ok(count(b, RED) - count(a, RED) > 4 * 3 * 128, `${count(b, RED)} red pixels with a wrong prediction, ${count(a, RED)} without`);
  // Keys: every part colour and the background grey appear as swatches, the ground truth's two colours too.
  for (const c of [[230, 159, 0], [0, 114, 178], [0, 158, 115], [150, 150, 150], viridis(1), viridis(0)]) assert.ok(count(a, c) >= 100, `key colour ${c}`);

  // A relevance map gets a viridis colour bar: its ends appear though no tile holds pure viridis.
  await saveSamplePicture(join(dir, 'relevance.png'), [fakeSample(r, 0, 0, 'relevance')], fakeDataset, 'relevance', { backend: 'raster' });
  const rel = await loadPNG(join(dir, 'relevance.png'));
  for (const t of [0, 1]) assert.ok(count(rel, viridis(t)) >= 10, `colour bar end ${t}`);

  // Both renderings fit their captions: the SVG one is as wide, and no taller than the bitmap one by much.
  await saveSamplePicture(join(dir, 'svg.png'), wrong, fakeDataset, 'one wrong');
  const svg = decodePNG(readFileSync(join(dir, 'svg.png')));
  assert.is(svg.width, b.width);
  assert.ok(Math.abs(svg.height - b.height) < 60, `${svg.height} vs ${b.height}`);
});

test('savePNG (sharp when installed) round-trips gray, gray+alpha, RGB and RGBA', async () => {
  const r = rng(9);
  for (const channels of [1, 2, 3, 4] as const) {
    const img = { width: 13, height: 7, channels, data: Uint8Array.from({ length: 13 * 7 * channels }, () => Math.floor(r() * 256)) };
    await savePNG(join(dir, `c${channels}.png`), img);
    const back = await loadPNG(join(dir, `c${channels}.png`));
    assert.equal([back.width, back.height, back.channels], [13, 7, channels]);
    assert.equal(back.data, img.data, `${channels} channels`);
  }
});

test.run();
