// The checkpoint format, written and read here only: a safetensors file with the model's weights
// under timm's names, the optimiser's state under "optimizer." (training runs only), and metadata
// "webfam.spec" (the model, checked by ./spec.ts), "webfam.normalize" (input normalisation) and
// "webfam.classes" (class names). Browser-safe: train.js, the demo page, the benchmarks and the
// PyTorch bridge all go through writeCheckpoint / checkCheckpoint / readCheckpoint.
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { stateToTensors, type Optimizer } from '../nn/optim.js';
import {
  loadSafetensors, loadSafetensorsResponse, parseSafetensorsHeader, saveSafetensors, encodeSafetensors, decodeSafetensors,
  type FetchOptions, type SafetensorsContents,
} from '../io/safetensors.js';
import { resolveNormalization, type Normalization, type NormalizeOption } from '../data/dataset.js';
import { buildModel, type Method, type MethodModel, type ModelSpec } from './methods.js';
import { checkSpec } from './spec.js';

export type { ModelSpec, Method };

/** The metadata keys of the format. */
export const CHECKPOINT_KEYS = { spec: 'webfam.spec', normalize: 'webfam.normalize', classes: 'webfam.classes' } as const;
/** Entries whose name starts with this hold optimiser state, not model weights. */
export const OPTIMIZER_PREFIX = 'optimizer.';

/** A file that is not a usable webfam checkpoint (the spec's own problems are SpecErrors). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** The model a checkpoint of method M holds: an IFAM for 'ifam', a VisionTransformer with a head otherwise. */
export type CheckpointModel<M extends Method = Method> = MethodModel<M>;

/**
 * A checkpoint's model, built and loaded, with what it was trained with. `Checkpoint<'ifam'>`
 * holds an IFAM; plain `Checkpoint` holds a model of any method (code that passes checkpoints
 * around, or builds one itself, uses this).
 */
export interface Checkpoint<M extends Method = Method> {
  spec: ModelSpec & { method: M };
  /** The model, in eval mode. */
  model: CheckpointModel<M>;
  /** The per-channel normalisation the model was trained with (null: inputs in [0, 1]). */
  normalize: Normalization | null;
  classNames: string[];
  metadata: Record<string, string>;
}

/**
 * What readCheckpoint and fetchCheckpoint return: a Checkpoint of one method, with the method also
 * at the top level, where TypeScript can narrow on it (it does not narrow on `spec.method`):
 * `if (ck.method === 'ifam') ck.model.forward(x).mask` type-checks.
 */
export type LoadedCheckpoint = { [M in Method]: Checkpoint<M> & { method: M } }[Method];

/** What a checkpoint says about its model, checked, before any weight goes to the GPU. */
export interface CheckpointHeader {
  spec: ModelSpec;
  normalize: Normalization | null;
  classNames: string[];
  metadata: Record<string, string>;
}

export interface CheckOptions {
  /** Names the file in messages (a path, a URL); default "checkpoint". */
  where?: string;
  /** What to say to someone who passed plain timm weights. */
  plainWeightsHint?: string;
}

/** Whether an entry of a checkpoint is a model weight (not optimiser state). */
export function isModelEntry(name: string): boolean {
  return !name.startsWith(OPTIMIZER_PREFIX);
}

/** A checkpoint's model entries (everything but the optimiser state). */
export function modelEntries<T>(tensors: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => isModelEntry(k)));
}

/** JSON from a checkpoint's metadata (undefined when absent), or a one-line error naming the file and the key. */
export function metadataJson(metadata: Record<string, string>, key: string, where: string): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${where}: metadata "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The one validation of a checkpoint: its spec well-formed and describing exactly as many weights
 * as the file holds (so building the model costs no more than the file), its normalisation usable.
 * Needs only the entries' shapes, so it runs on a parsed header, host tensors or GPU tensors.
 */
export function checkCheckpoint(contents: { tensors: Record<string, { shape: readonly number[] }>; metadata: Record<string, string> }, opts: CheckOptions = {}): CheckpointHeader {
  const where = opts.where ?? 'checkpoint';
  const { metadata } = contents;
  const raw = metadataJson(metadata, CHECKPOINT_KEYS.spec, where);
  if (raw === undefined) {
    throw new CheckpointError(`${where} is not a webfam checkpoint (no "${CHECKPOINT_KEYS.spec}" metadata); ${opts.plainWeightsHint ?? 'plain timm weights load with vit.loadWeights'}`);
  }
  let weights = 0;
  for (const [k, t] of Object.entries(contents.tensors)) if (isModelEntry(k)) weights += t.shape.reduce((a, d) => a * d, 1);
  const spec = checkSpec(raw, weights, where);
  let normalize: Normalization | null;
  try {
    normalize = resolveNormalization((metadataJson(metadata, CHECKPOINT_KEYS.normalize, where) ?? null) as NormalizeOption);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${where}: metadata "${CHECKPOINT_KEYS.normalize}" is malformed (${(e as Error).message})`);
  }
  const names = metadataJson(metadata, CHECKPOINT_KEYS.classes, where);
  const classNames = Array.isArray(names) && names.length === spec.numClasses ? names.map(String) : Array.from({ length: spec.numClasses }, (_, i) => `class ${i}`);
  return { spec, normalize, classNames, metadata };
}

/** What a checkpoint holds besides the model's weights. */
export interface CheckpointContents {
  spec: ModelSpec;
  /** Written as given ("imagenet", explicit values, or null). */
  normalize: NormalizeOption | Normalization;
  classNames: readonly string[];
  /** A training run's optimiser, saved under "optimizer." to resume from. */
  optimizer?: Optimizer<any>;
  /** More metadata (e.g. a run's progress); the format's own keys win over these. */
  metadata?: Record<string, string>;
}

/** The tensors and metadata of a checkpoint of `model` (to encode, or to save to a file in Node). */
export function checkpointEntries(model: Module, c: CheckpointContents): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const optimizer = c.optimizer ? stateToTensors(c.optimizer.stateDict(), OPTIMIZER_PREFIX) : { tensors: {}, metadata: {} };
  return {
    tensors: { ...model.stateDict(), ...optimizer.tensors },
    metadata: { ...optimizer.metadata, ...c.metadata, ...checkpointMetadata(c.spec, c.normalize, c.classNames) },
  };
}

/** The format's own metadata entries. */
export function checkpointMetadata(spec: ModelSpec, normalize: NormalizeOption | Normalization, classNames: readonly string[]): Record<string, string> {
  return {
    [CHECKPOINT_KEYS.spec]: JSON.stringify(spec),
    [CHECKPOINT_KEYS.normalize]: JSON.stringify(normalize ?? null),
    [CHECKPOINT_KEYS.classes]: JSON.stringify(classNames),
  };
}

/** A checkpoint file's bytes. */
export function writeCheckpoint(model: Module, c: CheckpointContents): Promise<Uint8Array> {
  const { tensors, metadata } = checkpointEntries(model, c);
  return saveSafetensors(tensors, metadata);
}

/** A checkpoint without its optimiser state or run metadata: what a page ships (host-side, no GPU). */
export function stripCheckpoint(bytes: Uint8Array, opts: CheckOptions = {}): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  checkCheckpoint({ tensors, metadata }, opts);
  const kept: Record<string, string> = {};
  for (const k of Object.values(CHECKPOINT_KEYS)) if (metadata[k] !== undefined) kept[k] = metadata[k];
  return encodeSafetensors(modelEntries(tensors), kept);
}

/** Builds a checked checkpoint's model and loads its weights (every key must match). */
function buildCheckpointModel(header: CheckpointHeader, tensors: Record<string, Tensor>): LoadedCheckpoint {
  const model = buildModel(header.spec);
  try {
    model.loadStateDict(modelEntries(tensors));
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  // The cast pairs spec.method with its model kind, which buildModel guarantees at run time.
  return { method: header.spec.method, ...header, model } as LoadedCheckpoint;
}

/**
 * Builds the model a train.js checkpoint describes and loads its weights. `source` is the file's
 * bytes (checked from the header before anything is uploaded) or already-loaded contents (whose
 * tensors are disposed once copied into the model). Optimiser state in the file is ignored.
 */
export function readCheckpoint(source: ArrayBuffer | Uint8Array | SafetensorsContents<Tensor>, opts: CheckOptions = {}): LoadedCheckpoint {
  let contents: SafetensorsContents<Tensor>;
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    const header = parseSafetensorsHeader(bytes);
    checkCheckpoint({ tensors: Object.fromEntries(header.entries.map((e) => [e.name, e])), metadata: header.metadata }, opts);
    contents = loadSafetensors(bytes);
  } else contents = source;
  try {
    return buildCheckpointModel(checkCheckpoint(contents, opts), contents.tensors);
  } finally {
    for (const t of Object.values(contents.tensors)) t.dispose();
  }
}

/**
 * Reads a checkpoint from a URL, a fetch Response or a Blob/File (a file picked in a page), with
 * `onProgress(loaded, total)` as the bytes arrive.
 */
export async function fetchCheckpoint(source: string | URL | Response | Blob, opts: FetchOptions & CheckOptions = {}): Promise<LoadedCheckpoint> {
  // A Blob's size is known up front; handing it over as Content-Length gives the progress a total.
  const response = source instanceof Blob ? new Response(source, { headers: { 'content-length': String(source.size) } }) : source;
  return readCheckpoint(await loadSafetensorsResponse(response, opts), opts);
}
