// safetensors read/write: the weight format shared with PyTorch/timm. Host-side encode/decode
// (validated, no GPU), GPU-side save/load on top, and Node file / fetch Response entry points.
// Format: u64 LE header length N, N bytes of JSON header, then the raw little-endian data.
import { Tensor, tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { openRegularFile, writeFileAtomic } from './files.js';
import { nodeModule } from './node.js';

/** A tensor's values on the host, always f32 (other dtypes are converted on read). */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents<T> {
  tensors: Record<string, T>;
  /** The file's `__metadata__` (string to string); empty when absent. */
  metadata: Record<string, string>;
}

/** Bytes per element of every dtype the format knows; the readable ones have a decoder below. */
const DTYPE_SIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};
const READABLE = new Set(['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);

// Headers of real checkpoints are kilobytes; this cap (the Rust reference implementation's)
// stops a corrupt length from causing a huge allocation or a long JSON parse.
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

// ------------------------------------------------------------------ f16 / bf16

/** IEEE half-precision bits to a number (subnormals, inf and NaN included). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ------------------------------------------------------------------ header parsing

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range within the data area (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data area in the file (8 + header length). */
  dataStart: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads and validates the header of a safetensors file held in `bytes`: every entry's dtype,
 * shape and offsets, checked against the bytes actually present. Throws a SafetensorsError that
 * names the tensor and the problem; allocates nothing proportional to what the header claims.
 */
export function parseSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  return parseHeaderOf(bytes, bytes.byteLength);
}

/**
 * The header of a file of `fileSize` bytes whose first bytes (at least the length and the JSON
 * header) are in `bytes`; entries are checked against the data area the file size leaves.
 */
function parseHeaderOf(bytes: Uint8Array, fileSize: number): SafetensorsHeader {
  if (fileSize < 8) fail(`file is ${fileSize} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo; // exact while < 2^53; anything that large is rejected below
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`);
  if (headerLen > fileSize - 8) fail(`header length ${headerLen} runs past the end of the file (${fileSize} bytes)`);
  if (headerLen < 2) fail(`header length ${headerLen} is too short for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail('header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) fail(`header must be a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);

  const dataStart = 8 + headerLen;
  const dataBytes = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') fail(`__metadata__["${k}"] must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (!isObject(raw)) fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (typeof dtype !== 'string') fail(`${where}: missing or non-string dtype`);
    const elemSize = DTYPE_SIZE[dtype];
    if (elemSize === undefined) fail(`${where}: unknown dtype "${dtype}"`);
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] has begin after end`);
    if (end > dataBytes) fail(`${where}: data_offsets [${begin}, ${end}] run past the data area (${dataBytes} bytes)`);
    // The size claimed by the shape is checked against the bytes present before anything is
    // allocated; the product stops growing past the data size so shapes like [2^40, 2^40] cannot
    // overflow (every dimension is >= 1 once zeros are ruled out, so the product only grows).
    const dims = shape as number[];
    let bytesNeeded = dims.includes(0) ? 0 : elemSize;
    for (const d of dims) {
      if (bytesNeeded > dataBytes) break;
      bytesNeeded *= d;
    }
    if (bytesNeeded !== end - begin) {
      const need = bytesNeeded > dataBytes ? `more than the ${dataBytes} bytes of the data area` : `${bytesNeeded} bytes`;
      fail(`${where}: ${dtype} shape ${fmt(dims)} needs ${need} but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }
  // Overlapping ranges would alias two tensors' bytes: a corrupt or malicious file.
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!, cur = sorted[i]!;
    if (cur.begin < prev.end) {
      fail(`tensor "${cur.name}": data_offsets [${cur.begin}, ${cur.end}] overlap those of "${prev.name}" [${prev.begin}, ${prev.end}]`);
    }
  }
  return { entries, metadata, dataStart };
}

// ------------------------------------------------------------------ decoding

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Converts one entry's bytes to f32 values. */
function decodeEntry(bytes: Uint8Array, e: SafetensorsEntry, dataStart: number): Float32Array {
  if (!READABLE.has(e.dtype)) fail(`tensor "${e.name}": dtype ${e.dtype} is not supported for reading`);
  const start = bytes.byteOffset + dataStart + e.begin;
  const len = e.end - e.begin;
  const n = len / DTYPE_SIZE[e.dtype]!;
  if (e.dtype === 'F32' && littleEndian) {
    // slice() copies into a fresh, aligned buffer (the source offset may be unaligned).
    return new Float32Array(bytes.buffer.slice(start, start + len));
  }
  const dv = new DataView(bytes.buffer, start, len);
  const out = new Float32Array(n);
  switch (e.dtype) {
    case 'F32': for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true); break;
    case 'F64': for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); break;
    case 'F16': for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true)); break;
    case 'BF16': {
      // bf16 is the top half of an f32: shifting the bits back is exact.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      break;
    }
    case 'I64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true)); break;
    case 'U64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, true)); break;
    case 'I32': for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true); break;
    case 'U32': for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true); break;
    case 'I16': for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true); break;
    case 'U16': for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true); break;
    case 'I8': for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); break;
    case 'U8': for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); break;
    case 'BOOL': for (let i = 0; i < n; i++) out[i] = dv.getUint8(i) ? 1 : 0; break;
  }
  return out;
}

function asBytes(src: ArrayBuffer | Uint8Array): Uint8Array {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  fail(`expected an ArrayBuffer or Uint8Array, got ${Object.prototype.toString.call(src)}`);
}

/** Decodes a safetensors file on the host (every dtype converted to f32). */
export function decodeSafetensors(src: ArrayBuffer | Uint8Array): SafetensorsContents<HostTensor> {
  const bytes = asBytes(src);
  const header = parseSafetensorsHeader(bytes);
  const tensors: Record<string, HostTensor> = {};
  for (const e of header.entries) tensors[e.name] = { shape: e.shape, data: decodeEntry(bytes, e, header.dataStart) };
  return { tensors, metadata: header.metadata };
}

// ------------------------------------------------------------------ encoding

function checkMetadata(metadata: Record<string, string> | undefined): void {
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') fail(`metadata["${k}"] must be a string, got ${typeof v}`);
  }
}

/** Encodes host f32 tensors (sorted by name, so the same weights give the same bytes). */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata?: Record<string, string>): Uint8Array {
  checkMetadata(metadata);
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') fail('"__metadata__" is reserved and cannot name a tensor');
    const t = tensors[name]!;
    const n = t.shape.reduce((p, d) => p * d, 1);
    if (n !== t.data.length) fail(`tensor "${name}": shape ${fmt(t.shape)} holds ${n} values but ${t.data.length} were given`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data area starts 8-byte aligned (what the Rust writer does).
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    if (littleEndian) out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    else for (let i = 0; i < d.length; i++) dv.setFloat32(at + 4 * i, d[i]!, true);
    at += d.byteLength;
  }
  return out;
}

// ------------------------------------------------------------------ GPU tensors

/** Reads the tensors back from the GPU and encodes them as an F32 safetensors file. */
export async function saveSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  checkMetadata(metadata);
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) fail(`"${name}" is not a Tensor`);
    if (t.disposed) fail(`tensor "${name}" of shape ${fmt(t.shape)} was disposed`);
  }
  // Reads go out in groups, so a model's hundreds of tensors cost a few GPU round trips, not one each.
  const host: Record<string, HostTensor> = {};
  for (let i = 0; i < entries.length; i += 32) {
    const group = entries.slice(i, i + 32);
    const values = await Promise.all(group.map(([, t]) => t.data()));
    group.forEach(([name, t], j) => (host[name] = { shape: [...t.shape], data: values[j]! }));
  }
  return encodeSafetensors(host, metadata);
}

/** Decodes a safetensors file into GPU tensors (f32). Validates everything before uploading. */
export function loadSafetensors(src: ArrayBuffer | Uint8Array): SafetensorsContents<Tensor> {
  const bytes = asBytes(src);
  const header = parseSafetensorsHeader(bytes);
  for (const e of header.entries) {
    if (!READABLE.has(e.dtype)) fail(`tensor "${e.name}": dtype ${e.dtype} is not supported for reading`);
  }
  const tensors: Record<string, Tensor> = {};
  for (const e of header.entries) tensors[e.name] = tensor(decodeEntry(bytes, e, header.dataStart), { shape: e.shape });
  return { tensors, metadata: header.metadata };
}

export interface FetchOptions {
  /** Called as bytes arrive; `total` is undefined when the server sends no Content-Length. */
  onProgress?: (loaded: number, total: number | undefined) => void;
}

/** Reads a fetch `Response` (or fetches a URL) and loads the safetensors file it carries. */
export async function loadSafetensorsResponse(source: Response | string | URL, opts: FetchOptions = {}): Promise<SafetensorsContents<Tensor>> {
  const res = typeof source === 'string' || source instanceof URL ? await fetch(source) : source;
  if (!res.ok) fail(`fetching ${res.url || 'the file'} failed: HTTP ${res.status} ${res.statusText}`);
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    opts.onProgress?.(buf.byteLength, total ?? buf.byteLength);
    return loadSafetensors(buf);
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    opts.onProgress?.(loaded, total);
  }
  const all = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return loadSafetensors(all);
}

// ------------------------------------------------------------------ Node files

/** Fails with a clear message outside Node. */
function nodeOnly(): Promise<unknown> {
  return nodeModule('node:fs/promises', 'reading safetensors files', 'in a browser use loadSafetensors(arrayBuffer) or loadSafetensorsResponse(response)', (m) => new SafetensorsError(m));
}

/**
 * The largest safetensors file read from disk: 2 GiB holds 500 million f32 weights, several times
 * ViT-L. Files are read whole, so this bounds the memory a file can make a reader take.
 */
export const MAX_SAFETENSORS_FILE_BYTES = 2 * 2 ** 30;

/**
 * Reads a safetensors file from disk (Node) and checks its header, without uploading anything:
 * only a regular file of at most `maxBytes` is opened, and its header is read and validated
 * against the file's size before the rest is read, so a garbage or hostile file costs a few bytes.
 */
export async function readSafetensorsFile(path: string, opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
  await nodeOnly(); // the Node-only message, before anything else
  let opened;
  try {
    opened = await openRegularFile(path, { maxBytes: opts.maxBytes ?? MAX_SAFETENSORS_FILE_BYTES, what: 'file' });
  } catch (e) {
    fail((e as Error).message);
  }
  const { handle, size } = opened;
  try {
    const readAt = async (buf: Uint8Array, position: number) => {
      let at = 0;
      while (at < buf.length) {
        const { bytesRead } = await handle.read(buf, at, buf.length - at, position + at);
        if (bytesRead === 0) fail(`${path} ended after ${position + at} bytes while being read (was it being written?)`);
        at += bytesRead;
      }
    };
    // The 8-byte length and the JSON header first: parsing them against the size on disk
    // rejects a corrupt file before its bulk is read.
    const prefix = new Uint8Array(Math.min(size, 8));
    await readAt(prefix, 0);
    if (size >= 8) {
      const dv = new DataView(prefix.buffer);
      const headerLen = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
      if (headerLen <= MAX_HEADER_BYTES && headerLen <= size - 8) {
        const head = new Uint8Array(8 + headerLen);
        head.set(prefix);
        await readAt(head.subarray(8), 8);
        parseHeaderOf(head, size);
      }
    }
    const bytes = new Uint8Array(size);
    await readAt(bytes, 0);
    return bytes;
  } catch (e) {
    if (e instanceof SafetensorsError) {
      e.message = `${e.message} (in ${path})`;
      throw e;
    }
    fail(`cannot read ${path}: ${(e as Error).message}`);
  } finally {
    await handle.close();
  }
}

/** Loads a safetensors file from disk (Node); see readSafetensorsFile for the checks. */
export async function loadSafetensorsFile(path: string): Promise<SafetensorsContents<Tensor>> {
  const bytes = await readSafetensorsFile(path);
  try {
    return loadSafetensors(bytes);
  } catch (e) {
    (e as Error).message = `${(e as Error).message} (in ${path})`;
    throw e;
  }
}

/**
 * Saves tensors to a safetensors file (Node). Writes a temporary file next to `path`, flushes it
 * and renames it over `path`, so an existing file is never left half-written.
 */
export async function saveSafetensorsFile(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = await saveSafetensors(tensors, metadata);
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    fail((e as Error).message);
  }
}
