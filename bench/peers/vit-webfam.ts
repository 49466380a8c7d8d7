// webfam's side of the training-step benchmark: VisionTransformer, crossEntropy and AdamW, the
// step inside tidy as bench/profile-step.ts runs it. webfam also makes the initial weights.
import { init, tensor, tidy, sync, memory, resetPeakMemory, adapterInfo, type Tensor } from '../../src/index.js';
import { rt } from '../../src/tensor/device.js';
import { seedAll } from '../../src/nn/seed.js';
import { AdamW } from '../../src/nn/optim.js';
import { crossEntropy } from '../../src/tensor/ops/loss.js';
import { VisionTransformer } from '../../src/vit/vit.js';
import type { ViTConfig } from '../../src/vit/config.js';
import type { AdapterSummary } from './types.js';
import { checkParams, trackDeviceBuffers, type BufferTracker, type HostParams, type StepSpec, type TrainCase, type TrainPeer } from './vit-common.js';

/** Reads every parameter of a model back to the host, by timm name. */
async function readParams(model: VisionTransformer): Promise<HostParams> {
  const out: HostParams = {};
  for (const [name, t] of model.namedParameters()) out[name] = { shape: [...t.shape], data: await t.data() };
  return out;
}

/** The benchmark's initial weights: a freshly initialised webfam ViT (seeded), on the host. */
export async function webfamInitialParams(config: ViTConfig, seed: number): Promise<HostParams> {
  seedAll(seed);
  const model = new VisionTransformer(config);
  const params = await readParams(model);
  for (const t of model.parameters()) t.dispose();
  return params;
}

/** `fuse: false` runs one kernel per pointwise op (init's switch), to measure what fusion gives. */
export function vitWebfamPeer(version: string, opts: { fuse?: boolean } = {}): TrainPeer {
  let buffers: BufferTracker;
  return {
    name: 'webfam',
    version,
    async init(): Promise<AdapterSummary> {
      await init({ fuse: opts.fuse ?? true });
      buffers = trackDeviceBuffers(rt().device);
      const a = adapterInfo();
      return { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
    },

    async prepare(spec: StepSpec, initial: HostParams): Promise<TrainCase> {
      const c = spec.config, B = spec.batch, S = c.imageSize;
      checkParams('webfam', c, initial);
      const model = new VisionTransformer(c);
      const own = Object.fromEntries(Object.entries(initial).map(([k, p]) => [k, tensor(p.data, { shape: p.shape })]));
      model.loadStateDict(own);
      for (const t of Object.values(own)) t.dispose();
      model.train();
      const o = spec.opt;
      const opt = new AdamW(model.parameters(), { lr: o.lr, betas: [o.beta1, o.beta2], eps: o.eps, weightDecay: o.weightDecay });
      const x = tensor(spec.images, { shape: [B, c.inChans, S, S] });
      let loss: Tensor | null = null;
      let peak = 0;
      await sync();
      return {
        note: 'eager: VisionTransformer.forward, crossEntropy, loss.backward(), AdamW.step() (one fused kernel per parameter), in tidy',
        async step(): Promise<void> {
          loss?.dispose();
          resetPeakMemory();
          loss = tidy(() => {
            const l = crossEntropy(model.forward(x).logits!, spec.labels);
            l.backward();
            opt.step();
            opt.zeroGrad();
            return l.detach();
          });
          await sync();
          peak = Math.max(peak, memory().peakBytes);
        },
        async lastLoss(): Promise<number> {
          if (!loss) throw new Error('webfam: no step has run');
          return (await loss.data())[0]!;
        },
        params: () => readParams(model),
        memory(): Record<string, number> {
          const m = memory();
          return { peakLiveBytes: peak, liveBytes: m.liveBytes, pooledBytes: m.pooledBytes, bufferBytes: buffers.current(), bufferPeakBytes: buffers.peak() };
        },
        dispose(): void {
          loss?.dispose();
          opt.dispose();
          x.dispose();
          for (const t of model.parameters()) t.dispose();
        },
      };
    },
  };
}
