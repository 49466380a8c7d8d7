// Relevance maps: the rollout R ← R + mean_h(relu(∂y/∂A ⊙ A))·R, the CLS row over patches,
// bilinear upsampling and min–max normalisation, against the same rule computed on the host in
// float64 from the attention probabilities and their gradients; and the three losses (the classification term against the prediction or the label).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, grad, type Tensor } from '../src/index.js';
import { VisionTransformer, relevanceFromAttention, relevanceLosses } from '../src/vit/index.js';
import { setup, rng, randArray, assertClose } from './harness.js';

test.before(setup);

/** PyTorch's bilinear resize (align_corners false) of a g×g map to S×S. */
function bilinear(src: Float64Array, g: number, S: number): Float64Array {
  const out = new Float64Array(S * S);
  const coord = (d: number) => Math.min(Math.max((d + 0.5) * (g / S) - 0.5, 0), g - 1);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const sy = coord(y), sx = coord(x);
    const y0 = Math.floor(sy), x0 = Math.floor(sx), y1 = Math.min(y0 + 1, g - 1), x1 = Math.min(x0 + 1, g - 1);
    const fy = sy - y0, fx = sx - x0;
    out[y * S + x] = (1 - fy) * ((1 - fx) * src[y0 * g + x0]! + fx * src[y0 * g + x1]!) + fy * ((1 - fx) * src[y1 * g + x0]! + fx * src[y1 * g + x1]!);
  }
  return out;
}

test('the relevance map follows the rollout rule, CLS row, bilinear upsampling and min–max normalisation', async () => {
  const model = new VisionTransformer({ imageSize: 16, patchSize: 4, embedDim: 32, depth: 3, numHeads: 2, numClasses: 3, regTokens: 1 });
  model.eval();
  const B = 2, S = 16;
  const x = tensor(Float32Array.from(randArray(rng(2), B * 3 * S * S, 0, 1)), { shape: [B, 3, S, S] });
  const classes = Int32Array.from([2, 0]);
  const out = model.forward(x, { returnAttention: true });
  const { map } = relevanceFromAttention(model, out, classes, S);
  const got = await map.data();
  // Host: the same quantities read back, the rule applied in float64.
  const sel = tensor([0, 0, 1, 1, 0, 0], { shape: [B, 3] });
  const y = out.logits!.mul(sel).sum();
  const grads = grad(y, out.attention!, { retainGraph: true });
  const H = 2, T = 1 + 1 + 16;
  const A = await Promise.all(out.attention!.map((t: Tensor) => t.data()));
  const G = await Promise.all(grads.map((t) => t!.data()));
  for (let b = 0; b < B; b++) {
    let R: number[][] = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (i === j ? 1 : 0)));
    for (let l = 0; l < A.length; l++) {
      const cam = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => {
        let s = 0;
        for (let h = 0; h < H; h++) {
          const k = ((b * H + h) * T + i) * T + j;
          s += Math.max(0, G[l]![k]! * A[l]![k]!);
        }
        return s / H;
      }));
      const camR = cam.map((row) => R[0]!.map((_, j) => row.reduce((acc, v, k) => acc + v * R[k]![j]!, 0)));
      R = R.map((row, i) => row.map((v, j) => v + camR[i]![j]!));
    }
    const patch = Float64Array.from(R[0]!.slice(2)); // CLS row, without CLS and register columns
    const up = bilinear(patch, 4, S);
    const lo = Math.min(...up), hi = Math.max(...up);
    const expected = up.map((v) => (v - lo) / (hi - lo + 1e-8));
    assertClose(got.subarray(b * S * S, (b + 1) * S * S), expected, { atol: 2e-5, rtol: 1e-4, what: `map ${b}` });
  }
});

test('relevance losses match their formulas and train the network through the attention maps', async () => {
  const model = new VisionTransformer({ imageSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 2 });
  const B = 2, S = 16;
  const x = tensor(Float32Array.from(randArray(rng(3), B * 3 * S * S, 0, 1)), { shape: [B, 3, S, S] });
  const m = Float32Array.from({ length: B * S * S }, (_, i) => ((i % S) > 4 && (i % S) < 11 ? 1 : 0));
  const mask = tensor(m, { shape: [B, S, S] });
  const out = model.forward(x, { returnAttention: true });
  const { map } = relevanceFromAttention(model, out, null, S);
  const l = relevanceLosses(map, mask, out.logits!, { background: 2, foreground: 0.3, classification: 0.2, temperature: 1, target: 'prediction' });
  const s = await map.data();
  let bg = 0, fg = 0;
  for (let i = 0; i < s.length; i++) {
    bg += (s[i]! * (1 - m[i]!)) ** 2;
    fg += (s[i]! * m[i]! - m[i]!) ** 2;
  }
  assertClose([await l.background.item(), await l.foreground.item()], [bg / s.length, fg / s.length], { rtol: 1e-5 });
  const total = 0.8 * (2 * bg / s.length + 0.3 * fg / s.length) + 0.2 * (await l.classification.item());
  assertClose([await l.total.item()], [total], { rtol: 1e-5 });
  l.total.backward();
  let reached = 0;
  for (const v of await model.blocks.at(0).attn.qkv.weight.grad!.data()) reached += Math.abs(v);
  assert.ok(reached > 0, 'no gradient reached the first block');
});

test('the classification term targets the prediction (the paper) or, with target label, the labels', async () => {
  const B = 5, C = 3, S = 4;
  const z = randArray(rng(11), B * C, -3, 3);
  const logits = tensor(Float32Array.from(z), { shape: [B, C] });
  const map = tensor(new Float32Array(B * S * S).fill(0.5), { shape: [B, S, S] });
  const mask = tensor(new Float32Array(B * S * S), { shape: [B, S, S] });
  // Float64 CE of z/T against a target per row.
  const ce = (target: (b: number) => number, T: number) => {
    let sum = 0;
    for (let b = 0; b < B; b++) {
      const row = z.slice(b * C, (b + 1) * C).map((v) => v / T);
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
      sum += lse - row[target(b)]!;
    }
    return sum / B;
  };
  const argmax = (b: number) => { const row = z.slice(b * C, (b + 1) * C); return row.indexOf(Math.max(...row)); };
  // Labels that disagree with the prediction on every row, so the two targets give different losses.
  const labels = Int32Array.from({ length: B }, (_, b) => (argmax(b) + 1) % C);
  const w = { background: 2, foreground: 0.3, classification: 0.2, temperature: 0.7 };
  const own = relevanceLosses(map, mask, logits, { ...w, target: 'prediction' }, labels);
  const byLabel = relevanceLosses(map, mask, logits, { ...w, target: 'label' }, labels);
  assertClose([await own.classification.item()], [ce(argmax, 0.7)], { rtol: 1e-5, what: 'prediction target' });
  assertClose([await byLabel.classification.item()], [ce((b) => labels[b]!, 0.7)], { rtol: 1e-5, what: 'label target' });
  assert.ok(Math.abs(ce(argmax, 0.7) - ce((b) => labels[b]!, 0.7)) > 0.1, 'the two targets should give different losses here');
  assert.throws(() => relevanceLosses(map, mask, logits, { ...w, target: 'label' }), /needs the batch's labels/);
});

test.run();
