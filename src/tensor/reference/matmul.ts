// float64 reference for matmul: torch.matmul semantics (1-D operands, broadcast batch dims),
// optional transposes of the last two axes, bias over the last axis and a fused activation.
import { arr, broadcastShapes, numel, stridesOf, unravel, type Arr } from './array.js';
import { unaryRef } from './pointwise.js';

export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Arr;
  activation?: 'none' | 'gelu' | 'geluTanh' | 'relu';
}

/** Reads element (i, j) of the last two axes (swapped when `trans`) at a broadcast batch index. */
function reader(x: Arr, rank: number, trans: boolean) {
  const shape = [...new Array(rank - x.shape.length).fill(1), ...x.shape];
  const st = stridesOf(shape);
  return (batch: number[], i: number, j: number) => {
    let off = 0;
    for (let d = 0; d < rank - 2; d++) off += (shape[d] === 1 ? 0 : batch[d]!) * st[d]!;
    return trans ? x.data[off + j * st[rank - 2]! + i]! : x.data[off + i * st[rank - 2]! + j]!;
  };
}

export function matmulRef(a0: Arr, b0: Arr, opts: MatmulRefOptions = {}): Arr {
  const a = a0.shape.length === 1 ? arr([1, a0.shape[0]!], a0.data) : a0;
  const b = b0.shape.length === 1 ? arr([b0.shape[0]!, 1], b0.data) : b0;
  const ta = !!opts.transA, tb = !!opts.transB;
  const ra = a.shape.length, rb = b.shape.length;
  const M = a.shape[ra - (ta ? 1 : 2)]!, K = a.shape[ra - (ta ? 2 : 1)]!;
  const N = b.shape[rb - (tb ? 2 : 1)]!;
  if (b.shape[rb - (tb ? 1 : 2)] !== K) throw new Error(`matmulRef: inner dimensions differ`);
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const readA = reader(a, batchShape.length + 2, ta), readB = reader(b, batchShape.length + 2, tb);
  const nb = numel(batchShape);
  const act = unaryRef[opts.activation && opts.activation !== 'none' ? opts.activation : 'identity'];
  const out = arr([...batchShape, M, N]);
  for (let z = 0; z < nb; z++) {
    const bi = unravel(z, batchShape);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += readA(bi, i, k) * readB(bi, k, j);
        if (opts.bias) s += opts.bias.data[j]!;
        out.data[(z * M + i) * N + j] = act(s);
      }
    }
  }
  // torch.matmul drops the axes a 1-D operand added.
  let shape = out.shape;
  if (a0.shape.length === 1) shape = [...shape.slice(0, -2), shape[shape.length - 1]!];
  if (b0.shape.length === 1) shape = shape.slice(0, -1);
  return { shape, data: out.data };
}
