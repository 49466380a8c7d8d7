// The Tensor: an f32 array on the GPU with a shape, an optional autograd node, and explicit
// lifetime (dispose, tidy scopes, and a FinalizationRegistry backstop). Its methods are thin
// front-ends; each op lives in src/tensor/ops/<family>.ts next to its backward rule.
import { isInitialized, rt } from './device.js';
import { ShapeError, checkShape, fmt, numel, type Shape } from './shape.js';
import { backward as runBackward, type GradNode } from '../autograd/tape.js';
import * as pw from './ops/pointwise.js';
import * as mv from './ops/movement.js';
import * as rd from './ops/reduce.js';
import * as sm from './ops/softmax.js';
import * as mm from './ops/matmul.js';
import * as ga from './ops/gather.js';
import { formatTensor } from './format.js';
import type { PendingValue } from './fusion.js';

/**
 * GPU memory shared by a tensor and its reshaped views; freed when the last one lets go. A
 * pending fused value (src/tensor/fusion.ts) has no buffer until something needs it: asking for
 * `buffer` records the fused kernel that computes it.
 */
export class Storage {
  refs = 1;
  /** Set while the value is a node of a fused elementwise group not yet recorded. */
  pending: PendingValue | null = null;
  constructor(private gpuBuffer: GPUBuffer | null, public bytes: number) {}

  get buffer(): GPUBuffer {
    if (!this.gpuBuffer) this.pending?.group.flush();
    if (!this.gpuBuffer) throw new Error('webfam internal: a pending tensor was not computed');
    return this.gpuBuffer;
  }

  /** Gives a pending value the buffer its fused kernel writes. */
  attach(buffer: GPUBuffer): void {
    this.gpuBuffer = buffer;
    this.pending = null;
  }

  /** Drops one reference; the last one returns the buffer (if it was ever allocated) to the pool. */
  release(): void {
    if (--this.refs === 0 && this.gpuBuffer) {
      const b = this.gpuBuffer;
      this.gpuBuffer = null;
      try {
        rt().release(b);
      } catch { /* device gone: nothing to return */ }
    }
  }
}

// Tensors that were never disposed return their memory when garbage-collected.
const registry = new FinalizationRegistry<Storage>((s) => {
  releaseStorage(s);
  try {
    rt().stats.liveTensors--;
  } catch { /* device gone */ }
});

function releaseStorage(s: Storage): void {
  s.release();
}

// ------------------------------------------------------------------ scopes (tidy)

const scopes: Set<Tensor>[] = [];

/**
 * Runs `fn` and disposes every tensor created inside it, except those it returns (in any
 * array or object nesting) and those marked with `keep()`. Synchronous functions only.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result && typeof (result as { then?: unknown }).then === 'function') {
    throw new Error('tidy: the function returned a Promise; tidy only takes synchronous functions (await outside it)');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  // Pending fused work is recorded at the boundary, after the values nobody kept are gone (those
  // are never written).
  if (isInitialized()) rt().settle();
  return result;
}

function collectTensors(v: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 8 || v === null || typeof v !== 'object') return;
  if (v instanceof Tensor) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collectTensors(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collectTensors(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collectTensors(x, out, depth + 1);
}

// ------------------------------------------------------------------ Tensor

let nextId = 1;

export type Axes = number | readonly number[];

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** How this tensor was computed, for autograd (null for leaves and under noGrad). */
  node: GradNode | null = null;
  /** Set when a backward without retainGraph released the graph that produced this tensor. */
  graphFreed = false;
  /** Optional name (parameters carry their dotted name here). */
  name = '';
  private _storage: Storage | null;

  /** Wraps existing storage; ops use `Tensor.empty`, users use `tensor()`. */
  constructor(storage: Storage, shape: readonly number[]) {
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = numel(shape);
    registry.register(this, storage, this);
    rt().stats.liveTensors++;
    scopes[scopes.length - 1]?.add(this);
  }

  /** An uninitialised tensor (NaN-filled when poisoning is on). */
  static empty(shape: Shape): Tensor {
    const s = checkShape('empty', shape);
    const bytes = numel(s) * 4;
    return new Tensor(new Storage(rt().acquire(bytes, `a tensor of shape ${fmt(s)}`), bytes), s);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this._storage === null;
  }

  /** The GPU storage; throws if the tensor was disposed. */
  get storage(): Storage {
    if (!this._storage) throw new Error(`tensor #${this.id} of shape ${fmt(this.shape)} was used after dispose()`);
    return this._storage;
  }

  get buffer(): GPUBuffer {
    return this.storage.buffer;
  }

  /** Binding description for a dispatch. */
  get binding(): { buffer: GPUBuffer; bytes: number } {
    return { buffer: this.storage.buffer, bytes: this.size * 4 };
  }

  /**
   * Binding for kernels that read and write whole vec4s: the range rounded up to 16 bytes (pool
   * buffers are multiples of 256 bytes, so this stays inside the buffer).
   */
  get binding4(): { buffer: GPUBuffer; bytes: number } {
    return { buffer: this.storage.buffer, bytes: Math.max(16, Math.ceil(this.size / 4) * 16) };
  }

  /** Frees the GPU memory (shared storage is freed when its last view is disposed). */
  dispose(): void {
    if (!this._storage) return;
    registry.unregister(this);
    releaseStorage(this._storage);
    this._storage = null;
    this.node = null;
    rt().stats.liveTensors--;
    for (const s of scopes) s.delete(this);
  }

  /** Removes the tensor from enclosing `tidy` scopes so it survives them. */
  keep(): this {
    for (const s of scopes) s.delete(this);
    return this;
  }

  /** A new tensor sharing this one's storage with another shape (no copy). */
  view(shape: readonly number[]): Tensor {
    const st = this.storage;
    st.refs++;
    return new Tensor(st, shape);
  }

  /** Copies the values back to the host. The only call that waits for the GPU. */
  async data(): Promise<Float32Array> {
    const buf = await rt().read(this.storage.buffer, this.size * 4);
    return new Float32Array(buf);
  }

  /** Nested arrays of numbers, shaped like the tensor. */
  async toArray(): Promise<unknown> {
    const d = await this.data();
    const build = (dim: number, off: number): unknown => {
      if (dim === this.rank) return d[off];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
    };
    return this.rank === 0 ? d[0] : build(0, 0);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError('item', `needs a one-element tensor, got shape ${fmt(this.shape)}`);
    return (await this.data())[0]!;
  }

  /**
   * Shape, dtype and autograd state, without reading the GPU: `Tensor(shape=[2, 3], dtype=float32,
   * requiresGrad=true, gradFn=mul)`. The values need a GPU read: `await t.repr()` or `await t.print()`.
   */
  toString(): string {
    const state = this._storage === null ? ', disposed'
      : `${this.requiresGrad ? ', requiresGrad=true' : ''}${this.node ? `, gradFn=${this.node.op}` : ''}${this.name ? `, name=${this.name}` : ''}`;
    return `Tensor(shape=${fmt(this.shape)}, dtype=float32${state})`;
  }

  /** What console.log and util.inspect show in Node: the toString summary, not the internals. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /**
   * The values as PyTorch's repr prints them (`tensor([[1., 2.],\n        [3., 4.]],
   * requires_grad=True)`), summarised beyond 1,000 elements. Reads the tensor back from the GPU.
   */
  async repr(): Promise<string> {
    const suffixes = this.node ? [`grad_fn=<${this.node.op[0]!.toUpperCase()}${this.node.op.slice(1)}Backward>`] : this.requiresGrad ? ['requires_grad=True'] : [];
    return formatTensor(this.size === 0 ? new Float32Array(0) : await this.data(), this.shape, suffixes);
  }

  /** Prints `await t.repr()` to the console (one awaited call, like `print(t)` in PyTorch). */
  async print(): Promise<void> {
    console.log(await this.repr());
  }

  // ---------------------------------------------------------------- autograd

  backward(gradOutput?: Tensor, opts?: { retainGraph?: boolean }): void {
    runBackward(this, gradOutput, opts);
  }

  /** Same values, cut from the graph (shares storage). */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /** Marks the tensor as a leaf that accumulates `.grad`. */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  // ---------------------------------------------------------------- creation helpers
  zerosLike(): Tensor { return pw.fill(this.shape, 0); }
  onesLike(): Tensor { return pw.fill(this.shape, 1); }
  clone(): Tensor { return pw.unary('identity', this); }

  // ---------------------------------------------------------------- pointwise
  neg(): Tensor { return pw.unary('neg', this); }
  abs(): Tensor { return pw.unary('abs', this); }
  exp(): Tensor { return pw.unary('exp', this); }
  log(): Tensor { return pw.unary('log', this); }
  sqrt(): Tensor { return pw.unary('sqrt', this); }
  rsqrt(): Tensor { return pw.unary('rsqrt', this); }
  square(): Tensor { return pw.unary('square', this); }
  reciprocal(): Tensor { return pw.unary('reciprocal', this); }
  tanh(): Tensor { return pw.unary('tanh', this); }
  sigmoid(): Tensor { return pw.unary('sigmoid', this); }
  relu(): Tensor { return pw.unary('relu', this); }
  /** GELU; `approximate: 'tanh'` for the tanh form, exact (erf) by default. */
  gelu(opts: { approximate?: 'none' | 'tanh' } = {}): Tensor { return pw.unary(opts.approximate === 'tanh' ? 'geluTanh' : 'gelu', this); }
  add(o: Tensor | number): Tensor { return pw.binary('add', this, o); }
  sub(o: Tensor | number): Tensor { return pw.binary('sub', this, o); }
  mul(o: Tensor | number): Tensor { return pw.binary('mul', this, o); }
  div(o: Tensor | number): Tensor { return pw.binary('div', this, o); }
  pow(o: Tensor | number): Tensor { return pw.binary('pow', this, o); }
  maximum(o: Tensor | number): Tensor { return pw.binary('maximum', this, o); }
  minimum(o: Tensor | number): Tensor { return pw.binary('minimum', this, o); }
  eq(o: Tensor | number): Tensor { return pw.binary('eq', this, o); }
  ne(o: Tensor | number): Tensor { return pw.binary('ne', this, o); }
  lt(o: Tensor | number): Tensor { return pw.binary('lt', this, o); }
  le(o: Tensor | number): Tensor { return pw.binary('le', this, o); }
  gt(o: Tensor | number): Tensor { return pw.binary('gt', this, o); }
  ge(o: Tensor | number): Tensor { return pw.binary('ge', this, o); }
  clamp(min: number, max: number): Tensor { return pw.clamp(this, min, max); }

  // ---------------------------------------------------------------- movement
  reshape(...shape: number[] | [readonly number[]]): Tensor { return mv.reshape(this, flatArgs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return mv.flatten(this, startDim, endDim); }
  unsqueeze(axis: number): Tensor { return mv.unsqueeze(this, axis); }
  squeeze(axis?: number): Tensor { return mv.squeeze(this, axis); }
  permute(...axes: number[] | [readonly number[]]): Tensor { return mv.permute(this, flatArgs(axes)); }
  transpose(a = -2, b = -1): Tensor { return mv.transpose(this, a, b); }
  get T(): Tensor { return mv.transpose(this, -2, -1); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return mv.expand(this, flatArgs(shape)); }
  /** Slice along one axis: start (inclusive), end (exclusive), step (may be negative). */
  slice(axis: number, start?: number, end?: number, step?: number): Tensor { return mv.slice(this, axis, start, end, step); }
  flip(axes: Axes): Tensor { return mv.flip(this, axes); }
  pad(pads: readonly (readonly [number, number])[], value = 0): Tensor { return mv.pad(this, pads, value); }
  contiguous(): Tensor { return this; }

  // ---------------------------------------------------------------- reductions
  sum(axes?: Axes | null, keepdim = false): Tensor { return rd.reduce('sum', this, axes, keepdim); }
  mean(axes?: Axes | null, keepdim = false): Tensor { return rd.reduce('mean', this, axes, keepdim); }
  max(axes?: Axes | null, keepdim = false): Tensor { return rd.reduce('max', this, axes, keepdim); }
  min(axes?: Axes | null, keepdim = false): Tensor { return rd.reduce('min', this, axes, keepdim); }
  logsumexp(axes?: Axes | null, keepdim = false): Tensor { return rd.reduce('logsumexp', this, axes, keepdim); }
  /** Variance; `correction` 1 (default) is the unbiased estimate, 0 the population one. */
  var(axes?: Axes | null, keepdim = false, correction = 1): Tensor { return rd.variance(this, axes, keepdim, correction); }
  /** Index of the largest element along `axis` (as f32 values). */
  argmax(axis = -1, keepdim = false): Tensor { return rd.argReduce('argmax', this, axis, keepdim); }
  argmin(axis = -1, keepdim = false): Tensor { return rd.argReduce('argmin', this, axis, keepdim); }

  // ---------------------------------------------------------------- indexing
  /** Slices along `axis` at the given indices (torch.index_select). */
  indexSelect(axis: number, indices: ga.IndexVector): Tensor { return ga.indexSelect(this, axis, indices); }
  /** out[t] = this[t with t[axis] = index[t]] (torch.gather). */
  gather(axis: number, index: ga.IndexArray): Tensor { return ga.gather(this, axis, index); }
  /** A copy with src added at the indexed positions along `axis` (torch.scatter_add). */
  scatterAdd(axis: number, index: ga.IndexArray, src: Tensor): Tensor { return ga.scatterAdd(this, axis, index, src); }

  // ---------------------------------------------------------------- nn
  softmax(axis = -1): Tensor { return sm.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return sm.logSoftmax(this, axis); }
  matmul(o: Tensor, opts?: mm.MatmulOptions): Tensor { return mm.matmul(this, o, opts); }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

// ------------------------------------------------------------------ creation from host data

type Nested = number | readonly Nested[];

/** Deeper nesting than any op supports; stops runaway recursion on self-referencing arrays. */
const MAX_NESTING = 32;

/** How a value that is not a number shows in an error message. */
function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  return `${typeof v} ${String(v)}`;
}

function isNumericView(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

function flattenNested(data: unknown, shape: number[], out: number[], path: number[]): void {
  const depth = path.length;
  const at = () => (path.length ? ` at [${path.join('][')}]` : '');
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new ShapeError('tensor', `ragged nested array: a number${at()} where a list of length ${shape[depth]} was expected`);
    out.push(data);
    return;
  }
  const list = Array.isArray(data) ? data : isNumericView(data) ? Array.from(data) : null;
  if (list === null) throw new TypeError(`tensor: expected numbers, got ${describe(data)}${at()}`);
  if (depth >= MAX_NESTING) throw new ShapeError('tensor', `arrays nested more than ${MAX_NESTING} deep${at()}`);
  if (depth === shape.length) {
    if (depth > 0 && out.length > 0) throw new ShapeError('tensor', `ragged nested array: a list${at()} where a number was expected`);
    shape.push(list.length);
  } else if (shape[depth] !== list.length) throw new ShapeError('tensor', `ragged nested array${at()}: length ${list.length} vs ${shape[depth]}`);
  list.forEach((x, i) => flattenNested(x, shape, out, [...path, i]));
}

export interface TensorOptions {
  shape?: readonly number[];
  requiresGrad?: boolean;
}

/** A tensor from numbers: a nested array, a flat array or typed array with `shape`, or a scalar. */
export function tensor(data: Nested | ArrayLike<number>, opts: TensorOptions = {}): Tensor {
  let values: Float32Array;
  let shape: number[];
  if (typeof data === 'number') {
    values = new Float32Array([data]);
    shape = [];
  } else if (isNumericView(data)) {
    values = data instanceof Float32Array ? data : Float32Array.from(data);
    shape = [values.length];
  } else if (Array.isArray(data)) {
    const flat: number[] = [];
    shape = [];
    flattenNested(data, shape, flat, []);
    values = Float32Array.from(flat);
  } else if (data !== null && typeof data === 'object' && typeof (data as ArrayLike<number>).length === 'number') {
    // Any other array-like ({ length, 0: …, 1: … }): every entry must be a number.
    const like = data as ArrayLike<unknown>;
    values = new Float32Array(like.length);
    for (let i = 0; i < like.length; i++) {
      const v = like[i];
      if (typeof v !== 'number') throw new TypeError(`tensor: expected numbers, got ${describe(v)} at [${i}]`);
      values[i] = v;
    }
    shape = [values.length];
  } else {
    throw new TypeError(`tensor: expected a number, an array of numbers (nested for more dimensions) or a typed array, got ${describe(data)}`);
  }
  if (opts.shape) {
    const s = checkShape('tensor', opts.shape);
    if (numel(s) !== values.length) {
      throw new ShapeError('tensor', `${values.length} values do not fill shape ${fmt(s)} (${numel(s)} elements)`);
    }
    shape = s;
  }
  const t = Tensor.empty(shape);
  if (values.length) rt().write(t.buffer, values);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}
