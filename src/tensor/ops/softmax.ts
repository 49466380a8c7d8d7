// softmax and logSoftmax along any axis, fused (kernels in src/shaders/softmax.ts), each with its
// own backward rule; the tests pin both to their compositions from primitive ops.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { checkLive, fmt, normAxis, numel } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { grid } from '../../shaders/kernel.js';
import { softmaxBackwardKernel, softmaxKernel, type SoftmaxKind } from '../../shaders/softmax.js';
import { rowPlan } from './rows.js';

function softmaxFamily(kind: SoftmaxKind, x: Tensor, axis: number): Tensor {
  checkLive(kind, x);
  const a = normAxis(kind, axis, x.rank);
  const R = x.rank === 0 ? 1 : x.shape[a]!;
  const rows = R === 0 ? 0 : x.size / R;
  const uniforms = { rows, len: R, stride: numel(x.shape.slice(a + 1)) };
  const label = `${kind} ${fmt(x.shape)} over axis ${a}`;
  const plan = rowPlan();
  const y = Tensor.empty(x.shape);
  if (y.size > 0) rt().dispatch(softmaxKernel(kind, plan), { label, buffers: [x.binding, y.binding], uniforms, workgroups: grid(rows) });
  return record(y, kind, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (dx.size > 0) {
      rt().dispatch(softmaxBackwardKernel(kind, plan), { label: `${label} backward`, buffers: [y.binding, g.binding, dx.binding], uniforms, workgroups: grid(rows) });
    }
    return [dx];
  });
}

/** exp(x) / Σ exp(x) along `axis`, computed stably (the row max is subtracted first). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxFamily('softmax', x, axis);
}

/** x − logsumexp(x) along `axis`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxFamily('logSoftmax', x, axis);
}
