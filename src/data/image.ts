// Image files to [3,S,S] floats: JPEG/PNG decoding with sharp (Node), the crop geometry shared by
// images and their masks, an anti-aliased resampler for masks (pure TS), layout conversions.
import { decodePNG, PNGError, type RasterImage } from '../io/png.js';
import { nodeModule } from '../io/node.js';

/**
 * How a W×H picture becomes S×S:
 * - 'cover' (default): the largest centred square (shorter side), times `crop`, resized to S.
 * - 'stretch': the whole picture (times `crop` on each side, centred) resized to S×S, aspect
 *   ignored. The Waterbirds evaluation protocol (Sagawa et al.: resize to S·256/224, centre crop
 *   S) is `{ resize: 'stretch', crop: 224 / 256 }`.
 */
export interface ResizeOptions {
  resize?: 'cover' | 'stretch';
  /** Fraction of the (square or full) region kept, centred; default 1. */
  crop?: number;
}

export interface CropRect { left: number; top: number; width: number; height: number }

/** The integer source rectangle that maps onto the S×S output. */
export function cropRect(width: number, height: number, opts: ResizeOptions = {}): CropRect {
  const crop = opts.crop ?? 1;
  if (!(crop > 0 && crop <= 1)) throw new Error(`crop must lie in (0, 1], got ${crop}`);
  let w: number, h: number;
  if ((opts.resize ?? 'cover') === 'cover') w = h = Math.max(1, Math.round(Math.min(width, height) * crop));
  else { w = Math.max(1, Math.round(width * crop)); h = Math.max(1, Math.round(height * crop)); }
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** The same region in a picture of another size (a mask stored at a different resolution). */
export function scaleRect(r: CropRect, fromW: number, fromH: number, toW: number, toH: number): { x: number; y: number; w: number; h: number } {
  const sx = toW / fromW, sy = toH / fromH;
  return { x: r.left * sx, y: r.top * sy, w: r.width * sx, h: r.height * sy };
}

/**
 * Resamples region (x, y, w, h) of a one-channel sw×sh map to S×S with a triangle filter widened
 * by the reduction factor (anti-aliased when shrinking, bilinear when enlarging).
 */
export function resampleRegion(src: ArrayLike<number>, sw: number, sh: number, region: { x: number; y: number; w: number; h: number }, S: number): Float32Array {
  const horizontal = weights(region.x, region.w, sw, S);
  const vertical = weights(region.y, region.h, sh, S);
  const tmp = new Float32Array(sh * S);
  for (let yy = 0; yy < sh; yy++) {
    for (let ox = 0; ox < S; ox++) {
      const { start, w } = horizontal[ox]!;
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k]! * src[yy * sw + start + k]!;
      tmp[yy * S + ox] = acc;
    }
  }
  const out = new Float32Array(S * S);
  for (let oy = 0; oy < S; oy++) {
    const { start, w } = vertical[oy]!;
    for (let ox = 0; ox < S; ox++) {
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k]! * tmp[(start + k) * S + ox]!;
      out[oy * S + ox] = acc;
    }
  }
  return out;
}

function weights(offset: number, length: number, size: number, S: number): { start: number; w: Float32Array }[] {
  const scale = length / S;
  const support = Math.max(1, scale); // filter half-width in source pixels
  const taps: { start: number; w: Float32Array }[] = [];
  for (let o = 0; o < S; o++) {
    const centre = offset + (o + 0.5) * scale; // in source pixel units (pixel i spans [i, i+1))
    const lo = Math.max(0, Math.floor(centre - support - 0.5)), hi = Math.min(size - 1, Math.ceil(centre + support - 0.5));
    const w = new Float32Array(hi - lo + 1);
    let sum = 0;
    for (let i = lo; i <= hi; i++) {
      const v = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / support);
      w[i - lo] = v;
      sum += v;
    }
    if (sum === 0) {
      // The centre falls outside the picture: take the nearest edge pixel.
      const nearest = Math.min(size - 1, Math.max(0, Math.floor(centre)));
      taps.push({ start: nearest, w: Float32Array.of(1) });
      continue;
    }
    for (let k = 0; k < w.length; k++) w[k]! /= sum;
    taps.push({ start: lo, w });
  }
  return taps;
}

/** HWC bytes (3 channels) → [3,S,S] floats in [0,1]. */
export function hwcToCHW(hwc: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let k = 0; k < plane; k++) {
    out[k] = hwc[k * 3]! / 255;
    out[plane + k] = hwc[k * 3 + 1]! / 255;
    out[2 * plane + k] = hwc[k * 3 + 2]! / 255;
  }
  return out;
}

/** Object mask of a decoded mask picture: 1 where any colour channel is nonzero. */
export function maskValues(img: RasterImage): Float32Array {
  const colour = img.channels === 1 || img.channels === 2 ? 1 : 3;
  const out = new Float32Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) {
    for (let c = 0; c < colour; c++) if (img.data[i * img.channels + c]! > 0) { out[i] = 1; break; }
  }
  return out;
}

// ------------------------------------------------------------------ decoding (Node, sharp)

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/**
 * The most pixels an image or mask may have (2^25, about 33 megapixels: 8192 × 4096). Decoding
 * allocates memory in proportion to the pixel count the header claims, and a small compressed file
 * can claim a huge picture (a 389 KB PNG says 20000 × 20000), so the header is checked first.
 */
export const MAX_IMAGE_PIXELS = 2 ** 25;

function checkPixels(width: number, height: number, what: string): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageDecodeError(`${what} is ${width}×${height} = ${(width * height).toLocaleString('en-US')} pixels, over the limit of ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} (a decompression bomb?)`);
  }
}

type SharpFactory = (input: Uint8Array, opts?: { failOn?: string; limitInputPixels?: number | false }) => SharpPipeline;
interface SharpPipeline {
  metadata(): Promise<{ width?: number; height?: number; format?: string }>;
  removeAlpha(): SharpPipeline;
  toColourspace(space: string): SharpPipeline;
  extract(r: CropRect): SharpPipeline;
  resize(w: number, h: number, opts: { fit: string; kernel?: string }): SharpPipeline;
  raw(): SharpPipeline;
  toBuffer(opts: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
}

let sharpModule: Promise<SharpFactory> | null = null;

/** sharp, loaded on first use (through nodeModule, which keeps it out of the browser bundle). */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= (async () => {
    try {
      const mod = await nodeModule<{ default?: SharpFactory } & SharpFactory>('sharp', 'decoding JPEG/PNG files', '', (m) => new ImageDecodeError(m));
      return (mod.default ?? mod) as SharpFactory;
    } catch (e) {
      sharpModule = null;
      throw e;
    }
  })();
  return sharpModule;
}

// 'truncated' rejects cut-off files but accepts the benign warnings some real JPEGs carry.
const FAIL_ON = 'truncated';

/** Decodes a whole JPEG/PNG/WebP/... file to RGB bytes (HWC), failing on corrupt or truncated data. */
export async function decodeImage(bytes: Uint8Array): Promise<RasterImage> {
  const sharp = await loadSharp();
  await checkHeaderPixels(sharp, bytes);
  try {
    const { data, info } = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: MAX_IMAGE_PIXELS }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new ImageDecodeError(`cannot decode image: ${firstLine(e)}`);
  }
}

/**
 * The pixel limit, checked on the header before decoding so the message says what is wrong (a
 * header that cannot be read is left for the decoder to report).
 */
async function checkHeaderPixels(sharp: SharpFactory, bytes: Uint8Array): Promise<void> {
  let m: { width?: number; height?: number };
  try {
    m = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    return;
  }
  if (m.width && m.height) checkPixels(m.width, m.height, 'image');
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).split('\n')[0]!;
}

/** Width and height from the file header (no full decode). */
export async function imageSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const sharp = await loadSharp();
  try {
    // No pixel limit here: metadata() only reads the header, and checkPixels says what is wrong.
    const m = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
    if (!m.width || !m.height) throw new Error('no image size in the header');
    checkPixels(m.width, m.height, 'image');
    return { width: m.width, height: m.height };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(`cannot read image header: ${firstLine(e)}`);
  }
}

/**
 * Decodes a file straight to S×S RGB (HWC bytes) with the crop geometry of `opts`; libvips does
 * the work on its own threads, so this overlaps with whatever the event loop does meanwhile.
 * Returns the crop rectangle too, so a mask can be cut the same way.
 */
export async function decodeResized(bytes: Uint8Array, S: number, opts: ResizeOptions = {}): Promise<{ data: Uint8Array; rect: CropRect; width: number; height: number }> {
  const sharp = await loadSharp();
  const { width, height } = await imageSize(bytes);
  const rect = cropRect(width, height, opts);
  try {
    const { data, info } = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: MAX_IMAGE_PIXELS }).removeAlpha().toColourspace('srgb').extract(rect)
      .resize(S, S, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
    if (info.width !== S || info.height !== S || info.channels !== 3) throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), rect, width, height };
  } catch (e) {
    throw new ImageDecodeError(`cannot decode image: ${firstLine(e)}`);
  }
}

/** Decodes a mask file: PNG with the built-in decoder, anything else with sharp. */
export async function decodeMask(bytes: Uint8Array): Promise<RasterImage> {
  const isPNG = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  if (isPNG) {
    // IHDR is always the first chunk: width and height are bytes 16-23 (big-endian).
    if (bytes.length >= 24) {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      checkPixels(dv.getUint32(16), dv.getUint32(20), 'mask');
    }
    try {
      return decodePNG(bytes);
    } catch (e) {
      throw new ImageDecodeError(`cannot decode mask: ${(e as PNGError).message}`);
    }
  }
  return decodeImage(bytes);
}

/** A mask cut with the image's crop rectangle and resampled to S×S, binary (1 = object). */
export function maskToSize(mask: RasterImage, rect: CropRect, imageW: number, imageH: number, S: number): Float32Array {
  const values = maskValues(mask);
  const region = scaleRect(rect, imageW, imageH, mask.width, mask.height);
  const soft = resampleRegion(values, mask.width, mask.height, region, S);
  for (let i = 0; i < soft.length; i++) soft[i] = soft[i]! >= 0.5 ? 1 : 0;
  return soft;
}
