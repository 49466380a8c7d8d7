// Random tensors (rand, randn, gumbel), dropout, and the global generator state. Every draw is
// Philox-4x32-10 keyed by a seed and a per-call offset (src/shaders/random.ts): a call without
// `seed` takes the global seed and the next offset, so successive calls differ and the whole
// sequence replays after `manualSeed`; a call with `seed` uses offset 0 and touches nothing.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { checkShape, fmt, type Shape } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { linearGroups } from '../../shaders/kernel.js';
import { LANES, RANDOM_WG, dropoutKernel, randomKernel, type Distribution } from '../../shaders/random.js';
import { reshape } from './movement.js';

/** PyTorch's default CPU seed, so an unseeded program is still reproducible. */
const DEFAULT_SEED = 67280421310721;

const state = { seed: DEFAULT_SEED, offset: 0 };

export interface RngState {
  seed: number;
  offset: number;
}

function checkSeed(op: string, seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`${op}: the seed must be a non-negative integer below 2^53, got ${seed}`);
}

/** Seeds the global generator and restarts its sequence. */
export function manualSeed(seed: number): void {
  checkSeed('manualSeed', seed);
  state.seed = seed;
  state.offset = 0;
}

/** The global generator's position (save it with a checkpoint to replay the same draws). */
export function getRngState(): RngState {
  return { ...state };
}

export function setRngState(s: RngState): void {
  checkSeed('setRngState', s.seed);
  if (!Number.isSafeInteger(s.offset) || s.offset < 0) throw new Error(`setRngState: the offset must be a non-negative integer, got ${s.offset}`);
  state.seed = s.seed;
  state.offset = s.offset;
}

/** (seed, offset) for one draw: an explicit seed, or the global one with its next offset. */
function nextStream(op: string, seed: number | undefined): [number, number] {
  if (seed !== undefined) {
    checkSeed(op, seed);
    return [seed, 0];
  }
  return [state.seed, state.offset++];
}

/** A non-negative integer below 2^53 as [low 32 bits, high 32 bits]. */
function split64(v: number): [number, number] {
  return [v % 2 ** 32 >>> 0, Math.floor(v / 2 ** 32) >>> 0];
}

/** The uniforms that select `count` values of the stream (seed, offset). */
function stream(count: number, seed: number, offset: number) {
  const [seedLo, seedHi] = split64(seed), [offsetLo, offsetHi] = split64(offset);
  return { count, seedLo, seedHi, offsetLo, offsetHi };
}

/** Workgroups for n values: one invocation per block of LANES. */
const blocks = (n: number) => linearGroups(Math.ceil(n / LANES), RANDOM_WG);

export interface RandomOptions {
  /** Draw from this seed (offset 0) instead of the global generator. */
  seed?: number;
  requiresGrad?: boolean;
}

function draw(op: string, dist: Distribution, shape: Shape, opts: RandomOptions, scale: number, shift: number): Tensor {
  const s = checkShape(op, shape);
  const [seed, offset] = nextStream(op, opts.seed);
  const y = Tensor.empty(s);
  rt().dispatch(randomKernel(dist), {
    label: `${op} ${fmt(s)}`,
    buffers: [y.binding],
    uniforms: { ...stream(y.size, seed, offset), scale, shift },
    workgroups: blocks(y.size),
  });
  if (opts.requiresGrad) y.requiresGrad = true;
  return y;
}

/** Uniform on [low, high) (default [0, 1)); 24 random bits per element. */
export function rand(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const low = opts.low ?? 0, high = opts.high ?? 1;
  if (!(low <= high)) throw new Error(`rand: low ${low} is greater than high ${high}`);
  return draw('rand', 'uniform', shape, opts, high - low, low);
}

/** Normal with the given mean and std (default standard), by Box-Muller. */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const std = opts.std ?? 1;
  if (!(std >= 0)) throw new Error(`randn: std must be non-negative, got ${std}`);
  return draw('randn', 'normal', shape, opts, std, opts.mean ?? 0);
}

/** Standard Gumbel noise -log(-log(u)), u strictly inside (0, 1) (values within about [-2.8, 16.6]). */
export function gumbel(shape: Shape, opts: RandomOptions = {}): Tensor {
  return draw('gumbel', 'gumbel', shape, opts, 1, 0);
}

export function randLike(x: Tensor, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return rand(x.shape, opts);
}

export function randnLike(x: Tensor, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return randn(x.shape, opts);
}

export interface DropoutOptions {
  /** When false, dropout is the identity (default true). */
  training?: boolean;
  /** Draw the mask from this seed (offset 0) instead of the global generator. */
  seed?: number;
}

/**
 * Zeroes each element with probability p and scales the rest by 1 / (1 - p). The backward pass
 * regenerates the same mask from the saved (seed, offset) instead of storing it.
 */
export function dropout(x: Tensor, p = 0.5, opts: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p} (input shape ${fmt(x.shape)})`);
  if (x.disposed) throw new Error(`dropout: the input of shape ${fmt(x.shape)} was used after dispose()`);
  if (opts.training === false || p === 0) return reshape(x, x.shape);
  const [seed, offset] = nextStream('dropout', opts.seed);
  // Keep element i when its top 24 bits are >= threshold: probability exactly 1 - threshold/2^24.
  const threshold = Math.min(2 ** 24, Math.round(p * 2 ** 24));
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const apply = (src: Tensor, what: string): Tensor => {
    const y = Tensor.empty(src.shape);
    rt().dispatch(dropoutKernel(), {
      label: `${what} ${fmt(src.shape)} p=${p}`,
      buffers: [src.binding, y.binding],
      uniforms: { ...stream(src.size, seed, offset), threshold, scale },
      workgroups: blocks(src.size),
    });
    return y;
  };
  return record(apply(x, 'dropout'), 'dropout', [x], (g) => [apply(g, 'dropout backward')]);
}
