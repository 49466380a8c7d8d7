// Fused neural-net ops with their own backward rules: softmax and logSoftmax along any axis
// (kernels in src/shaders/softmax.ts) and layer norm (src/shaders/layernorm.ts). The tests pin
// each to its composition from primitive ops via the float64 references.
import { Tensor } from '../tensor.js';
import { rt } from '../device.js';
import { f32bits, grid, type Runtime } from '../runtime.js';
import { ShapeError, fmt, normAxis, numel, sameShape } from '../shape.js';
import { record } from '../../autograd/tape.js';
import { SHARED_ROW_PLAN, softmaxBackwardKernel, softmaxKernel, type RowPlan, type SoftmaxKind } from '../../shaders/softmax.js';
import {
  LN_FLAG_BIAS, LN_FLAG_WEIGHT, layerNormBackwardKernel, layerNormKernel, layerNormParamGradKernel,
} from '../../shaders/layernorm.js';
import { reduce } from './reduce.js';

const subgroupCache = new WeakMap<Runtime, number>();

/** The device's subgroup width when it is fixed (min == max) and subgroup ops are enabled, else 0. */
export function fixedSubgroupSize(r: Runtime): number {
  let w = subgroupCache.get(r);
  if (w === undefined) {
    const info = (r.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const min = info?.subgroupMinSize, max = info?.subgroupMaxSize;
    w = r.device.features.has('subgroups') && min && min === max && min >= 4 && min <= 128 ? min : 0;
    subgroupCache.set(r, w);
  }
  return w;
}

/** Row kernels run one subgroup per row where the subgroup width is fixed, else 64 invocations. */
export const rowPlanConfig: { force: RowPlan | null } = { force: null };
export function rowPlan(): RowPlan {
  if (rowPlanConfig.force) return rowPlanConfig.force;
  const w = fixedSubgroupSize(rt());
  return w ? { width: w, subgroup: true } : SHARED_ROW_PLAN;
}

function checkLive(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.disposed) throw new Error(`${op}: an input tensor of shape ${fmt(t.shape)} was used after dispose()`);
}

function softmaxFamily(kind: SoftmaxKind, x: Tensor, axis: number): Tensor {
  checkLive(kind, x);
  const a = normAxis(kind, axis, x.rank);
  const R = x.rank === 0 ? 1 : x.shape[a]!;
  const inner = numel(x.shape.slice(a + 1));
  const rows = R === 0 ? 0 : x.size / R;
  const meta = [rows, R, inner];
  const label = `${kind} ${fmt(x.shape)} over axis ${a}`;
  const plan = rowPlan();
  const y = Tensor.empty(x.shape);
  if (y.size > 0) rt().dispatch(softmaxKernel(kind, plan), { label, buffers: [x.binding, y.binding], meta, workgroups: grid(rows) });
  return record(y, kind, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (dx.size > 0) {
      rt().dispatch(softmaxBackwardKernel(kind, plan), { label: `${label} backward`, buffers: [y.binding, g.binding, dx.binding], meta, workgroups: grid(rows) });
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
  const flags = (w ? LN_FLAG_WEIGHT : 0) | (b ? LN_FLAG_BIAS : 0);
  const meta = [rows, D, 1, f32bits(eps), flags];
  const label = `layerNorm ${fmt(x.shape)} over ${fmt(ns)}`;
  const plan = rowPlan();
  const y = Tensor.empty(x.shape);
  const mean = Tensor.empty([rows]), rstd = Tensor.empty([rows]);
  if (y.size > 0) {
    // An absent weight / bias binds x in its slot (read-only, never read: the flags say so).
    rt().dispatch(layerNormKernel(plan), {
      label,
      buffers: [x.binding, (w ?? x).binding, (b ?? x).binding, y.binding, mean.binding, rstd.binding],
      meta,
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
          meta,
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
    meta: [rows, D, chunks, perChunk],
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
