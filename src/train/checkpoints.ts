// train.js's side of checkpoints (Node): files read into host memory and checked before the GPU
// starts, models built from them, and a run's checkpoints saved with its optimiser and progress.
// The format itself is src/vit/checkpoint.ts's.
import { existsSync, statSync } from 'node:fs';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { AdamW } from '../nn/optim.js';
import type { Module } from '../nn/module.js';
import { decodeSafetensors, readSafetensorsFile, saveSafetensorsFile, type HostTensor } from '../io/safetensors.js';
import type { Normalization, NormalizeOption } from '../data/dataset.js';
import { buildModel, type ModelSpec } from '../vit/methods.js';
import { checkCheckpoint, checkpointEntries, modelEntries, type CheckpointHeader } from '../vit/checkpoint.js';
import { UsageError } from './args.js';
import { log, oneLine } from './console.js';
import { isExportDir, loadExportAsCheckpoint } from './export.js';
import type { Progression } from './resume.js';

/** A run's checkpoint: the model, the optimiser's state and the run's progress ("webfam.progress"). */
export async function saveCheckpoint(path: string, model: Module, opt: AdamW, spec: ModelSpec, prog: Progression, normalize: NormalizeOption, classNames: readonly string[]): Promise<void> {
  const { tensors, metadata } = checkpointEntries(model, { spec, normalize, classNames, optimizer: opt, metadata: { 'webfam.progress': JSON.stringify(prog) } });
  await saveSafetensorsFile(path, tensors, metadata);
}

/** A checkpoint read and checked on the host, before anything goes to the GPU. */
export interface HostCheckpoint extends CheckpointHeader {
  path: string;
  tensors: Record<string, HostTensor>;
}

/**
 * Reads a checkpoint written by train.js into host memory: a regular file of bounded size, a
 * valid safetensors header, metadata that checkCheckpoint accepts (a well-formed spec that matches
 * the weights the file holds). `flag` names the flag that gave the path, for messages.
 */
export async function readCheckpointHost(path: string, flag: string): Promise<HostCheckpoint> {
  if (!existsSync(path)) throw new UsageError(`${flag}: checkpoint ${path} does not exist`);
  const { tensors, metadata } = decodeSafetensors(await readSafetensorsFile(path));
  return { path, ...checkCheckpoint({ tensors, metadata }, { where: path, plainWeightsHint: 'for plain timm weights use --weights' }), tensors };
}

/** Warns (one line) when weights hold NaN or infinite values: whatever is measured with them is meaningless. */
export function warnNonFinite(tensors: Record<string, HostTensor>, path: string, what: string): void {
  let bad = 0, total = 0;
  const names: string[] = [];
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith('optimizer.')) continue;
    let here = 0;
    for (const v of t.data) if (!Number.isFinite(v)) here++;
    total += t.data.length;
    if (here) {
      bad += here;
      names.push(k);
    }
  }
  if (bad) {
    log(`train.js: warning: ${bad.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} weights in ${path} are NaN or infinite (${names.slice(0, 3).join(', ')}${names.length > 3 ? `, and ${names.length - 3} more tensors` : ''}); ${what}`);
  }
}

/**
 * Uploads a host checkpoint's tensors (`all`: the optimiser state too, for --resume) and loads the
 * model's entries into `model`; returns the uploaded tensors.
 */
export function checkpointModelInto(model: Module, host: HostCheckpoint, all = true): { tensors: Record<string, Tensor> } {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(host.tensors)) if (all || !k.startsWith('optimizer.')) tensors[k] = tensor(t.data, { shape: t.shape });
  try {
    model.loadStateDict(modelEntries(tensors));
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new UsageError(`${host.path}: the weights do not fit the model its spec describes: ${oneLine((e as Error).message.replace(/^loadStateDict \(\w+\): /, ''))}`);
  }
  return { tensors };
}

/** Builds the model of a host checkpoint on the GPU. */
export function checkpointModel(host: HostCheckpoint): LoadedModel {
  const model = buildModel(host.spec);
  try {
    const { tensors } = checkpointModelInto(model, host, false);
    for (const t of Object.values(tensors)) t.dispose();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { spec: host.spec, model, normalize: host.normalize };
}

/** A model read from a checkpoint file or an export directory, with what its inputs need. */
export interface LoadedModel {
  spec: ModelSpec;
  model: Module;
  normalize: Normalization | null;
}

/** Loads a checkpoint written by train.js, or an export directory. */
export async function loadCheckpoint(path: string): Promise<LoadedModel> {
  if (!existsSync(path)) throw new UsageError(`checkpoint ${path} does not exist`);
  if (isExportDir(path)) return loadExportAsCheckpoint(path);
  return checkpointModel(await readCheckpointHost(path, 'checkpoint'));
}

/** Whether a path names a folder (export directories are folders; checkpoints are files). */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
