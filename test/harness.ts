// Shared test tools: one poisoned WebGPU device for the whole run, seeded random data,
// comparison against float64 references, gradient checks against finite differences of those
// references, and the runners of the op-case registry (test/cases/).
import * as assert from 'uvu/assert';
import { init, tensor, type Tensor } from '../src/index.js';
import type { Arr } from '../src/tensor/reference/index.js';
import { mulberry32 } from '../src/data/random.js';
import type { OpCase } from './cases/case.js';
import { rowPlanConfig } from '../src/tensor/ops/rows.js';
import { SHARED_ROW_PLAN } from '../src/shaders/rows.js';

let ready: Promise<void> | null = null;
/**
 * Initialises the device once, with poisoned buffers so unwritten outputs show as NaN. Fusion
 * follows `globalThis.WEBFAM_TEST_FUSE` when test/run.mjs sets it (it runs the op suites once
 * with fusion and once without), else the library default.
 */
export function setup(): Promise<void> {
  ready ??= init({ poison: true }).then(() => undefined);
  const fuse = (globalThis as { WEBFAM_TEST_FUSE?: boolean }).WEBFAM_TEST_FUSE;
  return fuse === undefined ? ready : ready.then(() => init({ fuse })).then(() => undefined);
}

/**
 * Collects garbage and lets FinalizationRegistry callbacks run, so tensors other tests left for
 * the GC are gone before a test compares live-tensor counts (npm test runs node --expose-gc).
 */
export async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** Deterministic PRNG (mulberry32, the one the data layer uses). */
export const rng = mulberry32;

export function randArray(r: () => number, n: number, lo = -2, hi = 2): Float64Array {
  const a = new Float64Array(n);
  // Round to f32 so the GPU and the reference see the same inputs.
  for (let i = 0; i < n; i++) a[i] = Math.fround(lo + (hi - lo) * r());
  return a;
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  what?: string;
}

/** Asserts |a - e| <= atol + rtol·|e| everywhere (NaN only where e is NaN); reports the worst. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): void {
  const { atol = 1e-5, rtol = 1e-5, what = 'values' } = opts;
  assert.is(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) { worst = i; worstErr = Infinity; break; }
      continue;
    }
    if (!Number.isFinite(e) && a === e) continue;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0)) {
      if (Number.isNaN(err) || err > worstErr || worst < 0) { worst = i; worstErr = Number.isNaN(err) ? Infinity : err; }
    }
  }
  if (worst >= 0) {
    assert.unreachable(`${what}: element ${worst} is ${actual[worst]} but expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

export function toTensor(a: Arr, requiresGrad = false): Tensor {
  return tensor(Float32Array.from(a.data), { shape: a.shape, requiresGrad });
}

export function sameShapeAs(t: Tensor, shape: readonly number[], what = 'shape'): void {
  assert.equal([...t.shape], [...shape], `${what}: got [${t.shape}] expected [${shape}]`);
}

/**
 * Checks a GPU op's backward against central differences of its float64 reference.
 * L = Σ w ⊙ f(inputs) with random weights w; the GPU gradient of L for every input is compared
 * with (L(x + h) − L(x − h)) / 2h computed on the reference.
 */
export async function gradCheck(opts: {
  inputs: Arr[];
  gpu: (...xs: Tensor[]) => Tensor;
  ref: (...xs: Arr[]) => Arr;
  seed?: number;
  h?: number;
  atol?: number;
  rtol?: number;
  what?: string;
  /** Which inputs to check (default all). */
  check?: number[];
}): Promise<void> {
  const r = rng(opts.seed ?? 7);
  const h = opts.h ?? 1e-4;
  const out0 = opts.ref(...opts.inputs);
  const w = randArray(r, out0.data.length, -1, 1);
  const L = (xs: Arr[]) => {
    const o = opts.ref(...xs);
    let s = 0;
    for (let i = 0; i < o.data.length; i++) s += w[i]! * o.data[i]!;
    return s;
  };
  const ts = opts.inputs.map((a) => toTensor(a, true));
  const y = opts.gpu(...ts);
  assert.equal([...y.shape], out0.shape, `${opts.what ?? 'op'}: GPU output shape [${y.shape}] vs reference [${out0.shape}]`);
  const wt = tensor(Float32Array.from(w), { shape: out0.shape });
  const loss = y.mul(wt).sum();
  loss.backward();
  const which = opts.check ?? opts.inputs.map((_, i) => i);
  for (const k of which) {
    const x = opts.inputs[k]!;
    const num = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const orig = x.data[i]!;
      x.data[i] = orig + h;
      const lp = L(opts.inputs);
      x.data[i] = orig - h;
      const lm = L(opts.inputs);
      x.data[i] = orig;
      num[i] = (lp - lm) / (2 * h);
    }
    const g = ts[k]!.grad;
    assert.ok(g, `${opts.what ?? 'op'}: input ${k} got no gradient`);
    assertClose(await g!.data(), num, { atol: opts.atol ?? 2e-3, rtol: opts.rtol ?? 2e-3, what: `${opts.what ?? 'op'} d/d input ${k}` });
  }
  for (const t of [...ts, y, wt, loss]) { t.grad?.dispose(); t.dispose(); }
}

/** Runs a registry case forward on the GPU and compares it with its float64 reference. */
export async function checkForward(c: OpCase, note = ''): Promise<void> {
  const what = note ? `${c.name} (${note})` : c.name;
  const inputs = c.inputs();
  const ts = inputs.map((a) => toTensor(a));
  const y = c.gpu(...ts);
  const expected = c.ref(...inputs);
  sameShapeAs(y, expected.shape, what);
  assertClose(await y.data(), expected.data, { atol: c.atol, rtol: c.rtol, what });
  for (const t of [...ts, y]) t.dispose();
}

/** Checks a registry case's backward against central differences of its reference. */
export async function checkBackward(c: OpCase, note = ''): Promise<void> {
  assert.ok(c.grad, `${c.name} has no gradient check`);
  await gradCheck({ inputs: c.inputs(), gpu: c.gpu, ref: c.ref, what: note ? `${c.name} (${note})` : c.name, ...c.grad });
}

/** Cases grouped by op, in registry order, so a suite has one test per op. */
export function byOp(cases: readonly OpCase[]): [string, OpCase[]][] {
  const groups = new Map<string, OpCase[]>();
  for (const c of cases) {
    const g = groups.get(c.op);
    if (g) g.push(c);
    else groups.set(c.op, [c]);
  }
  return [...groups];
}

/**
 * Runs fn with the device's row plan (one subgroup per row where available), then with 64
 * invocations reducing in workgroup memory, so the row kernels (softmax, layernorm, loss,
 * masked softmax) are checked on both plans whatever the adapter picks.
 */
export async function eachRowPlan(fn: (plan: string) => Promise<void>): Promise<void> {
  for (const force of [null, SHARED_ROW_PLAN]) {
    rowPlanConfig.force = force;
    try {
      await fn(force ? 'workgroup-memory plan' : 'default plan');
    } finally {
      rowPlanConfig.force = null;
    }
  }
}
