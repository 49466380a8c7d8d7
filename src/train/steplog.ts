// runs/<name>/log.jsonl: one JSON object per optimiser step, appended (and handed to the OS) as
// the step's losses are read, so `tail -f` shows training as it goes and any JSON-lines reader
// (jq, pandas.read_json(lines=True)) plots it. On --resume the file is cut back to the
// checkpoint's step first, so a resumed run's log holds every step exactly once.
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/files.js';

/** One line of log.jsonl. Loss terms appear as loss_<term> (loss itself is the weighted total). */
export interface StepRecord {
  /** Optimiser steps done, counted from 1 over the whole run (all phases). */
  step: number;
  /** The 1-based epoch the step belongs to, counted over the whole run as in metrics.json. */
  epoch: number;
  phase: string;
  loss: number | null;
  [term: `loss_${string}`]: number | null;
  lr: number;
  /** Images per second over the epoch so far (the progress bar's figure). */
  img_per_s: number;
  /** Seconds of training up to this step (summed over resumed sessions; evaluation excluded). */
  elapsed_s: number;
}

/** Up to 6 significant digits: f32 losses keep all that is meaningful and lines stay short. */
function round(v: number, digits = 6): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : null;
}

export class StepLog {
  /** (step, total loss) of every step logged, for the loss curve. */
  readonly losses: { step: number; loss: number }[] = [];
  private readonly path: string;

  private constructor(path: string) {
    this.path = path;
  }

  /** A new run's log: any file left at `path` is replaced by an empty one. */
  static create(path: string): StepLog {
    writeFileSync(path, '');
    return new StepLog(path);
  }

  /**
   * The log of a run resumed at `step` (steps 1..step done): lines past it, and a torn last line,
   * are removed (the file is rewritten atomically). Returns the log and, when the file holds
   * fewer steps than the checkpoint (deleted or from a version without it), a warning.
   */
  static async resume(path: string, step: number): Promise<{ log: StepLog; warning: string | null }> {
    const log = new StepLog(path);
    const kept: string[] = [];
    if (existsSync(path) && statSync(path).isFile()) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        let rec: StepRecord;
        try {
          rec = JSON.parse(line) as StepRecord;
        } catch {
          continue; // a line torn by a kill mid-write, or an empty one
        }
        if (typeof rec !== 'object' || rec === null || !Number.isInteger(rec.step) || rec.step < 1 || rec.step > step) continue;
        if (kept.length > 0 && rec.step <= log.losses.at(-1)!.step) continue; // never twice
        kept.push(line);
        log.losses.push({ step: rec.step, loss: typeof rec.loss === 'number' ? rec.loss : NaN });
      }
    }
    await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
    const have = log.losses.length;
    const warning = have < step ? `${path} holds ${have} of the ${step} steps before the checkpoint; the steps after it are logged as usual` : null;
    return { log, warning };
  }

  /** Appends one step (loss terms by name, "total" being the loss). */
  append(r: { step: number; epoch: number; phase: string; terms: Record<string, number>; lr: number; imgPerS: number; elapsedS: number }): void {
    const line: Record<string, unknown> = { step: r.step, epoch: r.epoch, phase: r.phase, loss: round(r.terms.total ?? NaN) };
    for (const [k, v] of Object.entries(r.terms)) if (k !== 'total') line[`loss_${k}`] = round(v);
    line.lr = round(r.lr);
    line.img_per_s = Number.isFinite(r.imgPerS) ? Number(r.imgPerS.toFixed(1)) : null;
    line.elapsed_s = Number(r.elapsedS.toFixed(3));
    appendFileSync(this.path, JSON.stringify(line) + '\n');
    this.losses.push({ step: r.step, loss: r.terms.total ?? NaN });
  }
}
