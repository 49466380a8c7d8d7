// Op cases of the softmax family (softmax, logSoftmax along any axis): rows shorter and longer
// than a workgroup, on shapes that are not tile multiples.
import { logSoftmax, softmax } from '../../src/tensor/ops/softmax.js';
import { logSoftmaxRef, softmaxRef } from '../../src/tensor/reference/index.js';
import { seeded, shapeText, type BenchCase, type OpCase } from './case.js';

const OPS = { softmax: [softmax, softmaxRef], logSoftmax: [logSoftmax, logSoftmaxRef] } as const;
type Op = keyof typeof OPS;

function softmaxCase(op: Op, shape: number[], axis: number, seed: number, opts: { grad?: boolean; lo?: number; hi?: number } = {}): OpCase {
  const [fn, ref] = OPS[op];
  return {
    family: 'softmax',
    op,
    name: `${op} ${shapeText(shape)} axis ${axis}`,
    inputs: seeded(seed, (r) => [r.uniform(shape, opts.lo ?? -3, opts.hi ?? 3)]),
    gpu: (x) => fn(x, axis),
    ref: (x) => ref(x, axis),
    atol: 1e-6,
    rtol: 1e-5,
    ...(opts.grad ? { grad: {} } : {}),
  };
}

const forwardShapes: [number[], number][] = [[[3, 37], -1], [[4, 150], 1], [[2, 130, 3], 1], [[5, 6, 7], 0], [[200], 0], [[2, 3, 4, 5], 2]];
const gradShapes: [number[], number][] = [[[3, 7], -1], [[4, 3, 5], 1], [[2, 70], 1]];

export const cases: OpCase[] = (Object.keys(OPS) as Op[]).flatMap((op) => [
  ...forwardShapes.map(([shape, axis], i) => softmaxCase(op, shape, axis, op.length * 7 + i)),
  ...gradShapes.map(([shape, axis], i) => softmaxCase(op, shape, axis, op.length * 11 + i, { grad: true })),
]);

/** Attention-logit-like spread, so exp() sees a realistic range. */
const logits = { lo: -8, hi: 8 };
export const benchCases: BenchCase[] = [
  { ...softmaxCase('softmax', [4096, 197], -1, 4293, logits), id: 'softmax-4096x197', peer: { kind: 'softmax' } },
  // ViT-B attention: 12 heads × 197 queries, over 197 keys.
  { ...softmaxCase('softmax', [12 * 197, 197], -1, 2561, logits), id: 'softmax-2364x197', peer: { kind: 'softmax' } },
  { ...softmaxCase('logSoftmax', [4096, 197], -1, 4294, logits), id: 'logsoftmax-4096x197' },
];
