// The data layer: the synthetic benchmark (determinism, group proportions, masks that match the
// objects, shapes that differ), CSV parsing, augmentation, the prefetching loader, and
// Waterbirds-layout folders built from real JPEG/PNG files, including every kind of bad data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  syntheticDataset, renderScene, groupCounts, parseCsv, csvLine, augmentSample, augmentParams, flipHorizontal, cropResize,
  DataLoader, validateFolder, waterbirdsDataset, exportFolder, DataError, cropRect, resampleRegion, IMAGENET_NORMALIZATION,
  encodePNG, type ImageDataset, type Sample, type FolderReport,
} from '../src/data/index.js';

// ------------------------------------------------------------------ synthetic benchmark

test('synthetic: the i-th image depends only on (seed, split, i)', () => {
  const a = syntheticDataset({ split: 'train', size: 50, seed: 3 });
  const b = syntheticDataset({ split: 'train', size: 500, seed: 3, cache: false });
  for (const i of [49, 0, 17, 3]) {
    const sa = a.get(i), sb = b.get(i);
    assert.equal(sa.image, sb.image, `image ${i}`);
    assert.equal(sa.mask, sb.mask, `mask ${i}`);
    assert.equal([sa.label, sa.place], [sb.label, sb.place]);
  }
  assert.equal(a.get(5).image, a.get(5).image, 'cached and repeated access agree');
  assert.not.equal(syntheticDataset({ split: 'train', size: 50, seed: 4 }).get(5).image, a.get(5).image, 'another seed, another image');
  assert.not.equal(syntheticDataset({ split: 'test', size: 50, seed: 3 }).get(5).image, a.get(5).image, 'another split, another image');
});

test('synthetic: train agrees with the background 95% of the time, val and test groups are balanced', () => {
  const train = syntheticDataset({ split: 'train', seed: 1 });
  assert.is(train.length, 2000);
  const counts = groupCounts(train); // [square·land, square·water, triangle·land, triangle·water]
  assert.is(counts[0]! + counts[1]!, 1000, 'classes balanced');
  const agree = (counts[0]! + counts[3]!) / 2000;
  assert.ok(agree > 0.93 && agree < 0.97, `agreement ${agree}`);
  assert.ok(Math.min(...counts) >= 25, `every group present: ${counts}`);
  for (const split of ['val', 'test'] as const) {
    const ds = syntheticDataset({ split, seed: 1 });
    const n = ds.length;
    assert.equal(groupCounts(ds), [n / 4, n / 4, n / 4, n / 4], split);
  }
  assert.equal(train.groupNames, ['square on land', 'square on water', 'triangle on land', 'triangle on water']);
  const other = syntheticDataset({ split: 'train', size: 4000, agreement: 0.7, seed: 2 });
  const c = groupCounts(other);
  assert.ok(Math.abs((c[0]! + c[3]!) / 4000 - 0.7) < 0.03, `agreement option: ${c}`);
});

function backgroundOnly(ds: ReturnType<typeof syntheticDataset>, i: number): Float32Array {
  return renderScene(ds.scene(i), ds.imageSize, { object: false }).image;
}

test('synthetic: masks are the drawn object — inside the image, and the only pixels that differ from the background', () => {
  for (const S of [32, 64]) {
    const ds = syntheticDataset({ split: 'test', size: 40, imageSize: S, seed: 9 });
    const plane = S * S;
    for (let i = 0; i < ds.length; i++) {
      const s = ds.get(i);
      const bg = backgroundOnly(ds, i);
      const m = s.mask!;
      let area = 0;
      for (let k = 0; k < plane; k++) area += m[k]!;
      assert.ok(area / plane > 0.04 && area / plane < 0.2, `S=${S} sample ${i}: mask covers ${area / plane}`);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const k = y * S + x;
          const border = x === 0 || y === 0 || x === S - 1 || y === S - 1;
          if (border) assert.is(m[k], 0, `mask touches the border at (${x},${y})`);
          let diff = 0;
          for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs(s.image[c * plane + k]! - bg[c * plane + k]!));
          // Anti-aliasing stays within half a pixel of the shape, so within two pixels of the
          // mask (a thin tip may cover no pixel centre); the mask's interior is all object.
          let near = false, interior = m[k] === 1;
          for (let dy = -2; dy <= 2; dy++) {
            for (let dx = -2; dx <= 2; dx++) {
              const v = m[Math.min(S - 1, Math.max(0, y + dy)) * S + Math.min(S - 1, Math.max(0, x + dx))]!;
              if (v === 1) near = true;
              else if (Math.abs(dx) <= 1 && Math.abs(dy) <= 1) interior = false;
            }
          }
          if (!near) assert.is(diff, 0, `S=${S} sample ${i}: pixel (${x},${y}) changed outside the mask`);
          if (interior) assert.ok(diff > 1e-3, `S=${S} sample ${i}: pixel (${x},${y}) inside the mask shows the background`);
        }
      }
    }
  }
});

test('synthetic: the two classes differ by shape (fill ratio of the enclosing disc), not by colour', () => {
  const S = 64;
  const ds = syntheticDataset({ split: 'test', size: 200, imageSize: S, seed: 5 });
  let correct = 0;
  const meanColour = [[0, 0, 0], [0, 0, 0]];
  for (let i = 0; i < ds.length; i++) {
    const s = ds.get(i);
    let n = 0, cx = 0, cy = 0;
    for (let k = 0; k < S * S; k++) if (s.mask![k]) { n++; cx += k % S; cy += Math.floor(k / S); }
    cx /= n; cy /= n;
    let r2 = 0;
    for (let k = 0; k < S * S; k++) if (s.mask![k]) r2 = Math.max(r2, (k % S - cx) ** 2 + (Math.floor(k / S) - cy) ** 2);
    // Square: area / (π r²) ≈ 0.64; triangle ≈ 0.41 (r measured to pixel centres, hence + 0.5).
    const fill = n / (Math.PI * (Math.sqrt(r2) + 0.5) ** 2);
    if ((fill > 0.52 ? 0 : 1) === s.label) correct++;
    const sc = ds.scene(i).colour;
    for (let c = 0; c < 3; c++) meanColour[s.label]![c]! += sc[c]! / (ds.length / 2);
  }
  assert.ok(correct >= 196, `shape statistic separates the classes in ${correct}/200 images`);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(meanColour[0]![c]! - meanColour[1]![c]!) < 0.12, `mean object colour per class: ${meanColour}`);
});

test('synthetic: the background is an easy cue (mean border colour tells water from land)', () => {
  const S = 32;
  const ds = syntheticDataset({ split: 'test', size: 200, imageSize: S, seed: 6 });
  let correct = 0;
  for (let i = 0; i < ds.length; i++) {
    const s = ds.get(i);
    let blue = 0, green = 0;
    for (let k = 0; k < S; k++) { blue += s.image[2 * S * S + k]!; green += s.image[S * S + k]!; }
    if ((blue > green ? 1 : 0) === s.place) correct++;
  }
  assert.is(correct, 200);
});

test('synthetic: values in [0,1], batch assembly and normalisation', () => {
  const ds = syntheticDataset({ split: 'val', size: 10, imageSize: 24, seed: 2 });
  const b = ds.batch([3, 1, 4]);
  assert.is(b.images.length, 3 * 3 * 24 * 24);
  assert.is(b.masks!.length, 3 * 24 * 24);
  assert.equal(Array.from(b.indices), [3, 1, 4]);
  assert.ok(b.images.every((v) => v >= 0 && v <= 1));
  const s1 = ds.get(1);
  assert.equal(b.images.subarray(3 * 576, 6 * 576), s1.image);
  assert.equal(b.masks!.subarray(576, 1152), s1.mask);
  assert.equal(Array.from(b.labels), [3, 1, 4].map((i) => ds.labelOf(i).label));
  assert.equal(Array.from(b.groups), [3, 1, 4].map((i) => ds.labelOf(i).label * 2 + ds.labelOf(i).place));
  const n = ds.batch([1], 'imagenet');
  for (const [c, k] of [[0, 0], [1, 100], [2, 575]] as const) {
    const want = (s1.image[c * 576 + k]! - IMAGENET_NORMALIZATION.mean[c]) / IMAGENET_NORMALIZATION.std[c];
    assert.ok(Math.abs(n.images[c * 576 + k]! - want) < 1e-6);
  }
  assert.throws(() => ds.get(10), /index 10 outside \[0, 10\)/);
  assert.throws(() => syntheticDataset({ split: 'train', shapes: ['ring', 'ring'] }), /two different kinds/);
  assert.throws(() => syntheticDataset({ split: 'bogus' as 'train' }), /split must be/);
  const rings = syntheticDataset({ split: 'test', size: 8, shapes: ['ring', 'cross'] }).get(0);
  assert.ok(rings.mask!.some((v) => v === 1));
});

// ------------------------------------------------------------------ CSV

test('CSV: quoted fields, escaped quotes, commas and newlines in quotes, CRLF, BOM, line numbers', () => {
  const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"multi\r\nline\nfield",z\n3,,\n"4"';
  const recs = parseCsv(text);
  assert.equal(recs.map((r) => r.fields), [['a', 'b', 'c'], ['1', 'x, y', 'say "hi"'], ['2', 'multi\r\nline\nfield', 'z'], ['3', '', ''], ['4']]);
  assert.equal(recs.map((r) => r.line), [1, 2, 4, 7, 8]);
  assert.ok(recs.every((r) => !r.error));
  assert.equal(parseCsv('a\rb\r'), [{ fields: ['a'], line: 1 }, { fields: ['b'], line: 2 }], 'old Mac line ends');
  assert.equal(parseCsv(''), []);
  assert.equal(parseCsv('x,""\n'), [{ fields: ['x', ''], line: 1 }]);
});

test('CSV: malformed records carry an error and their line; parsing continues after them', () => {
  const recs = parseCsv('h1,h2\nab"c,d\n"x"y,z\nok,1\n"open,2\nmore\n');
  assert.match(recs[1]!.error!, /stray quote/);
  assert.is(recs[1]!.line, 2);
  assert.match(recs[2]!.error!, /after a closing quote/);
  assert.equal(recs[3], { fields: ['ok', '1'], line: 4 });
  assert.match(recs[4]!.error!, /unterminated quoted field \(opened on line 5\)/);
  const line = csvLine(['a,b', 'say "x"', 3, ' pad']);
  assert.equal(parseCsv(line)[0]!.fields, ['a,b', 'say "x"', '3', ' pad'], 'csvLine round trip');
});

// ------------------------------------------------------------------ augmentation

test('augment: flips image and mask together, deterministically; crop keeps masks binary and aligned', () => {
  const S = 32;
  const ds = syntheticDataset({ split: 'test', size: 12, imageSize: S, seed: 8 });
  let flips = 0;
  for (let i = 0; i < ds.length; i++) {
    const s = ds.get(i);
    const a = augmentSample(s, S, { flip: true, seed: 4 }, 0);
    assert.equal(augmentSample(s, S, { flip: true, seed: 4 }, 0).image, a.image, 'same seed, same result');
    const { flip } = augmentParams({ flip: true, seed: 4 }, 0, i, S);
    const img = s.image.slice(), mask = s.mask!.slice();
    if (flip) { flips++; flipHorizontal(img, 3, S); flipHorizontal(mask, 1, S); }
    assert.equal(a.image, img);
    assert.equal(a.mask, mask);
  }
  assert.ok(flips > 0 && flips < ds.length, `${flips} of ${ds.length} flipped`);
  // Geometry check: give channel 0 the mask's values; after a crop both must still coincide.
  const s = ds.get(2);
  const probe: Sample = { ...s, image: s.image.slice() };
  probe.image.set(s.mask!, 0);
  for (let epoch = 0; epoch < 6; epoch++) {
    const a = augmentSample(probe, S, { flip: true, scale: [0.5, 0.9], seed: 1 }, epoch);
    assert.ok(a.mask!.every((v) => v === 0 || v === 1));
    for (let k = 0; k < S * S; k++) assert.is(a.image[k]! >= 0.5 ? 1 : 0, a.mask![k], `epoch ${epoch} pixel ${k}`);
  }
  assert.equal(cropResize(s.image, 3, S, 0, 0, S, S), s.image, 'full-frame crop is the identity');
  assert.not.equal(augmentSample(s, S, { scale: [0.5, 0.6], seed: 1 }, 0).image, augmentSample(s, S, { scale: [0.5, 0.6], seed: 1 }, 1).image, 'epochs differ');
  assert.throws(() => augmentSample(s, S, { scale: [0.9, 0.5] }, 0), /scale must satisfy/);
});

// ------------------------------------------------------------------ loader

test('loader: every sample once per epoch, seeded order, dropLast, augmentation and normalisation applied', async () => {
  const ds = syntheticDataset({ split: 'train', size: 23, imageSize: 16, seed: 1 });
  const loader = new DataLoader(ds, { batchSize: 5, seed: 7 });
  assert.is(loader.batchesPerEpoch, 5);
  const seen: number[] = [];
  const sizes: number[] = [];
  for await (const b of loader.epoch(0)) { seen.push(...b.indices); sizes.push(b.size); }
  assert.equal([...seen].sort((a, b) => a - b), Array.from({ length: 23 }, (_, i) => i));
  assert.equal(sizes, [5, 5, 5, 5, 3]);
  assert.equal(Array.from(loader.order(0)), seen, 'order is reproducible');
  assert.not.equal(Array.from(loader.order(1)), seen, 'reshuffled every epoch');
  const dropping = new DataLoader(ds, { batchSize: 5, dropLast: true, shuffle: false, prefetch: 0 });
  const got: number[][] = [];
  for await (const b of dropping.epoch(3)) got.push(Array.from(b.indices));
  assert.equal(got, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]);
  const aug = new DataLoader(ds, { batchSize: 8, shuffle: false, augment: { flip: true, seed: 2 }, normalize: 'imagenet' });
  const first = (await aug.epoch(0).next()).value!;
  const all = [0, 1, 2, 3, 4, 5, 6, 7];
  const want = ds.batch(all, 'imagenet');
  const flipped = all.filter((i) => augmentParams({ flip: true, seed: 2 }, 0, i, 16).flip);
  assert.ok(flipped.length > 0 && flipped.length < 8, `flipped ${flipped}`);
  for (const i of all) {
    const same = first.images.subarray(i * 768, (i + 1) * 768).every((v, k) => v === want.images[i * 768 + k]);
    assert.is(same, !flipped.includes(i), `sample ${i}`);
  }
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), /batchSize/);
});

test('loader: prefetches the next batches while the consumer awaits, and passes errors on', async () => {
  const events: string[] = [];
  const base = syntheticDataset({ split: 'test', size: 12, imageSize: 8 });
  const slow: ImageDataset = {
    length: base.length, imageSize: base.imageSize, numClasses: 2, numPlaces: 2,
    groupNames: base.groupNames, classNames: base.classNames, placeNames: base.placeNames, hasMasks: true,
    labelOf: (i) => base.labelOf(i),
    get: async (i) => {
      events.push(`get ${i}`);
      await new Promise((r) => setTimeout(r, 2));
      if (i === 10) throw new Error('decode failed for sample 10');
      return base.get(i);
    },
  };
  const loader = new DataLoader(slow, { batchSize: 3, shuffle: false, prefetch: 2 });
  const it = loader.epoch(0);
  const b0 = await it.next();
  assert.equal(Array.from(b0.value!.indices), [0, 1, 2]);
  events.push('consumer: got batch 0');
  await new Promise((r) => setTimeout(r, 30)); // the trainer awaiting the GPU
  const mark = events.indexOf('consumer: got batch 0');
  const early = events.slice(0, mark).concat(events.slice(mark + 1));
  for (const i of [3, 4, 5, 6, 7, 8]) assert.ok(early.includes(`get ${i}`), `batches 1 and 2 were started before being asked for: ${events}`);
  assert.equal(Array.from((await it.next()).value!.indices), [3, 4, 5]);
  assert.equal(Array.from((await it.next()).value!.indices), [6, 7, 8]);
  let err: Error | null = null;
  try { await it.next(); } catch (e) { err = e as Error; }
  assert.match(err?.message ?? '', /decode failed for sample 10/);
});

// ------------------------------------------------------------------ Waterbirds folders

const tmpDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'webfam-data-'));
  tmpDirs.push(d);
  return d;
}
test.after(() => { for (const d of tmpDirs) rmSync(d, { recursive: true, force: true }); });

/** A W×H picture: left part red, right part blue (split at column `cut`). */
function halves(W: number, H: number, cut: number): Buffer {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px.set(x < cut ? [230, 20, 20] : [20, 20, 230], (y * W + x) * 3);
  return px;
}

async function makeFolder(): Promise<string> {
  const dir = tempDir();
  mkdirSync(join(dir, 'imgs, birds'), { recursive: true });
  mkdirSync(join(dir, 'masks'));
  const rows: (string | number)[][] = [];
  // 6 images: JPEG and PNG, landscape, portrait and square, with masks marking the red part.
  const shapes = [[60, 40, 27], [40, 60, 14], [48, 48, 30], [90, 30, 50], [30, 46, 10], [64, 40, 40]];
  for (const [k, [W, H, cut]] of shapes.entries()) {
    const raw = { raw: { width: W!, height: H!, channels: 3 as const } };
    const name = `imgs, birds/${k}.${k % 2 ? 'png' : 'jpg'}`;
    const img = sharp(halves(W!, H!, cut!), raw);
    writeFileSync(join(dir, name), await (k % 2 ? img.png() : img.jpeg({ quality: 95 })).toBuffer());
    // Masks at half resolution (same aspect), written by our encoder.
    const mw = W! / 2, mh = H! / 2;
    const mask = new Uint8Array(mw * mh);
    for (let y = 0; y < mh; y++) for (let x = 0; x < mw; x++) mask[y * mw + x] = x < cut! / 2 ? 255 : 0;
    writeFileSync(join(dir, `masks/${k}.png`), encodePNG({ width: mw, height: mh, channels: 1, data: mask }));
    rows.push([`id${k}`, name, k % 2, [0, 0, 1, 2, 2, 2][k]!, (k >> 1) % 2, `masks/${k}.png`]);
  }
  const lines = [csvLine(['img_id', 'img_filename', 'y', 'split', 'place', 'mask_filename']), ...rows.map(csvLine)];
  writeFileSync(join(dir, 'metadata.csv'), lines.join('\r\n') + '\r\n');
  return dir;
}

test('waterbirds folder: validates, loads each split, masks follow the image crop (JPEG and PNG)', async () => {
  const dir = await makeFolder();
  const report = await validateFolder(dir);
  assert.is(report.total, 6);
  assert.is(report.rows.length, 6);
  assert.equal(report.splitCounts, [2, 1, 3]);
  assert.is(report.summary, 'all 6 rows usable');
  assert.ok(report.hasMasks);
  assert.equal([report.numClasses, report.numPlaces], [2, 2]);
  const S = 16;
  const test_ = await waterbirdsDataset(dir, { split: 'test', imageSize: S, report });
  assert.is(test_.length, 3);
  assert.equal(test_.groupNames, ['land bird on land', 'land bird on water', 'water bird on land', 'water bird on water']);
  const train = await waterbirdsDataset(dir, { split: 0, imageSize: S });
  assert.equal(train.rows.map((r) => r.imgId), ['id0', 'id1']);
  for (const ds of [train, test_]) {
    for (let i = 0; i < ds.length; i++) {
      const s = await ds.get(i);
      assert.is(s.image.length, 3 * S * S);
      // Pixels well inside the red part are red and marked; inside the blue part, blue and unmarked.
      let checked = 0;
      for (let k = 0; k < S * S; k++) {
        const r = s.image[k]!, b = s.image[2 * S * S + k]!;
        if (r > 0.8 && b < 0.2) { assert.is(s.mask![k], 1, `${ds.rows[i]!.filename} pixel ${k} red but not masked`); checked++; }
        if (b > 0.8 && r < 0.2) { assert.is(s.mask![k], 0, `${ds.rows[i]!.filename} pixel ${k} blue but masked`); checked++; }
      }
      assert.ok(checked > S * S * 0.7, `${checked} clear pixels`);
    }
  }
  // 'cover' keeps the centre square: in the 90×30 image (red until x = 50) the centre 30×30 spans
  // x 30..60, so two thirds of the output is red.
  const wide = await test_.get(0);
  assert.is(test_.rows[0]!.filename, 'imgs, birds/3.png');
  const maskArea = wide.mask!.reduce((a, v) => a + v, 0) / (S * S);
  assert.ok(Math.abs(maskArea - 20 / 30) < 0.07, `mask area ${maskArea}`);
  const b = await test_.batch([0, 2], 'imagenet');
  assert.is(b.images.length, 2 * 3 * S * S);
  assert.is(b.masks!.length, 2 * S * S);
  const loader = new DataLoader(test_, { batchSize: 2, seed: 1 });
  let n = 0;
  for await (const batch of loader.epoch(0)) n += batch.size;
  assert.is(n, 3);
});

test('waterbirds folder: a synthetic split exported to disk comes back identical', async () => {
  const dir = tempDir();
  const train = syntheticDataset({ split: 'train', size: 6, imageSize: 20, seed: 4 });
  const testSet = syntheticDataset({ split: 'test', size: 4, imageSize: 20, seed: 4 });
  await exportFolder(dir, [train, null, testSet]);
  const report = await validateFolder(dir);
  assert.equal(report.splitCounts, [6, 0, 4]);
  const back = await waterbirdsDataset(dir, { split: 'test', imageSize: 20, report });
  for (let i = 0; i < 4; i++) {
    const s = await back.get(i), t = testSet.get(i);
    assert.equal([s.label, s.place], [t.label, t.place]);
    assert.equal(s.mask, t.mask, `mask ${i}`);
    let worst = 0;
    for (let k = 0; k < s.image.length; k++) worst = Math.max(worst, Math.abs(s.image[k]! - t.image[k]!));
    assert.ok(worst <= 0.5 / 255 + 1e-6, `image ${i} differs by ${worst}`);
  }
});

/** Every way a folder can be broken, each on its own line; returns the folder and expectations. */
async function brokenFolder(): Promise<{ dir: string; cases: { line: number; kind: string; file: string; match: RegExp }[] }> {
  const dir = tempDir();
  const good = await sharp(halves(20, 20, 10), { raw: { width: 20, height: 20, channels: 3 } }).jpeg().toBuffer();
  const goodPng = await sharp(halves(20, 20, 10), { raw: { width: 20, height: 20, channels: 3 } }).png().toBuffer();
  writeFileSync(join(dir, 'good.jpg'), good);
  writeFileSync(join(dir, 'truncated.jpg'), good.subarray(0, good.length >> 1));
  writeFileSync(join(dir, 'truncated.png'), goodPng.subarray(0, goodPng.length - 40));
  writeFileSync(join(dir, 'garbage.jpg'), 'this is not an image');
  writeFileSync(join(dir, 'mask.png'), encodePNG({ width: 20, height: 20, channels: 1, data: new Uint8Array(400) }));
  writeFileSync(join(dir, 'badmask.png'), encodePNG({ width: 20, height: 20, channels: 1, data: new Uint8Array(400) }).subarray(0, 50));
  writeFileSync(join(dir, 'widemask.png'), encodePNG({ width: 40, height: 10, channels: 1, data: new Uint8Array(400) }));
  const lines = [
    'img_id,img_filename,y,split,place,mask_filename', // 1
    '1,good.jpg,0,0,0,mask.png', //                        2 fine
    '2,good.jpg,x,0,0,mask.png', //                        3 bad y
    '3,good.jpg,1,7,0,mask.png', //                        4 bad split
    '4,good.jpg,1,0,-1,mask.png', //                       5 bad place
    '5,missing.jpg,1,0,0,mask.png', //                     6 missing file
    '6,truncated.jpg,1,0,0,mask.png', //                   7 truncated JPEG
    '7,truncated.png,1,0,0,mask.png', //                   8 truncated PNG
    '8,garbage.jpg,1,0,0,mask.png', //                     9 not an image
    '9,good.jpg,1,0', //                                  10 too few fields
    '10,"go"od.jpg,1,0,0,mask.png', //                    11 text after closing quote
    '11,good.jpg,1,0,0,nomask.png', //                    12 missing mask
    '12,good.jpg,1,0,0,badmask.png', //                   13 truncated mask
    '13,good.jpg,1,0,0,widemask.png', //                  14 mask of another shape
    '1,good.jpg,1,0,0,mask.png', //                       15 duplicate id
    '15,,1,0,0,mask.png', //                              16 empty file name
    '16,good.jpg,1,2,1,mask.png', //                      17 fine
  ];
  writeFileSync(join(dir, 'metadata.csv'), lines.join('\n') + '\n');
  const csv = join(dir, 'metadata.csv');
  const cases = [
    { line: 3, kind: 'bad-y', file: csv, match: /bad y value "x"/ },
    { line: 4, kind: 'bad-split', file: csv, match: /bad split value "7"/ },
    { line: 5, kind: 'bad-place', file: csv, match: /bad place value "-1"/ },
    { line: 6, kind: 'missing-file', file: join(dir, 'missing.jpg'), match: /not found/ },
    { line: 7, kind: 'bad-image', file: join(dir, 'truncated.jpg'), match: /cannot decode image/ },
    { line: 8, kind: 'bad-image', file: join(dir, 'truncated.png'), match: /cannot decode image/ },
    { line: 9, kind: 'bad-image', file: join(dir, 'garbage.jpg'), match: /cannot (decode image|read image header)/ },
    { line: 10, kind: 'malformed-row', file: csv, match: /4 fields, the header has 6/ },
    { line: 11, kind: 'malformed-row', file: csv, match: /after a closing quote/ },
    { line: 12, kind: 'missing-mask', file: join(dir, 'nomask.png'), match: /mask file not found/ },
    { line: 13, kind: 'bad-mask', file: join(dir, 'badmask.png'), match: /cannot decode mask/ },
    { line: 14, kind: 'bad-mask', file: join(dir, 'widemask.png'), match: /different aspect ratio/ },
    { line: 15, kind: 'duplicate-id', file: csv, match: /img_id 1 already used on line 2/ },
    { line: 16, kind: 'missing-value', file: csv, match: /empty img_filename/ },
  ];
  return { dir, cases };
}

test('waterbirds folder: every kind of bad row fails fast with the file and the CSV line', async () => {
  const { dir, cases } = await brokenFolder();
  const csv = join(dir, 'metadata.csv');
  const lines = readFileSync(csv, 'utf8').split('\n');
  // Check each case alone: keep the header, the good row and the bad row.
  for (const c of cases) {
    const sub = tempDir();
    for (const f of ['good.jpg', 'truncated.jpg', 'truncated.png', 'garbage.jpg', 'mask.png', 'badmask.png', 'widemask.png']) writeFileSync(join(sub, f), readFileSync(join(dir, f)));
    // Pad with blank lines so the bad row keeps its line number.
    const text = [lines[0], lines[1], ...Array(c.line - 3).fill(''), lines[c.line - 1]].join('\n') + '\n';
    writeFileSync(join(sub, 'metadata.csv'), text);
    let err: DataError | null = null;
    try { await validateFolder(sub); } catch (e) { err = e as DataError; }
    assert.ok(err instanceof DataError, `line ${c.line}: expected a DataError, got ${err}`);
    const file = c.file.replace(dir, sub);
    assert.is(err!.kind, c.kind, `line ${c.line}: ${err!.message}`);
    assert.is(err!.line, c.line);
    assert.is(err!.file, file);
    assert.match(err!.message, c.match);
    assert.ok(err!.message.includes(file), `message names the file: ${err!.message}`);
    assert.match(err!.message, new RegExp(`(:${c.line}:|line ${c.line}\\))`), `message names the line: ${err!.message}`);
  }
  // The whole folder at once: the first bad row (line 3) is reported.
  try { await validateFolder(dir); assert.unreachable('should throw'); } catch (e) { assert.is((e as DataError).line, 3); }
});

test('waterbirds folder: skipBad skips every bad row, counts them by kind, and loads the rest', async () => {
  const { dir, cases } = await brokenFolder();
  const report: FolderReport = await validateFolder(dir, { skipBad: true });
  assert.is(report.total, 16);
  assert.equal(report.rows.map((r) => r.line), [2, 17]);
  assert.equal(report.skipped.map((s) => s.line), cases.map((c) => c.line));
  assert.equal(report.skipped.map((s) => s.kind), cases.map((c) => c.kind));
  assert.equal(report.skippedByKind, { 'bad-y': 1, 'bad-split': 1, 'bad-place': 1, 'missing-file': 1, 'bad-image': 3, 'malformed-row': 2, 'missing-mask': 1, 'bad-mask': 2, 'duplicate-id': 1, 'missing-value': 1 });
  assert.match(report.summary, /^skipped 14 of 16 rows: 1 bad-y, /);
  const ds = await waterbirdsDataset(dir, { split: 'train', imageSize: 8, skipBad: true });
  assert.is(ds.length, 1);
  assert.is((await ds.get(0)).image.length, 3 * 64);
  // decode: false checks presence only (the truncated JPEG's header still reads).
  const quick = await validateFolder(dir, { skipBad: true, decode: false });
  assert.ok(quick.rows.length > report.rows.length);
});

test('waterbirds folder: missing columns, a missing metadata file, an unterminated quote', async () => {
  const dir = tempDir();
  await assert_rejects(validateFolder(dir), /metadata\.csv: cannot read the metadata file/);
  writeFileSync(join(dir, 'metadata.csv'), 'img_id,img_filename,y,split\n1,a.jpg,0,0\n');
  await assert_rejects(validateFolder(dir), /metadata\.csv:1: missing column place/);
  await assert_rejects(validateFolder(dir, { skipBad: true }), /missing column place/);
  writeFileSync(join(dir, 'metadata.csv'), 'img_id,img_filename,y,split,place\n1,"a.jpg,0,0,0\n2,b.jpg,0,0,0\n');
  await assert_rejects(validateFolder(dir), /metadata\.csv:2: malformed CSV row: unterminated quoted field \(opened on line 2\)/);
  const r = await validateFolder(dir, { skipBad: true });
  assert.is(r.rows.length, 0);
  assert.is(r.skipped[0]!.kind, 'malformed-row');
});

async function assert_rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try { await p; } catch (e) { assert.match((e as Error).message, re); return; }
  assert.unreachable(`expected a rejection matching ${re}`);
}

test('image geometry: cover and stretch crops, anti-aliased mask resampling', () => {
  assert.equal(cropRect(90, 30), { left: 30, top: 0, width: 30, height: 30 });
  assert.equal(cropRect(30, 91), { left: 0, top: 30, width: 30, height: 30 });
  assert.equal(cropRect(256, 256, { resize: 'stretch', crop: 224 / 256 }), { left: 16, top: 16, width: 224, height: 224 });
  assert.throws(() => cropRect(10, 10, { crop: 0 }), /crop must lie/);
  // A constant map stays constant; a step edge stays at the same relative position.
  const ones = resampleRegion(new Float32Array(35).fill(1), 7, 5, { x: 0, y: 0, w: 7, h: 5 }, 3);
  assert.ok(ones.every((v) => Math.abs(v - 1) < 1e-6));
  const step = Float32Array.from({ length: 40 * 40 }, (_, k) => (k % 40 < 20 ? 1 : 0));
  const small = resampleRegion(step, 40, 40, { x: 0, y: 0, w: 40, h: 40 }, 8);
  // The triangle filter spans two source pixels per output pixel when shrinking: the edge blurs
  // symmetrically over the two output pixels next to it.
  assert.equal(Array.from(small.subarray(0, 8)).map((v) => (v > 0.5 ? 1 : 0)), [1, 1, 1, 1, 0, 0, 0, 0]);
  assert.ok(Math.abs(small[0]! - 1) < 1e-6 && Math.abs(small[2]! - 1) < 1e-6 && Math.abs(small[5]!) < 1e-6);
  assert.ok(Math.abs(small[3]! + small[4]! - 1) < 1e-6 && small[3]! > 0.8);
});

test.run();
