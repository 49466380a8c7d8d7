// Checkpoints written by `node train.js`, read from bytes anywhere (Node or a web page): the model
// spec, input normalisation and class names come from the safetensors metadata, the weights go
// into a freshly built model. Optimiser state in the file is ignored.
import type { Tensor } from '../tensor/tensor.js';
import { loadSafetensors, loadSafetensorsResponse, SafetensorsError, type FetchOptions, type SafetensorsContents } from '../io/safetensors.js';
import { resolveNormalization, type Normalization, type NormalizeOption } from '../data/dataset.js';
import { buildModel, type Method, type ModelSpec } from '../train/methods.js';
import type { VisionTransformer } from './vit.js';
import type { IFAM } from './ifam.js';

export type { ModelSpec, Method };

/** The model a checkpoint of method M holds: an IFAM for 'ifam', a VisionTransformer with a head otherwise. */
export type CheckpointModel<M extends Method = Method> = M extends 'ifam' ? IFAM : VisionTransformer;

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

const METHODS: readonly Method[] = ['baseline', 'ifam', 'robustvit'];

function metadataJson(metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`checkpoint metadata "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Builds the model a train.js checkpoint describes and loads its weights. `source` is the file's
 * bytes or already-loaded contents (whose tensors are disposed once copied into the model).
 */
export function readCheckpoint(source: ArrayBuffer | Uint8Array | SafetensorsContents<Tensor>): LoadedCheckpoint {
  const contents = source instanceof ArrayBuffer || source instanceof Uint8Array ? loadSafetensors(source) : source;
  try {
    const { metadata } = contents;
    const spec = metadataJson(metadata, 'webfam.spec') as ModelSpec | undefined;
    if (!spec) throw new SafetensorsError('not a webfam checkpoint (no "webfam.spec" metadata); plain timm weights load with vit.loadWeights');
    if (!METHODS.includes(spec.method) || !spec.vit || !(spec.numClasses > 0)) {
      throw new SafetensorsError(`checkpoint "webfam.spec" is malformed: ${JSON.stringify(spec).slice(0, 200)}`);
    }
    const model = buildModel(spec) as IFAM | VisionTransformer;
    const own: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(contents.tensors)) if (!k.startsWith('optimizer.')) own[k] = t;
    model.loadStateDict(own);
    model.eval();
    const normalize = resolveNormalization((metadataJson(metadata, 'webfam.normalize') ?? null) as NormalizeOption);
    const names = metadataJson(metadata, 'webfam.classes');
    const classNames = Array.isArray(names) && names.length === spec.numClasses ? names.map(String) : Array.from({ length: spec.numClasses }, (_, i) => `class ${i}`);
    // The cast pairs spec.method with its model kind, which buildModel guarantees at run time.
    return { method: spec.method, spec, model, normalize, classNames, metadata } as LoadedCheckpoint;
  } finally {
    for (const t of Object.values(contents.tensors)) t.dispose();
  }
}

/**
 * Reads a checkpoint from a URL, a fetch Response or a Blob/File (a file picked in a page), with
 * `onProgress(loaded, total)` as the bytes arrive.
 */
export async function fetchCheckpoint(source: string | URL | Response | Blob, opts: FetchOptions = {}): Promise<LoadedCheckpoint> {
  // A Blob's size is known up front; handing it over as Content-Length gives the progress a total.
  const response = source instanceof Blob ? new Response(source, { headers: { 'content-length': String(source.size) } }) : source;
  return readCheckpoint(await loadSafetensorsResponse(response, opts));
}
