// iFAM: the straight-through hard mask is exactly binary in the forward pass, stage 2's loss
// reaches stage 1 through it (and does not when the joint gradient is cut), masked patches are
// invisible to stage 2, and the part-discovery losses match plain float64 formulas.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, noGrad, crossEntropy, type Tensor } from '../src/index.js';
import {
  IFAM, straightThrough, scaleGradient, presenceLoss, orthogonalityLoss, totalVariationLoss, entropyLoss,
  backgroundPresenceLoss, radialWeight, equivarianceLoss,
} from '../src/vit/index.js';
import { setup, rng, randArray, assertClose, gradCheck } from './harness.js';
import { arr, type Arr } from '../src/tensor/reference/index.js';

test.before(setup);

const tiny = { imageSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2 };

function images(B: number, seed: number): Tensor {
  return tensor(Float32Array.from(randArray(rng(seed), B * 3 * 16 * 16, 0, 1)), { shape: [B, 3, 16, 16] });
}

test('straightThrough returns the hard values exactly and passes the gradient to the soft ones', async () => {
  const hard = tensor([0, 1, 1, 0]);
  const soft = tensor([0.3, 0.7, 0.55, 0.1], { requiresGrad: true });
  const y = straightThrough(hard, soft);
  assert.equal([...(await y.data())], [0, 1, 1, 0]);
  y.mul(tensor([1, 2, 3, 4])).sum().backward();
  assert.equal([...(await soft.grad!.data())], [1, 2, 3, 4]);
});

test('scaleGradient is the identity forward and scales the gradient backward (--joint-grad-scale)', async () => {
  const x = tensor([1, -2, 3], { requiresGrad: true });
  const y = scaleGradient(x, 0.25);
  assert.equal([...(await y.data())], [1, -2, 3]);
  y.mul(tensor([4, 8, 12])).sum().backward();
  assert.equal([...(await x.grad!.data())], [1, 2, 3]);
});

for (const joint of [true, false]) {
  test(`the mask is binary and stage 2's loss ${joint ? 'reaches' : 'does not reach'} stage 1 ${joint ? '(joint gradient)' : '(--no-joint-grad)'}`, async () => {
    const model = new IFAM(tiny, { numClasses: 2, parts: 3, jointGrad: joint });
    model.train();
    const out = model.forward(images(4, 1));
    const m = await out.mask.data();
    assert.ok(m.every((v) => v === 0 || v === 1), `mask values ${[...new Set(m)]}`);
    // Only stage 2's cross-entropy: any gradient in stage 1 came through the mask.
    crossEntropy(out.logits, [0, 1, 1, 0]).backward();
    let stage1 = 0;
    for (const [name, p] of model.namedParameters()) {
      if (!name.startsWith('stage1.') && !name.startsWith('part_head.prototypes')) continue;
      if (p.grad) for (const v of await p.grad.data()) stage1 += Math.abs(v);
    }
    if (joint) assert.ok(stage1 > 0, 'stage 1 received no gradient through the mask');
    else assert.is(stage1, 0, `stage 1 received gradient ${stage1} with the joint gradient cut`);
    let stage2 = 0;
    for (const v of await model.stage2.blocks.at(0).attn.qkv.weight.grad!.data()) stage2 += Math.abs(v);
    assert.ok(stage2 > 0, 'stage 2 got no gradient');
  });
}

test('evaluation uses a deterministic mask, and stage 2 ignores masked patches exactly', async () => {
  const model = new IFAM(tiny, { numClasses: 2, parts: 3 });
  model.eval();
  const x = images(2, 3);
  const a = noGrad(() => model.forward(x));
  const b = noGrad(() => model.forward(x));
  assert.equal([...(await a.mask.data())], [...(await b.mask.data())]);
  const logitsA = await a.logits.data();
  // Changing masked patches' pixels changes stage 2's patch tokens there, but nothing may read
  // them: pin the mask and compare stage 2 alone.
  const mask = a.mask.detach();
  const s2 = (img: Tensor) => noGrad(() => model.head.forward(model.head_norm.forward(model.stage2.forward(img, { keyMask: mask }).cls)));
  const before = await s2(x).data();
  const pix = Float32Array.from(await x.data());
  const mv = await mask.data();
  const r = rng(9);
  for (let bi = 0; bi < 2; bi++) for (let n = 0; n < 16; n++) {
    if (mv[bi * 16 + n]) continue;
    const gy = Math.floor(n / 4), gx = n % 4;
    for (let c = 0; c < 3; c++) for (let py = 0; py < 4; py++) for (let px = 0; px < 4; px++) pix[((bi * 3 + c) * 16 + gy * 4 + py) * 16 + gx * 4 + px] = r();
  }
  const after = await s2(tensor(pix, { shape: [2, 3, 16, 16] })).data();
  assert.ok(before.every((v, i) => Object.is(v, after[i])), 'stage-2 logits changed when masked patches changed');
  assert.ok(logitsA.every(Number.isFinite));
});

// ---- part-discovery losses against plain float64 formulas --------------------------------

function softmaxMaps(r: () => number, B: number, K1: number, h: number, w: number): Arr {
  const a = arr([B, K1, h, w]);
  for (let b = 0; b < B; b++) for (let p = 0; p < h * w; p++) {
    const e = Array.from({ length: K1 }, () => Math.exp(3 * (r() - 0.5)));
    const z = e.reduce((s, v) => s + v, 0);
    e.forEach((v, k) => (a.data[((b * K1 + k) * h * w) + p] = Math.fround(v / z)));
  }
  return a;
}
const at = (a: Arr, b: number, k: number, y: number, x: number) => a.data[((b * a.shape[1]! + k) * a.shape[2]! + y) * a.shape[3]! + x]!;
function avgPool3(a: Arr, b: number, k: number, y: number, x: number): number {
  let s = 0;
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const yy = y + dy, xx = x + dx;
    if (yy >= 0 && xx >= 0 && yy < a.shape[2]! && xx < a.shape[3]!) s += at(a, b, k, yy, xx);
  }
  return s / 9; // count_include_pad, PyTorch's default
}
const scalar = (v: number): Arr => arr([], [v]);

test('presence, total-variation, entropy and background-presence losses match their formulas (value and gradient)', async () => {
  const [B, K1, h, w] = [2, 4, 5, 6];
  const maps = softmaxMaps(rng(4), B, K1, h, w);
  const presence = (a: Arr) => {
    let s = 0;
    for (let k = 0; k < K1 - 1; k++) {
      let mx = -Infinity;
      for (let b = 0; b < B; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mx = Math.max(mx, avgPool3(a, b, k, y, x));
      s += mx;
    }
    return scalar(1 - s / (K1 - 1));
  };
  const tv = (a: Arr) => {
    let s = 0;
    for (let b = 0; b < B; b++) for (let k = 0; k < K1; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      if (y + 1 < h) s += Math.abs(at(a, b, k, y + 1, x) - at(a, b, k, y, x));
      if (x + 1 < w) s += Math.abs(at(a, b, k, y, x + 1) - at(a, b, k, y, x));
    }
    return scalar(s / (B * h * w));
  };
  const entropy = (a: Arr) => {
    let s = 0;
    for (let b = 0; b < B; b++) for (let p = 0; p < h * w; p++) for (let k = 0; k < K1; k++) {
      const v = a.data[(b * K1 + k) * h * w + p]!;
      s -= v * Math.log(v + 1e-8);
    }
    return scalar(s / (B * h * w));
  };
  const rw = radialWeight(h, w);
  const bgPresence = (a: Arr) => {
    let s = 0;
    for (let b = 0; b < B; b++) {
      let mx = -Infinity;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mx = Math.max(mx, avgPool3(a, b, K1 - 1, y, x) * rw[y * w + x]!);
      s += -Math.log(Math.min(Math.max(mx, 1e-6), 1));
    }
    return scalar(s / B);
  };
  for (const [name, gpu, ref] of [['presence', presenceLoss, presence], ['tv', totalVariationLoss, tv], ['entropy', entropyLoss, entropy], ['background', backgroundPresenceLoss, bgPresence]] as const) {
    await gradCheck({ inputs: [maps], gpu: (t) => gpu(t), ref: (a) => ref(a), what: name, atol: 3e-3 });
  }
});

test('orthogonality and equivariance losses match their formulas', async () => {
  const r = rng(6);
  const parts = arr([2, 4, 8], randArray(r, 64));
  const ortho = (a: Arr) => {
    let s = 0;
    const [B, K, D] = a.shape as [number, number, number];
    for (let b = 0; b < B; b++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
      let dot = 0, ni = 0, nj = 0;
      for (let d = 0; d < D; d++) {
        const u = a.data[(b * K + i) * D + d]!, v = a.data[(b * K + j) * D + d]!;
        dot += u * v; ni += u * u; nj += v * v;
      }
      const c = dot / (Math.sqrt(ni) * Math.sqrt(nj));
      s += (c - (i === j ? 1 : 0)) ** 2;
    }
    return scalar(s / (B * K * K));
  };
  await gradCheck({ inputs: [parts], gpu: (t) => orthogonalityLoss(t), ref: ortho, what: 'orthogonality' });
  const a = softmaxMaps(rng(7), 2, 3, 4, 4), b = softmaxMaps(rng(8), 2, 3, 4, 4);
  const eqv = (x: Arr, y: Arr) => {
    let s = 0;
    for (let bi = 0; bi < 2; bi++) for (let k = 0; k < 2; k++) {
      let dot = 0, nx = 0, ny = 0;
      for (let p = 0; p < 16; p++) {
        const u = x.data[(bi * 3 + k) * 16 + p]!, v = y.data[(bi * 3 + k) * 16 + p]!;
        dot += u * v; nx += u * u; ny += v * v;
      }
      s += dot / Math.sqrt(nx * ny);
    }
    return scalar(1 - s / 4);
  };
  await gradCheck({ inputs: [a, b], gpu: (x, y) => equivarianceLoss(x, y), ref: eqv, what: 'equivariance' });
});

test('disabled parts are zeroed before the fg/bg comparison (test-time intervention), in hardMask and forward', async () => {
  const [B, N, K, tau] = [2, 21, 3, 0.7];
  const model = new IFAM(tiny, { numClasses: 2, parts: K, tau });
  model.eval();
  const logits = Float32Array.from(randArray(rng(11), B * N * (K + 1), -3, 3));
  const partLogits = tensor(logits, { shape: [B, N, K + 1] });
  // float64 reference: softmax over parts at temperature τ, disabled parts zeroed, max_fg > bg.
  const expected = (disabled: number[]) => {
    const out: number[] = [];
    let ties = 0;
    for (let i = 0; i < B * N; i++) {
      const row = Array.from(logits.subarray(i * (K + 1), (i + 1) * (K + 1)), (v) => v / tau);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      const a = e.map((v, k) => (disabled.includes(k) ? 0 : v / z));
      const fg = Math.max(...a.slice(0, K)), bg = a[K]!;
      if (Math.abs(fg - bg) < 1e-5) ties++;
      out.push(fg > bg ? 1 : 0);
    }
    assert.is(ties, 0, 'the random logits should have no near-ties');
    return out;
  };
  const full = [...(await model.hardMask(partLogits).data())];
  assert.equal(full, expected([]));
  assert.equal([...(await model.hardMask(partLogits, { disabledParts: [] }).data())], full);
  let changed = 0;
  for (const disabled of [[0], [2], [0, 1]]) {
    const m = [...(await model.hardMask(partLogits, { disabledParts: disabled }).data())];
    assert.equal(m, expected(disabled), `disabled ${disabled}`);
    // Switching parts off can only remove patches from the mask.
    m.forEach((v, i) => assert.ok(v <= full[i]!, `patch ${i} appeared when disabling ${disabled}`));
    changed += m.filter((v, i) => v !== full[i]).length;
  }
  assert.ok(changed > 0, 'disabling parts changed no patch (the test would not catch a no-op)');
  const none = await model.hardMask(partLogits, { disabledParts: [0, 1, 2] }).data();
  assert.ok(none.every((v) => v === 0), 'with every foreground part off, nothing is kept');
  assert.throws(() => model.hardMask(partLogits, { disabledParts: [3] }), /disabledParts must be foreground part indices in \[0, 3\)/);
  assert.throws(() => model.hardMask(partLogits, { disabledParts: [0.5] }), /disabledParts/);

  // forward() passes the option to the mask, and stage 2 sees the changed mask.
  const x = images(2, 12);
  const a = noGrad(() => model.forward(x));
  const b = noGrad(() => model.forward(x, { disabledParts: [1] }));
  const direct = noGrad(() => model.hardMask(a.stage1.partLogits, { disabledParts: [1] }));
  assert.equal([...(await b.mask.data())], [...(await direct.data())]);
  const off = noGrad(() => model.forward(x, { disabledParts: [0, 1, 2] }));
  const ma = await a.mask.data();
  assert.ok(ma.some((v) => v === 1), 'the untouched mask keeps some patches');
  assert.ok((await off.mask.data()).every((v) => v === 0), 'forward: every part off masks every patch');
  const la = await a.logits.data(), lo = await off.logits.data();
  assert.ok(la.some((v, i) => Math.abs(v - lo[i]!) > 1e-6), 'stage 2 logits did not change with the mask');
});

test.run();
