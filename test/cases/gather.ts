// Op cases of the gather family: indexSelect along any axis (repeated, reversed and more indices
// than the axis has; host and tensor indices), torch.gather with smaller index extents, and
// scatterAdd, with gradients that sum over repeated indices.
import { gather, indexSelect, scatterAdd } from '../../src/tensor/ops/gather.js';
import { gatherRef } from '../../src/tensor/reference/index.js';
import { constant, Inputs, seeded, shapeText, type BenchCase, type OpCase } from './case.js';

function indexSelectCase(shape: number[], axis: number, count: number, seed: number, o: { tensorIndices?: boolean; grad?: boolean } = {}): OpCase {
  const ax = axis < 0 ? axis + shape.length : axis;
  const idxArr = new Inputs(seed + 1000).integers([count], shape[ax]!);
  const idx = [...idxArr.data];
  const idxTensor = constant(idxArr);
  return {
    family: 'gather',
    op: 'indexSelect',
    name: `indexSelect ${shapeText(shape)} axis ${axis}, ${count} ${o.tensorIndices ? 'tensor' : 'host'} indices`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => indexSelect(x, axis, o.tensorIndices ? idxTensor() : idx),
    ref: (x) => gatherRef.indexSelect(x, ax, idx),
    atol: 0,
    rtol: 0,
    ...(o.grad ? { grad: {} } : {}),
  };
}

function gatherCase(shape: number[], axis: number, indexShape: number[], seed: number, grad = false): OpCase {
  const ax = axis < 0 ? axis + shape.length : axis;
  const index = new Inputs(seed + 1000).integers(indexShape, shape[ax]!);
  const indexTensor = constant(index);
  return {
    family: 'gather',
    op: 'gather',
    name: `gather ${shapeText(shape)} axis ${axis} index ${shapeText(indexShape)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape)]),
    gpu: (x) => gather(x, axis, indexTensor()),
    ref: (x) => gatherRef.gather(x, ax, index),
    atol: 0,
    rtol: 0,
    ...(grad ? { grad: {} } : {}),
  };
}

function scatterAddCase(shape: number[], axis: number, indexShape: number[], seed: number, grad = false): OpCase {
  const index = new Inputs(seed + 1000).integers(indexShape, shape[axis]!);
  const indexTensor = constant(index);
  return {
    family: 'gather',
    op: 'scatterAdd',
    name: `scatterAdd ${shapeText(shape)} axis ${axis} index ${shapeText(indexShape)}`,
    inputs: seeded(seed, (r) => [r.uniform(shape), r.uniform(indexShape)]),
    gpu: (base, src) => scatterAdd(base, axis, indexTensor(), src),
    ref: (base, src) => gatherRef.scatterAdd(base, axis, index, src),
    atol: 1e-6,
    rtol: 1e-6,
    ...(grad ? { grad: {} } : {}),
  };
}

export const cases: OpCase[] = [
  ...[0, 1, 2, -1].flatMap((axis, i) => [false, true].map((tensorIndices) =>
    indexSelectCase([5, 7, 3], axis, [5, 7, 3][axis < 0 ? 2 : axis]! + 4, 10 + i, { tensorIndices }))),
  ...[0, 1, 2].flatMap((axis, i) => [false, true].map((tensorIndices) => indexSelectCase([4, 9, 3], axis, 11, 20 + i, { tensorIndices, grad: true }))),
  ...([[0, [7, 6, 5]], [1, [4, 9, 5]], [2, [4, 6, 2]], [1, [2, 3, 4]], [-1, [3, 1, 8]]] as [number, number[]][])
    .map(([axis, shape], i) => gatherCase([4, 6, 5], axis, shape, 30 + i)),
  ...([[1, [4, 8, 5]], [0, [6, 3, 5]], [2, [2, 6, 7]]] as [number, number[]][]).map(([axis, shape], i) => gatherCase([4, 6, 5], axis, shape, 40 + i, true)),
  ...([[1, [3, 11, 4]], [0, [5, 7, 4]], [2, [2, 5, 9]]] as [number, number[]][]).map(([axis, shape], i) => scatterAddCase([3, 7, 4], axis, shape, 50 + i, true)),
];

export const benchCases: BenchCase[] = [
  // An embedding lookup: 4096 tokens from a 1000 × 384 table.
  { ...indexSelectCase([1000, 384], 0, 4096, 1, { tensorIndices: true }), id: 'index-select-1000x384-4096' },
  { ...gatherCase([1024, 1024], 1, [1024, 256], 2), id: 'gather-1024x1024-256' },
  { ...scatterAddCase([1024, 1024], 1, [1024, 256], 3), id: 'scatter-add-1024x1024-256' },
];
