// What the training-step benchmark (bench/train-step.ts) asks of each library: the same ViT
// classifier, the same initial weights and batch, the same AdamW, one full step at a time.
import type { ViTConfig } from '../../src/vit/config.js';
import type { AdapterSummary } from './types.js';

/** A parameter on the host, by its timm name. Linear weights are [out, in] (y = x·Wᵀ + b). */
export interface HostParam {
  shape: number[];
  data: Float32Array;
}
export type HostParams = Record<string, HostParam>;

/** AdamW as torch.optim.AdamW: decoupled decay on every parameter, bias-corrected moments. */
export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface StepSpec {
  config: ViTConfig;
  batch: number;
  /** [B, C, S, S] images, row-major. */
  images: Float32Array;
  /** B class indices. */
  labels: number[];
  opt: AdamWHyper;
}

/** One library's model, optimiser and batch, ready to train. */
export interface TrainCase {
  /** How the library runs the step (jit or eager, which ops), shown in the report. */
  note: string;
  /**
   * One training step (forward, backward, AdamW update), resolved once the GPU has finished it
   * (each library's own "block until ready"); no readback, so the clock can wrap it.
   */
  step(): Promise<void>;
  /** The loss of the last step, read back (not timed). */
  lastLoss(): Promise<number>;
  /** The current parameters, read back. */
  params(): Promise<HostParams>;
  /** What the library says about its memory (bytes), after the last step. */
  memory(): Record<string, number>;
  dispose(): void;
}

export interface TrainPeer {
  name: string;
  version: string;
  /** Sets the library up; returns the adapter it got. */
  init(): Promise<AdapterSummary>;
  /** Builds the model with `initial` weights and uploads the batch. */
  prepare(spec: StepSpec, initial: HostParams): Promise<TrainCase>;
}

/** The timm parameter names (and shapes) a config has, in timm's state-dict order. */
export function paramShapes(c: ViTConfig): [string, number[]][] {
  const D = c.embedDim, H = Math.round(D * c.mlpRatio), grid = c.imageSize / c.patchSize;
  const patches = grid * grid;
  const out: [string, number[]][] = [['cls_token', [1, 1, D]]];
  if (c.regTokens) out.push(['reg_token', [1, c.regTokens, D]]);
  out.push(['pos_embed', [1, c.noEmbedClass ? patches : patches + 1 + c.regTokens, D]]);
  out.push(['patch_embed.proj.weight', [D, c.inChans, c.patchSize, c.patchSize]], ['patch_embed.proj.bias', [D]]);
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}.`;
    out.push([`${b}norm1.weight`, [D]], [`${b}norm1.bias`, [D]]);
    out.push([`${b}attn.qkv.weight`, [3 * D, D]]);
    if (c.qkvBias) out.push([`${b}attn.qkv.bias`, [3 * D]]);
    out.push([`${b}attn.proj.weight`, [D, D]], [`${b}attn.proj.bias`, [D]]);
    if (c.layerScale) out.push([`${b}ls1.gamma`, [D]]);
    out.push([`${b}norm2.weight`, [D]], [`${b}norm2.bias`, [D]]);
    out.push([`${b}mlp.fc1.weight`, [H, D]], [`${b}mlp.fc1.bias`, [H]], [`${b}mlp.fc2.weight`, [D, H]], [`${b}mlp.fc2.bias`, [D]]);
    if (c.layerScale) out.push([`${b}ls2.gamma`, [D]]);
  }
  out.push(['norm.weight', [D]], ['norm.bias', [D]], ['head.weight', [c.numClasses, D]], ['head.bias', [c.numClasses]]);
  return out;
}

/** Throws unless `params` holds exactly the config's parameters with the right shapes. */
export function checkParams(who: string, c: ViTConfig, params: HostParams): void {
  const want = paramShapes(c);
  const problems: string[] = [];
  for (const [name, shape] of want) {
    const p = params[name];
    if (!p) problems.push(`missing ${name}`);
    else if (p.shape.join(',') !== shape.join(',') || p.data.length !== shape.reduce((a, b) => a * b, 1)) problems.push(`${name}: [${p.shape}] vs [${shape}]`);
  }
  const known = new Set(want.map(([n]) => n));
  for (const name of Object.keys(params)) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length) throw new Error(`${who}: parameters do not match the config: ${problems.join('; ')}`);
}

/** Labels as one-hot rows [B, classes] (the peers' cross-entropy multiplies by it). */
export function oneHot(labels: number[], classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => { out[i * classes + l] = 1; });
  return out;
}

/** AdamW's per-step scalars, computed in float64 as webfam's optimiser does. */
export function adamwScalars(o: AdamWHyper, step: number): { decay: number; stepSize: number; sqrtBc2: number } {
  return { decay: 1 - o.lr * o.weightDecay, stepSize: o.lr / (1 - o.beta1 ** step), sqrtBc2: Math.sqrt(1 - o.beta2 ** step) };
}

/**
 * Counts the bytes of GPU buffers a device holds (created minus destroyed), and the high-water
 * mark, by wrapping that device's `createBuffer`: a measure every library is subject to alike,
 * pools included. Buffers dropped without `destroy()` stay counted (an over-estimate).
 */
export interface BufferTracker {
  current(): number;
  peak(): number;
}

export function trackDeviceBuffers(device: GPUDevice): BufferTracker {
  let current = 0, peak = 0;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    const buf = create(desc);
    current += desc.size;
    peak = Math.max(peak, current);
    const destroy = buf.destroy.bind(buf);
    let gone = false;
    buf.destroy = (): undefined => {
      if (!gone) current -= desc.size;
      gone = true;
      return destroy();
    };
    return buf;
  };
  return { current: () => current, peak: () => peak };
}
