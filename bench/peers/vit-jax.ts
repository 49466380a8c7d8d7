// The benchmark's ViT written in jax-js: a pure function of a parameter tree (timm names), its
// gradient by valueAndGrad, a hand-written AdamW (no optax here), and the whole step under jit.
// jax-js functions consume their arguments: every use of an array but its last takes `.ref`.
import type * as JaxModule from '@jax-js/jax';
import type { ViTConfig } from '../../src/vit/config.js';
import { startJaxWebGPU } from './jax.js';
import type { AdapterSummary } from './types.js';
import { adamwScalars, checkParams, oneHot, trackDeviceBuffers, type BufferTracker, type HostParams, type StepSpec, type TrainCase, type TrainPeer } from './vit-common.js';

type Jax = typeof JaxModule;
type JArray = JaxModule.Array;
type Tree = Record<string, JArray>;

/** The forward pass and loss, written against jax-js's numpy / nn. */
export function vitLoss(jax: Jax, c: ViTConfig, B: number) {
  const np = jax.numpy, nn = jax.nn;
  const D = c.embedDim, heads = c.numHeads, hd = D / heads, P = c.patchSize, C = c.inChans;
  const grid = c.imageSize / P, N = grid * grid, prefix = 1 + c.regTokens, T = prefix + N;
  const K = C * P * P;

  /** y = x·Wᵀ + b on rows [M, in] (timm/torch weight layout [out, in]). */
  const linear = (x: JArray, w: JArray, b?: JArray): JArray => {
    const y = np.matmul(x, w.transpose());
    return b ? y.add(b) : y;
  };
  /** LayerNorm over the last axis, biased variance, as torch. */
  const layerNorm = (x: JArray, w: JArray, b: JArray): JArray => {
    const mu = x.ref.mean(-1, { keepdims: true });
    const xc = x.sub(mu);
    const variance = np.square(xc.ref).mean(-1, { keepdims: true });
    return xc.div(np.sqrt(variance.add(c.normEps))).mul(w).add(b);
  };

  return (p: Tree, images: JArray, targets: JArray): JArray => {
    // Patches in the conv weight's (c, ky, kx) order, grid row-major: unfold as a reshape.
    const patches = images.reshape([B, C, grid, P, grid, P]).transpose([0, 2, 4, 1, 3, 5]).reshape([B * N, K]);
    let emb = linear(patches, p['patch_embed.proj.weight']!.reshape([D, K]), p['patch_embed.proj.bias']!).reshape([B, N, D]);
    const prefixTokens = [np.broadcastTo(p.cls_token!, [B, 1, D])];
    if (c.regTokens) prefixTokens.push(np.broadcastTo(p.reg_token!, [B, c.regTokens, D]));
    let x: JArray;
    if (c.noEmbedClass) {
      emb = emb.add(p.pos_embed!);
      x = np.concatenate([...prefixTokens, emb], 1);
    } else {
      x = np.concatenate([...prefixTokens, emb], 1).add(p.pos_embed!);
    }
    x = x.reshape([B * T, D]);
    for (let i = 0; i < c.depth; i++) {
      const q = (n: string): JArray => p[`blocks.${i}.${n}`]!;
      const h = layerNorm(x.ref, q('norm1.weight'), q('norm1.bias'));
      const qkv = linear(h, q('attn.qkv.weight'), c.qkvBias ? q('attn.qkv.bias') : undefined).reshape([B, T, 3, heads, hd]);
      // [B, heads, T, hd] each. Written out rather than nn.dotProductAttention, whose einsum
      // parser needs iterator helpers (Node 22+).
      const heads4 = (j: number, last: boolean): JArray => (last ? qkv : qkv.ref).slice([], [], j).transpose([0, 2, 1, 3]);
      const qh = heads4(0, false), kh = heads4(1, false), vh = heads4(2, true);
      const probs = nn.softmax(np.matmul(qh, kh.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(hd)), -1);
      const att = np.matmul(probs, vh).transpose([0, 2, 1, 3]).reshape([B * T, D]);
      let a = linear(att, q('attn.proj.weight'), q('attn.proj.bias'));
      if (c.layerScale) a = a.mul(q('ls1.gamma'));
      x = x.add(a);
      const h2 = layerNorm(x.ref, q('norm2.weight'), q('norm2.bias'));
      let m = linear(nn.gelu(linear(h2, q('mlp.fc1.weight'), q('mlp.fc1.bias')), { approximate: false }), q('mlp.fc2.weight'), q('mlp.fc2.bias'));
      if (c.layerScale) m = m.mul(q('ls2.gamma'));
      x = x.add(m);
    }
    const normed = layerNorm(x, p['norm.weight']!, p['norm.bias']!).reshape([B, T, D]);
    const cls = normed.slice([], 0);
    const logits = linear(cls, p['head.weight']!, p['head.bias']!);
    // Cross-entropy, mean over the batch, against one-hot targets.
    return nn.logSoftmax(logits, -1).mul(targets).sum().mul(-1 / B);
  };
}

export function vitJaxPeer(version: string): TrainPeer {
  let jax: Jax;
  let buffers: BufferTracker;
  return {
    name: 'jax-js',
    version,
    async init(): Promise<AdapterSummary> {
      const started = await startJaxWebGPU();
      jax = started.jax;
      const device = started.device;
      buffers = trackDeviceBuffers(device);
      const info = device.adapterInfo;
      return { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
    },

    async prepare(spec: StepSpec, initial: HostParams): Promise<TrainCase> {
      const np = jax.numpy;
      const c = spec.config, B = spec.batch, S = c.imageSize;
      checkParams('jax-js', c, initial);
      const names = Object.keys(initial);
      const upload = (data: Float32Array, shape: number[]): JArray => np.array(data).reshape(shape);
      let params: Tree = Object.fromEntries(names.map((n) => [n, upload(initial[n]!.data, initial[n]!.shape)]));
      let mom: Tree = Object.fromEntries(names.map((n) => [n, np.zeros(initial[n]!.shape)]));
      let vel: Tree = Object.fromEntries(names.map((n) => [n, np.zeros(initial[n]!.shape)]));
      const images = upload(spec.images, [B, c.inChans, S, S]);
      const targets = upload(oneHot(spec.labels, c.numClasses), [B, c.numClasses]);
      const o = spec.opt;

      const lossFn = vitLoss(jax, c, B);
      // decay = 1 − lr·wd, stepSize = lr / (1 − β1ᵗ), sqrtBc2 = √(1 − β2ᵗ) change every step:
      // they come in as arrays so the step is traced and compiled once.
      const trainStep = (p: Tree, m: Tree, v: Tree, x: JArray, y: JArray, stepSize: JArray, sqrtBc2: JArray): [Tree, Tree, Tree, JArray] => {
        // The update below needs the parameters again: hand valueAndGrad its own references.
        const [loss, g] = jax.valueAndGrad(lossFn)(jax.tree.ref(p), x, y);
        const np2: Tree = {}, nm: Tree = {}, nv: Tree = {};
        for (const n of names) {
          const gn = g[n]!;
          const mn = m[n]!.mul(o.beta1).add(gn.ref.mul(1 - o.beta1));
          const vn = v[n]!.mul(o.beta2).add(np.square(gn).mul(1 - o.beta2));
          const denom = np.sqrt(vn.ref).div(sqrtBc2.ref).add(o.eps);
          np2[n] = p[n]!.mul(1 - o.lr * o.weightDecay).sub(mn.ref.mul(stepSize.ref).div(denom));
          nm[n] = mn;
          nv[n] = vn;
        }
        stepSize.dispose();
        sqrtBc2.dispose();
        return [np2, nm, nv, loss];
      };
      const jitted = jax.jit(trainStep);
      let t = 0;
      let loss: JArray | null = null;
      await jax.blockUntilReady([params, mom, vel, images, targets]);

      return {
        note: 'jit(valueAndGrad(loss) + hand-written AdamW): the whole step one compiled program; attention as matmul + nn.softmax (nn.dotProductAttention uses einsum, which needs Node 22), exact nn.gelu',
        async step(): Promise<void> {
          loss?.dispose();
          t++;
          const s = adamwScalars(o, t);
          [params, mom, vel, loss] = jitted(params, mom, vel, images.ref, targets.ref, np.array(s.stepSize), np.array(s.sqrtBc2));
          await jax.blockUntilReady([params, mom, vel, loss]);
        },
        async lastLoss(): Promise<number> {
          if (!loss) throw new Error('jax-js: no step has run');
          return (await loss.ref.data())[0] as number;
        },
        async params(): Promise<HostParams> {
          const out: HostParams = {};
          for (const n of names) out[n] = { shape: [...params[n]!.shape], data: (await params[n]!.ref.data()) as Float32Array };
          return out;
        },
        memory(): Record<string, number> {
          return { bufferBytes: buffers.current(), bufferPeakBytes: buffers.peak() };
        },
        dispose(): void {
          loss?.dispose();
          for (const tr of [params, mom, vel]) for (const a of Object.values(tr)) a.dispose();
          images.dispose();
          targets.dispose();
          jitted.dispose();
        },
      };
    },
  };
}
