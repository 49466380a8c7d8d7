// Host-side augmentation of [3,S,S] images and their [S,S] masks: random horizontal flip and a
// light random-resized crop (scale jitter), the same geometry for image and mask, deterministic
// given (seed, epoch, sample index).
import { streamFor, uniform } from './random.js';
import type { Sample } from './dataset.js';

export interface AugmentOptions {
  /** Flip left–right with probability ½ (default true). */
  flip?: boolean;
  /** Random resized crop: area fraction range of the crop, e.g. [0.7, 1] (default off). */
  scale?: readonly [number, number] | null;
  /** Aspect-ratio range of the crop (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
  seed?: number;
}

/** Mirrors every channel plane of a [C,S,S] array left–right, in place. */
export function flipHorizontal(data: Float32Array, channels: number, S: number): void {
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < S; y++) {
      const row = (c * S + y) * S;
      for (let x = 0, xr = S - 1; x < xr; x++, xr--) {
        const t = data[row + x]!;
        data[row + x] = data[row + xr]!;
        data[row + xr] = t;
      }
    }
  }
}

/**
 * Bilinear resampling of the region (x, y, w, h) — continuous pixel units of the S×S input — of
 * each [S,S] plane back to S×S. Pixel centres map to region points; edges clamp.
 */
export function cropResize(data: Float32Array, channels: number, S: number, x: number, y: number, w: number, h: number): Float32Array {
  const out = new Float32Array(data.length);
  const xs = new Int32Array(2 * S), fx = new Float32Array(S);
  for (let o = 0; o < S; o++) {
    const sx = Math.min(S - 1, Math.max(0, x + ((o + 0.5) * w) / S - 0.5));
    xs[2 * o] = Math.floor(sx); xs[2 * o + 1] = Math.min(S - 1, Math.floor(sx) + 1); fx[o] = sx - Math.floor(sx);
  }
  for (let c = 0; c < channels; c++) {
    const plane = c * S * S;
    for (let oy = 0; oy < S; oy++) {
      const sy = Math.min(S - 1, Math.max(0, y + ((oy + 0.5) * h) / S - 0.5));
      const y0 = Math.floor(sy), y1 = Math.min(S - 1, y0 + 1), fy = sy - y0;
      for (let ox = 0; ox < S; ox++) {
        const x0 = xs[2 * ox]!, x1 = xs[2 * ox + 1]!, f = fx[ox]!;
        const top = data[plane + y0 * S + x0]! * (1 - f) + data[plane + y0 * S + x1]! * f;
        const bottom = data[plane + y1 * S + x0]! * (1 - f) + data[plane + y1 * S + x1]! * f;
        out[plane + oy * S + ox] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/** The random choices for one sample (exposed so tests can check image and mask agree). */
export function augmentParams(opts: AugmentOptions, epoch: number, index: number, S: number): { flip: boolean; crop: [number, number, number, number] | null } {
  const r = streamFor(opts.seed ?? 0, epoch, index, 0xa06);
  const flip = (opts.flip ?? true) && r() < 0.5;
  let crop: [number, number, number, number] | null = null;
  if (opts.scale) {
    const [smin, smax] = opts.scale;
    const [rmin, rmax] = opts.ratio ?? [3 / 4, 4 / 3];
    if (!(smin > 0 && smin <= smax && smax <= 1) || !(rmin > 0 && rmin <= rmax)) {
      throw new Error(`augment: scale must satisfy 0 < min ≤ max ≤ 1 and ratio 0 < min ≤ max; got scale [${opts.scale}] ratio [${rmin}, ${rmax}]`);
    }
    const area = uniform(r, smin, smax);
    const ratio = Math.exp(uniform(r, Math.log(rmin), Math.log(rmax)));
    const w = Math.min(S, S * Math.sqrt(area * ratio)), h = Math.min(S, S * Math.sqrt(area / ratio));
    crop = [uniform(r, 0, S - w), uniform(r, 0, S - h), w, h];
  }
  return { flip, crop };
}

/** A new, augmented sample (the input is left unchanged). Masks stay binary (threshold ½). */
export function augmentSample(sample: Sample, S: number, opts: AugmentOptions, epoch: number): Sample {
  const { flip, crop } = augmentParams(opts, epoch, sample.index, S);
  let image: Float32Array = sample.image.slice();
  let mask: Float32Array | null = sample.mask ? sample.mask.slice() : null;
  if (crop) {
    image = cropResize(image, 3, S, ...crop);
    if (mask) {
      mask = cropResize(mask, 1, S, ...crop);
      for (let i = 0; i < mask.length; i++) mask[i] = mask[i]! >= 0.5 ? 1 : 0;
    }
  }
  if (flip) {
    flipHorizontal(image, 3, S);
    if (mask) flipHorizontal(mask, 1, S);
  }
  return { ...sample, image, mask };
}
