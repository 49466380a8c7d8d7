// Times one prepared case: warm-up (pipeline compiles, lazy uploads), then a few samples taken
// through benny, each sample one call of `run(iters)`, i.e. `iters` GPU iterations plus one
// wait for the GPU. Reported per iteration; the median is the headline number.
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

export interface Timing {
  /** Iterations per timed call. */
  iters: number;
  /** Seconds per iteration, one per sample, in the order taken. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** First (cold) call, with compiles and uploads: not part of the samples. */
  firstCallSec: number;
}

const now = (): number => performance.now() / 1000;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One warm-up call when the first is slow anyway (a second would cost seconds), two otherwise. */
async function warmUp(c: PreparedCase): Promise<{ first: number; estimate: number }> {
  let t = now();
  await c.run(1);
  const first = now() - t;
  if (first > 1) return { first, estimate: first };
  t = now();
  await c.run(1);
  return { first, estimate: now() - t };
}

export async function timeCase(label: string, c: PreparedCase, plan: TimingPlan): Promise<Timing> {
  const { first, estimate } = await warmUp(c);
  const iters = Math.max(1, Math.min(plan.maxIters, Math.ceil(plan.minCallSec / Math.max(estimate, 1e-6))));
  const callSec = estimate * iters;
  const samples = Math.max(plan.minSamples, Math.min(plan.maxSamples, Math.floor(plan.budgetSec / callSec)));

  // benny calls a case once while working out its type; that call must not run (and overlap
  // with) GPU work, so the first call is a no-op and every later one is a real sample.
  let calls = 0;
  const sample = (): Promise<void> => (calls++ === 0 ? Promise.resolve() : c.run(iters));
  // minTime 0 / maxTime ~0: stop as soon as minSamples samples are in; no delay between them.
  const options = { initCount: 1, minTime: 0, maxTime: 1e-3, minSamples: samples, delay: 0 };

  // benny announces each suite with console.log: the harness prints its own progress, and
  // stdout is kept for --json.
  const log = console.log;
  console.log = () => {};
  let perCall: number[];
  try {
    const summary = await suite(label, add(label, () => sample, options));
    perCall = summary.results[0]?.details.sampleResults ?? [];
  } finally {
    console.log = log;
  }
  if (!perCall.length) throw new Error(`${label}: benny returned no samples`);
  const perIter = perCall.map((s) => s / iters);
  return {
    iters,
    samples: perIter,
    median: median(perIter),
    min: Math.min(...perIter),
    max: Math.max(...perIter),
    firstCallSec: first,
  };
}
