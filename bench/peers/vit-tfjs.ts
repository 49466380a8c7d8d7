// The benchmark's ViT written in TensorFlow.js (WebGPU backend): tf.variable per parameter
// (timm names), tf.variableGrads for the gradients, and a hand-written AdamW through assign()
// (tf.train.adam has no decoupled decay). Ops run eagerly; there is no compilation step.
import type * as TfModule from '@tensorflow/tfjs-core';
import type { ViTConfig } from '../../src/vit/config.js';
import type { AdapterSummary } from './types.js';
import { startTfjsWebGPU, tfjsFinish, type WebGpuBackendish } from './tfjs.js';
import { adamwScalars, checkParams, oneHot, trackDeviceBuffers, type BufferTracker, type HostParams, type StepSpec, type TrainCase, type TrainPeer } from './vit-common.js';

type Tf = typeof TfModule;
type T = TfModule.Tensor;

/** The parts of tfjs-backend-webgpu's WebGPUBackend used to drain its queue. */
/** The forward pass and loss, written against tfjs-core's ops. */
function vitLoss(tf: Tf, c: ViTConfig, B: number, p: Record<string, T>) {
  const D = c.embedDim, heads = c.numHeads, hd = D / heads, P = c.patchSize, C = c.inChans;
  const grid = c.imageSize / P, N = grid * grid, T = 1 + c.regTokens + N, K = C * P * P;
  const scale = 1 / Math.sqrt(hd);

  /** y = x·Wᵀ + b on rows [M, in] (timm/torch weight layout [out, in]). */
  const linear = (x: T, w: T, b?: T): T => {
    const y = tf.matMul(x, w, false, true);
    return b ? tf.add(y, b) : y;
  };
  /** LayerNorm over the last axis, biased variance, as torch (tfjs-core has no layer norm op). */
  const layerNorm = (x: T, w: T, b: T): T => {
    const xc = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, c.normEps))), w), b);
  };
  /** Exact GELU from erf (tfjs-core has no GELU). */
  const gelu = (x: T): T => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));

  return (images: T, targets: T): TfModule.Scalar => {
    // Patches in the conv weight's (c, ky, kx) order, grid row-major: unfold as a reshape.
    const patches = tf.reshape(tf.transpose(tf.reshape(images, [B, C, grid, P, grid, P]), [0, 2, 4, 1, 3, 5]), [B * N, K]);
    let emb = tf.reshape(linear(patches, tf.reshape(p['patch_embed.proj.weight']!, [D, K]), p['patch_embed.proj.bias']), [B, N, D]);
    const prefix = [tf.broadcastTo(p.cls_token!, [B, 1, D])];
    if (c.regTokens) prefix.push(tf.broadcastTo(p.reg_token!, [B, c.regTokens, D]));
    let x: T;
    if (c.noEmbedClass) {
      emb = tf.add(emb, p.pos_embed!);
      x = tf.concat([...prefix, emb], 1);
    } else {
      x = tf.add(tf.concat([...prefix, emb], 1), p.pos_embed!);
    }
    x = tf.reshape(x, [B * T, D]);
    for (let i = 0; i < c.depth; i++) {
      const q = (n: string): T => p[`blocks.${i}.${n}`]!;
      const h = layerNorm(x, q('norm1.weight'), q('norm1.bias'));
      const qkv = linear(h, q('attn.qkv.weight'), c.qkvBias ? q('attn.qkv.bias') : undefined);
      // [3, B, heads, T, hd] → three [B·heads, T, hd] for batched matmuls.
      const [qh, kh, vh] = tf.unstack(tf.transpose(tf.reshape(qkv, [B, T, 3, heads, hd]), [2, 0, 3, 1, 4])).map((t) => tf.reshape(t, [B * heads, T, hd]));
      const probs = tf.softmax(tf.mul(tf.matMul(qh!, kh!, false, true), scale));
      const att = tf.reshape(tf.transpose(tf.reshape(tf.matMul(probs, vh!), [B, heads, T, hd]), [0, 2, 1, 3]), [B * T, D]);
      let a = linear(att, q('attn.proj.weight'), q('attn.proj.bias'));
      if (c.layerScale) a = tf.mul(a, q('ls1.gamma'));
      x = tf.add(x, a);
      const h2 = layerNorm(x, q('norm2.weight'), q('norm2.bias'));
      let m = linear(gelu(linear(h2, q('mlp.fc1.weight'), q('mlp.fc1.bias'))), q('mlp.fc2.weight'), q('mlp.fc2.bias'));
      if (c.layerScale) m = tf.mul(m, q('ls2.gamma'));
      x = tf.add(x, m);
    }
    const normed = layerNorm(x, p['norm.weight']!, p['norm.bias']!);
    const cls = tf.reshape(tf.slice(tf.reshape(normed, [B, T, D]), [0, 0, 0], [B, 1, D]), [B, D]);
    const logits = linear(cls, p['head.weight']!, p['head.bias']);
    // Cross-entropy, mean over the batch, against one-hot targets.
    return tf.mul(tf.sum(tf.mul(tf.logSoftmax(logits), targets)), -1 / B) as TfModule.Scalar;
  };
}

export function vitTfjsPeer(version: string): TrainPeer {
  let tf: Tf;
  let backend: WebGpuBackendish;
  let buffers: BufferTracker;
  const finish = () => tfjsFinish(backend);
  return {
    name: 'tfjs',
    version,
    async init(): Promise<AdapterSummary> {
      let adapter: AdapterSummary;
      // tfjs-core's Node bundle registers no gradients (the umbrella @tensorflow/tfjs package
      // does). Its ESM sources are bundled in here by path: tfjs keeps its engine and registries
      // on globalThis, so this second copy registers into the same engine.
      ({ tf, backend, adapter } = await startTfjsWebGPU(() => import('../../node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js')));
      buffers = trackDeviceBuffers(backend.device);
      return adapter;
    },

    async prepare(spec: StepSpec, initial: HostParams): Promise<TrainCase> {
      const c = spec.config, B = spec.batch, S = c.imageSize;
      checkParams('tfjs', c, initial);
      const names = Object.keys(initial);
      const vars: Record<string, TfModule.Variable> = {}, mom: Record<string, TfModule.Variable> = {}, vel: Record<string, TfModule.Variable> = {};
      for (const n of names) {
        const { data, shape } = initial[n]!;
        vars[n] = tf.variable(tf.tensor(data, shape, 'float32'), true, `vit/${n}`);
        mom[n] = tf.variable(tf.zeros(shape), false, `vit-m/${n}`);
        vel[n] = tf.variable(tf.zeros(shape), false, `vit-v/${n}`);
      }
      const images = tf.tensor(spec.images, [B, c.inChans, S, S], 'float32');
      const targets = tf.tensor(oneHot(spec.labels, c.numClasses), [B, c.numClasses], 'float32');
      const lossFn = vitLoss(tf, c, B, vars);
      const varList = names.map((n) => vars[n]!);
      const o = spec.opt;
      let t = 0;
      let loss: T | null = null;

      return {
        note: 'eager: tf.variableGrads(loss) + hand-written AdamW via assign(); attention from matMul + softmax, GELU from erf, layer norm from mean/rsqrt',
        async step(): Promise<void> {
          loss?.dispose();
          t++;
          const s = adamwScalars(o, t);
          loss = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => lossFn(images, targets), varList);
            for (const n of names) {
              const g = grads[`vit/${n}`]!;
              const m = tf.add(tf.mul(mom[n]!, o.beta1), tf.mul(g, 1 - o.beta1));
              const v = tf.add(tf.mul(vel[n]!, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
              const denom = tf.add(tf.div(tf.sqrt(v), s.sqrtBc2), o.eps);
              vars[n]!.assign(tf.sub(tf.mul(vars[n]!, s.decay), tf.div(tf.mul(m, s.stepSize), denom)));
              mom[n]!.assign(m);
              vel[n]!.assign(v);
            }
            return value;
          });
          await finish();
        },
        async lastLoss(): Promise<number> {
          if (!loss) throw new Error('tfjs: no step has run');
          return (await loss.data())[0]!;
        },
        async params(): Promise<HostParams> {
          const out: HostParams = {};
          for (const n of names) out[n] = { shape: [...vars[n]!.shape], data: (await vars[n]!.data()) as Float32Array };
          return out;
        },
        memory(): Record<string, number> {
          const m = tf.memory() as TfModule.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
          return { tensorBytes: m.numBytes, inGpuBytes: m.numBytesInGPU ?? NaN, allocatedInGpuBytes: m.numBytesAllocatedInGPU ?? NaN, bufferBytes: buffers.current(), bufferPeakBytes: buffers.peak() };
        },
        dispose(): void {
          loss?.dispose();
          for (const r of [vars, mom, vel]) for (const v of Object.values(r)) v.dispose();
          images.dispose();
          targets.dispose();
        },
      };
    },
  };
}
