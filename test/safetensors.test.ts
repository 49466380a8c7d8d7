// safetensors: exact round trips, f16/bf16/f64/integer decoding, files on disk written
// atomically, fetch Responses, and validation — 1,000 random corruptions of a valid file each
// load or fail with a SafetensorsError that says what is wrong, never anything else.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  tensor, saveSafetensors, loadSafetensors, saveSafetensorsFile, loadSafetensorsFile, loadSafetensorsResponse,
  encodeSafetensors, decodeSafetensors, parseSafetensorsHeader, SafetensorsError, type Tensor,
} from '../src/index.js';
import { setup, rng, randArray } from './harness.js';

test.before(async () => {
  await setup();
});

const bitsOf = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

/** A file from a raw header object and data bytes (for hand-made dtypes and corruptions). */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('save then load gives back every tensor bit for bit, with its shape and the metadata', async () => {
  const r = rng(11);
  const special = Float32Array.from([NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38, -1.17549435e-38]);
  const shapes: number[][] = [[3, 5], [7], [], [2, 3, 4], [0, 3], [1, 1, 1, 9]];
  const host: Record<string, Float32Array> = {};
  const ts: Record<string, Tensor> = {};
  shapes.forEach((shape, i) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const v = Float32Array.from(randArray(r, n, -100, 100));
    if (i === 0) v.set(special);
    host[`blocks.${i}.attn.qkv.weight`] = v;
    ts[`blocks.${i}.attn.qkv.weight`] = tensor(v, { shape });
  });
  const bytes = await saveSafetensors(ts, { format: 'pt', note: 'ünïcode ✓' });
  const { tensors, metadata } = loadSafetensors(bytes);
  assert.equal(metadata, { format: 'pt', note: 'ünïcode ✓' });
  assert.equal(Object.keys(tensors).sort(), Object.keys(ts).sort());
  for (const [k, t] of Object.entries(tensors)) {
    assert.equal([...t.shape], [...ts[k]!.shape], `${k} shape`);
    assert.equal(bitsOf(await t.data()), bitsOf(host[k]!), `${k} values`);
    t.dispose();
    ts[k]!.dispose();
  }
});

test('the written file follows the format: u64 header length, 8-aligned data, contiguous sorted F32 ranges', () => {
  const bytes = encodeSafetensors({ b: { shape: [2], data: Float32Array.from([1, 2]) }, a: { shape: [1, 3], data: Float32Array.from([3, 4, 5]) } });
  const dv = new DataView(bytes.buffer);
  const n = dv.getUint32(0, true);
  assert.is(dv.getUint32(4, true), 0);
  assert.is((8 + n) % 8, 0, 'data area is 8-byte aligned');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.equal(header, {
    a: { dtype: 'F32', shape: [1, 3], data_offsets: [0, 12] },
    b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
  });
  assert.is(bytes.length, 8 + n + 20);
  assert.equal([...new Float32Array(bytes.slice(8 + n).buffer)], [3, 4, 5, 1, 2]);
});

// Independent f16 decoder by bit manipulation (the library's uses arithmetic).
function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  let exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  let bits: number;
  if (exp === 0x1f) bits = sign | 0x7f800000 | (mant << 13);
  else if (exp === 0) {
    if (mant === 0) bits = sign;
    else {
      // Normalise the subnormal: shift until the implicit bit appears.
      exp = 1;
      while ((mant & 0x400) === 0) { mant <<= 1; exp--; }
      bits = sign | ((exp - 15 + 127) << 23) | ((mant & 0x3ff) << 13);
    }
  } else bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}

test('F16 decodes exactly for all 65,536 bit patterns (subnormals, ±0, ±inf, NaN)', () => {
  const all = new Uint8Array(65536 * 2);
  const dv = new DataView(all.buffer);
  for (let h = 0; h < 65536; h++) dv.setUint16(2 * h, h, true);
  const { tensors } = decodeSafetensors(rawFile({ h: { dtype: 'F16', shape: [65536], data_offsets: [0, all.length] } }, all));
  const got = tensors.h!.data;
  for (let h = 0; h < 65536; h++) {
    const want = f16BitsToF32(h);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got[h]!), `f16 0x${h.toString(16)} should be NaN`);
    else assert.ok(Object.is(got[h], want), `f16 0x${h.toString(16)}: got ${got[h]} expected ${want}`);
  }
  // Known values, stated independently.
  const known: [number, number][] = [[0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x3c00, 1], [0xc000, -2],
    [0x7bff, 65504], [0x7c00, Infinity], [0xfc00, -Infinity], [0x8000, -0], [0x3555, 0.333251953125]];
  for (const [h, v] of known) assert.ok(Object.is(got[h], v), `f16 0x${h.toString(16)} = ${v}, got ${got[h]}`);
});

test('BF16 decodes as the top half of an f32 (f32 subnormals, inf and NaN included), through the GPU too', async () => {
  const cases: [number, number][] = [[0x3f80, 1], [0xc040, -3], [0x4049, 3.140625], [0x0001, 2 ** -133], [0x8000, -0],
    [0x7f80, Infinity], [0xff80, -Infinity], [0x7fc0, NaN], [0x7f7f, 3.3895313892515355e38]];
  const data = new Uint8Array(cases.length * 2);
  cases.forEach(([b], i) => new DataView(data.buffer).setUint16(2 * i, b, true));
  const file = rawFile({ w: { dtype: 'BF16', shape: [cases.length], data_offsets: [0, data.length] } }, data);
  const { tensors } = loadSafetensors(file);
  const got = await tensors.w!.data();
  tensors.w!.dispose();
  cases.forEach(([b, v], i) => assert.ok(Number.isNaN(v) ? Number.isNaN(got[i]!) : Object.is(got[i], v), `bf16 0x${b.toString(16)}: got ${got[i]} expected ${v}`));
});

test('F64, I64, I32, U8 and BOOL tensors are read and converted to f32; an unaligned F32 range reads correctly', () => {
  const parts: [string, string, number[], Uint8Array][] = [];
  const f64 = new Float64Array([Math.PI, -1e-300, 1e300]);
  parts.push(['d', 'F64', [3], new Uint8Array(f64.buffer)]);
  const i64 = new BigInt64Array([-5n, 1n << 40n]);
  parts.push(['l', 'I64', [2], new Uint8Array(i64.buffer)]);
  parts.push(['i', 'I32', [2], new Uint8Array(new Int32Array([-7, 123456]).buffer)]);
  parts.push(['u', 'U8', [3], Uint8Array.from([0, 200, 255])]);
  parts.push(['b', 'BOOL', [2], Uint8Array.from([0, 1])]);
  parts.push(['f', 'F32', [2], new Uint8Array(new Float32Array([1.5, -2.25]).buffer)]); // starts at an odd offset
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [k, dtype, shape, b] of parts) {
    header[k] = { dtype, shape, data_offsets: [off, off + b.length] };
    off += b.length;
  }
  const data = new Uint8Array(off);
  off = 0;
  for (const [, , , b] of parts) { data.set(b, off); off += b.length; }
  const { tensors } = decodeSafetensors(rawFile(header, data));
  assert.equal([...tensors.d!.data], [...Float32Array.from(f64)]);
  assert.equal([...tensors.l!.data], [-5, 2 ** 40]);
  assert.equal([...tensors.i!.data], [-7, 123456]);
  assert.equal([...tensors.u!.data], [0, 200, 255]);
  assert.equal([...tensors.b!.data], [0, 1]);
  assert.equal([...tensors.f!.data], [1.5, -2.25]);
});

/** Expects a SafetensorsError whose message contains every fragment. */
function rejects(bytes: Uint8Array, ...fragments: string[]): void {
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    assert.instance(e, SafetensorsError, `expected a SafetensorsError, got ${e}`);
    for (const f of fragments) assert.ok((e as Error).message.includes(f), `message "${(e as Error).message}" should mention "${f}"`);
    return;
  }
  assert.unreachable(`file should have been rejected (${fragments.join(', ')})`);
}

test('each kind of invalid file is rejected with an error naming the tensor and the problem', () => {
  const d16 = new Uint8Array(16);
  const e = (dtype: string, shape: unknown, offs: unknown) => ({ dtype, shape, data_offsets: offs });
  rejects(new Uint8Array(5), 'too short');
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(4, 1, true); // 2^32
  rejects(huge, 'header length', 'limit');
  const past = new Uint8Array(16);
  new DataView(past.buffer).setUint32(0, 100, true);
  rejects(past, 'header length 100', 'past the end');
  rejects(rawFile(null, d16, '{"a": '), 'not valid JSON');
  rejects(rawFile(null, d16, '[1, 2]'), 'JSON object', 'array');
  rejects(rawFile(null, d16, '"x"'), 'JSON object');
  rejects(rawFile({ w: e('F33', [4], [0, 16]) }, d16), '"w"', 'unknown dtype "F33"');
  rejects(rawFile({ w: e('F32', [4, -1], [0, 16]) }, d16), '"w"', 'shape');
  rejects(rawFile({ w: e('F32', [4], [0]) }, d16), '"w"', 'data_offsets');
  rejects(rawFile({ w: e('F32', [4], [8, 4]) }, d16), '"w"', 'begin after end');
  rejects(rawFile({ w: e('F32', [4], [0, 20]) }, d16), '"w"', 'past the data area');
  rejects(rawFile({ w: e('F32', [3], [0, 16]) }, d16), '"w"', 'needs 12 bytes', 'hold 16');
  rejects(rawFile({ w: e('F32', [2 ** 40, 2 ** 40], [0, 16]) }, d16), '"w"', 'more than the 16 bytes');
  rejects(rawFile({ a: e('F32', [3], [0, 12]), b: e('F32', [2], [8, 16]) }, d16), '"b"', 'overlap', '"a"');
  rejects(rawFile({ w: { shape: [4], data_offsets: [0, 16] } }, d16), '"w"', 'dtype');
  rejects(rawFile({ w: 5 }, d16), '"w"', 'entry must be an object');
  rejects(rawFile({ __metadata__: { a: 1 } }, d16), '__metadata__', 'string');
  rejects(rawFile({ w: e('F8_E4M3', [16], [0, 16]) }, d16), '"w"', 'not supported');
  const badUtf8 = rawFile(null, d16, '{"w":1}');
  badUtf8[10] = 0xff;
  rejects(badUtf8, 'UTF-8');
  // Gaps between ranges and zero-size tensors are fine.
  const ok = decodeSafetensors(rawFile({ a: e('F32', [1], [0, 4]), z: e('F32', [0, 7], [4, 4]), b: e('F32', [1], [12, 16]) }, d16));
  assert.equal(ok.tensors.z!.shape, [0, 7]);
});

test('1,000 random corruptions of a valid file each load consistently or throw a SafetensorsError', () => {
  const r = rng(2024);
  const rand = (n: number) => Math.floor(r() * n);
  const valid = encodeSafetensors({
    'patch_embed.proj.weight': { shape: [4, 3, 2, 2], data: Float32Array.from(randArray(r, 48)) },
    'blocks.0.norm1.weight': { shape: [4], data: Float32Array.from(randArray(r, 4)) },
    cls_token: { shape: [1, 1, 4], data: Float32Array.from(randArray(r, 4)) },
    empty: { shape: [0], data: new Float32Array(0) },
  }, { step: '10' });
  const headerEnd = 8 + new DataView(valid.buffer).getUint32(0, true);
  const headerText = new TextDecoder().decode(valid.subarray(8, headerEnd));
  const withHeader = (text: string) => {
    const data = valid.subarray(headerEnd);
    return rawFile(null, data, text);
  };
  const randomNumber = () => [0, 1, 4, 16, 48, 63, 64, 191, 192, 256, -1, 2 ** 31, 2 ** 53, 1e300, 0.5][rand(15)]! + (r() < 0.3 ? rand(9) - 4 : 0);
  const kinds: Record<string, () => Uint8Array> = {
    truncate: () => valid.slice(0, rand(valid.length)),
    flipLengthByte: () => { const b = valid.slice(); b[rand(8)]! ^= 1 << rand(8); return b; },
    randomLengthByte: () => { const b = valid.slice(); b[rand(8)] = rand(256); return b; },
    flipJsonByte: () => { const b = valid.slice(); b[8 + rand(headerEnd - 8)]! ^= 1 << rand(8); return b; },
    deleteJsonChar: () => { const i = rand(headerText.length); return withHeader(headerText.slice(0, i) + headerText.slice(i + 1)); },
    editOffsets: () => withHeader(headerText.replace(/"data_offsets":\[(\d+),(\d+)\]/g, (m, a, b) => (r() < 0.5 ? m : `"data_offsets":[${r() < 0.5 ? randomNumber() : a},${r() < 0.5 ? randomNumber() : b}]`))),
    editShape: () => withHeader(headerText.replace(/"shape":\[([\d,]*)\]/g, (m) => (r() < 0.5 ? m : `"shape":[${Array.from({ length: rand(4) }, randomNumber).join(',')}]`))),
    editDtype: () => withHeader(headerText.replace(/"F32"/g, (m) => (r() < 0.5 ? m : JSON.stringify(['F16', 'BF16', 'F64', 'I8', 'BOOL', 'f32', '', 'U64', 'F8_E5M2'][rand(9)])))),
    editMetadata: () => withHeader(headerText.replace('"10"', ['10', 'null', '{}', '"x"', '[]'][rand(5)]!)),
    flipDataByte: () => { const b = valid.slice(); b[headerEnd + rand(valid.length - headerEnd)]! ^= 0xff; return b; },
    appendBytes: () => { const b = new Uint8Array(valid.length + 1 + rand(40)); b.set(valid); return b; },
    garbage: () => Uint8Array.from({ length: rand(300) }, () => rand(256)),
    garbageAfterSmallLength: () => { const b = Uint8Array.from({ length: 8 + rand(200) }, () => rand(256)); new DataView(b.buffer).setUint32(0, rand(b.length), true); new DataView(b.buffer).setUint32(4, 0, true); return b; },
  };
  const names = Object.keys(kinds);
  const tally: Record<string, { ok: number; rejected: number }> = {};
  for (let i = 0; i < 1000; i++) {
    const kind = names[i % names.length]!;
    const bytes = kinds[kind]!();
    tally[kind] ??= { ok: 0, rejected: 0 };
    try {
      const { tensors, metadata } = decodeSafetensors(bytes);
      // Loaded: it must be self-consistent.
      for (const [k, t] of Object.entries(tensors)) {
        assert.is(t.data.length, t.shape.reduce((p, d) => p * d, 1), `${kind}: ${k} data length matches its shape`);
      }
      for (const v of Object.values(metadata)) assert.type(v, 'string');
      tally[kind]!.ok++;
    } catch (e) {
      if (!(e instanceof SafetensorsError)) {
        assert.unreachable(`corruption #${i} (${kind}) threw ${(e as Error)?.name}: ${(e as Error)?.message ?? e}`);
        return;
      }
      assert.ok(/^safetensors: .{10,}/.test(e.message), `corruption #${i} (${kind}): message too vague: ${e.message}`);
      tally[kind]!.rejected++;
    }
  }
  // The fuzzer must actually exercise both outcomes, and reject what is clearly broken.
  assert.is(tally.garbage!.ok, 0);
  assert.is(tally.truncate!.ok, 0);
  assert.ok(tally.editOffsets!.rejected > 10 && tally.editShape!.rejected > 10, JSON.stringify(tally));
  assert.is(tally.flipDataByte!.rejected, 0, 'flipping data bytes keeps a valid file');
});

test('a header claiming a huge tensor is rejected before anything is allocated', () => {
  const bytes = rawFile({ w: { dtype: 'F32', shape: [1e15], data_offsets: [0, 4e15] } }, new Uint8Array(8));
  const before = process.memoryUsage().arrayBuffers;
  rejects(bytes, '"w"', 'past the data area');
  assert.ok(process.memoryUsage().arrayBuffers - before < 1e7);
  assert.throws(() => parseSafetensorsHeader(bytes), /past the data area/);
});

test('files: save writes atomically (no temp file left, old file replaced whole), load reads it back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webfam-st-'));
  try {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'old contents');
    const w = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([0.5, -0.5]);
    await saveSafetensorsFile(path, { 'head.weight': w, 'head.bias': b }, { epoch: '3' });
    assert.equal(await readdir(dir), ['model.safetensors']);
    const onDisk = new Uint8Array(await readFile(path));
    assert.equal(parseSafetensorsHeader(onDisk).entries.map((e) => e.name), ['head.bias', 'head.weight']);
    const { tensors, metadata } = await loadSafetensorsFile(path);
    assert.equal(metadata, { epoch: '3' });
    assert.equal(await tensors['head.weight']!.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.equal([...(await tensors['head.bias']!.data())], [0.5, -0.5]);
    // A write that cannot happen fails clearly and leaves nothing behind.
    const bad = join(dir, 'no-such-dir', 'x.safetensors');
    try {
      await saveSafetensorsFile(bad, { w });
      assert.unreachable('should fail');
    } catch (e) {
      assert.instance(e, SafetensorsError);
      assert.ok((e as Error).message.includes('no-such-dir'));
    }
    assert.equal(await readdir(dir), ['model.safetensors']);
    // A corrupt file on disk names the path.
    await writeFile(join(dir, 'bad.safetensors'), new Uint8Array(3));
    try {
      await loadSafetensorsFile(join(dir, 'bad.safetensors'));
      assert.unreachable('should fail');
    } catch (e) {
      assert.ok((e as Error).message.includes('bad.safetensors') && (e as Error).message.includes('too short'), (e as Error).message);
    }
    for (const t of [w, b, ...Object.values(tensors)]) t.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a fetch Response streams in chunks with progress and loads the same tensors', async () => {
  const w = tensor(Float32Array.from({ length: 1000 }, (_, i) => i / 7), { shape: [10, 100] });
  const bytes = await saveSafetensors({ w });
  const chunks = [bytes.slice(0, 100), bytes.slice(100, 2000), bytes.slice(2000)];
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
  const res = new Response(stream, { headers: { 'content-length': String(bytes.length) } });
  const progress: [number, number | undefined][] = [];
  const { tensors } = await loadSafetensorsResponse(res, { onProgress: (l, t) => progress.push([l, t]) });
  assert.equal(progress, [[100, bytes.length], [2000, bytes.length], [bytes.length, bytes.length]]);
  assert.equal(bitsOf(await tensors.w!.data()), bitsOf(await w.data()));
  const notFound = new Response('nope', { status: 404, statusText: 'Not Found' });
  try {
    await loadSafetensorsResponse(notFound);
    assert.unreachable('should fail');
  } catch (e) {
    assert.ok((e as Error).message.includes('404'));
  }
  w.dispose();
  tensors.w!.dispose();
});

test.run();
