// ViT weights in and out (timm names, strict errors, exact round trip, position embeddings for
// another grid resized on load), and a plain ViT classifier that actually learns a toy task with
// AdamW, a cosine schedule, label smoothing and gradient clipping.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, tidy, noGrad, crossEntropy } from '../src/index.js';
import { VisionTransformer, saveWeights, loadWeightsFrom } from '../src/vit/index.js';
import { AdamW, cosineSchedule, clipGradNorm } from '../src/nn/optim.js';
import { setup, rng, randArray, assertClose } from './harness.js';

test.before(setup);

const small = { imageSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 3 };

test('weights saved as safetensors load back exactly (timm names) and give identical logits', async () => {
  const a = new VisionTransformer(small);
  const bytes = await saveWeights(a);
  const b = new VisionTransformer(small);
  await loadWeightsFrom(b, bytes);
  a.eval(); b.eval();
  const x = tensor(Float32Array.from(randArray(rng(1), 2 * 3 * 16 * 16, 0, 1)), { shape: [2, 3, 16, 16] });
  const la = await noGrad(() => a.forward(x).logits!).data();
  const lb = await noGrad(() => b.forward(x).logits!).data();
  assert.ok(la.every((v, i) => Object.is(v, lb[i])), 'logits differ after a round trip');
});

test('strict loading lists every missing key, unexpected key and shape mismatch in one error', async () => {
  const a = new VisionTransformer({ ...small, depth: 3 });
  const bytes = await saveWeights(a);
  const b = new VisionTransformer({ ...small, numClasses: 5 });
  let message = '';
  try {
    await loadWeightsFrom(b, bytes);
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /blocks\.2\.attn\.qkv\.weight/); // unexpected
  assert.match(message, /head\.weight/); // shape mismatch [5, 32] vs [3, 32]
});

test('position embeddings stored for another grid are resized on load', async () => {
  const a = new VisionTransformer({ ...small, imageSize: 24 }); // 6×6 grid
  const bytes = await saveWeights(a);
  const b = new VisionTransformer(small); // 4×4 grid
  await loadWeightsFrom(b, bytes);
  assert.equal([...b.pos_embed.shape], [1, 17, 32]);
  // The class-token entry is kept as it was.
  assertClose((await b.pos_embed.data()).slice(0, 32), (await a.pos_embed.data()).slice(0, 32));
});

test('a plain ViT classifier learns a toy task: loss falls and accuracy is far above chance', async () => {
  // Class = which half of the image holds a bright bar (a spatial task, not a colour shortcut).
  const r = rng(5);
  const N = 128, S = 16;
  const imgs = new Float32Array(N * 3 * S * S), labels = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    labels[n] = n % 2;
    const x0 = labels[n] ? 9 + Math.floor(r() * 4) : Math.floor(r() * 4);
    for (let c = 0; c < 3; c++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const bar = x >= x0 && x < x0 + 3 ? 1 : 0;
      imgs[((n * 3 + c) * S + y) * S + x] = 0.8 * bar + 0.3 * r() - 0.4;
    }
  }
  const model = new VisionTransformer({ ...small, numClasses: 2 });
  const opt = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
  const steps = 100, B = 32;
  const lr = cosineSchedule({ baseLr: 3e-3, totalSteps: steps, warmupSteps: 5 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.setLr(lr(s));
    const k = (s * B) % N;
    const loss = tidy(() => {
      const x = tensor(imgs.slice(k * 3 * S * S, (k + B) * 3 * S * S), { shape: [B, 3, S, S] });
      const l = crossEntropy(model.forward(x).logits!, labels.slice(k, k + B), { labelSmoothing: 0.1 });
      l.backward();
      clipGradNorm(model.parameters(), 1.0);
      opt.step();
      opt.zeroGrad();
      return l.detach();
    });
    losses.push(await loss.item());
    loss.dispose();
  }
  model.eval();
  const pred = await noGrad(() => model.forward(tensor(imgs, { shape: [N, 3, S, S] })).logits!.argmax(-1)).data();
  const acc = pred.reduce((a, p, i) => a + (p === labels[i] ? 1 : 0), 0) / N;
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5, last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.6 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(acc > 0.9, `accuracy ${acc}`);
});

test.run();
