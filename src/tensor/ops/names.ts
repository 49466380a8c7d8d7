// The names of the op families and of the ops each records on the autograd tape, as string-literal
// types: a typo in `record(out, 'layernorm', ...)` or in a test's `node.op` check fails to compile.
// The pointwise names come from the shader tables (adding a table entry adds the name).
import type { BinaryName, UnaryName } from '../../shaders/pointwise.js';
import type { SoftmaxKind } from '../../shaders/softmax.js';
import type { ReduceName } from './reduce.js';

/**
 * Every op family: one file each in src/shaders, src/tensor/ops, src/tensor/reference and
 * test/cases, and one suite test/<family>.test.ts.
 */
export const FAMILIES = [
  'pointwise', 'reduce', 'movement', 'gather', 'image', 'matmul', 'attention', 'softmax', 'layernorm', 'loss', 'random', 'optim',
] as const;
export type Family = (typeof FAMILIES)[number];

/** The differentiable ops of each family that are not named by a table, as they record themselves. */
interface RecordedOps {
  pointwise: UnaryName | BinaryName | 'where' | 'clamp';
  reduce: ReduceName | 'var';
  movement: 'reshape' | 'permute' | 'expand' | 'slice' | 'flip' | 'pad' | 'concat';
  gather: 'indexSelect' | 'gather' | 'scatterAdd';
  image: 'unfold' | 'fold' | 'interpolate' | 'avgPool2d' | 'gridSample';
  matmul: 'matmul';
  attention: 'maskedAttention' | 'maskedSoftmax' | 'qkvHeads' | 'qkvAttention';
  softmax: SoftmaxKind;
  layernorm: 'layerNorm';
  loss: 'crossEntropy';
  random: 'dropout';
  optim: never;
}

/** The model layer's own differentiable ops (src/vit/ifam.ts), recorded on the same tape. */
type ModelOpName = 'straightThrough' | 'scaleGradient';

/** A name an op records on the tape (`GradNode.op`, shown as PyTorch's `grad_fn`). */
export type OpName = RecordedOps[Family] | ModelOpName;
