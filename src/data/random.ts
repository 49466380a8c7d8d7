// Counter-based randomness for the data layer: every stream is a pure function of a few integer
// keys (seed, split, sample index, epoch...), so a sample never depends on the order of visits.

/** Mixes integer keys into one 32-bit hash (murmur3 finaliser per key, chained). */
export function hash32(...keys: number[]): number {
  let h = 0x9e3779b9;
  for (const key of keys) {
    // Keys may be negative or exceed 32 bits (seeds typed by users): fold both halves in.
    const lo = key | 0;
    const hi = Math.floor(key / 4294967296) | 0;
    h = mix32(h ^ mix32(lo + 0x7f4a7c15));
    if (hi !== 0 && hi !== -1) h = mix32(h ^ mix32(hi + 0x2545f491));
  }
  return h >>> 0;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/** A uniform [0, 1) generator (mulberry32) started from a 32-bit state (also nn/init's generator). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The random stream identified by `keys`. */
export function streamFor(...keys: number[]): () => number {
  return mulberry32(hash32(...keys));
}

/** Uniform in [lo, hi). */
export function uniform(r: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * r();
}

/** A permutation of 0..n-1 that depends only on (seed, epoch) (Fisher–Yates). */
export function permutation(n: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const r = streamFor(seed, epoch, 0x5eed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
