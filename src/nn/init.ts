// Parameter initialisers (torch.nn.init's, in place): uniform, normal, truncated normal,
// constants, Xavier and Kaiming. Values are drawn on the host from one seeded generator in
// float64 and uploaded once, so a seed gives the same weights on every adapter, and the
// truncated normal is an exact rejection sampler (not a clamp).
import type { Tensor } from '../tensor/tensor.js';
import { checkLive, fmt } from '../tensor/shape.js';
import { erf64 } from '../tensor/reference/pointwise.js';
import { fillInto } from '../tensor/ops/pointwise.js';
import { uploadInto_ } from '../tensor/ops/movement.js';
import { mulberry32 } from '../data/random.js';

// mulberry32 (the data layer's generator): small, fast, and good enough for weight initialisation.
let next = mulberry32(0x9e3779b9);

/** Seeds the initialisers' generator (the same seed gives the same weights); seedAll seeds everything. */
export function manualSeed(seed: number): void {
  next = mulberry32(seed);
}

/** One standard normal draw (Box–Muller; 1 − u keeps log away from 0). */
function gaussian(): number {
  const u = 1 - next();
  const v = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fills `t` with U(lo, hi). */
export function uniform_(t: Tensor, lo = 0, hi = 1): Tensor {
  checkLive('init.uniform_', t);
  const v = new Float32Array(t.size);
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * next();
  return uploadInto_(t, v);
}

/** Fills `t` with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  checkLive('init.normal_', t);
  const v = new Float32Array(t.size);
  for (let i = 0; i < v.length; i++) v[i] = mean + std * gaussian();
  return uploadInto_(t, v);
}

export interface TruncNormalOptions {
  mean?: number;
  std?: number;
  /** Lower cut-off in absolute units (default mean − 2·std). */
  a?: number;
  /** Upper cut-off in absolute units (default mean + 2·std). */
  b?: number;
}

/**
 * Fills `t` with N(mean, std²) restricted to [a, b], by redrawing values outside it. The bounds
 * are absolute like torch.nn.init.trunc_normal_'s, but default to ±2 std: timm's
 * `trunc_normal_(w, std=.02)` (bounds ±2 absolute) is `truncNormal_(w, {std: .02, a: -2, b: 2})`.
 */
export function truncNormal_(t: Tensor, opts: TruncNormalOptions = {}): Tensor {
  checkLive('init.truncNormal_', t);
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const a = opts.a ?? mean - 2 * std, b = opts.b ?? mean + 2 * std;
  if (!(a < b) || !(std > 0)) throw new Error(`init.truncNormal_: need std > 0 and a < b, got std ${std}, [${a}, ${b}]`);
  // Rejection needs a window that holds a useful share of the mass.
  const cdf = (x: number) => 0.5 * (1 + erf64((x - mean) / (std * Math.SQRT2)));
  const mass = cdf(b) - cdf(a);
  if (!(mass > 1e-3)) throw new Error(`init.truncNormal_: [${a}, ${b}] holds only ${mass} of N(${mean}, ${std}²); widen it`);
  const v = new Float32Array(t.size);
  for (let i = 0; i < v.length; i++) {
    let x: number;
    do x = mean + std * gaussian(); while (x < a || x > b);
    v[i] = x;
  }
  return uploadInto_(t, v);
}

/** Fills `t` with `value` (on the GPU, no upload). */
export function constant_(t: Tensor, value: number): Tensor {
  checkLive('init.constant_', t);
  return fillInto(t, value, `init.constant_ ${fmt(t.shape)}`);
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** fan_in and fan_out as PyTorch computes them ([out, in, ...receptive field]). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`init: fan in/out need at least 2 dimensions, got shape ${fmt(shape)}`);
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Xavier/Glorot uniform: U(±gain·√(6 / (fan_in + fan_out))). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU after this layer (sqrt(5) gives PyTorch's Linear default). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: 'leakyRelu' | 'relu' | 'linear';
}

/** Kaiming/He uniform: U(±gain·√(3 / fan)), gain √(2 / (1 + a²)) for leaky ReLU. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const fan = opts.mode === 'fanOut' ? fanOut : fanIn;
  const nl = opts.nonlinearity ?? 'leakyRelu';
  const gain = nl === 'linear' ? 1 : nl === 'relu' ? Math.SQRT2 : Math.sqrt(2 / (1 + (opts.a ?? 0) ** 2));
  const bound = gain * Math.sqrt(3 / fan);
  return uniform_(t, -bound, bound);
}
