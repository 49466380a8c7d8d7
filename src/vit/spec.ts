// Checks a checkpoint's "webfam.spec" (the model description train.js writes) before a model is
// built from it. The spec comes from a file, so it may be garbage or hostile: a spec claiming a
// model of width 100000 and depth 1000 would otherwise allocate gigabytes before failing. Every
// field is type- and range-checked, and the number of weights the described model has must match
// what the file actually holds, so building it costs no more memory than the file itself.
import { vitConfig, type ViTConfig } from './config.js';
import type { Method, ModelSpec } from './methods.js';

const METHODS: readonly Method[] = ['baseline', 'ifam', 'robustvit'];

/** A malformed spec, naming the field. */
export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(obj: Record<string, unknown>, key: string, lo: number, hi: number, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new SpecError(`${where}.${key} must be a whole number in [${lo}, ${hi}], got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function numIn(obj: Record<string, unknown>, key: string, lo: number, hi: number, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new SpecError(`${where}.${key} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function bool(obj: Record<string, unknown>, key: string, where: string): boolean {
  const v = obj[key];
  if (typeof v !== 'boolean') throw new SpecError(`${where}.${key} must be true or false, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

/** Weights of a VisionTransformer with this config (what its stateDict holds). */
export function vitWeightCount(c: ViTConfig): number {
  const D = c.embedDim, hidden = Math.round(D * c.mlpRatio);
  const patches = (c.imageSize / c.patchSize) ** 2;
  const positions = c.noEmbedClass ? patches : patches + 1 + c.regTokens;
  const block = 2 * D // norm1
    + 3 * D * D + (c.qkvBias ? 3 * D : 0) + D * D + D // qkv, proj
    + 2 * D // norm2
    + hidden * D + hidden + D * hidden + D // fc1, fc2
    + (c.layerScale ? 2 * D : 0);
  return D /* cls */ + c.regTokens * D + positions * D + D * c.inChans * c.patchSize ** 2 + D /* patch embed */
    + c.depth * block + 2 * D /* norm */ + (c.numClasses > 0 ? c.numClasses * D + c.numClasses : 0);
}

/** Weights of the model a (checked) spec describes. */
export function specWeightCount(spec: ModelSpec): number {
  if (spec.method !== 'ifam') return vitWeightCount({ ...spec.vit, numClasses: spec.numClasses });
  const D = spec.vit.embedDim, K1 = spec.ifam!.parts + 1;
  const backbone = vitWeightCount({ ...spec.vit, numClasses: 0 });
  // Two backbones; part head: prototypes, modulation norm over [D, K+1], class landmarks; head norm and head.
  return 2 * backbone + K1 * D + 2 * D * K1 + spec.numClasses * D + 2 * D + spec.numClasses * D;
}

/**
 * Parses and checks a spec read from `where` (a checkpoint path, for messages) against the number
 * of model weights the file holds. Returns the spec, typed.
 */
export function checkSpec(raw: unknown, modelWeights: number, where: string): ModelSpec {
  const at = `${where}: "webfam.spec"`;
  if (!isObject(raw)) throw new SpecError(`${at} must be a JSON object, got ${JSON.stringify(raw)?.slice(0, 60)}`);
  if (!METHODS.includes(raw.method as Method)) throw new SpecError(`${at}.method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(raw.method)?.slice(0, 40)}`);
  if (typeof raw.preset !== 'string' || raw.preset.length > 100) throw new SpecError(`${at}.preset must be a model name, got ${JSON.stringify(raw.preset)?.slice(0, 40)}`);
  const numClasses = intIn(raw, 'numClasses', 1, 100_000, at);
  const v = raw.vit;
  if (!isObject(v)) throw new SpecError(`${at}.vit must be an object with the ViT's configuration`);
  const w = `${at}.vit`;
  const imageSize = intIn(v, 'imageSize', 1, 4096, w);
  const vit: ViTConfig = {
    imageSize,
    patchSize: intIn(v, 'patchSize', 1, imageSize, w),
    inChans: intIn(v, 'inChans', 1, 16, w),
    embedDim: intIn(v, 'embedDim', 1, 8192, w),
    depth: intIn(v, 'depth', 1, 256, w),
    numHeads: intIn(v, 'numHeads', 1, 8192, w),
    mlpRatio: numIn(v, 'mlpRatio', 0.01, 64, w),
    numClasses: intIn(v, 'numClasses', 0, 100_000, w),
    regTokens: intIn(v, 'regTokens', 0, 64, w),
    layerScale: numIn(v, 'layerScale', -1e6, 1e6, w),
    noEmbedClass: bool(v, 'noEmbedClass', w),
    qkvBias: bool(v, 'qkvBias', w),
    dropPath: numIn(v, 'dropPath', 0, 1, w),
    normEps: numIn(v, 'normEps', 1e-30, 1, w),
  };
  try {
    vitConfig(vit);
  } catch (e) {
    throw new SpecError(`${w}: ${(e as Error).message.replace(/^ViT config: /, '')}`);
  }
  let ifam: ModelSpec['ifam'];
  if (raw.method === 'ifam') {
    const f = raw.ifam;
    if (!isObject(f)) throw new SpecError(`${at}.ifam must be an object with the iFAM options`);
    const i = `${at}.ifam`;
    ifam = {
      parts: intIn(f, 'parts', 1, 64, i),
      tau: numIn(f, 'tau', 1e-6, 1e6, i),
      partDropout: numIn(f, 'partDropout', 0, 0.999, i),
      jointGrad: bool(f, 'jointGrad', i),
      ...(f.jointGradScale === undefined ? {} : { jointGradScale: numIn(f, 'jointGradScale', -1e6, 1e6, i) }),
    };
  }
  const spec: ModelSpec = { method: raw.method as Method, preset: raw.preset, vit, numClasses, ...(ifam ? { ifam } : {}) };
  const need = specWeightCount(spec);
  if (need !== modelWeights) {
    throw new SpecError(`${at} describes a ${spec.method} model with ${need.toLocaleString('en-US')} weights (width ${vit.embedDim}, depth ${vit.depth}, ${numClasses} classes), but the file holds ${modelWeights.toLocaleString('en-US')}: the spec does not match the weights`);
  }
  return spec;
}
