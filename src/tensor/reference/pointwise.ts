// float64 references of the pointwise ops, one function per name of the kernel tables in
// src/shaders/pointwise.ts (test/cases/pointwise.ts checks at compile time that the names
// agree), and the float64 erf they need.

/** float64 erf (series for small |x|, continued fraction for the tail). */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast here and keeps full relative precision near 0.
    let term = ax, sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - erfc64(ax));
}

/** float64 erfc for x >= 2.5 by Lentz's continued fraction. */
function erfc64(x: number): number {
  if (x < 2.5) return 1 - erf64(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = x, C = x, D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = x + a * D;
    D = D === 0 ? 1e-300 : D;
    C = x + a / C;
    C = C === 0 ? 1e-300 : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The standard normal CDF, accurate in both tails. */
const normCdf64 = (x: number): number => (x < 0 ? 0.5 * erfc64(-x * Math.SQRT1_2) : 1 - 0.5 * erfc64(x * Math.SQRT1_2));

export const unaryRef = {
  identity: (x: number) => x,
  neg: (x: number) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x: number) => 1 / Math.sqrt(x),
  square: (x: number) => x * x,
  reciprocal: (x: number) => 1 / x,
  tanh: Math.tanh,
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  relu: (x: number) => Math.max(x, 0),
  gelu: (x: number) => x * normCdf64(x),
  geluTanh: (x: number) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
};

export const binaryRef = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => Math.pow(a, b),
  maximum: Math.max,
  minimum: Math.min,
  eq: (a: number, b: number) => +(a === b),
  ne: (a: number, b: number) => +(a !== b),
  lt: (a: number, b: number) => +(a < b),
  le: (a: number, b: number) => +(a <= b),
  gt: (a: number, b: number) => +(a > b),
  ge: (a: number, b: number) => +(a >= b),
};
