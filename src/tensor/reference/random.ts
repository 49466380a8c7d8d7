// Philox-4x32-10 in plain JS and float64 references of the random distributions, written from
// the paper (Salmon et al., SC'11) independently of the WGSL in src/shaders/random.ts; the tests
// check it against the Random123 known-answer vectors, then the GPU bit for bit against it.

/** Elements per Philox block: element i of a random tensor is lane i % 4 of block i / 4. */
const LANES = 4;
const PHILOX_M0 = 0xd2511f53, PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9, PHILOX_W1 = 0xbb67ae85;

/** High and low 32 bits of a 32x32-bit product. */
function mulhilo32(a: number, b: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(p >> 32n), Number(p & 0xffffffffn)];
}

/** Philox-4x32-10 in plain JS (the reference the WGSL is tested against). */
export function philox4x32(counter: readonly number[], key: readonly number[]): number[] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0) as [number, number, number, number];
  let [k0, k1] = key.map((v) => v >>> 0) as [number, number];
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulhilo32(PHILOX_M0, c0);
    const [hi1, lo1] = mulhilo32(PHILOX_M1, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** The 32 random bits behind element i of a random tensor made with (seed, offset). */
export function randomBits(seed: number, offset: number, i: number): number {
  const [slo, shi] = split64(seed), [olo, ohi] = split64(offset);
  return philox4x32([Math.floor(i / LANES), 0, olo, ohi], [slo, shi])[i % LANES]!;
}

/** A non-negative integer below 2^53 as [low 32 bits, high 32 bits]. */
export function split64(v: number): [number, number] {
  return [v % 2 ** 32 >>> 0, Math.floor(v / 2 ** 32) >>> 0];
}

/** float64 references of the samples, from the bits of element i (and of its Box-Muller partner). */
export const randomRef = {
  uniform: (bits: number) => (bits >>> 8) * 2 ** -24,
  uniformOpen: (bits: number) => ((bits >>> 9) + 0.5) * 2 ** -23,
  /** Element i of a normal tensor: `pair` holds the bits of lanes (2j, 2j + 1) of its block. */
  normal: (pair: [number, number], second: boolean) => {
    const r = Math.sqrt(-2 * Math.log(randomRef.uniformOpen(pair[0])));
    const t = Math.PI * (2 * randomRef.uniformOpen(pair[1]) - 1);
    return second ? r * Math.sin(t) : r * Math.cos(t);
  },
  gumbel: (bits: number) => -Math.log(-Math.log(randomRef.uniformOpen(bits))),
};
