// The default benchmark: real objects on spuriously correlated backgrounds, the Waterbirds recipe
// with Fashion-MNIST garments in place of bird photos. Each 28×28 object is tinted with a random
// colour (the same distribution for every class, so colour says nothing about the class), scaled
// and placed at random over a procedural land or water background; its silhouette is the exact
// ground-truth mask. In training the place agrees with the class in `agreement` of the images;
// val and test have the four groups balanced; test objects come from Fashion-MNIST's own test
// set. Composition is pure TS over a counter-based RNG, so Node and browsers make the same pixels.
// With more than two classes the same composition makes a pretraining set, the background
// independent of the class (bench/backbones/ holds a backbone pretrained on one).
import { encodeIdx, fetchIdx, readIdxFile, IdxError, type IdxArray } from '../io/idx.js';
import { nodeModule } from '../io/node.js';
import { backgroundColour, hsv, PLACES, randomBackground, type Background, type RGB } from './backgrounds.js';
import { assembleBatch, correlatedGroup, groupNamesOf, type Batch, type ImageDataset, type NormalizeOption, type Sample } from './dataset.js';
import { streamFor, uniform, permutation } from './random.js';

/** Fashion-MNIST's ten classes, by label (names as the CLI's --classes takes them). */
export const FASHION_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'] as const;
export type FashionClass = (typeof FASHION_CLASSES)[number];
/** Where Debian's `dataset-fashion-mnist` package puts the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Side of a Fashion-MNIST image. */
export const OBJECT_SIDE = 28;

export type FashionSplit = 'train' | 'val' | 'test';
const SPLIT_ID: Record<FashionSplit, number> = { train: 0, val: 1, test: 2 };
export const FASHION_DEFAULT_CLASSES: readonly [FashionClass, FashionClass] = ['sneaker', 'ankle-boot'];
export const FASHION_DEFAULT_SIZES: Readonly<Record<FashionSplit, number>> = { train: 2048, val: 400, test: 1000 };

/** Grey objects (light on black, as in MNIST) with their labels. */
export interface ObjectImages {
  count: number;
  /** count × 28 × 28 bytes, row-major. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Fashion-MNIST's two sets: `train` feeds the train and val splits, `test` the test split. */
export interface FashionMnist {
  train: ObjectImages;
  test: ObjectImages;
}

/** Pairs an images IDX ([n, 28, 28] uint8) with a labels IDX ([n] uint8 < 10), checking both. */
export function objectImagesFromIdx(images: IdxArray, labels: IdxArray, where: string): ObjectImages {
  const [n, h, w] = images.shape;
  if (images.dtype !== 'uint8' || images.shape.length !== 3 || h !== OBJECT_SIDE || w !== OBJECT_SIDE) {
    throw new IdxError(`${where}: images must be a uint8 array of shape [n, 28, 28], got ${images.dtype} [${images.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new IdxError(`${where}: labels must be a uint8 array of shape [${n}] to match the images, got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const bad = (labels.data as Uint8Array).findIndex((y) => y >= FASHION_CLASSES.length);
  if (bad >= 0) throw new IdxError(`${where}: label ${labels.data[bad]} of image ${bad} is not a Fashion-MNIST class (0–9)`);
  return { count: n!, pixels: images.data as Uint8Array, labels: labels.data as Uint8Array };
}

const FILES = { train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'], test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] } as const;

/** How to get the data, for error messages. */
export const FASHION_INSTALL_HINT =
  'install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; `npm run setup` does it), or pass --fashion-dir DIR ' +
  'with the four IDX files (train-images-idx3-ubyte[.gz], ...) from github.com/zalandoresearch/fashion-mnist, ' +
  'or pick the embedded benchmark with --benchmark synthetic (no download)';

/** Reads Fashion-MNIST from a folder of IDX files, gzip-compressed (.gz) or not (Node). */
export async function loadFashionMnist(dir = FASHION_MNIST_DIR): Promise<FashionMnist> {
  const fs = await nodeModule<typeof import('node:fs')>('node:fs', 'reading Fashion-MNIST from disk', 'in a browser use fetchFashionMnist');
  const path = await nodeModule<typeof import('node:path')>('node:path', 'reading Fashion-MNIST from disk');
  const find = (base: string) => {
    for (const name of [base, `${base}.gz`]) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
    throw new IdxError(`Fashion-MNIST: ${path.join(dir, base)}[.gz] not found; ${FASHION_INSTALL_HINT}`);
  };
  const load = async (set: 'train' | 'test') => {
    const [img, lab] = FILES[set].map(find) as [string, string];
    return objectImagesFromIdx(await readIdxFile(img), await readIdxFile(lab), dir);
  };
  const [train, test] = await Promise.all([load('train'), load('test')]);
  return { train, test };
}

/** Fetches Fashion-MNIST's IDX files from `baseUrl` (a folder URL; `.gz` names by default). */
export async function fetchFashionMnist(baseUrl: string, opts: { suffix?: string } = {}): Promise<FashionMnist> {
  const suffix = opts.suffix ?? '.gz';
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const load = async (set: 'train' | 'test') => {
    const [img, lab] = await Promise.all(FILES[set].map((name) => fetchIdx(`${base}${name}${suffix}`)));
    return objectImagesFromIdx(img!, lab!, base);
  };
  const [train, test] = await Promise.all([load('train'), load('test')]);
  return { train, test };
}

/** Fetches sample-order objects written by encodeObjects (e.g. the demo page's `data/fashion-test-*.idx.gz`). */
export async function fetchSampleObjects(imagesUrl: string | URL, labelsUrl: string | URL): Promise<SampleObjects> {
  const [images, labels] = await Promise.all([fetchIdx(imagesUrl), fetchIdx(labelsUrl)]);
  return { inSampleOrder: objectImagesFromIdx(images, labels, String(imagesUrl)) };
}

// ------------------------------------------------------------------ one image

/** Everything random about one composed image, in resolution-free units (the image is [0,1]²). */
export interface FashionScene {
  label: number;
  place: number;
  /** Top-left corner and side of the object's 28×28 box, as fractions of the image side. */
  x0: number;
  y0: number;
  side: number;
  /** The object's tint: its grey levels shade this colour. */
  colour: RGB;
  background: Background;
  /** Key of the per-pixel grain noise stream. */
  noiseKey: number;
}

/**
 * The object's 28×28 box: its side is drawn from OBJECT_SCALE (a fraction of the image side) and
 * its centre lies within OBJECT_JITTER of the free margin from the image centre. Objects this
 * large and roughly centred, like the cropped birds of Waterbirds, are what a from-scratch ViT can
 * learn in a few hundred steps (measured: scale 0.6–0.85 anywhere in the image reached 70–75%
 * balanced accuracy in the same budget, these settings 89%; bench/results/benchmark-*.md).
 */
export const OBJECT_SCALE: readonly [number, number] = [0.75, 0.9];
export const OBJECT_JITTER = 0.25;

/**
 * Class and place of sample i. Two classes: the benchmark's correlated groups (label i mod 2, the
 * place agreeing with it with probability `agreement`). More classes (the pretraining set, see
 * FashionBenchmarkOptions.classes): label i mod K and a place independent of it, each (class,
 * place) group exactly balanced.
 */
export function fashionGroup(seed: number, split: FashionSplit, i: number, agreement: number, numClasses = 2): { label: number; place: number } {
  if (numClasses === 2) return correlatedGroup(seed, SPLIT_ID[split], i, agreement);
  return { label: i % numClasses, place: Math.floor(i / numClasses) & 1 };
}

/** Draws the scene of sample i; depends only on (seed, split, i), the agreement and the number of classes. */
export function fashionScene(seed: number, split: FashionSplit, i: number, agreement: number, numClasses = 2): FashionScene {
  const { label, place } = fashionGroup(seed, split, i, agreement, numClasses);
  const r = streamFor(seed, SPLIT_ID[split], i, 3);
  const side = uniform(r, OBJECT_SCALE[0], OBJECT_SCALE[1]);
  const margin = (1 - side) / 2;
  const x0 = margin + OBJECT_JITTER * uniform(r, -margin, margin);
  const y0 = margin + OBJECT_JITTER * uniform(r, -margin, margin);
  const colour = hsv(r(), uniform(r, 0.4, 0.9), uniform(r, 0.75, 1));
  const background = randomBackground(r, place);
  const noiseKey = (r() * 4294967296) >>> 0;
  return { label, place, x0, y0, side, colour, background, noiseKey };
}

/** Grey levels at or below this count as the black around a Fashion-MNIST object. */
const SILHOUETTE_THRESHOLD = 10;

/**
 * The object's silhouette: every pixel except the near-black ones connected to the image border
 * (so dark details inside the object, which the eye reads as object, stay in it).
 */
export function silhouette(pixels: Uint8Array): Uint8Array {
  const n = OBJECT_SIDE;
  const outside = new Uint8Array(n * n);
  const stack: number[] = [];
  const visit = (x: number, y: number) => {
    const k = y * n + x;
    if (outside[k] || pixels[k]! > SILHOUETTE_THRESHOLD) return;
    outside[k] = 1;
    stack.push(k);
  };
  for (let t = 0; t < n; t++) { visit(t, 0); visit(t, n - 1); visit(0, t); visit(n - 1, t); }
  while (stack.length) {
    const k = stack.pop()!;
    const x = k % n, y = (k - x) / n;
    if (x > 0) visit(x - 1, y);
    if (x < n - 1) visit(x + 1, y);
    if (y > 0) visit(x, y - 1);
    if (y < n - 1) visit(x, y + 1);
  }
  for (let k = 0; k < n * n; k++) outside[k] = outside[k] ? 0 : 1;
  return outside;
}

/** Bilinear sample of a 28×28 plane at source pixel coordinates (sx, sy); 0 outside. */
function sample(plane: ArrayLike<number>, sx: number, sy: number): number {
  const n = OBJECT_SIDE;
  const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= n || y >= n ? 0 : plane[y * n + x]!);
  const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
  const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
  return top + (bottom - top) * fy;
}

/**
 * Composes an S×S image [3,S,S] in [0,1] and its mask [S,S] (1 where the resampled silhouette
 * covers at least half the pixel) from a scene and the object's 28×28 grey levels.
 */
export function renderFashion(scene: FashionScene, object: Uint8Array, S: number): { image: Float32Array; mask: Float32Array } {
  if (object.length !== OBJECT_SIDE * OBJECT_SIDE) throw new Error(`renderFashion: an object has ${OBJECT_SIDE}×${OBJECT_SIDE} values, got ${object.length}`);
  const plane = S * S;
  const image = new Float32Array(3 * plane);
  const mask = new Float32Array(plane);
  const sil = silhouette(object);
  const grain = streamFor(scene.noiseKey);
  const bgc = [0, 0, 0];
  const toSource = OBJECT_SIDE / scene.side;
  for (let y = 0; y < S; y++) {
    const v = (y + 0.5) / S;
    const sy = (v - scene.y0) * toSource - 0.5;
    for (let x = 0; x < S; x++) {
      const u = (x + 0.5) / S;
      const sx = (u - scene.x0) * toSource - 0.5;
      backgroundColour(scene.background, u, v, bgc);
      const noise = (grain() - 0.5) * 0.06;
      const alpha = sample(sil, sx, sy);
      const px = y * S + x;
      if (alpha >= 0.5) mask[px] = 1;
      // Grey levels shade the tint (the darkest parts keep 35% of it), so the garment's own
      // details show in every colour.
      const shade = alpha > 0 ? 0.35 + (0.65 * sample(object, sx, sy)) / (255 * alpha) : 0;
      for (let c = 0; c < 3; c++) {
        const fg = scene.colour[c]! * Math.min(1, shade);
        const value = bgc[c]! + noise + (fg - bgc[c]! - noise) * alpha;
        image[c * plane + px] = Math.min(1, Math.max(0, value));
      }
    }
  }
  return { image, mask };
}

// ------------------------------------------------------------------ the data set

/**
 * The objects of a split's first samples, in sample order (sample i uses object i): what
 * `sampleObjects` extracts and the demo page ships, so a page makes the benchmark's images without
 * Fashion-MNIST's 30 MB.
 */
export interface SampleObjects {
  inSampleOrder: ObjectImages;
}

export interface FashionBenchmarkOptions {
  split: FashionSplit;
  /** Fashion-MNIST (loadFashionMnist in Node, fetchFashionMnist in a browser), or a split's objects in sample order. */
  source: FashionMnist | SampleObjects;
  /** Number of images (default: train 2048, val 400, test 1000). */
  size?: number;
  /** Side S of the square images (default 32). */
  imageSize?: number;
  seed?: number;
  /** P(place == label). Default 0.95 in train, 0.5 (exactly balanced groups) in val and test. */
  agreement?: number;
  /**
   * The classes (default sneaker, ankle-boot). Two: class 0 goes with land, class 1 with water, as
   * `agreement` says. More than two make a pretraining set instead of a benchmark: the place is
   * independent of the class (agreement must be 0.5), so a model learns the objects and nothing
   * about the places; `--classes` with the other eight classes pretrains a backbone that has
   * never seen the benchmark's classes.
   */
  classes?: readonly FashionClass[];
  /** Keep rendered images in memory (default: when they take under 256 MiB). */
  cache?: boolean;
}

/**
 * One split of the benchmark. Sample i has label i mod K (K classes, 2 for the benchmark) and the
 * (i div K)-th object of that class in a seeded order of Fashion-MNIST's images: train counts from
 * the front of the training set's order and val from the back, so the two never share an object;
 * test uses the test set.
 */
export class FashionBenchmark implements ImageDataset {
  readonly split: FashionSplit;
  readonly length: number;
  readonly imageSize: number;
  readonly seed: number;
  readonly agreement: number;
  readonly classes: readonly FashionClass[];
  readonly numClasses: number;
  readonly numPlaces = 2;
  readonly classNames: readonly string[];
  readonly placeNames = PLACES;
  readonly groupNames: readonly string[];
  readonly hasMasks = true;
  private readonly objects: ObjectImages;
  /** Per class, the source indices in this split's order (null: the source is in sample order). */
  private readonly pools: Int32Array[] | null;
  private readonly cache: ({ image: Float32Array; mask: Float32Array } | undefined)[] | null;

  constructor(opts: FashionBenchmarkOptions) {
    const split = opts.split;
    if (!(split in SPLIT_ID)) throw new Error(`fashionBenchmark: split must be 'train', 'val' or 'test', got ${JSON.stringify(split)}`);
    this.split = split;
    this.length = opts.size ?? FASHION_DEFAULT_SIZES[split];
    this.imageSize = opts.imageSize ?? 32;
    this.seed = opts.seed ?? 0;
    this.agreement = opts.agreement ?? (split === 'train' ? 0.95 : 0.5);
    this.classes = opts.classes ?? FASHION_DEFAULT_CLASSES;
    if (!Number.isInteger(this.length) || this.length < 0) throw new Error(`fashionBenchmark: size must be a non-negative integer, got ${this.length}`);
    if (!Number.isInteger(this.imageSize) || this.imageSize < 8) throw new Error(`fashionBenchmark: imageSize must be an integer ≥ 8, got ${this.imageSize}`);
    if (!(this.agreement >= 0 && this.agreement <= 1)) throw new Error(`fashionBenchmark: agreement must lie in [0, 1], got ${this.agreement}`);
    const ids = this.classes.map((c) => FASHION_CLASSES.indexOf(c));
    if (this.classes.length < 2 || ids.some((k) => k < 0) || new Set(ids).size !== ids.length) {
      throw new Error(`fashionBenchmark: classes must be two or more different Fashion-MNIST classes (${FASHION_CLASSES.join(', ')}), got [${this.classes.join(', ')}]`);
    }
    const K = (this.numClasses = this.classes.length);
    if (K > 2 && this.agreement !== 0.5) {
      throw new Error(`fashionBenchmark: with ${K} classes the place is independent of the class (a pretraining set), so agreement must be 0.5, got ${this.agreement}`);
    }
    if ('inSampleOrder' in opts.source) {
      this.objects = opts.source.inSampleOrder;
      this.pools = null;
      if (this.length > this.objects.count) throw new Error(`fashionBenchmark: ${split} of ${this.length} images needs as many objects, the sample-order source has ${this.objects.count}`);
      for (let i = 0; i < this.length; i++) {
        if (this.objects.labels[i] !== ids[i % K]) throw new Error(`fashionBenchmark: object ${i} of the sample-order source is a ${FASHION_CLASSES[this.objects.labels[i]!] ?? '?'}, sample ${i} is a ${this.classes[i % K]}`);
      }
    } else {
      this.objects = split === 'test' ? opts.source.test : opts.source.train;
      const pools = ids.map((id) => classPool(this.objects, id, this.seed, split === 'test' ? 1 : 0));
      for (let c = 0; c < K; c++) {
        const needed = Math.ceil((this.length - c) / K);
        if (needed > pools[c]!.length) {
          const from = split === 'test' ? "Fashion-MNIST's test set" : "Fashion-MNIST's training set (shared by train and val)";
          throw new Error(`fashionBenchmark: ${split} needs ${needed} "${this.classes[c]}" images, ${from} has ${pools[c]!.length}`);
        }
      }
      this.pools = pools;
    }
    this.classNames = [...this.classes];
    this.groupNames = groupNamesOf(this.classNames, this.placeNames);
    const bytes = this.length * this.imageSize * this.imageSize * 4 * 4;
    this.cache = (opts.cache ?? bytes < 256 * 2 ** 20) ? new Array(this.length) : null;
  }

  labelOf(i: number): { label: number; place: number } {
    this.check(i);
    return fashionGroup(this.seed, this.split, i, this.agreement, this.numClasses);
  }

  scene(i: number): FashionScene {
    this.check(i);
    return fashionScene(this.seed, this.split, i, this.agreement, this.numClasses);
  }

  /** Index of sample i's object in Fashion-MNIST's training set (train, val) or test set (test), or in the sample-order source. */
  objectIndex(i: number): number {
    this.check(i);
    if (!this.pools) return i;
    const k = Math.floor(i / this.numClasses);
    const pool = this.pools[i % this.numClasses]!;
    return this.split === 'val' ? pool[pool.length - 1 - k]! : pool[k]!;
  }

  /** Sample i's object: 28×28 grey levels. */
  object(i: number): Uint8Array {
    const at = this.objectIndex(i) * OBJECT_SIDE * OBJECT_SIDE;
    return this.objects.pixels.subarray(at, at + OBJECT_SIDE * OBJECT_SIDE);
  }

  get(i: number): Sample {
    this.check(i);
    let rendered = this.cache?.[i];
    const scene = this.scene(i);
    if (!rendered) {
      rendered = renderFashion(scene, this.object(i), this.imageSize);
      if (this.cache) this.cache[i] = rendered;
    }
    // Copies: callers (augmentation) may modify their sample in place.
    return { index: i, image: rendered.image.slice(), label: scene.label, place: scene.place, mask: rendered.mask.slice() };
  }

  /** Samples `indices` as one batch; images normalised if asked. */
  batch(indices: ArrayLike<number>, normalize?: NormalizeOption): Batch {
    return assembleBatch(Array.from(indices, (i) => this.get(i)), this.imageSize, this.numPlaces, normalize);
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`fashion ${this.split}: index ${i} outside [0, ${this.length})`);
  }
}

/** The objects of samples 0..count−1 of a split, in sample order (see SampleObjects). */
export function sampleObjects(ds: FashionBenchmark, count = ds.length): ObjectImages {
  const n = OBJECT_SIDE * OBJECT_SIDE;
  const pixels = new Uint8Array(count * n), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    pixels.set(ds.object(i), i * n);
    labels[i] = FASHION_CLASSES.indexOf(ds.classes[i % ds.numClasses]!);
  }
  return { count, pixels, labels };
}

/** Sample-order objects as two IDX files' bytes (images [n, 28, 28], labels [n]). */
export function encodeObjects(objects: ObjectImages): { images: Uint8Array; labels: Uint8Array } {
  return {
    images: encodeIdx({ dtype: 'uint8', shape: [objects.count, OBJECT_SIDE, OBJECT_SIDE], data: objects.pixels }),
    labels: encodeIdx({ dtype: 'uint8', shape: [objects.count], data: objects.labels }),
  };
}

/** The source indices of class `label`, in an order fixed by (seed, set). */
function classPool(objects: ObjectImages, label: number, seed: number, set: number): Int32Array {
  const members: number[] = [];
  for (let k = 0; k < objects.count; k++) if (objects.labels[k] === label) members.push(k);
  const order = permutation(members.length, seed, 0xfa5 + 16 * set + label);
  return Int32Array.from(order, (k) => members[k]!);
}

/** One split of the Fashion-MNIST benchmark (see FashionBenchmarkOptions for the defaults). */
export function fashionBenchmark(opts: FashionBenchmarkOptions): FashionBenchmark {
  return new FashionBenchmark(opts);
}
