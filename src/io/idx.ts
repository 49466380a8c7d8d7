// The IDX format of MNIST and Fashion-MNIST: two zero bytes, a type byte, a dimension count, one
// big-endian uint32 per dimension, then the values, big-endian, row-major. Parsed and validated
// like safetensors (every length checked before anything is allocated); gzip-compressed files
// (.gz, as Debian ships them) are inflated with a size bound. Pure TS apart from readIdxFile.
import { nodeModule } from './node.js';

/** A malformed or unreadable IDX file. */
export class IdxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxError';
  }
}

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray<T extends IdxData = IdxData> {
  /** Type name: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64'. */
  dtype: IdxDtype;
  shape: number[];
  /** Row-major values in host byte order. */
  data: T;
}

const TYPES = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
} as const;
export type IdxDtype = (typeof TYPES)[keyof typeof TYPES]['dtype'];

/** Largest decoded file accepted by default: Fashion-MNIST's biggest is 47 MB. */
export const IDX_MAX_BYTES = 64 * 2 ** 20;
const MAX_DIMS = 16;

function fail(where: string, message: string): never {
  throw new IdxError(`${where}: ${message}`);
}

/** Parses IDX bytes (not compressed). `where` names the source in errors. */
export function parseIdx(bytes: Uint8Array, where = 'IDX'): IdxArray {
  if (bytes.length < 4) fail(where, `${bytes.length} bytes is too short for an IDX header (4 bytes + 4 per dimension)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (it is gzip-compressed: use readIdx / readIdxFile, which inflate it)' : '';
    fail(where, `not an IDX file: the first two bytes must be zero, got 0x${hex(bytes[0]!)} 0x${hex(bytes[1]!)}${gz}`);
  }
  const type = TYPES[bytes[2] as keyof typeof TYPES];
  if (!type) fail(where, `unknown IDX type byte 0x${hex(bytes[2]!)} (known: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)`);
  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > MAX_DIMS) fail(where, `dimension count ${ndims} outside 1..${MAX_DIMS}`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) fail(where, `truncated header: ${ndims} dimensions need ${headerBytes} bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    shape.push(n);
    count *= n; // exact: stays far below 2^53 until it exceeds the file length checked next
    if (count * type.bytes > bytes.length) break;
  }
  const expected = headerBytes + count * type.bytes;
  if (shape.length < ndims || expected > bytes.length) {
    fail(where, `truncated: a ${type.dtype} array of shape [${shape.join(', ')}${shape.length < ndims ? ', …' : ''}] needs ${shape.length < ndims ? 'more than ' : ''}${expected} bytes, the file has ${bytes.length}`);
  }
  if (expected < bytes.length) fail(where, `${bytes.length - expected} bytes after the end of the [${shape.join(', ')}] ${type.dtype} array`);
  const body = bytes.subarray(headerBytes, expected);
  return { dtype: type.dtype, shape, data: decodeBody(type.dtype, body, count, view, headerBytes) };
}

function decodeBody(dtype: IdxDtype, body: Uint8Array, count: number, view: DataView, at: number): IdxData {
  switch (dtype) {
    case 'uint8': return body.slice();
    case 'int8': return new Int8Array(body.slice().buffer);
    case 'int16': return Int16Array.from({ length: count }, (_, i) => view.getInt16(at + 2 * i, false));
    case 'int32': return Int32Array.from({ length: count }, (_, i) => view.getInt32(at + 4 * i, false));
    case 'float32': return Float32Array.from({ length: count }, (_, i) => view.getFloat32(at + 4 * i, false));
    case 'float64': return Float64Array.from({ length: count }, (_, i) => view.getFloat64(at + 8 * i, false));
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}

/** Inflates gzip bytes with the platform's DecompressionStream (Node ≥ 18 and browsers), up to maxBytes. */
export async function gunzip(bytes: Uint8Array, where = 'gzip', maxBytes = IDX_MAX_BYTES): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        fail(where, `inflates to more than ${maxBytes} bytes (the limit; pass maxBytes to raise it)`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof IdxError) throw e;
    fail(where, `corrupt gzip data (${(e as Error).message})`);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Parses IDX bytes, inflating them first if they are gzip-compressed. */
export async function readIdx(bytes: Uint8Array, where = 'IDX', maxBytes = IDX_MAX_BYTES): Promise<IdxArray> {
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gz && bytes.length > maxBytes) fail(where, `${bytes.length} bytes is over the ${maxBytes}-byte limit`);
  return parseIdx(gz ? await gunzip(bytes, where, maxBytes) : bytes, where);
}

/** Fetches and parses an IDX file (optionally .gz) from a URL (browsers, and Node's fetch). */
export async function fetchIdx(url: string | URL, maxBytes = IDX_MAX_BYTES): Promise<IdxArray> {
  const res = await fetch(url);
  if (!res.ok) fail(String(url), `HTTP ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (length > maxBytes) fail(String(url), `${length} bytes is over the ${maxBytes}-byte limit`);
  return readIdx(new Uint8Array(await res.arrayBuffer()), String(url), maxBytes);
}

/** Reads an IDX file (optionally .gz) from disk (Node). Only regular files, size checked first. */
export async function readIdxFile(path: string, maxBytes = IDX_MAX_BYTES): Promise<IdxArray> {
  const fs = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises', 'reading IDX files', 'in a browser fetch the bytes and call readIdx');
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (e) {
    fail(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`);
  }
  if (!stat.isFile()) fail(path, 'not a regular file');
  if (stat.size > maxBytes) fail(path, `${stat.size} bytes is over the ${maxBytes}-byte limit`);
  return readIdx(await fs.readFile(path), path, maxBytes);
}

/** Serialises an array as IDX (for tests and for writing subsets, e.g. the demo's sample objects). */
export function encodeIdx(arr: { dtype: IdxDtype; shape: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const entry = Object.entries(TYPES).find(([, t]) => t.dtype === arr.dtype);
  if (!entry) throw new IdxError(`encodeIdx: unknown dtype ${arr.dtype}`);
  const [code, t] = entry;
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length) throw new IdxError(`encodeIdx: shape [${arr.shape.join(', ')}] holds ${count} values, data has ${arr.data.length}`);
  const header = 4 + 4 * arr.shape.length;
  const out = new Uint8Array(header + count * t.bytes);
  const view = new DataView(out.buffer);
  out[2] = Number(code);
  out[3] = arr.shape.length;
  arr.shape.forEach((n, d) => view.setUint32(4 + 4 * d, n, false));
  for (let i = 0; i < count; i++) {
    const v = arr.data[i]!;
    const at = header + i * t.bytes;
    switch (t.dtype) {
      case 'uint8': view.setUint8(at, v); break;
      case 'int8': view.setInt8(at, v); break;
      case 'int16': view.setInt16(at, v, false); break;
      case 'int32': view.setInt32(at, v, false); break;
      case 'float32': view.setFloat32(at, v, false); break;
      case 'float64': view.setFloat64(at, v, false); break;
    }
  }
  return out;
}
