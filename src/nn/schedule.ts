// Learning-rate schedules as plain functions of the step, applied with `optimizer.setLr(f(step))`.

export interface CosineScheduleOptions {
  /** Peak lr, reached at the end of the warm-up. */
  baseLr: number;
  /** Steps in the whole run; from here on the lr stays at minLr. */
  totalSteps: number;
  /** Steps of linear warm-up at the start (default 0). */
  warmupSteps?: number;
  /** Final lr of the cosine decay (default 0). */
  minLr?: number;
}

/**
 * Linear warm-up then cosine decay. For step s (0-based):
 *   s < W:        baseLr · (s + 1) / W                      (the first step already moves)
 *   W <= s < T:   minLr + (baseLr − minLr) · ½ (1 + cos(π (s − W) / (T − W)))
 *   s >= T:       minLr
 */
export function cosineSchedule(opts: CosineScheduleOptions): (step: number) => number {
  const { baseLr, totalSteps } = opts;
  const warmup = opts.warmupSteps ?? 0;
  const minLr = opts.minLr ?? 0;
  for (const [k, v] of Object.entries({ baseLr, minLr })) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`cosineSchedule: ${k} must be a finite number >= 0, got ${v}`);
  }
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`cosineSchedule: warmupSteps must be an integer >= 0, got ${warmup}`);
  if (!Number.isInteger(totalSteps) || totalSteps < warmup) {
    throw new Error(`cosineSchedule: totalSteps must be an integer >= warmupSteps (${warmup}), got ${totalSteps}`);
  }
  return (step: number) => {
    if (!Number.isInteger(step) || step < 0) throw new Error(`cosineSchedule: step must be an integer >= 0, got ${step}`);
    if (step < warmup) return (baseLr * (step + 1)) / warmup;
    if (step >= totalSteps) return minLr;
    const progress = (step - warmup) / (totalSteps - warmup);
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
