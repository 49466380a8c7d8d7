// train.js's evaluation: the library's (src/vit/evaluate.ts) with a progress bar on stderr.
import type { Module } from '../nn/module.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Method } from '../vit/methods.js';
import { evaluate as evaluateModel, type EvalResult, type EvaluateOptions } from '../vit/evaluate.js';
import { Progress } from './progress.js';

export { pictureIndices, upsamplePatchMask, type EvalResult, type SampleOutputs } from '../vit/evaluate.js';

/** Evaluates with a bar labelled `label` (default "eval"); `quiet` hides it. */
export async function evaluate(method: Method, model: Module, ds: ImageDataset, opts: Omit<EvaluateOptions, 'onBatch'> & { quiet?: boolean; label?: string }): Promise<EvalResult> {
  const { quiet, label, ...rest } = opts;
  const progress = new Progress(label ?? 'eval', Math.ceil(ds.length / opts.batchSize), opts.batchSize, quiet);
  const result = await evaluateModel(method, model, ds, { ...rest, onBatch: (done) => progress.update(done) });
  progress.finish();
  return result;
}
