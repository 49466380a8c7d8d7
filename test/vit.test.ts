// The ViT: timm parameter names, logits against an independent float64 forward pass written
// here, key masking against the same reference, dropping masked tokens physically, and
// position-embedding resizing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, noGrad, type Tensor } from '../src/index.js';
import { VisionTransformer, dropMaskedTokens } from '../src/vit/index.js';
import { erf64 } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose } from './harness.js';

test.before(setup);

type P = Record<string, { shape: number[]; data: Float64Array }>;

async function hostParams(m: VisionTransformer): Promise<P> {
  const out: P = {};
  for (const [k, t] of m.namedParameters()) out[k] = { shape: [...t.shape], data: Float64Array.from(await t.data()) };
  return out;
}

/** Plain float64 ViT forward, written from the timm definition, for one image [C, S, S]. */
function referenceForward(p: P, cfg: VisionTransformer['config'], img: Float64Array, S: number, mask: number[] | null): number[] {
  const { patchSize: Pz, inChans: C, embedDim: D, numHeads: H, regTokens: R, normEps: eps } = cfg;
  const g = S / Pz, N = g * g, d = D / H;
  const w = p['patch_embed.proj.weight']!.data, bpe = p['patch_embed.proj.bias']!.data;
  const patches: number[][] = [];
  for (let gy = 0; gy < g; gy++) for (let gx = 0; gx < g; gx++) {
    const row: number[] = [];
    for (let o = 0; o < D; o++) {
      let s = bpe[o]!;
      for (let c = 0; c < C; c++) for (let py = 0; py < Pz; py++) for (let px = 0; px < Pz; px++) {
        s += w[((o * C + c) * Pz + py) * Pz + px]! * img[(c * S + gy * Pz + py) * S + gx * Pz + px]!;
      }
      row.push(s);
    }
    patches.push(row);
  }
  const pos = p['pos_embed']!.data;
  const cls = [...p['cls_token']!.data];
  const regs = R ? Array.from({ length: R }, (_, r) => [...p['reg_token']!.data.slice(r * D, (r + 1) * D)]) : [];
  let x: number[][];
  if (cfg.noEmbedClass) {
    x = [cls, ...regs, ...patches.map((row, n) => row.map((v, e) => v + pos[n * D + e]!))];
  } else {
    x = [cls, ...regs, ...patches].map((row, n) => row.map((v, e) => v + pos[n * D + e]!));
  }
  const T = x.length;
  const keep = mask ? [...Array(1 + R).fill(1), ...mask] : Array(T).fill(1);
  const ln = (v: number[], wt: Float64Array, bs: Float64Array) => {
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    const va = v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length;
    return v.map((u, i) => ((u - mu) / Math.sqrt(va + eps)) * wt[i]! + bs[i]!);
  };
  const lin = (v: number[], name: string) => {
    const W = p[`${name}.weight`]!, b = p[`${name}.bias`]?.data;
    const [o, inn] = W.shape as [number, number];
    return Array.from({ length: o }, (_, r) => {
      let s = b ? b[r]! : 0;
      for (let c = 0; c < inn; c++) s += W.data[r * inn + c]! * v[c]!;
      return s;
    });
  };
  const gelu = (u: number) => 0.5 * u * (1 + erf64(u / Math.SQRT2));
  for (let l = 0; l < cfg.depth; l++) {
    const pre = `blocks.${l}`;
    const h = x.map((v) => ln(v, p[`${pre}.norm1.weight`]!.data, p[`${pre}.norm1.bias`]!.data));
    const qkv = h.map((v) => lin(v, `${pre}.attn.qkv`));
    const o: number[][] = x.map(() => new Array(D).fill(0));
    for (let hd = 0; hd < H; hd++) {
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: T }, (_, j) => {
          let dot = 0;
          for (let e = 0; e < d; e++) dot += qkv[i]![hd * d + e]! * qkv[j]![D + hd * d + e]!;
          return dot / Math.sqrt(d);
        });
        const mx = Math.max(...s.filter((_, j) => keep[j]));
        const ex = s.map((v, j) => keep[j] * Math.exp(v - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < T; j++) for (let e = 0; e < d; e++) o[i]![hd * d + e]! += (ex[j]! / z) * qkv[j]![2 * D + hd * d + e]!;
      }
    }
    const ls = (v: number[], k: string) => (p[`${pre}.${k}.gamma`] ? v.map((u, i) => u * p[`${pre}.${k}.gamma`]!.data[i]!) : v);
    x = x.map((v, i) => {
      const a = ls(lin(o[i]!, `${pre}.attn.proj`), 'ls1');
      return v.map((u, e) => u + a[e]!);
    });
    x = x.map((v) => {
      const m = ls(lin(lin(ln(v, p[`${pre}.norm2.weight`]!.data, p[`${pre}.norm2.bias`]!.data), `${pre}.mlp.fc1`).map(gelu), `${pre}.mlp.fc2`), 'ls2');
      return v.map((u, e) => u + m[e]!);
    });
  }
  const clsOut = ln(x[0]!, p['norm.weight']!.data, p['norm.bias']!.data);
  return lin(clsOut, 'head');
}

/** Gives every parameter random values (the default init leaves LayerNorms trivial). */
async function randomise(m: VisionTransformer, seed: number): Promise<void> {
  const r = rng(seed);
  const dict: Record<string, Tensor> = {};
  for (const [k, t] of m.namedParameters()) {
    const scale = k.endsWith('norm1.weight') || k.endsWith('norm2.weight') || k === 'norm.weight' ? 1 : 0.3;
    const off = scale === 1 ? 1 : 0;
    dict[k] = tensor(Float32Array.from(randArray(r, t.size, -scale, scale), (v) => v * 0.5 + off), { shape: t.shape });
  }
  m.loadStateDict(dict);
}

const configs = [
  { name: 'timm ViT (class token in pos_embed)', cfg: { imageSize: 16, patchSize: 4, embedDim: 16, depth: 2, numHeads: 2, numClasses: 3 } },
  { name: 'DINOv2-style (registers, LayerScale, patch-only pos_embed)', cfg: { imageSize: 12, patchSize: 4, embedDim: 16, depth: 2, numHeads: 4, numClasses: 5, regTokens: 2, layerScale: 0.5, noEmbedClass: true } },
];

for (const { name, cfg } of configs) {
  test(`${name}: logits equal an independent float64 forward pass, with and without a key mask`, async () => {
    const model = new VisionTransformer(cfg);
    model.eval();
    await randomise(model, 3);
    const p = await hostParams(model);
    const S = cfg.imageSize, B = 2, N = (S / cfg.patchSize) ** 2;
    const r = rng(9);
    const imgs = randArray(r, B * 3 * S * S, 0, 1);
    const x = tensor(Float32Array.from(imgs), { shape: [B, 3, S, S] });
    const masks = Array.from({ length: B }, (_, b) => Array.from({ length: N }, (_, n) => ((n + b) % 3 === 0 ? 0 : 1)));
    const out = noGrad(() => model.forward(x));
    const outM = noGrad(() => model.forward(x, { keyMask: tensor(masks.flat(), { shape: [B, N] }) }));
    const got = await out.logits!.data(), gotM = await outM.logits!.data();
    for (let b = 0; b < B; b++) {
      const img = imgs.slice(b * 3 * S * S, (b + 1) * 3 * S * S);
      const C = cfg.numClasses;
      assertClose(got.slice(b * C, (b + 1) * C), referenceForward(p, model.config, img, S, null), { atol: 2e-4, rtol: 2e-4, what: `logits ${b}` });
      assertClose(gotM.slice(b * C, (b + 1) * C), referenceForward(p, model.config, img, S, masks[b]!), { atol: 2e-4, rtol: 2e-4, what: `masked logits ${b}` });
    }
  });
}

test('parameter names follow timm (DINOv2 reg4 layout)', () => {
  const m = new VisionTransformer('vit_small_patch14_reg4_dinov2', { imageSize: 28, depth: 1 });
  const names = m.namedParameters().map(([k]) => k);
  for (const k of ['cls_token', 'reg_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', 'blocks.0.norm1.weight',
    'blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.bias', 'blocks.0.attn.proj.weight', 'blocks.0.ls1.gamma', 'blocks.0.norm2.bias',
    'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc2.bias', 'blocks.0.ls2.gamma', 'norm.weight', 'norm.bias']) {
    assert.ok(names.includes(k), `missing ${k} in ${names.join(', ')}`);
  }
  const shapes = Object.fromEntries(m.namedParameters().map(([k, t]) => [k, [...t.shape]]));
  assert.equal(shapes['pos_embed'], [1, 4, 384]);
  assert.equal(shapes['reg_token'], [1, 4, 384]);
  assert.equal(shapes['patch_embed.proj.weight'], [384, 3, 14, 14]);
});

test('dropping masked tokens physically gives the same logits as masking them', async () => {
  const model = new VisionTransformer({ imageSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 4, regTokens: 1 });
  model.eval();
  await randomise(model, 5);
  const B = 3, N = 16;
  const r = rng(4);
  const x = tensor(Float32Array.from(randArray(r, B * 3 * 16 * 16, 0, 1)), { shape: [B, 3, 16, 16] });
  const maskVals = Array.from({ length: B * N }, (_, i) => (i % N < 2 + (i % 5) ? 1 : r() < 0.4 ? 1 : 0));
  const mask = tensor(maskVals, { shape: [B, N] });
  const masked = noGrad(() => model.forward(x, { keyMask: mask }));
  const dropped = await dropMaskedTokens(model, x, mask);
  assert.ok(dropped.tokensKept < 1 + 1 + N, `fewer tokens (${dropped.tokensKept})`);
  assertClose(await dropped.logits.data(), await masked.logits!.data(), { atol: 1e-5, rtol: 1e-5, what: 'logits' });
});

test('position embeddings stored for another grid are resized (bicubic) for a new image size', async () => {
  const model = new VisionTransformer({ imageSize: 16, patchSize: 4, embedDim: 16, depth: 1, numHeads: 2, numClasses: 2 });
  const x = tensor(new Float32Array(1 * 3 * 24 * 24).fill(0.5), { shape: [1, 3, 24, 24] });
  const out = noGrad(() => model.forward(x));
  assert.equal([...out.patchTokens.shape], [1, 36, 16]);
  const same = noGrad(() => model.positionEmbedding(4));
  assertClose(await same.data(), await model.pos_embed.data(), { what: 'identity resize' });
});

test.run();
