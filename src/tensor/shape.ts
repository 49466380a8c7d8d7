// Shape arithmetic shared by every op: sizes, strides, NumPy broadcasting, axis normalisation,
// and the errors that name the op and the shapes involved (including use after dispose).

export type Shape = readonly number[];

export class ShapeError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'ShapeError';
  }
}

/** Throws, naming the op and the shape, if any input was disposed (what every op checks first). */
export function checkLive(op: string, ...inputs: readonly { readonly disposed: boolean; readonly shape: Shape }[]): void {
  for (const t of inputs) {
    if (t.disposed) throw new Error(`${op}: an input tensor of shape ${fmt(t.shape)} was used after dispose()`);
  }
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(op: string, shape: Shape): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `invalid shape ${fmt(shape)}: sizes must be non-negative integers`);
  }
  return [...shape];
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together (dimension ${i - n}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides to read a tensor of `shape` as if it had `outShape` (0 on broadcast dimensions). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const st = stridesOf(shape);
  const off = outShape.length - shape.length;
  return outShape.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return shape[j] === 1 && d !== 1 ? 0 : st[j]!;
  });
}

/**
 * Drops size-1 dimensions of `outShape` and merges adjacent ones that every operand walks together
 * (its stride over the outer one is its stride over the inner one times the inner size), so a
 * strided kernel's index loop runs over as few dimensions as the layout allows. `strides` are the
 * operands' strides over `outShape` (broadcastStrides); returns the merged shape and strides.
 */
export function mergeDimensions(outShape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const shape: number[] = [];
  const merged: number[][] = strides.map(() => []);
  for (let d = 0; d < outShape.length; d++) {
    const size = outShape[d]!;
    if (size === 1) continue; // a size-1 dimension contributes nothing to any offset
    const last = shape.length - 1;
    if (last >= 0 && strides.every((st, k) => merged[k]![last] === st[d]! * size)) {
      shape[last]! *= size;
      strides.forEach((st, k) => (merged[k]![last] = st[d]!));
    } else {
      shape.push(size);
      strides.forEach((st, k) => merged[k]!.push(st[d]!));
    }
  }
  return { shape, strides: merged };
}

/** Normalises one axis (negative counts from the end); throws naming the op. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= Math.max(rank, 1)) {
    throw new ShapeError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Normalises a list of axes (undefined = all), sorted, without duplicates. */
export function normAxes(op: string, axes: number | readonly number[] | undefined | null, rank: number): number[] {
  if (axes === undefined || axes === null) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new ShapeError(op, `repeated axis in [${list.join(', ')}]`);
  return out;
}

/** Resolves one -1 in a reshape target. */
export function inferReshape(op: string, from: Shape, to: readonly number[]): number[] {
  const n = numel(from);
  const neg = to.filter((d) => d === -1).length;
  if (neg > 1) throw new ShapeError(op, `only one -1 allowed in ${fmt(to)}`);
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== n) {
    throw new ShapeError(op, `cannot reshape ${fmt(from)} (${n} elements) to ${fmt(to)}`);
  }
  return out;
}
