// Elementwise fusion. With fusion on, a pointwise op does not dispatch: it records a node in the
// pending group of its output shape and returns a tensor whose storage has no buffer yet. The
// group becomes one generated kernel (src/shaders/fused.ts) when anything needs a value: a
// buffer access (a non-elementwise op binding it, a read), any other GPU command (the runtime
// asks first, so commands keep their order), the end of a `tidy`, `memory()`, or a group
// reaching its size limits. Only values whose tensors are still alive at that moment are
// allocated and written; the rest live in registers. The user sees eager semantics: shapes and
// errors at the call, autograd recorded per op.
//
// Inputs a group reads (its leaves) are retained until the group's kernel is recorded, so a leaf
// disposed meanwhile cannot return its buffer to the pool and be overwritten first.
import { rt } from './device.js';
import type { Runtime } from './runtime.js';
import { Storage, Tensor } from './tensor.js';
import { broadcastStrides, mergeDimensions, fmt, numel, sameShape, type Shape } from './shape.js';
import { UNIFORM_WORDS, MAX_RANK, linearGroups, type UniformSpec, type UniformValues } from '../shaders/kernel.js';
import { fusedKernel, fusedUniformWords, type FusedPlan, type LeafRead, type PointwiseExpr } from '../shaders/fused.js';

/** Ops one kernel evaluates at most: bounds the source size and the work held back. */
const MAX_NODES = 24;

type Operand = Tensor | number;

interface Leaf {
  storage: Storage;
  /** The shape the leaf is read with (broadcast to the group's shape). */
  shape: Shape;
  read: 'flat' | 'one' | 'strided';
}

type Ref = { kind: 'leaf' | 'node' | 'scalar'; index: number };

interface Node {
  expr: PointwiseExpr;
  args: Ref[];
  storage: Storage;
  label: string;
}

/** What a pending storage points at: its group and its node. */
export interface PendingValue {
  group: FusionGroup;
  node: number;
}

const groups = new Map<string, FusionGroup>();
/** The runtime the groups belong to: after shutdown() and init(), the old device's are dropped. */
let groupsRuntime: Runtime | null = null;
/** Set while a group records its kernel: the runtime must not flush groups from inside that. */
let recording = false;

class FusionGroup {
  readonly leaves: Leaf[] = [];
  readonly scalars: number[] = [];
  readonly nodes: Node[] = [];
  readonly size: number;

  constructor(readonly key: string, readonly shape: Shape) {
    this.size = numel(shape);
  }

  get stridedLeaves(): number {
    return this.leaves.filter((l) => l.read === 'strided').length;
  }

  /** Whether an op with these operands could overflow the bindings, uniforms or node limit. */
  full(operands: readonly Operand[]): boolean {
    const tensors = operands.filter((o) => typeof o !== 'number').length;
    const numbers = operands.length - tensors;
    // Every value still held may become an output; a value already disposed never will.
    const outputs = this.nodes.reduce((k, n) => k + (n.storage.refs > 0 ? 1 : 0), 0) + 1;
    const bindings = this.leaves.length + tensors + outputs;
    const words = fusedUniformWords(this.stridedLeaves + tensors, this.scalars.length + numbers);
    return this.nodes.length >= MAX_NODES || bindings > maxBindings() || words > UNIFORM_WORDS;
  }

  leaf(t: Tensor): Ref {
    const storage = t.storage;
    let index = this.leaves.findIndex((l) => l.storage === storage && sameShape(l.shape, t.shape));
    if (index < 0) {
      const n = t.size;
      const read = n === this.size ? 'flat' : n === 1 ? 'one' : 'strided';
      storage.refs++;
      index = this.leaves.push({ storage, shape: t.shape, read }) - 1;
    }
    return { kind: 'leaf', index };
  }

  /** Compiles and records the group's kernel; afterwards its values are ordinary buffers. */
  flush(): void {
    if (groups.get(this.key) === this) groups.delete(this.key);
    const wasRecording = recording;
    recording = true;
    try {
      this.record();
    } finally {
      recording = wasRecording;
      for (const n of this.nodes) n.storage.pending = null;
      for (const l of this.leaves) l.storage.release();
    }
  }

  private record(): void {
    // Values still held by a tensor are written; values they depend on are computed.
    const live = this.nodes.map((n) => n.storage.refs > 0);
    const needed = [...live];
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      if (!needed[k]) continue;
      for (const a of this.nodes[k]!.args) if (a.kind === 'node') needed[a.index] = true;
    }
    if (!live.some(Boolean)) return;
    // Renumber what the kernel uses: inputs, scalars and ops, in first-use order.
    const leafIndex = new Map<number, number>();
    const scalarIndex = new Map<number, number>();
    const nodeIndex = new Map<number, number>();
    const usedLeaves: Leaf[] = [];
    const usedScalars: number[] = [];
    const planNodes: { expr: PointwiseExpr; args: string[] }[] = [];
    this.nodes.forEach((n, k) => {
      if (!needed[k]) return;
      const args = n.args.map((a) => {
        if (a.kind === 'node') return `n${nodeIndex.get(a.index)!}`;
        if (a.kind === 'scalar') {
          if (!scalarIndex.has(a.index)) scalarIndex.set(a.index, usedScalars.push(this.scalars[a.index]!) - 1);
          return `s${scalarIndex.get(a.index)!}`;
        }
        if (!leafIndex.has(a.index)) leafIndex.set(a.index, usedLeaves.push(this.leaves[a.index]!) - 1);
        return `l${leafIndex.get(a.index)!}`;
      });
      nodeIndex.set(k, planNodes.push({ expr: n.expr, args }) - 1);
    });
    const outputs = this.nodes.map((_, k) => k).filter((k) => live[k]);
    const layout = leafLayout(this.shape, usedLeaves);
    const vec4 = layout.vec4 !== null;
    const reads: LeafRead[] = usedLeaves.map((l, k) => (l.read === 'strided' && layout.vec4?.[k] === 's' ? 'splat' : l.read));
    const plan: FusedPlan = { vec4, leaves: reads, nodes: planNodes, outputs: outputs.map((k) => nodeIndex.get(k)!), scalars: usedScalars.length };
    const kernel = fusedKernel(plan);

    const r = rt();
    const n = this.size;
    const count = vec4 ? Math.ceil(n / 4) : n;
    const bytes = (elements: number, whole: boolean) => (whole ? Math.max(16, Math.ceil(elements / 4) * 16) : elements * 4);
    const buffers = usedLeaves.map((l, k) => ({ buffer: l.storage.buffer, bytes: bytes(numel(l.shape), vec4 && (reads[k] === 'flat' || reads[k] === 'strided')) }));
    for (const k of outputs) {
      const st = this.nodes[k]!.storage;
      st.attach(r.acquire(st.bytes, `a tensor of shape ${fmt(this.shape)}`));
      buffers.push({ buffer: st.buffer, bytes: bytes(n, vec4) });
    }
    const uniforms: Record<string, number | number[]> = { count };
    if (layout.strided > 0) {
      uniforms.rank = layout.shape.length;
      uniforms.shape = layout.shape;
      const strides = new Array<number>(MAX_RANK * layout.strided).fill(0);
      layout.strides.forEach((st, s) => st.forEach((v, d) => (strides[s * MAX_RANK + d] = v)));
      uniforms.strides = strides;
    }
    if (usedScalars.length) uniforms.scalars = usedScalars;
    const ops = planNodes.map((p) => p.expr.id).join('·');
    r.dispatch(kernel, { label: `fused ${ops} ${fmt(this.shape)}`, buffers, uniforms: uniforms as UniformValues<UniformSpec>, workgroups: linearGroups(count) });
  }
}

interface LeafLayout {
  /** Strided leaves (in leaf order) that need strides. */
  strided: number;
  /** The output shape with mergeable dimensions merged (innermost in vec4 units when vec4). */
  shape: number[];
  /** Per strided leaf, its strides over `shape`. */
  strides: number[][];
  /** Per leaf, how a vec4 kernel reads it ('v' whole vec4s, 's' one element splatted); null: scalar kernel. */
  vec4: ('v' | 's')[] | null;
}

/**
 * How the leaves are indexed. Flat and one-element leaves need nothing; broadcast ones get
 * strides over the output shape, with adjacent dimensions merged where every broadcast leaf walks
 * them together. The kernel moves vec4s when the innermost merged dimension is a multiple of 4
 * and every broadcast leaf either walks it contiguously (4-aligned) or broadcasts it.
 */
function leafLayout(outShape: Shape, leaves: readonly Leaf[]): LeafLayout {
  const stridedLeaves = leaves.filter((l) => l.read === 'strided');
  let { shape, strides } = mergeDimensions(outShape, stridedLeaves.map((l) => broadcastStrides(l.shape, outShape)));
  const r = shape.length;
  const flatOnly = stridedLeaves.length === 0;
  let modes: ('v' | 's' | null)[] = [];
  if (!flatOnly && r > 0 && shape[r - 1]! % 4 === 0) {
    modes = strides.map((st) => (st[r - 1] === 0 ? 's' : st[r - 1] === 1 && st.slice(0, -1).every((v) => v % 4 === 0) ? 'v' : null));
  }
  const vec4ok = flatOnly || (modes.length === stridedLeaves.length && modes.every((m) => m !== null));
  let vec4: ('v' | 's')[] | null = null;
  if (vec4ok) {
    let s = 0;
    vec4 = leaves.map((l) => (l.read === 'strided' ? (modes[s++] as 'v' | 's') : 'v'));
    if (!flatOnly) {
      shape = shape.map((d, i) => (i === r - 1 ? d / 4 : d));
      strides = strides.map((st, k) => (modes[k] === 'v' ? st.map((v, i) => (i === r - 1 ? 1 : v / 4)) : st));
    }
  }
  return { strided: stridedLeaves.length, shape, strides, vec4 };
}

function maxBindings(): number {
  return Math.min(16, rt().device.limits.maxStorageBuffersPerShaderStage);
}

/** Records every pending group's kernel (what the runtime calls before any other command). */
export function flushFusion(): void {
  if (recording || groups.size === 0) return;
  for (const g of [...groups.values()]) g.flush();
}

/**
 * y = expr(operands) elementwise over `shape`, recorded in the pending group of that shape.
 * Operands are tensors of `shape`, tensors that broadcast to it, or numbers; by name, as the
 * expression's parameters are named. The caller has checked the operands.
 */
export function fusedOp(label: string, expr: PointwiseExpr, operands: Record<string, Operand>, shape: Shape): Tensor {
  const r = rt();
  const n = numel(shape);
  r.checkBytes(n * 4, `a tensor of shape ${fmt(shape)}`);
  if (groupsRuntime !== r) {
    groups.clear();
    groupsRuntime = r;
    r.pendingWork = flushFusion;
  }
  const key = shape.join(',');
  const args = expr.params.map((p) => {
    const o = operands[p];
    if (o === undefined) throw new Error(`webfam internal: ${label}: no operand '${p}' for ${expr.id}`);
    return o;
  });
  // A pending operand joins this group only when it is a value of the group read at the same
  // index; any other pending operand is computed first and read as a buffer.
  for (const a of args) {
    if (typeof a === 'number') continue;
    const pending = a.storage.pending;
    if (pending && !(pending.group === groups.get(key) && sameShape(a.shape, shape))) pending.group.flush();
  }
  let g = groups.get(key);
  if (g && g.full(args)) {
    g.flush();
    g = undefined;
  }
  if (!g) {
    g = new FusionGroup(key, shape);
    groups.set(key, g);
  }
  const group = g;
  const refs = args.map((a): Ref => {
    if (typeof a === 'number') return { kind: 'scalar', index: group.scalars.push(a) - 1 };
    const pending = a.storage.pending;
    if (pending) return { kind: 'node', index: pending.node };
    return group.leaf(a);
  });
  const storage = new Storage(null, n * 4);
  storage.pending = { group, node: group.nodes.length };
  group.nodes.push({ expr, args: refs, storage, label });
  return new Tensor(storage, shape);
}
