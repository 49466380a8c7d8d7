// PNG codec, picture helpers and charts: checksums against published values, encode/decode round
// trips for every channel count and filter type, files written by libvips (sharp) and zlib, and
// the rendered pictures decoded back and checked pixel by pixel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, constants as zconst } from 'node:zlib';
import {
  crc32, adler32, zlibStored, inflateZlib, encodePNG, decodePNG, savePNG, loadPNG, PNGError, type RasterImage,
} from '../src/io/png.js';
import {
  viridis, heatmapRGB, overlay, maskOverlay, chwToImage, scaleImage, tileGrid, lineChart, saveLineChart, drawText, textWidth,
  blankImage, niceTicks, wrapText, resizeMap, LINE_HEIGHT,
} from '../src/io/plot.js';
import { rng } from './harness.js';

const fixture = (name: string) => new URL(`../../test/fixtures/${name}`, import.meta.url);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function randomImage(r: () => number, w: number, h: number, channels: 1 | 2 | 3 | 4, smooth = false): RasterImage {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) data[i] = smooth ? (Math.floor(i / channels) % w) * 7 + (i % channels) * 40 + Math.floor(r() * 4) : Math.floor(r() * 256);
  return { width: w, height: h, channels, data };
}

// ------------------------------------------------------------------ checksums and zlib

test('crc32 and adler32 match published check values', () => {
  assert.is(crc32(ascii('123456789')), 0xcbf43926);
  assert.is(crc32(ascii('IEND')), 0xae426082);
  assert.is(adler32(ascii('Wikipedia')), 0x11e60398);
  assert.is(adler32(new Uint8Array(0)), 1);
  // Long input: exercises the modulo batching of adler32.
  const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255);
  assert.is(adler32(big), deflateSync(big).readUInt32BE(deflateSync(big).length - 4));
});

test('inflate reads what zlib writes: stored, fixed and dynamic Huffman blocks, long matches', () => {
  const r = rng(7);
  const inputs = [
    new Uint8Array(0),
    ascii('a'),
    Uint8Array.from({ length: 70_000 }, () => Math.floor(r() * 256)), // incompressible, > one stored block
    Uint8Array.from({ length: 50_000 }, (_, i) => 'abcabcabd'.charCodeAt(i % 9)), // long back-references
    Uint8Array.from({ length: 30_000 }, (_, i) => (i % 300 < 150 ? Math.floor(r() * 8) : i & 255)),
  ];
  for (const data of inputs) {
    for (const opts of [{ level: 0 }, { level: 1 }, { level: 9 }, { level: 6, strategy: zconst.Z_FIXED }, { level: 6, strategy: zconst.Z_HUFFMAN_ONLY }]) {
      const z = deflateSync(data, opts);
      assert.equal(inflateZlib(new Uint8Array(z)), data, `length ${data.length}, ${JSON.stringify(opts)}`);
    }
    assert.equal(inflateZlib(zlibStored(data)), data, 'our stored stream');
  }
});

test('our stored zlib stream is valid for zlib itself', async () => {
  const { inflateSync } = await import('node:zlib');
  const data = Uint8Array.from({ length: 140_000 }, (_, i) => (i * 13) & 255);
  assert.equal(new Uint8Array(inflateSync(zlibStored(data))), data);
});

test('inflate rejects corrupt streams with a PNGError', () => {
  const z = new Uint8Array(deflateSync(ascii('hello hello hello hello')));
  assert.throws(() => inflateZlib(z.subarray(0, z.length - 3)), (e: Error) => e instanceof PNGError && /truncated|checksum/.test(e.message));
  const badSum = z.slice(); badSum[badSum.length - 1]! ^= 1;
  assert.throws(() => inflateZlib(badSum), /Adler-32 mismatch/);
  const badHeader = z.slice(); badHeader[0] = 0x79;
  assert.throws(() => inflateZlib(badHeader), /bad zlib header/);
});

// ------------------------------------------------------------------ encode / decode

test('PNG round trip: gray, gray+alpha, RGB, RGBA; every filter type; stored and zlib-compressed', () => {
  const r = rng(11);
  for (const channels of [1, 2, 3, 4] as const) {
    for (const [w, h] of [[1, 1], [7, 5], [33, 17]]) {
      for (const smooth of [false, true]) {
        const img = randomImage(r, w!, h!, channels, smooth);
        for (const filter of [0, 1, 2, 3, 4, 'adaptive'] as const) {
          for (const deflate of [undefined, (d: Uint8Array) => new Uint8Array(deflateSync(d))]) {
            const bytes = encodePNG(img, { filter, deflate });
            const back = decodePNG(bytes);
            assert.is(back.width, w); assert.is(back.height, h); assert.is(back.channels, channels);
            assert.equal(back.data, img.data, `${channels} channels ${w}×${h} filter ${filter} ${deflate ? 'zlib' : 'stored'}`);
          }
        }
      }
    }
  }
});

test('PNGs we write are read back identically by libvips (sharp)', async () => {
  const sharp = (await import('sharp')).default;
  const r = rng(12);
  for (const channels of [1, 3, 4] as const) {
    const img = randomImage(r, 19, 11, channels, true);
    const bytes = encodePNG(img, { filter: 'adaptive', deflate: (d) => new Uint8Array(deflateSync(d)) });
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    // libvips hands gray images back as RGB with R = G = B.
    const expected = info.channels === 3 && channels === 1 ? Uint8Array.from({ length: img.data.length * 3 }, (_, i) => img.data[Math.floor(i / 3)]!) : img.data;
    assert.is(info.channels, channels === 1 ? info.channels : channels);
    assert.equal(new Uint8Array(data), expected);
  }
});

test('decodes PNGs written by libvips: 16-bit interlaced RGB and 2-bit palette (fixtures)', () => {
  const source = new Uint8Array(readFileSync(fixture('gradient-13x7.rgb')));
  const rgb16 = decodePNG(new Uint8Array(readFileSync(fixture('gradient-13x7-rgb16-interlaced.png'))));
  assert.equal([rgb16.width, rgb16.height, rgb16.channels], [13, 7, 3]);
  assert.equal(rgb16.data, source, '16-bit Adam7 image decodes to its 8-bit source');
  const pal = decodePNG(new Uint8Array(readFileSync(fixture('gradient-13x7-palette.png'))));
  assert.equal([pal.width, pal.height, pal.channels], [13, 7, 3]);
  assert.equal(pal.data, new Uint8Array(readFileSync(fixture('gradient-13x7-palette.rgb'))), 'palette image matches libvips\' own decode');
});

test('decodes every sharp PNG variant like sharp does', async () => {
  const sharp = (await import('sharp')).default;
  const r = rng(13);
  const img = randomImage(r, 23, 9, 4, true);
  const raw = { raw: { width: 23, height: 9, channels: 4 as const } };
  const variants = [
    sharp(img.data, raw).png({ compressionLevel: 9, adaptiveFiltering: true }),
    sharp(img.data, raw).png({ progressive: true }),
    sharp(img.data, raw).removeAlpha().png({ palette: true, colours: 16 }),
    sharp(img.data, raw).greyscale().png(),
    sharp(img.data, raw).toColourspace('rgb16').png(),
  ];
  for (const [k, v] of variants.entries()) {
    const bytes = new Uint8Array(await v.toBuffer());
    const mine = decodePNG(bytes);
    const { data, info } = await sharp(bytes).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    assert.is(mine.channels, info.channels, `variant ${k} channels`);
    assert.equal(mine.data, new Uint8Array(data), `variant ${k} pixels`);
  }
});

test('decodes 1-, 2- and 4-bit grayscale (hand-built files)', () => {
  for (const depth of [1, 2, 4]) {
    const w = 11, h = 3, maxv = (1 << depth) - 1;
    const values = Array.from({ length: w * h }, (_, i) => (i * 5) % (maxv + 1));
    const rowBytes = Math.ceil((w * depth) / 8);
    const raw = new Uint8Array(h * (1 + rowBytes));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const bit = x * depth;
        raw[y * (1 + rowBytes) + 1 + (bit >> 3)]! |= values[y * w + x]! << (8 - depth - (bit & 7));
      }
    }
    const bytes = buildPNG(w, h, depth, 0, zlibStored(raw));
    const img = decodePNG(bytes);
    assert.equal(Array.from(img.data), values.map((v) => Math.round((v * 255) / maxv)), `${depth}-bit`);
  }
});

function buildPNG(w: number, h: number, depth: number, ctype: number, idat: Uint8Array): Uint8Array {
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, body.length);
    out.set(ascii(type), 4);
    out.set(body, 8);
    dv.setUint32(8 + body.length, crc32(out, 4, 8 + body.length));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr[8] = depth; ihdr[9] = ctype;
  const parts = [Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all;
}

test('corrupt PNGs fail with a clear PNGError', () => {
  const good = encodePNG(randomImage(rng(3), 9, 9, 3), { deflate: (d) => new Uint8Array(deflateSync(d)) });
  assert.throws(() => decodePNG(ascii('GIF89a not a png')), /bad signature/);
  const flipped = good.slice(); flipped[good.length - 20]! ^= 0xff; // inside IDAT
  assert.throws(() => decodePNG(flipped), /CRC mismatch in IDAT/);
  assert.throws(() => decodePNG(good.subarray(0, good.length - 30)), /truncated/);
  assert.throws(() => decodePNG(good.subarray(0, 40)), /truncated/);
  assert.throws(() => encodePNG({ width: 3, height: 2, channels: 3, data: new Uint8Array(17) }), /17 bytes, expected 3·2·3 = 18/);
});

test('savePNG writes atomically and loadPNG reads it back; a failed save leaves nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webfam-png-'));
  try {
    const img = randomImage(rng(5), 40, 30, 3, true);
    await savePNG(join(dir, 'a.png'), img);
    assert.equal(readdirSync(dir), ['a.png'], 'no temporary file left');
    assert.equal((await loadPNG(join(dir, 'a.png'))).data, img.data);
    await savePNG(join(dir, 'a.png'), blankImage(2, 2)); // overwrite in place
    assert.is((await loadPNG(join(dir, 'a.png'))).width, 2);
    let failed = false;
    try { await savePNG(join(dir, 'missing-dir', 'b.png'), img); } catch { failed = true; }
    assert.ok(failed, 'saving into a missing folder throws');
    assert.equal(readdirSync(dir), ['a.png']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ pictures

test('viridis runs from dark purple to yellow like matplotlib', () => {
  // matplotlib: viridis(0) = #440154, viridis(0.5) = #21918c, viridis(1) = #fde725.
  const near = (a: readonly number[], b: number[], tol: number) => a.every((v, k) => Math.abs(v - b[k]!) <= tol);
  assert.ok(near(viridis(0), [0x44, 0x01, 0x54], 6), `viridis(0) = ${viridis(0)}`);
  assert.ok(near(viridis(0.5), [0x21, 0x91, 0x8c], 6), `viridis(0.5) = ${viridis(0.5)}`);
  assert.ok(near(viridis(1), [0xfd, 0xe7, 0x25], 6), `viridis(1) = ${viridis(1)}`);
  const heat = heatmapRGB([5, 7, 9, 11], 2, 2);
  assert.equal(Array.from(heat.data.subarray(0, 3)), [...viridis(0)]);
  assert.equal(Array.from(heat.data.subarray(9, 12)), [...viridis(1)]);
});

test('overlay blends a (smaller) map over an image; alpha 0 leaves it unchanged', () => {
  const img = chwToImage(Float32Array.from({ length: 3 * 16 }, (_, i) => (i % 16) / 15), 4, 4);
  assert.equal(overlay(img, [0, 1, 2, 3], 0).data, img.data);
  const full = overlay(img, [0, 1, 2, 3], 1);
  // With alpha 1 the result is the heat map of the bilinearly enlarged 2×2 map.
  assert.equal(full.data, heatmapRGB(resizeMap([0, 1, 2, 3], 2, 2, 4, 4), 4, 4).data);
  assert.equal(Array.from(full.data.subarray(0, 3)), [...viridis(0)], 'corner pixel = smallest value');
});

test('maskOverlay tints only the masked pixels and outlines them', () => {
  const img = blankImage(6, 6, [10, 20, 30]);
  const mask = new Float32Array(36);
  for (let y = 1; y < 5; y++) for (let x = 1; x < 5; x++) mask[y * 6 + x] = 1;
  const out = maskOverlay(img, mask, [255, 0, 0], 0.5);
  for (let i = 0; i < 36; i++) {
    const px = Array.from(out.data.subarray(i * 3, i * 3 + 3));
    const x = i % 6, y = Math.floor(i / 6);
    if (!mask[i]) assert.equal(px, [10, 20, 30], `outside (${x},${y})`);
    else if (x === 1 || x === 4 || y === 1 || y === 4) assert.equal(px, [255, 0, 0], `border (${x},${y})`);
    else assert.equal(px, [133, 10, 15], `inside (${x},${y})`);
  }
});

test('text: glyphs land inside their box, unknown characters print as "?"', () => {
  const text = 'water bird on land — pred: land bird';
  const w = textWidth(text);
  assert.is(w, text.length * 6 - 1);
  const img = blankImage(w + 4, LINE_HEIGHT + 4);
  drawText(img, text, 2, 2, [0, 0, 0]);
  let inked = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[(y * img.width + x) * 3] !== 0) continue;
      inked++;
      assert.ok(x >= 2 && x < 2 + w && y >= 2 && y < 2 + 8, `ink at (${x},${y}) outside the text box`);
    }
  }
  assert.ok(inked > 200, `${inked} inked pixels`);
  const q = blankImage(5, 8), u = blankImage(5, 8);
  drawText(q, '?', 0, 0, [0, 0, 0]);
  drawText(u, '\u00e9', 0, 0, [0, 0, 0]);
  assert.equal(u.data, q.data);
  assert.equal(wrapText('water bird on land — pred: land bird', 12), ['water bird', 'on land —', 'pred: land', 'bird']);
});

test('tileGrid places tiles and captions on a grid of the expected size', () => {
  const red = blankImage(8, 8, [255, 0, 0]), blue = blankImage(8, 8, [0, 0, 255]);
  const grid = tileGrid([{ image: red, label: 'a' }, { image: blue }, { image: red }], { columns: 2, pad: 2 });
  assert.is(grid.width, 2 * 8 + 3 * 2);
  // Row 1 has a caption line (3 + LINE_HEIGHT), row 2 none.
  assert.is(grid.height, 8 + 3 + LINE_HEIGHT + 8 + 3 * 2);
  const at = (x: number, y: number) => Array.from(grid.data.subarray((y * grid.width + x) * 3, (y * grid.width + x) * 3 + 3));
  assert.equal(at(2, 2), [255, 0, 0]);
  assert.equal(at(12, 2), [0, 0, 255]);
  assert.equal(at(2, 2 + 8 + 3 + LINE_HEIGHT + 2), [255, 0, 0]);
  assert.equal(scaleImage(red, 3).width, 24);
});

test('niceTicks gives round steps covering the range', () => {
  const unit = niceTicks(0, 1);
  assert.is(unit.length, 6);
  unit.forEach((v, k) => assert.ok(Math.abs(v - k / 5) < 1e-12, `tick ${k} = ${v}`));
  const t = niceTicks(0.031, 2.02);
  assert.ok(t[0]! >= 0.031 && t[t.length - 1]! <= 2.02 && t.length >= 4, `${t}`);
  for (let k = 1; k < t.length; k++) assert.ok(Math.abs(t[k]! - t[k - 1]! - 0.5) < 1e-9);
});

test('lineChart renders a valid PNG of the requested size with every series drawn', async () => {
  const series = [
    { name: 'train loss', values: Array.from({ length: 30 }, (_, i) => 2 * Math.exp(-i / 8)), colour: [200, 30, 30] as const },
    { name: 'worst-group acc', values: Array.from({ length: 30 }, (_, i) => (i === 10 ? NaN : 0.3 + i / 50)), colour: [30, 30, 200] as const },
  ];
  const img = lineChart(series, { width: 320, height: 200, title: 'curves', xLabel: 'epoch', yLabel: 'value' });
  const back = decodePNG(encodePNG(img));
  assert.equal([back.width, back.height, back.channels], [320, 200, 3]);
  const count = (rgb: readonly number[]) => {
    let n = 0;
    for (let i = 0; i < back.data.length; i += 3) if (back.data[i] === rgb[0] && back.data[i + 1] === rgb[1] && back.data[i + 2] === rgb[2]) n++;
    return n;
  };
  assert.ok(count(series[0]!.colour) > 100, 'red series drawn');
  assert.ok(count(series[1]!.colour) > 100, 'blue series drawn');
  assert.throws(() => lineChart(series, { width: 30, height: 20 }), /too small/);
  const dir = mkdtempSync(join(tmpdir(), 'webfam-plot-'));
  try {
    await saveLineChart(join(dir, 'c.png'), series, { width: 300, height: 180 });
    const saved = await loadPNG(join(dir, 'c.png'));
    assert.equal([saved.width, saved.height], [300, 180]);
    assert.ok(existsSync(join(dir, 'c.png')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
