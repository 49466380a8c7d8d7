// Layer norm over the trailing dimensions, fused (kernels in src/shaders/layernorm.ts), with its
// own backward rule for x, weight and bias; the tests pin it to the composed op.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { ShapeError, checkLive, fmt, numel, sameShape } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { grid } from '../../shaders/kernel.js';
import { LN_FLAG_BIAS, LN_FLAG_WEIGHT, layerNormBackwardKernel, layerNormKernel, layerNormParamGradKernel } from '../../shaders/layernorm.js';
import { reduce } from './reduce.js';
import { rowPlan } from './rows.js';

/**
 * Layer norm over the trailing dimensions `normalizedShape` (a number n means [n], as in
 * PyTorch): y = (x − mean) / sqrt(var + eps) · weight + bias, with the biased variance.
 * `weight` and `bias` (optional) have shape `normalizedShape`.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const w = weight ?? null, b = bias ?? null;
  checkLive('layerNorm', x, ...(w ? [w] : []), ...(b ? [b] : []));
  const k = ns.length;
  if (k === 0 || x.rank < k || ns.some((d, i) => x.shape[x.rank - k + i] !== d)) {
    throw new ShapeError('layerNorm', `input ${fmt(x.shape)} does not end in the normalized shape ${fmt(ns)}`);
  }
  for (const [name, p] of [['weight', w], ['bias', b]] as const) {
    if (p && !sameShape(p.shape, ns)) throw new ShapeError('layerNorm', `${name} has shape ${fmt(p.shape)}, expected the normalized shape ${fmt(ns)} (input ${fmt(x.shape)})`);
  }
  if (!(eps >= 0)) throw new ShapeError('layerNorm', `eps must be >= 0, got ${eps}`);
  const D = numel(ns);
  const rows = D === 0 ? 0 : x.size / D;
  const uniforms = { rows, len: D, stride: 1, eps, affine: (w ? LN_FLAG_WEIGHT : 0) | (b ? LN_FLAG_BIAS : 0) };
  const label = `layerNorm ${fmt(x.shape)} over ${fmt(ns)}`;
  const plan = rowPlan();
  const y = Tensor.empty(x.shape);
  const mean = Tensor.empty([rows]), rstd = Tensor.empty([rows]);
  if (y.size > 0) {
    // An absent weight / bias binds x in its slot (read-only, never read: the flags say so).
    rt().dispatch(layerNormKernel(plan), {
      label,
      buffers: [x.binding, (w ?? x).binding, (b ?? x).binding, y.binding, mean.binding, rstd.binding],
      uniforms,
      workgroups: grid(rows),
    });
  }
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  const out = record(y, 'layerNorm', inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape);
      if (dx.size > 0) {
        rt().dispatch(layerNormBackwardKernel(plan), {
          label: `${label} backward`,
          buffers: [x.binding, (w ?? x).binding, mean.binding, rstd.binding, g.binding, dx.binding],
          uniforms,
          workgroups: grid(rows),
        });
      }
    }
    if (w?.requiresGrad || b?.requiresGrad) [dw, db] = paramGrads(x, g, mean, rstd, rows, D, ns, label);
    const grads = [dx];
    if (w) grads.push(w.requiresGrad ? dw : null);
    else dw?.dispose();
    if (b) grads.push(b.requiresGrad ? db : null);
    else db?.dispose();
    return grads;
  });
  if (!out.node) {
    mean.dispose();
    rstd.dispose();
  }
  return out;
}

/** dWeight = Σ_rows g·x̂ and dBias = Σ_rows g, shaped like the normalized shape. */
function paramGrads(x: Tensor, g: Tensor, mean: Tensor, rstd: Tensor, rows: number, D: number, ns: number[], label: string): [Tensor, Tensor] {
  // Chunks of rows summed per invocation, then the chunks summed by the reduce ops.
  const perChunk = Math.max(64, Math.ceil(rows / 65535));
  const chunks = Math.max(1, Math.ceil(rows / perChunk));
  const pw = Tensor.empty([chunks, D]), pb = Tensor.empty([chunks, D]);
  rt().dispatch(layerNormParamGradKernel(), {
    label: `${label} backward (weight, bias)`,
    buffers: [x.binding, mean.binding, rstd.binding, g.binding, pw.binding, pb.binding],
    uniforms: { rows, len: D, chunks, rowsPerChunk: perChunk },
    workgroups: [Math.ceil(D / 64), chunks],
  });
  const finish = (p: Tensor) => {
    const s = chunks === 1 ? p.view([D]) : reduce('sum', p, 0, false);
    const r = s.view(ns);
    [p, s].forEach((t) => t.dispose());
    return r;
  };
  return [finish(pw), finish(pb)];
}
