// Index-driven ops: indexSelect (torch.index_select), gather (torch.gather) and scatterAdd
// (torch.scatter_add), with backward rules. Indices are integers held in an f32 tensor, or host
// arrays, which are checked before anything runs. Backward sums are gathers over destinations in
// a fixed order (no float atomics), so gradients are bit-for-bit reproducible:
//   indexSelect: O(|x| + |out|) through a CSR inverse of the indices (built on the host for host
//     indices; on the GPU in O(n·m) for an index tensor, n = axis size, m = number of indices);
//   gather: O(|x| · index.shape[axis]) — each destination scans its line of the index.
import { Tensor, tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, checkLive, fmt, normAxis, numel, sameShape, stridesOf } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { MAX_RANK, linearGroups as groups } from '../../shaders/kernel.js';
import { gatherKernel, indexAddKernel, indexInverseKernel, indexSelectKernel, scatterAddKernel } from '../../shaders/gather.js';

/** Indices for indexSelect: a host list or a 1-D tensor of integer values. */
export type IndexVector = readonly number[] | Int32Array | Tensor;
/** Indices for gather/scatterAdd: a tensor, nested arrays with the input's rank, or (1-D) an Int32Array. */
export type IndexArray = Tensor | Int32Array | number | readonly IndexArray[];

/** Throws naming the first host index that is not an integer in [0, n). */
function checkHostIndices(op: string, values: ArrayLike<number>, n: number, axis: number, shape: readonly number[]): void {
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new ShapeError(op, `index ${v} (at position ${k}) is out of range for axis ${axis} of size ${n} (input shape ${fmt(shape)})`);
    }
  }
  if (n > 2 ** 24) throw new ShapeError(op, `axis ${axis} of size ${n} is too long for f32 indices (max 2^24)`);
}

/** CSR inverse (offsets[0..n], then the k's of each j in increasing order) as u32 words. */
function hostInverse(values: ArrayLike<number>, n: number): Uint32Array {
  const m = values.length;
  const words = new Uint32Array(n + 1 + m);
  for (let k = 0; k < m; k++) words[values[k]! + 1]!++;
  for (let j = 0; j < n; j++) words[j + 1]! += words[j]!;
  const cursor = words.slice(0, n);
  for (let k = 0; k < m; k++) words[n + 1 + cursor[values[k]!]!++] = k;
  return words;
}

/** Slices of x along `axis` at the given indices: out.shape[axis] = number of indices. */
export function indexSelect(x: Tensor, axis: number, indices: IndexVector): Tensor {
  checkLive('indexSelect', x);
  const a = normAxis('indexSelect', axis, x.rank);
  const n = x.shape[a]!;
  let idx: Tensor;
  let host: ArrayLike<number> | null = null;
  if (indices instanceof Tensor) {
    checkLive('indexSelect', indices);
    if (indices.rank !== 1) throw new ShapeError('indexSelect', `indices must be 1-D, got shape ${fmt(indices.shape)} (input shape ${fmt(x.shape)})`);
    idx = indices;
  } else {
    checkHostIndices('indexSelect', indices, n, a, x.shape);
    host = indices;
    idx = tensor(Float32Array.from(indices), { shape: [indices.length] });
  }
  const m = idx.size;
  const outer = numel(x.shape.slice(0, a)), inner = numel(x.shape.slice(a + 1));
  const y = Tensor.empty([...x.shape.slice(0, a), m, ...x.shape.slice(a + 1)]);
  const label = `indexSelect ${fmt(x.shape)} axis ${a} with ${m} indices`;
  rt().dispatch(indexSelectKernel(), { label, buffers: [x.binding, idx.binding, y.binding], uniforms: { count: y.size, n, m, inner }, workgroups: groups(y.size) });
  const out = record(y, 'indexSelect', [x], (g) => {
    let csr: Tensor;
    if (host) {
      const words = hostInverse(host, n);
      csr = Tensor.empty([words.length]);
      rt().write(csr.buffer, words);
    } else {
      csr = Tensor.empty([n + 1 + m]);
      rt().dispatch(indexInverseKernel(), { label: `${label} backward (inverse)`, buffers: [idx.binding, csr.binding], uniforms: { n, m }, workgroups: groups(n + 1) });
    }
    const gx = Tensor.empty(x.shape);
    rt().dispatch(indexAddKernel(), { label: `${label} backward`, buffers: [g.binding, csr.binding, gx.binding], uniforms: { count: outer * n * inner, n, m, inner }, workgroups: groups(gx.size) });
    csr.dispose();
    return [gx];
  });
  // Host indices were uploaded only for the forward kernel (backward uses the host copy).
  if (host) idx.dispose();
  return out;
}

/** A host index array as a tensor after checking its values, or the tensor itself. */
function indexTensor(op: string, index: IndexArray, x: Tensor, axis: number): { idx: Tensor; owned: boolean } {
  if (index instanceof Tensor) {
    checkLive(op, index);
    return { idx: index, owned: false };
  }
  if (typeof index === 'number') throw new ShapeError(op, `index must be a tensor or a nested array with the input's rank ${x.rank}, got a number`);
  const flat = index instanceof Int32Array ? index : ((index as unknown[]).flat(Infinity) as number[]);
  checkHostIndices(op, flat, x.shape[axis]!, axis, x.shape);
  return { idx: index instanceof Int32Array ? tensor(index) : tensor(index as number[]), owned: true };
}

/** PyTorch's rules: same rank, and index.shape[d] <= x.shape[d] off the axis. */
function checkIndexShape(op: string, x: Tensor, idx: Tensor, axis: number): void {
  if (idx.rank !== x.rank || idx.shape.some((d, i) => i !== axis && d > x.shape[i]!)) {
    throw new ShapeError(op, `index of shape ${fmt(idx.shape)} does not fit input ${fmt(x.shape)} along axis ${axis} (same rank, and no larger on the other axes)`);
  }
  if (x.rank > MAX_RANK) throw new ShapeError(op, `rank ${x.rank} exceeds the supported ${MAX_RANK}`);
}

/** Y = base + scatter of src into x's shape along `axis` (base null: zeros). No autograd. */
function scatterAddRaw(label: string, base: Tensor | null, shape: readonly number[], axis: number, idx: Tensor, src: Tensor): Tensor {
  const y = Tensor.empty(shape);
  const uniforms = { count: y.size, rank: shape.length, axis, indexAxisSize: idx.shape[axis]!, xShape: shape, indexShape: idx.shape, useBase: base ? 1 : 0 };
  rt().dispatch(scatterAddKernel(), {
    label,
    buffers: [base?.binding ?? { buffer: rt().scratch, bytes: 4 }, idx.binding, src.binding, y.binding],
    uniforms,
    workgroups: groups(y.size),
  });
  return y;
}

/** torch.gather: out[t] = x[t with t[axis] = index[t]]; out has the index's shape. */
export function gather(x: Tensor, axis: number, index: IndexArray): Tensor {
  checkLive('gather', x);
  const a = normAxis('gather', axis, x.rank);
  const { idx, owned } = indexTensor('gather', index, x, a);
  checkIndexShape('gather', x, idx, a);
  const y = Tensor.empty(idx.shape);
  const uniforms = { count: y.size, rank: x.rank, axis: a, axisSize: x.shape[a]!, indexShape: idx.shape, xStrides: stridesOf(x.shape) };
  const label = `gather ${fmt(x.shape)} axis ${a} index ${fmt(idx.shape)}`;
  rt().dispatch(gatherKernel(), { label, buffers: [x.binding, idx.binding, y.binding], uniforms, workgroups: groups(y.size) });
  const out = record(y, 'gather', [x], (g) => [scatterAddRaw(`${label} backward`, null, x.shape, a, idx, g)]);
  if (owned && !out.node) idx.dispose();
  return out;
}

/**
 * torch.scatter_add (out of place): x plus, for every index position t, src[t] added at
 * x[t with t[axis] = index[t]]. index and src have the same shape. Repeated indices add up.
 */
export function scatterAdd(x: Tensor, axis: number, index: IndexArray, src: Tensor): Tensor {
  checkLive('scatterAdd', x, src);
  const a = normAxis('scatterAdd', axis, x.rank);
  const { idx, owned } = indexTensor('scatterAdd', index, x, a);
  checkIndexShape('scatterAdd', x, idx, a);
  if (!sameShape(idx.shape, src.shape)) {
    throw new ShapeError('scatterAdd', `src of shape ${fmt(src.shape)} must have the index's shape ${fmt(idx.shape)} (input ${fmt(x.shape)})`);
  }
  const label = `scatterAdd ${fmt(x.shape)} axis ${a} index ${fmt(idx.shape)}`;
  const y = scatterAddRaw(label, x, x.shape, a, idx, src);
  const out = record(y, 'scatterAdd', [x, src], (g) => [
    x.requiresGrad ? g.view(g.shape) : null,
    src.requiresGrad ? gather(g, a, idx) : null,
  ]);
  if (owned && !out.node) idx.dispose();
  return out;
}
