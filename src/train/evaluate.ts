// train.js's evaluation: the library's (src/vit/evaluate.ts) with a progress bar on stderr, and
// `--eval CHECKPOINT|EXPORT_DIR`, which tests a trained model on the test split.
import type { Module } from '../nn/module.js';
import { groupCounts, type ImageDataset } from '../data/dataset.js';
import type { Method } from '../vit/methods.js';
import { evaluate as evaluateModel, pictureIndices, type EvalResult, type EvaluateOptions } from '../vit/evaluate.js';
import { checkApplicable, UsageError, type ParsedArgs } from './args.js';
import { checkpointModel, isFolder, loadCheckpoint, readCheckpointHost, warnNonFinite } from './checkpoints.js';
import { startGpu } from './console.js';
import { openData } from './data.js';
import { printSummary, publicResult } from './report.js';
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

/** `--eval`: a checkpoint file is read and checked before the GPU starts (a folder is an export, loaded later). */
export async function evalOnly(args: ParsedArgs): Promise<number> {
  checkApplicable(args);
  const host = isFolder(args.eval!) ? null : await readCheckpointHost(args.eval!, '--eval');
  if (host) {
    checkApplicable(args, host.spec.method);
    warnNonFinite(host.tensors, args.eval!, 'the accuracy below is meaningless');
  }
  const adapter = await startGpu();
  const { spec, model, normalize } = host ? checkpointModel(host) : await loadCheckpoint(args.eval!);
  const data = await openData({ ...args, 'image-size': spec.vit.imageSize }, null);
  if (data.test.numClasses !== spec.numClasses) {
    throw new UsageError(`--eval: ${args.eval} classifies ${spec.numClasses} classes, but the test data has ${data.test.numClasses}`);
  }
  const result = await evaluate(spec.method, model, data.test, {
    batchSize: args['batch-size'], normalize, quiet: args.quiet, label: 'test', noise: args['eval-noise'],
    relevance: spec.method !== 'ifam', keepSamples: pictureIndices(data.test), trainGroupCounts: groupCounts(data.train),
  });
  printSummary(result, spec.method, ` (${args.eval})`, args.json ? process.stderr : process.stdout);
  if (args.json) process.stdout.write(JSON.stringify({ method: spec.method, checkpoint: args.eval, adapter: adapter.description, data: data.description, config: { spec, normalize }, test: publicResult(result) }) + '\n');
  return 0;
}
