// The two "places" of both benchmarks: procedural land (green/brown blotches) and water (waves),
// drawn from a random stream and evaluated at resolution-free points. Pure TS, so Node and the
// browser render the same pixels.
import { uniform } from './random.js';

export type RGB = [number, number, number];

/** Places in Waterbirds order: 0 = land, 1 = water (so class 1 goes with water in training). */
export const PLACES: readonly string[] = ['land', 'water'];

export interface WaterParams {
  kind: 'water';
  deep: RGB;
  light: RGB;
  waves: number;
  phase: number;
  wobble: number;
  wobbleFreq: number;
  wobblePhase: number;
}

export interface LandParams {
  kind: 'land';
  green: RGB;
  brown: RGB;
  /** Value-noise lattices (coarse: (4+1)², fine: (9+1)²) for the blotches. */
  coarse: Float32Array;
  fine: Float32Array;
}

export type Background = WaterParams | LandParams;

function jitter(r: () => number, c: RGB, amount: number): RGB {
  return [c[0] + uniform(r, -amount, amount), c[1] + uniform(r, -amount, amount), c[2] + uniform(r, -amount, amount)];
}

/** HSV (all in [0, 1]) to RGB. */
export function hsv(h: number, s: number, v: number): RGB {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/** Draws the parameters of a background of `place` (0 land, 1 water) from `r`. */
export function randomBackground(r: () => number, place: number): Background {
  if (place === 1) {
    return {
      kind: 'water',
      deep: jitter(r, [0.06, 0.2, 0.42], 0.04),
      light: jitter(r, [0.3, 0.55, 0.8], 0.05),
      waves: uniform(r, 3, 6.5),
      phase: r(),
      wobble: uniform(r, 0.04, 0.14),
      wobbleFreq: uniform(r, 0.8, 2),
      wobblePhase: r(),
    };
  }
  const coarse = new Float32Array(25), fine = new Float32Array(100);
  for (let k = 0; k < 25; k++) coarse[k] = r();
  for (let k = 0; k < 100; k++) fine[k] = r();
  return { kind: 'land', green: jitter(r, [0.22, 0.4, 0.12], 0.04), brown: jitter(r, [0.45, 0.32, 0.17], 0.04), coarse, fine };
}

export function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Bilinear value noise on an (n+1)² lattice at resolution-free point (u, v). */
function valueNoise(lattice: Float32Array, n: number, u: number, v: number): number {
  const gx = u * n, gy = v * n;
  const x0 = Math.min(n - 1, Math.floor(gx)), y0 = Math.min(n - 1, Math.floor(gy));
  const fx = smooth(gx - x0), fy = smooth(gy - y0);
  const at = (x: number, y: number) => lattice[y * (n + 1) + x]!;
  const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
  const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
  return top + (bottom - top) * fy;
}

/** The background's colour at (u, v) ∈ [0,1]², written to out[0..2]. */
export function backgroundColour(bg: Background, u: number, v: number, out: number[]): void {
  if (bg.kind === 'water') {
    const arg = bg.waves * v + bg.wobble * Math.sin(2 * Math.PI * (bg.wobbleFreq * u + bg.wobblePhase)) + bg.phase;
    let t = 0.5 + 0.5 * Math.sin(2 * Math.PI * arg);
    t = t * t; // narrow bright crests, wide dark troughs
    for (let c = 0; c < 3; c++) out[c] = bg.deep[c]! + (bg.light[c]! - bg.deep[c]!) * t;
  } else {
    const t = 0.65 * valueNoise(bg.coarse, 4, u, v) + 0.35 * valueNoise(bg.fine, 9, u, v);
    const blotch = smooth(Math.min(1, Math.max(0, (t - 0.35) / 0.3)));
    const shade = 0.8 + 0.4 * valueNoise(bg.fine, 9, v, u);
    for (let c = 0; c < 3; c++) out[c] = (bg.green[c]! + (bg.brown[c]! - bg.green[c]!) * blotch) * shade;
  }
}
