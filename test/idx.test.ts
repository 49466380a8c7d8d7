// IDX files (MNIST / Fashion-MNIST): small files written byte by byte, every dtype both ways,
// gzip, and every way a file can be malformed — each one a clear IdxError, never a huge allocation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, readIdx, readIdxFile, encodeIdx, IdxError, type IdxDtype } from '../src/io/idx.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

function throwsIdx(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, IdxError, `${what}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, what);
    return;
  }
  assert.unreachable(`${what}: no error`);
}

async function rejectsIdx(p: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, IdxError, `${what}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, what);
    return;
  }
  assert.unreachable(`${what}: no error`);
}

test('idx: a hand-written 2×3 uint8 file and a 1-D label file', () => {
  const images = parseIdx(bytes(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 251, 255));
  assert.is(images.dtype, 'uint8');
  assert.equal(images.shape, [2, 3]);
  assert.equal(Array.from(images.data), [1, 2, 3, 250, 251, 255]);
  const labels = parseIdx(bytes(0, 0, 0x08, 1, 0, 0, 0, 4, 9, 0, 7, 1));
  assert.equal(labels.shape, [4]);
  assert.equal(Array.from(labels.data), [9, 0, 7, 1]);
});

test('idx: multi-byte types are big-endian (hand-written int16, int32, float32)', () => {
  const i16 = parseIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
  assert.equal(Array.from(i16.data), [0x0102, -2]);
  const i32 = parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 1, 0x80, 0, 0, 0));
  assert.equal(Array.from(i32.data), [-(2 ** 31)]);
  const f32 = parseIdx(bytes(0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0)); // 1.5
  assert.equal(Array.from(f32.data), [1.5]);
  const i8 = parseIdx(bytes(0, 0, 0x09, 1, 0, 0, 0, 2, 0x7f, 0x80));
  assert.equal(Array.from(i8.data), [127, -128]);
});

test('idx: encodeIdx and parseIdx round-trip every dtype, including empty arrays', () => {
  const cases: [IdxDtype, number[]][] = [
    ['uint8', [0, 1, 255, 128, 7, 9]], ['int8', [-128, 127, 0, -1, 5, 6]], ['int16', [-32768, 32767, 0, 1, -2, 300]],
    ['int32', [-(2 ** 31), 2 ** 31 - 1, 0, 5, -6, 123456]], ['float32', [1.5, -0.25, 0, 3e38, -1e-30, 7]], ['float64', [Math.PI, -Math.E, 0, 1e300, -1e-300, 2]],
  ];
  for (const [dtype, values] of cases) {
    const back = parseIdx(encodeIdx({ dtype, shape: [3, 2], data: values }));
    assert.is(back.dtype, dtype);
    assert.equal(back.shape, [3, 2]);
    const expected = dtype === 'float32' ? values.map(Math.fround) : values;
    assert.equal(Array.from(back.data), expected, dtype);
  }
  const empty = parseIdx(encodeIdx({ dtype: 'uint8', shape: [0, 28, 28], data: [] }));
  assert.equal(empty.shape, [0, 28, 28]);
  assert.is(empty.data.length, 0);
});

test('idx: malformed files each give a clear error', () => {
  throwsIdx(() => parseIdx(bytes(0, 0, 8)), /too short/, 'three bytes');
  throwsIdx(() => parseIdx(bytes(1, 0, 8, 1, 0, 0, 0, 0)), /first two bytes must be zero/, 'bad magic');
  throwsIdx(() => parseIdx(bytes(0x1f, 0x8b, 8, 0)), /gzip-compressed/, 'gzip given to the raw parser');
  throwsIdx(() => parseIdx(bytes(0, 0, 0x0a, 1, 0, 0, 0, 0)), /unknown IDX type byte 0x0A/, 'unknown type');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 0)), /dimension count 0/, 'no dimensions');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 200)), /dimension count 200/, 'too many dimensions');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 3, 0, 0, 0, 1)), /truncated header: 3 dimensions need 16 bytes/, 'header cut');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3)), /truncated: a uint8 array of shape \[5\] needs 13 bytes, the file has 11/, 'body cut');
  throwsIdx(() => parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 1, 0, 0)), /truncated/, 'int32 body cut mid-value');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 1, 0, 0, 0, 1, 1, 2)), /1 bytes after the end/, 'trailing bytes');
  // A header claiming 4G × 4G × 4G values must fail on the length check, not allocate.
  throwsIdx(() => parseIdx(bytes(0, 0, 0x0e, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1)), /truncated.*needs more than/, 'huge claimed shape');
});

test('idx: gzip-compressed bytes are inflated; corrupt or oversized gzip is an error', async () => {
  const raw = encodeIdx({ dtype: 'uint8', shape: [2, 2], data: [1, 2, 3, 4] });
  const back = await readIdx(gzipSync(raw));
  assert.equal(Array.from(back.data), [1, 2, 3, 4]);
  assert.equal(Array.from((await readIdx(raw)).data), [1, 2, 3, 4], 'uncompressed bytes pass through');
  const corrupt = gzipSync(raw);
  corrupt.fill(0x55, 12, 20);
  await rejectsIdx(readIdx(corrupt, 'x.gz'), /x\.gz: corrupt gzip data/, 'corrupt gzip');
  const bomb = gzipSync(new Uint8Array(4 << 20)); // 4 MiB of zeros in ~4 KB
  await rejectsIdx(readIdx(bomb, 'bomb.gz', 1 << 20), /inflates to more than 1048576 bytes/, 'decompression bomb');
});

test('idx: readIdxFile reads .gz and raw files, and refuses folders, missing and oversized files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webfam-idx-'));
  try {
    const raw = encodeIdx({ dtype: 'uint8', shape: [3], data: [7, 8, 9] });
    writeFileSync(join(dir, 'a-idx1-ubyte'), raw);
    writeFileSync(join(dir, 'a-idx1-ubyte.gz'), gzipSync(raw));
    assert.equal(Array.from((await readIdxFile(join(dir, 'a-idx1-ubyte'))).data), [7, 8, 9]);
    assert.equal(Array.from((await readIdxFile(join(dir, 'a-idx1-ubyte.gz'))).data), [7, 8, 9]);
    mkdirSync(join(dir, 'folder'));
    await rejectsIdx(readIdxFile(join(dir, 'folder')), /not a regular file/, 'folder');
    await rejectsIdx(readIdxFile(join(dir, 'nope')), /nope: no such file/, 'missing');
    await rejectsIdx(readIdxFile(join(dir, 'a-idx1-ubyte'), 5), /11 bytes is over the 5-byte limit/, 'size checked before reading');
    writeFileSync(join(dir, 'bad'), bytes(0, 0, 8, 1, 0, 0, 0, 9));
    await rejectsIdx(readIdxFile(join(dir, 'bad')), /bad: truncated/, 'the path names the file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
