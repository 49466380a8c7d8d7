// float64 CPU reference arrays: the independent implementation every GPU op is tested against.
// Deliberately plain (index loops, no tricks) so each reference is easy to check by eye, and
// standing alone: no reference imports the engine, so an engine bug cannot hide in both.

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= shape[d]!;
  }
  return st;
}

/** NumPy's broadcast of two shapes (throws if they do not broadcast). */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`reference: shapes [${a}] and [${b}] do not broadcast`);
    out[i] = x === 1 ? y : x;
  }
  return out;
}

export interface Arr {
  shape: number[];
  data: Float64Array;
}

export function arr(shape: Shape, data?: ArrayLike<number>): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  if (data) {
    if (data.length !== n) throw new Error(`reference: ${data.length} values for shape [${shape}]`);
    d.set(data);
  }
  return { shape: [...shape], data: d };
}

/** Multi-index of flat index `i` in `shape`. */
export function unravel(i: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: Shape): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + idx[d]!;
  return i;
}

/** Reads `a` at an output multi-index under NumPy broadcasting. */
export function atBroadcast(a: Arr, outIdx: readonly number[]): number {
  const off = outIdx.length - a.shape.length;
  const st = stridesOf(a.shape);
  let i = 0;
  for (let d = 0; d < a.shape.length; d++) i += (a.shape[d] === 1 ? 0 : outIdx[d + off]!) * st[d]!;
  return a.data[i]!;
}

export function map(a: Arr, f: (x: number) => number): Arr {
  const out = arr(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = f(a.data[i]!);
  return out;
}

export function zip(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(atBroadcast(a, idx), atBroadcast(b, idx));
  }
  return out;
}

