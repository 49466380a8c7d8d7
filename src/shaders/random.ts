// Counter-based random numbers: Philox-4x32-10 (Salmon et al., SC'11) in WGSL (the same
// generator in plain JS, the tests' reference, is src/tensor/reference/random.ts). Element i of a random tensor is lane i % 4 of
// philox(counter = [i / 4, 0, offset_lo, offset_hi], key = [seed_lo, seed_hi]), so its value
// depends only on (seed, offset, i): not on the shape, the dispatch order or the workgroup size.
import { linearMain, uniforms, type Kernel } from './kernel.js';

/** Elements produced by one invocation (one Philox block). */
export const LANES = 4;

const PHILOX_M0 = 0xd2511f53, PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9, PHILOX_W1 = 0xbb67ae85;

const PHILOX_WGSL = /* wgsl */ `
// 32x32 -> 64-bit product as (hi, lo): WGSL has no wide multiply, so split into 16-bit halves.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu; let ah = a >> 16u;
  let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl; let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return vec2<u32>(hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u), a * b);
}
fn philox4x32_10(counter: vec4<u32>, seed: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = seed;
  for (var round = 0u; round < 10u; round++) {
    let p0 = mulhilo(${PHILOX_M0}u, c.x);
    let p1 = mulhilo(${PHILOX_M1}u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2<u32>(${PHILOX_W0}u, ${PHILOX_W1}u);
  }
  return c;
}
// [0, 1): the top 24 bits, exactly representable.
fn uniform_co(bits: u32) -> f32 { return f32(bits >> 8u) * 5.9604644775390625e-8; }
// (0, 1) strictly: (k + 0.5) / 2^23 for the top 23 bits k; both ends stay exact in f32.
fn uniform_open(bits: u32) -> f32 { return (f32(bits >> 9u) + 0.5) * 1.1920928955078125e-7; }
// -log(u) for u in (0, 1), accurate near u = 1 where WGSL's log is only absolutely accurate
// (2^-21): there 1 - u is exact and the series of -log(1 - v) is used instead.
fn neg_log(u: f32) -> f32 {
  let v = 1.0 - u;
  if (v < 0.0625) {
    return v * (1.0 + v * (0.5 + v * (0.33333333 + v * (0.25 + v * (0.2 + v * (0.16666667 + v * 0.14285714))))));
  }
  return -log(u);
}
fn philox_block(b: u32) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(b, 0u, params.offsetLo, params.offsetHi), vec2<u32>(params.seedLo, params.seedHi));
}
`;

/** Invocations per workgroup of the random kernels (each makes one block of LANES values). */
export const RANDOM_WG = 64;

const ENTRY = /* wgsl */ `${linearMain('b', RANDOM_WG)}
  let n = params.count;
  if (b * 4u >= n) { return; }
  let w = philox_block(b);`;

/** The stream: `count` values from philox keyed by the 64-bit seed at the 64-bit offset. */
const STREAM = { count: 'u32', seedLo: 'u32', seedHi: 'u32', offsetLo: 'u32', offsetHi: 'u32' } as const;
/** y = scale · sample + shift. */
const SAMPLE_UNIFORMS = uniforms({ ...STREAM, scale: 'f32', shift: 'f32' });
/** Keep element i when its top 24 bits are >= `threshold`; kept values are multiplied by `scale`. */
const DROPOUT = uniforms({ ...STREAM, threshold: 'u32', scale: 'f32' });
export type RandomUniforms = typeof SAMPLE_UNIFORMS.spec;
export type DropoutUniforms = typeof DROPOUT.spec;

export type Distribution = 'uniform' | 'normal' | 'gumbel';

const SAMPLE: Record<Distribution, string> = {
  uniform: `let v = vec4<f32>(uniform_co(w.x), uniform_co(w.y), uniform_co(w.z), uniform_co(w.w));`,
  // Box-Muller on (w.x, w.y) and (w.z, w.w); the angle is kept in (-pi, pi), where WGSL's
  // sin and cos have their accuracy guarantee.
  normal: `let r0 = sqrt(2.0 * neg_log(uniform_open(w.x)));
  let t0 = 3.14159265358979 * (2.0 * uniform_open(w.y) - 1.0);
  let r1 = sqrt(2.0 * neg_log(uniform_open(w.z)));
  let t1 = 3.14159265358979 * (2.0 * uniform_open(w.w) - 1.0);
  let v = vec4<f32>(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));`,
  gumbel: `let v = -log(vec4<f32>(neg_log(uniform_open(w.x)), neg_log(uniform_open(w.y)), neg_log(uniform_open(w.z)), neg_log(uniform_open(w.w))));`,
};

/** Y[i] = scale · sample_i + shift for a distribution. */
export function randomKernel(dist: Distribution): Kernel<RandomUniforms> {
  return {
    key: `random_${dist}`,
    uniforms: SAMPLE_UNIFORMS,
    access: ['read_write'],
    wgsl: () => `${PHILOX_WGSL}
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
${ENTRY}
  ${SAMPLE[dist]}
  let y = params.scale * v + vec4<f32>(params.shift);
  for (var l = 0u; l < 4u; l++) {
    if (b * 4u + l < n) { Y[b * 4u + l] = y[l]; }
  }
}`,
  };
}

/**
 * Dropout mask applied to X: Y[i] = keep_i ? X[i] * scale : 0, keep_i = (bits_i >> 8) >= threshold
 * (keep probability 1 - threshold / 2^24). The backward pass runs the same kernel on the gradient
 * with the same seed and offset, so no mask is stored.
 */
export function dropoutKernel(): Kernel<DropoutUniforms> {
  return {
    key: 'random_dropout',
    uniforms: DROPOUT,
    access: ['read', 'read_write'],
    wgsl: () => `${PHILOX_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${ENTRY}
  for (var l = 0u; l < 4u; l++) {
    let i = b * 4u + l;
    if (i < n) { Y[i] = select(0.0, X[i] * params.scale, (w[l] >> 8u) >= params.threshold); }
  }
}`,
  };
}
