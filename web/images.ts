// Pictures for the page: user files decoded to RGB (PNGs by webfam's own decoder, so the pixels are
// exactly the ones Node reads; other formats by the browser), centre-cropped and resampled to the
// model's input size, and the benchmark's own test images, composed in the page, one group at a time.
import { data } from '../src/index.js';

type RasterImage = data.RasterImage;

/** An image ready for a model: [3, S, S] floats in [0, 1], plus where it came from. */
export interface ModelImage {
  chw: Float32Array;
  size: number;
  source: string;
  /** The benchmark's group for generated samples (label, place). */
  group?: { label: number; place: number; name: string };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Any channel layout decodePNG returns, as 3-channel RGB (alpha ignored). */
function toRGB(img: RasterImage): RasterImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = img.data[i * img.channels + (img.channels >= 3 ? c : 0)]!;
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** Decodes an image file: PNG in TS, anything else the browser can decode through a canvas. */
export async function decodeImageFile(file: Blob): Promise<RasterImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return toRGB(data.decodePNG(bytes));
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`the browser cannot decode this file as an image (${file.type || 'unknown type'})`);
  }
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) rgb.set(rgba.subarray(i, i + 3), j);
  return { width: canvas.width, height: canvas.height, channels: 3, data: rgb };
}

/** The largest centred square, resampled (anti-aliased) to S×S: [3, S, S] in [0, 1]. */
export function toModelInput(img: RasterImage, S: number): Float32Array {
  if (img.width === S && img.height === S) return data.hwcToCHW(img.data, S, S);
  const rect = data.cropRect(img.width, img.height, { resize: 'cover' });
  const region = { x: rect.left, y: rect.top, w: rect.width, h: rect.height };
  const out = new Float32Array(3 * S * S);
  const plane = new Float32Array(img.width * img.height);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane.length; i++) plane[i] = img.data[3 * i + c]! / 255;
    out.set(data.resampleRegion(plane, img.width, img.height, region, S), c * S * S);
  }
  return out;
}

/** The demo's share of the benchmark: a split's first objects, in sample order (web/data/, see its README). */
export function fetchDemoObjects(split: 'train' | 'val' | 'test'): Promise<data.SampleObjects> {
  const url = (kind: string) => new URL(`data/fashion-${split}-${kind}.idx.gz`, location.href);
  return data.fetchSampleObjects(url('images'), url('labels'));
}

/** Cycles through the benchmark's test images of each group. */
export class BenchmarkSamples {
  private readonly byGroup: number[][];
  private readonly next: number[];
  private readonly ds: data.FashionBenchmark;

  constructor(objects: data.SampleObjects, readonly imageSize: number) {
    // train.js's test split (data seed 0): these are its first test images, held out from training.
    this.ds = data.fashionBenchmark({ split: 'test', source: objects, size: objects.inSampleOrder.count, imageSize, seed: 0 });
    this.byGroup = this.ds.groupNames.map(() => []);
    for (let i = 0; i < this.ds.length; i++) {
      const { label, place } = this.ds.labelOf(i);
      this.byGroup[label * this.ds.numPlaces + place]!.push(i);
    }
    this.next = this.byGroup.map(() => 0);
  }

  get groupNames(): readonly string[] {
    return this.ds.groupNames;
  }

  /** The next image of group g (label · places + place). */
  take(g: number): ModelImage {
    const list = this.byGroup[g]!;
    const i = list[this.next[g]! % list.length]!;
    this.next[g]!++;
    const s = this.ds.get(i);
    return { chw: s.image, size: this.imageSize, source: `test image #${i}`, group: { label: s.label, place: s.place, name: this.ds.groupNames[g]! } };
  }
}
