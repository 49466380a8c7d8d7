// Times prepared cases: a warm-up (pipeline compiles, lazy uploads) that also sizes the samples,
// then samples taken through benny, each one call of `run(iters)`: `iters` GPU iterations and
// one wait for the GPU. The harness interleaves the libraries' samples in rounds, so a change in
// the machine's load during a workload hits every library alike.
import { add, suite } from 'benny';
import type { PreparedCase } from '../peers/types.js';

export interface TimingPlan {
  /** Seconds of sampling to aim for per case (after warm-up). */
  budgetSec: number;
  minSamples: number;
  maxSamples: number;
  /** A call is made at least this long by running several iterations in it. */
  minCallSec: number;
  maxIters: number;
}

export interface SamplePlan {
  /** Iterations per timed call. */
  iters: number;
  /** Samples to take. */
  samples: number;
  /** First (cold) call, with compiles and uploads: not part of the samples. */
  firstCallSec: number;
}

const now = (): number => performance.now() / 1000;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Warms the case up and decides iterations per call and samples. One warm-up call when the
 * first is slow anyway (a second would cost seconds), two otherwise, the second as the estimate.
 */
export async function warmUp(c: PreparedCase, plan: TimingPlan): Promise<SamplePlan> {
  let t = now();
  await c.run(1);
  const first = now() - t;
  let estimate = first;
  if (first <= 1) {
    t = now();
    await c.run(1);
    estimate = now() - t;
  }
  const iters = Math.max(1, Math.min(plan.maxIters, Math.ceil(plan.minCallSec / Math.max(estimate, 1e-6))));
  const samples = Math.max(plan.minSamples, Math.min(plan.maxSamples, Math.floor(plan.budgetSec / (estimate * iters))));
  return { iters, samples, firstCallSec: first };
}

/** Takes `count` samples of `run(iters)` through benny; returns seconds per iteration. */
export async function sample(label: string, c: PreparedCase, iters: number, count: number): Promise<number[]> {
  // benny calls a case once while working out its type; that call must not run (and overlap
  // with) GPU work, so the first call is a no-op and every later one is a real sample.
  let calls = 0;
  const once = (): Promise<void> => (calls++ === 0 ? Promise.resolve() : c.run(iters));
  // minTime 0 / maxTime ~0: stop as soon as `count` samples are in; no delay between them.
  const options = { initCount: 1, minTime: 0, maxTime: 1e-3, minSamples: count, delay: 0 };

  // benny announces each suite with console.log: the harness prints its own progress, and
  // stdout is kept for --json.
  const log = console.log;
  console.log = () => {};
  let perCall: number[];
  try {
    const summary = await suite(label, add(label, () => once, options));
    perCall = summary.results[0]?.details.sampleResults ?? [];
  } finally {
    console.log = log;
  }
  if (!perCall.length) throw new Error(`${label}: benny returned no samples`);
  return perCall.map((s) => s / iters);
}
