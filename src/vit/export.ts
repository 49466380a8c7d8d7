// The PyTorch bridge's file layout, as bytes (browser-safe; src/train/export.ts writes and reads the
// files in Node). A webfam checkpoint becomes weights PyTorch/timm load with strict key matching —
// no optimiser state — and a config.json with the `timm.create_model` arguments, the input
// normalisation, the class names and the iFAM options; an export directory (written here or by
// python/webfam_torch after training) becomes a webfam model again. docs/pytorch.md has the layout.
import type { Tensor } from '../tensor/tensor.js';
import { loadSafetensors, parseSafetensorsHeader, saveSafetensors, type SafetensorsContents } from '../io/safetensors.js';
import type { Normalization } from '../data/dataset.js';
import { buildModel, type Method, type ModelSpec } from './methods.js';
import { specWeightCount } from './spec.js';
import { PRESETS, vitConfig, type ViTConfig } from './config.js';
import { IFAM } from './ifam.js';
import type { VisionTransformer } from './vit.js';
import type { Module } from '../nn/module.js';
import { checkpointMetadata, type Checkpoint } from './checkpoint.js';

export const EXPORT_FORMAT = 'webfam-pytorch';
export const EXPORT_VERSION = 1;

/** timm.models.vision_transformer.VisionTransformer arguments (the names timm uses). */
export interface TimmKwargs {
  img_size: number;
  patch_size: number;
  in_chans: number;
  /** 0 for iFAM's stages (no head). */
  num_classes: number;
  embed_dim: number;
  depth: number;
  num_heads: number;
  mlp_ratio: number;
  qkv_bias: boolean;
  /** LayerScale's initial value; null = no LayerScale (no ls1/ls2 keys). */
  init_values: number | null;
  class_token: boolean;
  no_embed_class: boolean;
  reg_tokens: number;
  global_pool: 'token';
  drop_path_rate: number;
}

/** config.json of an export directory. */
export interface ExportConfig {
  format: typeof EXPORT_FORMAT;
  version: number;
  method: Method;
  num_classes: number;
  class_names: string[];
  /** Per-channel input normalisation of images in [0, 1]; null = none. */
  normalize: { mean: number[]; std: number[] } | null;
  /** `timm.create_model(model_name, **kwargs)`, or VisionTransformer(**kwargs); model_name null for webfam's own sizes. */
  timm: { model_name: string | null; kwargs: TimmKwargs };
  /** Epsilon of every LayerNorm in the ViTs (timm's default 1e-6). */
  norm_eps: number;
  /** Role → file name: {model} for a plain ViT, {stage1, stage2, heads} for iFAM. */
  files: Record<string, string>;
  ifam?: { parts: number; tau: number; part_dropout: number; joint_grad: boolean; joint_grad_scale: number };
  /** Loss weights and settings of the run, defaults for webfam_torch.train (python names). */
  training?: Record<string, unknown>;
  /** The webfam preset the model was built from (informative). */
  webfam?: { preset: string };
}

/** An export in memory: config.json's value and every weight file's bytes by file name. */
export interface ExportFiles {
  config: ExportConfig;
  files: Record<string, Uint8Array>;
}

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

export const IFAM_FILES = { stage1: 'stage1.safetensors', stage2: 'stage2.safetensors', heads: 'ifam_heads.safetensors' } as const;
export const MODEL_FILES = { model: 'model.safetensors' } as const;
/** Metadata every weight file carries: what Hugging Face's safetensors writer puts in torch files. */
const FILE_METADATA = { format: 'pt' };
/** webfam's presets that are timm model names too (their architecture, any image size). */
const TIMM_NAMED = ['vit_small_patch16_224', 'vit_base_patch16_224', 'vit_small_patch14_reg4_dinov2', 'vit_base_patch14_reg4_dinov2'] as const;

/** timm's arguments for a webfam ViT config with `numClasses` head outputs. */
export function timmKwargs(c: ViTConfig, numClasses: number): TimmKwargs {
  return {
    img_size: c.imageSize, patch_size: c.patchSize, in_chans: c.inChans, num_classes: numClasses,
    embed_dim: c.embedDim, depth: c.depth, num_heads: c.numHeads, mlp_ratio: c.mlpRatio, qkv_bias: c.qkvBias,
    init_values: c.layerScale ? c.layerScale : null, class_token: true, no_embed_class: c.noEmbedClass,
    reg_tokens: c.regTokens, global_pool: 'token', drop_path_rate: c.dropPath,
  };
}

/** The timm model name of a preset whose architecture the config keeps, else null. */
function timmModelName(preset: string, c: ViTConfig): string | null {
  if (!(TIMM_NAMED as readonly string[]).includes(preset)) return null;
  const p = PRESETS[preset as (typeof TIMM_NAMED)[number]];
  const keys = ['patchSize', 'inChans', 'embedDim', 'depth', 'numHeads', 'mlpRatio', 'regTokens', 'noEmbedClass', 'qkvBias', 'normEps'] as const;
  return keys.every((k) => p[k] === c[k]) && !!p.layerScale === !!c.layerScale ? preset : null;
}

/** The checkpoint's weights split into the export's files (bytes), and its config.json. */
export async function exportCheckpoint(ck: Pick<Checkpoint, 'spec' | 'model' | 'normalize' | 'classNames'>, training?: Record<string, unknown>): Promise<ExportFiles> {
  const { spec, model } = ck;
  const isIfam = spec.method === 'ifam';
  if (isIfam !== (model instanceof IFAM)) throw new ExportError(`the checkpoint's spec says ${spec.method} but its model is ${model.constructor.name}`);
  const config: ExportConfig = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    method: spec.method,
    num_classes: spec.numClasses,
    class_names: [...ck.classNames],
    normalize: ck.normalize ? { mean: [...ck.normalize.mean], std: [...ck.normalize.std] } : null,
    timm: { model_name: timmModelName(spec.preset, spec.vit), kwargs: timmKwargs(spec.vit, isIfam ? 0 : spec.numClasses) },
    norm_eps: spec.vit.normEps,
    files: isIfam ? { ...IFAM_FILES } : { ...MODEL_FILES },
    ...(isIfam && spec.ifam ? {
      ifam: {
        parts: spec.ifam.parts, tau: spec.ifam.tau, part_dropout: spec.ifam.partDropout,
        joint_grad: spec.ifam.jointGrad, joint_grad_scale: spec.ifam.jointGradScale ?? 1,
      },
    } : {}),
    ...(training ? { training } : {}),
    webfam: { preset: spec.preset },
  };
  const files: Record<string, Uint8Array> = {};
  if (model instanceof IFAM) {
    // Each stage alone is a timm ViT: its keys lose the stage prefix. Everything else keeps its name.
    files[IFAM_FILES.stage1] = await saveSafetensors(model.stage1.stateDict(), FILE_METADATA);
    files[IFAM_FILES.stage2] = await saveSafetensors(model.stage2.stateDict(), FILE_METADATA);
    const heads = Object.fromEntries(Object.entries(model.stateDict()).filter(([k]) => !/^stage[12]\./.test(k)));
    files[IFAM_FILES.heads] = await saveSafetensors(heads, FILE_METADATA);
  } else {
    files[MODEL_FILES.model] = await saveSafetensors(model.stateDict(), FILE_METADATA);
  }
  return { config, files };
}

// ------------------------------------------------------------------ import

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(obj: Record<string, unknown>, key: string, ok: (v: unknown) => boolean, what: string, where = 'config.json'): T {
  const v = obj[key];
  if (!ok(v)) throw new ExportError(`${where}: "${key}" must be ${what}, got ${JSON.stringify(v)}`);
  return v as T;
}
const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown) => typeof v === 'boolean';

/** Checks an export's config.json and derives the webfam ModelSpec it describes. */
export function specFromConfig(raw: unknown): { config: ExportConfig; spec: ModelSpec } {
  if (!isObject(raw)) throw new ExportError('config.json is not a JSON object');
  if (raw.format !== EXPORT_FORMAT) throw new ExportError(`config.json: format is ${JSON.stringify(raw.format)}, expected "${EXPORT_FORMAT}" (written by node train.js --export or webfam_torch)`);
  const method = field<Method>(raw, 'method', (v) => v === 'baseline' || v === 'ifam' || v === 'robustvit', 'baseline, ifam or robustvit');
  const numClasses = field<number>(raw, 'num_classes', posInt, 'a positive integer');
  const timm = field<Record<string, unknown>>(raw, 'timm', isObject, 'an object with "kwargs"');
  const kw = field<Record<string, unknown>>(timm, 'kwargs', isObject, 'an object', 'config.json timm');
  const where = 'config.json timm.kwargs';
  if (kw.class_token === false || (kw.global_pool !== undefined && kw.global_pool !== 'token')) {
    throw new ExportError(`${where}: webfam's ViT pools the class token (class_token true, global_pool "token")`);
  }
  const headClasses = field<number>(kw, 'num_classes', count, 'a whole number', where);
  const wantHead = method === 'ifam' ? 0 : numClasses;
  if (headClasses !== wantHead) throw new ExportError(`${where}: num_classes is ${headClasses}, but a ${method} model with ${numClasses} classes needs ${wantHead}`);
  const initValues = kw.init_values ?? null;
  if (initValues !== null && !num(initValues)) throw new ExportError(`${where}: "init_values" must be a number or null, got ${JSON.stringify(initValues)}`);
  const vit = asExportError(() => vitConfig({
    imageSize: field<number>(kw, 'img_size', posInt, 'a positive integer', where),
    patchSize: field<number>(kw, 'patch_size', posInt, 'a positive integer', where),
    inChans: kw.in_chans === undefined ? 3 : field<number>(kw, 'in_chans', posInt, 'a positive integer', where),
    embedDim: field<number>(kw, 'embed_dim', posInt, 'a positive integer', where),
    depth: field<number>(kw, 'depth', posInt, 'a positive integer', where),
    numHeads: field<number>(kw, 'num_heads', posInt, 'a positive integer', where),
    mlpRatio: kw.mlp_ratio === undefined ? 4 : field<number>(kw, 'mlp_ratio', num, 'a number', where),
    qkvBias: kw.qkv_bias === undefined ? true : field<boolean>(kw, 'qkv_bias', bool, 'true or false', where),
    layerScale: (initValues as number | null) ?? 0,
    noEmbedClass: kw.no_embed_class === undefined ? false : field<boolean>(kw, 'no_embed_class', bool, 'true or false', where),
    regTokens: kw.reg_tokens === undefined ? 0 : field<number>(kw, 'reg_tokens', count, 'a whole number', where),
    dropPath: kw.drop_path_rate === undefined ? 0 : field<number>(kw, 'drop_path_rate', num, 'a number', where),
    normEps: raw.norm_eps === undefined ? 1e-6 : field<number>(raw, 'norm_eps', num, 'a number'),
    numClasses,
  }));
  const files = field<Record<string, string>>(raw, 'files', isObject, 'an object naming the weight files');
  const roles = method === 'ifam' ? Object.keys(IFAM_FILES) : Object.keys(MODEL_FILES);
  for (const r of roles) field<string>(files, r, (v) => typeof v === 'string' && v !== '' && !/[\\/]/.test(v), 'a file name in the directory', 'config.json files');
  let ifam: ModelSpec['ifam'];
  if (method === 'ifam') {
    const o = field<Record<string, unknown>>(raw, 'ifam', isObject, 'an object with the iFAM options');
    ifam = {
      parts: field<number>(o, 'parts', posInt, 'a positive integer', 'config.json ifam'),
      tau: field<number>(o, 'tau', num, 'a number', 'config.json ifam'),
      partDropout: field<number>(o, 'part_dropout', num, 'a number', 'config.json ifam'),
      jointGrad: field<boolean>(o, 'joint_grad', bool, 'true or false', 'config.json ifam'),
      jointGradScale: o.joint_grad_scale === undefined ? 1 : field<number>(o, 'joint_grad_scale', num, 'a number', 'config.json ifam'),
    };
  }
  const normalize = raw.normalize ?? null;
  if (normalize !== null && !(isObject(normalize) && Array.isArray(normalize.mean) && Array.isArray(normalize.std) && normalize.mean.length === 3 && normalize.std.length === 3 && [...normalize.mean, ...normalize.std].every(num) && normalize.std.every((s: number) => s > 0))) {
    throw new ExportError(`config.json: "normalize" must be null or {"mean": [3 numbers], "std": [3 positive numbers]}, got ${JSON.stringify(normalize)}`);
  }
  const names = raw.class_names;
  if (names !== undefined && !(Array.isArray(names) && names.length === numClasses && names.every((n) => typeof n === 'string'))) {
    throw new ExportError(`config.json: "class_names" must list ${numClasses} strings, got ${JSON.stringify(names)}`);
  }
  const preset = isObject(raw.webfam) && typeof raw.webfam.preset === 'string' ? raw.webfam.preset : typeof timm.model_name === 'string' ? timm.model_name : 'custom';
  const spec: ModelSpec = { method, preset, vit, numClasses, ...(ifam ? { ifam } : {}) };
  return { config: raw as unknown as ExportConfig, spec };
}

/** Runs f, turning its errors (a ViT config that cannot be built) into ExportErrors. */
function asExportError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof ExportError ? e : new ExportError(`config.json: ${(e as Error).message}`);
  }
}

/** Builds the model an export describes and loads its weights (every key must match). */
export function importExport(exp: { config: unknown; files: Record<string, Uint8Array> }): Checkpoint {
  const { config, spec } = specFromConfig(exp.config);
  // The config comes from a file: before a model is allocated, the weights it describes must be
  // the weights the files hold (their headers say, without decoding anything).
  let held = 0;
  for (const role of Object.keys(spec.method === 'ifam' ? IFAM_FILES : MODEL_FILES)) {
    const bytes = exp.files[config.files[role]!];
    if (!bytes) throw new ExportError(`the export lacks ${config.files[role]} (config.json files.${role})`);
    for (const e of parseSafetensorsHeader(bytes).entries) held += e.shape.reduce((a, d) => a * d, 1);
  }
  const described = specWeightCount(spec);
  if (held !== described) throw new ExportError(`config.json describes a model of ${described} weights but the weight files hold ${held}; they do not belong together`);
  const model = buildModel(spec) as IFAM | VisionTransformer;
  const contents: SafetensorsContents<Tensor>[] = [];
  try {
    const read = (role: string) => {
      const name = config.files[role]!;
      const bytes = exp.files[name];
      if (!bytes) throw new ExportError(`the export lacks ${name} (config.json files.${role})`);
      const c = loadSafetensors(bytes);
      contents.push(c);
      return c.tensors;
    };
    const dict: Record<string, Tensor> = {};
    if (model instanceof IFAM) {
      for (const stage of ['stage1', 'stage2'] as const) for (const [k, t] of Object.entries(read(stage))) dict[`${stage}.${k}`] = t;
      const heads = read('heads');
      for (const [k, t] of Object.entries(heads)) {
        if (/^stage[12]\./.test(k)) throw new ExportError(`${config.files.heads} holds ${k}; stage weights belong in ${config.files.stage1} / ${config.files.stage2}`);
        dict[k] = t;
      }
    } else {
      Object.assign(dict, read('model'));
    }
    strictLoad(model, dict);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const c of contents) for (const t of Object.values(c.tensors)) t.dispose();
  }
  model.eval();
  const normalize: Normalization | null = config.normalize
    ? { mean: config.normalize.mean as unknown as Normalization['mean'], std: config.normalize.std as unknown as Normalization['std'] }
    : null;
  const classNames = config.class_names ?? Array.from({ length: spec.numClasses }, (_, i) => `class ${i}`);
  return { spec, model, normalize, classNames, metadata: checkpointMetadata(spec, normalize, classNames) };
}

/** loadStateDict's one error listing every problem, as an ExportError. */
function strictLoad(model: Module, dict: Record<string, Tensor>): void {
  try {
    model.loadStateDict(dict, { strict: true });
  } catch (e) {
    throw new ExportError(`the weights do not fit the model config.json describes: ${(e as Error).message.replace(/^loadStateDict \(\w+\): /, '')}`);
  }
}
