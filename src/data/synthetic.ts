// The embedded synthetic benchmark: shapes (the class) on textured backgrounds (the "place"),
// spuriously correlated in train, balanced in val/test, with exact foreground masks. Pure TS
// (no Node imports): the same images are generated in Node and in the browser.
import { streamFor, uniform } from './random.js';
import { backgroundColour, hsv, PLACES, randomBackground, type Background, type RGB } from './backgrounds.js';
import { assembleBatch, correlatedGroup, groupNamesOf, type Batch, type ImageDataset, type NormalizeOption, type Sample } from './dataset.js';

export type SyntheticSplit = 'train' | 'val' | 'test';
export type ShapeKind = 'square' | 'triangle' | 'ring' | 'cross';

const SPLIT_ID: Record<SyntheticSplit, number> = { train: 0, val: 1, test: 2 };
export const SYNTHETIC_DEFAULT_SIZES: Readonly<Record<SyntheticSplit, number>> = { train: 2000, val: 400, test: 800 };
/** Places in Waterbirds order: 0 = land, 1 = water (so class 1 goes with water in train). */
export const SYNTHETIC_PLACES = PLACES;
export const SHAPE_KINDS: readonly ShapeKind[] = ['square', 'triangle', 'ring', 'cross'];

export interface SyntheticOptions {
  split: SyntheticSplit;
  /** Number of images (default: train 2000, val 400, test 800). */
  size?: number;
  /** Side S of the square images (default 32). */
  imageSize?: number;
  seed?: number;
  /** P(place == label). Default 0.95 in train, 0.5 (exactly balanced groups) in val and test. */
  agreement?: number;
  /** The two class shapes (default square, triangle). Both use the same colour distribution. */
  shapes?: readonly [ShapeKind, ShapeKind];
  /** Keep rendered images in memory (default: when they take under 256 MiB). */
  cache?: boolean;
}

/** Everything random about one image, in resolution-free units (the image is [0,1]²). */
export interface SyntheticScene {
  label: number;
  place: number;
  shape: ShapeKind;
  /** Object centre, rotation (radians) and area as a fraction of the image. */
  cx: number;
  cy: number;
  angle: number;
  area: number;
  /** Width/height ratio of squares, apex stretch of triangles; unused by rings and crosses. */
  stretch: number;
  colour: RGB;
  /** Direction of the object's soft shading. */
  light: number;
  background: Background;
  /** Key of the per-pixel grain noise stream. */
  noiseKey: number;
}

/** Label and place of sample i (see correlatedGroup). */
export function syntheticGroup(seed: number, split: SyntheticSplit, i: number, agreement: number): { label: number; place: number } {
  return correlatedGroup(seed, SPLIT_ID[split], i, agreement);
}

/** Draws the scene of sample i; depends only on (seed, split, i) and the options. */
export function syntheticScene(seed: number, split: SyntheticSplit, i: number, agreement: number, shapes: readonly [ShapeKind, ShapeKind]): SyntheticScene {
  const { label, place } = syntheticGroup(seed, split, i, agreement);
  const r = streamFor(seed, SPLIT_ID[split], i, 2);
  const shape = shapes[label]!;
  const area = uniform(r, 0.06, 0.15);
  const stretch = shape === 'square' ? Math.exp(uniform(r, -0.25, 0.25)) : shape === 'triangle' ? uniform(r, 0.85, 1.2) : 1;
  const angle = uniform(r, 0, 2 * Math.PI);
  const reach = boundingRadius(shape, area, stretch);
  const margin = 0.03;
  const cx = uniform(r, reach + margin, 1 - reach - margin);
  const cy = uniform(r, reach + margin, 1 - reach - margin);
  const colour = hsv(r(), uniform(r, 0.55, 0.95), uniform(r, 0.8, 1));
  const light = uniform(r, 0, 2 * Math.PI);
  const background = randomBackground(r, place);
  const noiseKey = (r() * 4294967296) >>> 0;
  return { label, place, shape, cx, cy, angle, area, stretch, colour, light, background, noiseKey };
}

// ------------------------------------------------------------------ geometry

/** Half-extents / vertices of each shape for a given area, centred at the origin, unrotated. */
function shapeDims(shape: ShapeKind, area: number, stretch: number): Record<string, number> {
  switch (shape) {
    case 'square': {
      const w = Math.sqrt(area * stretch), h = Math.sqrt(area / stretch);
      return { hw: w / 2, hh: h / 2 };
    }
    case 'triangle': {
      // Isoceles: base b, height h = b·(√3/2)·stretch, centroid at the origin.
      const b = Math.sqrt((4 * area) / (Math.sqrt(3) * stretch));
      const h = b * (Math.sqrt(3) / 2) * stretch;
      return { b, h };
    }
    case 'ring': {
      // Inner radius half the outer one: area = π R² · 3/4.
      return { R: Math.sqrt(area / (0.75 * Math.PI)) };
    }
    case 'cross': {
      // Two bars w × 3w: area 5w².
      return { w: Math.sqrt(area / 5) };
    }
  }
}

function boundingRadius(shape: ShapeKind, area: number, stretch: number): number {
  const d = shapeDims(shape, area, stretch);
  switch (shape) {
    case 'square': return Math.hypot(d.hw!, d.hh!);
    case 'triangle': return Math.max((2 * d.h!) / 3, Math.hypot(d.b! / 2, d.h! / 3));
    case 'ring': return d.R!;
    case 'cross': return Math.hypot(1.5 * d.w!, 0.5 * d.w!);
  }
}

/** Exact signed distance to an axis-aligned box of half-extents (hx, hy). */
function boxDistance(qx: number, qy: number, hx: number, hy: number): number {
  const dx = Math.abs(qx) - hx, dy = Math.abs(qy) - hy;
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
}

/**
 * Signed distance (negative inside) of the shape at local, unrotated point (qx, qy). Exact outside,
 * so the anti-aliasing fringe never extends more than half a pixel beyond the shape (a max of
 * half-plane distances would leak past sharp corners).
 */
function shapeDistance(scene: SyntheticScene): (qx: number, qy: number) => number {
  const d = shapeDims(scene.shape, scene.area, scene.stretch);
  switch (scene.shape) {
    case 'square': return (qx, qy) => boxDistance(qx, qy, d.hw!, d.hh!);
    case 'ring': {
      const mid = 0.75 * d.R!, half = 0.25 * d.R!;
      return (qx, qy) => Math.abs(Math.hypot(qx, qy) - mid) - half;
    }
    case 'cross': {
      const w = d.w!;
      return (qx, qy) => Math.min(boxDistance(qx, qy, 1.5 * w, 0.5 * w), boxDistance(qx, qy, 0.5 * w, 1.5 * w));
    }
    case 'triangle': {
      const b = d.b!, h = d.h!;
      const vs: [number, number][] = [[0, (-2 * h) / 3], [b / 2, h / 3], [-b / 2, h / 3]];
      const edges = vs.map((v, k) => {
        const w = vs[(k + 1) % 3]!;
        const ex = w[0] - v[0], ey = w[1] - v[1], len = Math.hypot(ex, ey);
        let nx = ey / len, ny = -ex / len;
        if (nx * -v[0] + ny * -v[1] > 0) { nx = -nx; ny = -ny; } // outward: away from the centroid
        return { vx: v[0], vy: v[1], ex, ey, len2: len * len, nx, ny };
      });
      return (qx, qy) => {
        let inside = -Infinity;
        for (const e of edges) inside = Math.max(inside, e.nx * (qx - e.vx) + e.ny * (qy - e.vy));
        if (inside <= 0) return inside; // inside: distance to the nearest edge line
        let best = Infinity; // outside: distance to the nearest edge segment
        for (const e of edges) {
          const t = Math.min(1, Math.max(0, ((qx - e.vx) * e.ex + (qy - e.vy) * e.ey) / e.len2));
          best = Math.min(best, Math.hypot(qx - e.vx - t * e.ex, qy - e.vy - t * e.ey));
        }
        return best;
      };
    }
  }
}

// ------------------------------------------------------------------ rendering

/**
 * Renders a scene at S×S: image [3,S,S] in [0,1] and mask [S,S] (1 where the pixel centre lies
 * inside the shape). Coverage-based anti-aliasing: α = clamp(½ − signed distance in pixels).
 * With `object: false` only the background is drawn (the mask is still the object's).
 */
export function renderScene(scene: SyntheticScene, S: number, opts: { object?: boolean } = {}): { image: Float32Array; mask: Float32Array } {
  const drawObject = opts.object ?? true;
  const plane = S * S;
  const image = new Float32Array(3 * plane);
  const mask = new Float32Array(plane);
  const dist = shapeDistance(scene);
  const cos = Math.cos(scene.angle), sin = Math.sin(scene.angle);
  const reach = boundingRadius(scene.shape, scene.area, scene.stretch);
  const lx = Math.cos(scene.light), ly = Math.sin(scene.light);
  const grain = streamFor(scene.noiseKey);
  const bgc = [0, 0, 0];
  for (let y = 0; y < S; y++) {
    const v = (y + 0.5) / S;
    for (let x = 0; x < S; x++) {
      const u = (x + 0.5) / S;
      backgroundColour(scene.background, u, v, bgc);
      const noise = (grain() - 0.5) * 0.06;
      const px = y * S + x;
      // Rotate into the shape's frame: q = R(−angle)(p − c).
      const dx = u - scene.cx, dy = v - scene.cy;
      const qx = cos * dx + sin * dy, qy = -sin * dx + cos * dy;
      const sdPixels = dist(qx, qy) * S;
      const alpha = drawObject ? Math.min(1, Math.max(0, 0.5 - sdPixels)) : 0;
      if (sdPixels < 0) mask[px] = 1;
      const shade = 0.85 + 0.25 * ((dx * lx + dy * ly) / reach);
      for (let c = 0; c < 3; c++) {
        const fg = scene.colour[c]! * shade;
        const value = bgc[c]! + noise + (fg - bgc[c]! - noise) * alpha;
        image[c * plane + px] = Math.min(1, Math.max(0, value));
      }
    }
  }
  return { image, mask };
}

// ------------------------------------------------------------------ the data set

export class SyntheticDataset implements ImageDataset {
  readonly split: SyntheticSplit;
  readonly length: number;
  readonly imageSize: number;
  readonly seed: number;
  readonly agreement: number;
  readonly shapes: readonly [ShapeKind, ShapeKind];
  readonly numClasses = 2;
  readonly numPlaces = 2;
  readonly classNames: readonly string[];
  readonly placeNames = SYNTHETIC_PLACES;
  readonly groupNames: readonly string[];
  readonly hasMasks = true;
  private readonly cache: ({ image: Float32Array; mask: Float32Array } | undefined)[] | null;

  constructor(opts: SyntheticOptions) {
    const split = opts.split;
    if (!(split in SPLIT_ID)) throw new Error(`syntheticDataset: split must be 'train', 'val' or 'test', got ${JSON.stringify(split)}`);
    this.split = split;
    this.length = opts.size ?? SYNTHETIC_DEFAULT_SIZES[split];
    this.imageSize = opts.imageSize ?? 32;
    this.seed = opts.seed ?? 0;
    this.agreement = opts.agreement ?? (split === 'train' ? 0.95 : 0.5);
    this.shapes = opts.shapes ?? ['square', 'triangle'];
    if (!Number.isInteger(this.length) || this.length < 0) throw new Error(`syntheticDataset: size must be a non-negative integer, got ${this.length}`);
    if (!Number.isInteger(this.imageSize) || this.imageSize < 4) throw new Error(`syntheticDataset: imageSize must be an integer ≥ 4, got ${this.imageSize}`);
    if (!(this.agreement >= 0 && this.agreement <= 1)) throw new Error(`syntheticDataset: agreement must lie in [0, 1], got ${this.agreement}`);
    if (this.shapes.length !== 2 || this.shapes.some((s) => !SHAPE_KINDS.includes(s)) || this.shapes[0] === this.shapes[1]) {
      throw new Error(`syntheticDataset: shapes must be two different kinds of ${SHAPE_KINDS.join('/')}, got [${this.shapes}]`);
    }
    this.classNames = [...this.shapes];
    this.groupNames = groupNamesOf(this.classNames, this.placeNames);
    const bytes = this.length * this.imageSize * this.imageSize * 4 * 4;
    this.cache = (opts.cache ?? bytes < 256 * 2 ** 20) ? new Array(this.length) : null;
  }

  labelOf(i: number): { label: number; place: number } {
    this.check(i);
    return syntheticGroup(this.seed, this.split, i, this.agreement);
  }

  scene(i: number): SyntheticScene {
    this.check(i);
    return syntheticScene(this.seed, this.split, i, this.agreement, this.shapes);
  }

  get(i: number): Sample {
    this.check(i);
    let rendered = this.cache?.[i];
    const scene = rendered ? null : this.scene(i);
    if (!rendered) {
      rendered = renderScene(scene!, this.imageSize);
      if (this.cache) this.cache[i] = rendered;
    }
    const { label, place } = scene ?? this.labelOf(i);
    // Copies: callers (augmentation) may modify their sample in place.
    return { index: i, image: rendered.image.slice(), label, place, mask: rendered.mask.slice() };
  }

  /** Samples `indices` as one batch; images normalised if asked. */
  batch(indices: ArrayLike<number>, normalize?: NormalizeOption): Batch {
    return assembleBatch(Array.from(indices, (i) => this.get(i)), this.imageSize, this.numPlaces, normalize);
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`synthetic ${this.split}: index ${i} outside [0, ${this.length})`);
  }
}

/** The embedded benchmark split (see SyntheticOptions for the defaults). */
export function syntheticDataset(opts: SyntheticOptions): SyntheticDataset {
  return new SyntheticDataset(opts);
}
