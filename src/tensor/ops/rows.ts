// Which row plan the row kernels (softmax, layernorm, loss; src/shaders/rows.ts) use on this
// device, and a switch for tests to force one.
import { rt } from '../device.js';
import type { Runtime } from '../runtime.js';
import { rowPlanFor, type RowPlan } from '../../shaders/rows.js';

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
  return rowPlanConfig.force ?? rowPlanFor(fixedSubgroupSize(rt()));
}
