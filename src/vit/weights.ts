// Weights in and out of a ViT as safetensors with timm's key names. Loading is strict by default
// (one error lists every missing key, unexpected key and shape mismatch); position embeddings
// stored for another patch grid are resized (bicubic, antialiased) on the way in.
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { loadSafetensors, loadSafetensorsFile, saveSafetensors, saveSafetensorsFile, type SafetensorsContents } from '../io/safetensors.js';
import { resizePosEmbed, type VisionTransformer } from './vit.js';
import type { Module } from '../nn/module.js';

export interface LoadWeightsOptions {
  /** Every key must match (default true). */
  strict?: boolean;
  /** Keys allowed to be missing even when strict, as prefixes (e.g. ['head.'] for a backbone). */
  allowMissing?: string[];
  /** Keys in the file to ignore, as prefixes. */
  ignore?: string[];
  /** Prefix the file's keys carry for this module (e.g. 'stage1.'); stripped before matching. */
  prefix?: string;
}

/** Resizes `pos_embed` entries whose grid differs from the model's. */
function adaptPositionEmbeddings(vit: VisionTransformer, key: string, t: Tensor): Tensor {
  const own = vit.pos_embed;
  if (t.rank !== 3 || own.rank !== 3 || t.shape[2] !== own.shape[2] || t.shape[1] === own.shape[1]) return t;
  const prefix = vit.config.noEmbedClass ? 0 : 1 + vit.config.regTokens;
  const fromGrid = Math.round(Math.sqrt(t.shape[1]! - prefix));
  const toGrid = Math.round(Math.sqrt(own.shape[1]! - prefix));
  if (fromGrid * fromGrid + prefix !== t.shape[1]) {
    throw new Error(`${key}: ${t.shape[1]} positions are not ${prefix ? `${prefix} prefix tokens plus ` : ''}a square grid`);
  }
  return noGrad(() => resizePosEmbed(t, prefix, fromGrid, toGrid));
}

/**
 * Loads timm-named weights into `model` (a VisionTransformer, or any Module whose ViTs are
 * listed in `vits` by key prefix so their position embeddings can be resized).
 */
export function loadWeights(model: Module, contents: SafetensorsContents<Tensor>, opts: LoadWeightsOptions & { vits?: Record<string, VisionTransformer> } = {}): { missing: string[]; unexpected: string[] } {
  const prefix = opts.prefix ?? '';
  const dict: Record<string, Tensor> = {};
  const vits = opts.vits ?? ('pos_embed' in model && 'blocks' in model ? { '': model as unknown as VisionTransformer } : {});
  for (const [k0, t] of Object.entries(contents.tensors)) {
    if (prefix && !k0.startsWith(prefix)) continue;
    const k = k0.slice(prefix.length);
    if (opts.ignore?.some((p) => k.startsWith(p))) continue;
    let v = t;
    for (const [vp, vit] of Object.entries(vits)) if (k === `${vp}pos_embed`) v = adaptPositionEmbeddings(vit, k0, t);
    dict[k] = v;
  }
  const own = model.stateDict();
  const allowed = (k: string) => opts.allowMissing?.some((p) => k.startsWith(p)) ?? false;
  const missing = Object.keys(own).filter((k) => !(k in dict));
  const unexpected = Object.keys(dict).filter((k) => !(k in own));
  const strict = opts.strict ?? true;
  if (strict && (missing.some((k) => !allowed(k)) || unexpected.length)) {
    // Let loadStateDict produce the single error with every problem listed.
    model.loadStateDict(dict, { strict: true });
  }
  for (const k of missing) if (allowed(k)) dict[k] = own[k]!;
  model.loadStateDict(dict, { strict: false });
  return { missing, unexpected };
}

/** Loads from a safetensors path (Node), bytes, or parsed contents. */
export async function loadWeightsFrom(model: Module, source: string | ArrayBuffer | Uint8Array | SafetensorsContents<Tensor>, opts: LoadWeightsOptions & { vits?: Record<string, VisionTransformer> } = {}): Promise<{ missing: string[]; unexpected: string[]; metadata: Record<string, string> }> {
  const contents = typeof source === 'string' ? await loadSafetensorsFile(source) : source instanceof ArrayBuffer || source instanceof Uint8Array ? loadSafetensors(source) : source;
  try {
    return { ...loadWeights(model, contents, opts), metadata: contents.metadata };
  } finally {
    if (contents !== source) for (const t of Object.values(contents.tensors)) t.dispose();
  }
}

/** The module's weights as safetensors bytes (timm names), with optional metadata. */
export function saveWeights(model: Module, metadata?: Record<string, string>): Promise<Uint8Array> {
  return saveSafetensors(model.stateDict(), metadata);
}

/** Writes the module's weights to a file atomically (Node). */
export function saveWeightsFile(path: string, model: Module, metadata?: Record<string, string>): Promise<void> {
  return saveSafetensorsFile(path, model.stateDict(), metadata);
}
