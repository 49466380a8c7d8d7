// nn: module registration and timm-style names, state dicts (strict errors, in-place loads,
// safetensors round trips), train/eval, initialisers' distributions, and the layers and
// functional forms against float64 references (an MLP's gradient against finite differences).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, tidy, nn, saveSafetensors, loadSafetensors, memory, type Tensor } from '../src/index.js';
import { arr, unaryRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, gradCheck, toTensor, settle } from './harness.js';

test.before(async () => {
  await setup();
});

// A miniature of timm's ViT layout, to pin the names checkpoints rely on.
class Mlp extends nn.Module {
  fc1: nn.Linear;
  fc2: nn.Linear;
  constructor(d: number, h: number) {
    super();
    this.fc1 = this.module('fc1', new nn.Linear(d, h));
    this.fc2 = this.module('fc2', new nn.Linear(h, d));
  }
}
class Attention extends nn.Module {
  qkv: nn.Linear;
  proj: nn.Linear;
  constructor(d: number) {
    super();
    this.qkv = this.module('qkv', new nn.Linear(d, 3 * d));
    this.proj = this.module('proj', new nn.Linear(d, d));
  }
}
class LayerScale extends nn.Module {
  gamma: Tensor;
  constructor(d: number) {
    super();
    this.gamma = this.param('gamma', nn.init.constant_(tensor(new Float32Array(d)), 1e-5));
  }
}
class Block extends nn.Module {
  constructor(d: number) {
    super();
    this.module('norm1', new nn.LayerNorm(d, { eps: 1e-6 }));
    this.module('attn', new Attention(d));
    this.module('ls1', new LayerScale(d));
    this.module('norm2', new nn.LayerNorm(d, { eps: 1e-6 }));
    this.module('mlp', new Mlp(d, 2 * d));
  }
}
class TinyViT extends nn.Module {
  blocks: nn.ModuleList<Block>;
  constructor(d = 4, depth = 2, classes = 3) {
    super();
    this.param('cls_token', nn.init.zeros_(tensor(new Float32Array(d), { shape: [1, 1, d] })));
    this.param('pos_embed', nn.init.truncNormal_(tensor(new Float32Array(5 * d), { shape: [1, 5, d] }), { std: 0.02 }));
    this.blocks = this.module('blocks', new nn.ModuleList(Array.from({ length: depth }, () => new Block(d))));
    this.module('norm', new nn.LayerNorm(d, { eps: 1e-6 }));
    this.module('head', new nn.Linear(d, classes));
  }
}

const blockNames = (i: number) => [
  `blocks.${i}.norm1.weight`, `blocks.${i}.norm1.bias`,
  `blocks.${i}.attn.qkv.weight`, `blocks.${i}.attn.qkv.bias`, `blocks.${i}.attn.proj.weight`, `blocks.${i}.attn.proj.bias`,
  `blocks.${i}.ls1.gamma`,
  `blocks.${i}.norm2.weight`, `blocks.${i}.norm2.bias`,
  `blocks.${i}.mlp.fc1.weight`, `blocks.${i}.mlp.fc1.bias`, `blocks.${i}.mlp.fc2.weight`, `blocks.${i}.mlp.fc2.bias`,
];
const vitNames = ['cls_token', 'pos_embed', ...blockNames(0), ...blockNames(1), 'norm.weight', 'norm.bias', 'head.weight', 'head.bias'];

test('parameters get timm\'s dotted names, in registration order, with PyTorch\'s shapes', () => {
  const m = new TinyViT();
  const named = m.namedParameters();
  assert.equal(named.map(([n]) => n), vitNames);
  const shapes = Object.fromEntries(named.map(([n, t]) => [n, [...t.shape]]));
  assert.equal(shapes['blocks.1.attn.qkv.weight'], [12, 4]);
  assert.equal(shapes['blocks.1.attn.qkv.bias'], [12]);
  assert.equal(shapes['head.weight'], [3, 4]);
  assert.equal(shapes['cls_token'], [1, 1, 4]);
  assert.ok(named.every(([n, t]) => t.requiresGrad && t.name === n));
  assert.is(m.numParameters(), named.reduce((s, [, t]) => s + t.size, 0));
  assert.equal(m.blocks.at(1).namedParameters().slice(0, 2).map(([n]) => n), ['norm1.weight', 'norm1.bias']);
  assert.equal(m.namedModules().slice(0, 4).map(([n]) => n), ['', 'blocks', 'blocks.0', 'blocks.0.norm1']);
  m.dispose();
});

test('a parameter shared by two modules is listed once; bad registrations are rejected', () => {
  const shared = new nn.Linear(3, 3);
  const s = new nn.Sequential(shared, new nn.GELU(), shared);
  assert.equal(s.namedParameters().map(([n]) => n), ['0.weight', '0.bias']);
  const m = new nn.Module();
  assert.throws(() => m.param('a.b', tensor([1])), /without dots/);
  m.module('x', new nn.Identity());
  assert.throws(() => m.param('x', tensor([1])), /already a submodule/);
  assert.throws(() => m.module('y', m), /itself/);
  s.dispose();
});

test('parameters survive the tidy scope they were created in', async () => {
  await settle();
  const before = memory().liveTensors;
  const m = tidy(() => new nn.Linear(5, 7));
  assert.ok(!m.weight.disposed && !m.bias!.disposed);
  await settle();
  assert.is(memory().liveTensors, before + 2);
  assert.is((await m.weight.data()).length, 35);
  m.dispose();
  await settle();
  assert.is(memory().liveTensors, before);
});

test('loadStateDict copies in place; strict mode lists every missing, unexpected and mismatched key at once', async () => {
  const a = new TinyViT(), b = new TinyViT();
  const weightBefore = b.blocks.at(0).namedParameters()[2]![1];
  b.loadStateDict(a.stateDict());
  for (const [n, t] of b.namedParameters()) assert.equal([...(await t.data())], [...(await a.stateDict()[n]!.data())], n);
  assert.is(b.blocks.at(0).namedParameters()[2]![1], weightBefore, 'the same tensor object, new values');

  const headBefore = [...(await b.stateDict()['head.weight']!.data())];
  const dict = { ...a.stateDict() };
  delete dict['norm.bias'];
  delete dict['cls_token'];
  dict['head.weight'] = tensor(new Float32Array(8), { shape: [2, 4] });
  dict['fc_norm.weight'] = tensor([1, 2, 3, 4]);
  let message = '';
  try {
    b.loadStateDict(dict);
  } catch (e) {
    message = (e as Error).message;
  }
  for (const bit of ['4 problems', 'nothing was loaded', 'head.weight: shape [2, 4] in the dict, [3, 4] in the module', 'missing key cls_token', 'missing key norm.bias', 'unexpected key fc_norm.weight']) {
    assert.ok(message.includes(bit), `error should mention "${bit}":\n${message}`);
  }
  assert.equal([...(await b.stateDict()['head.weight']!.data())], headBefore, 'nothing loaded on error');

  // Non-strict: still an error for the shape mismatch; without it, reports missing/unexpected.
  assert.throws(() => b.loadStateDict(dict, { strict: false }), /head\.weight: shape/);
  dict['head.weight'].dispose();
  delete dict['head.weight'];
  const res = b.loadStateDict(dict, { strict: false });
  assert.equal(res.missing.sort(), ['cls_token', 'head.weight', 'norm.bias']);
  assert.equal(res.unexpected, ['fc_norm.weight']);
  dict['fc_norm.weight']!.dispose();
  a.dispose();
  b.dispose();
});

test('a model\'s state dict round-trips through safetensors into a fresh model', async () => {
  nn.init.manualSeed(1);
  const a = new TinyViT();
  nn.init.manualSeed(2);
  const b = new TinyViT();
  const bytes = await saveSafetensors(a.stateDict());
  const { tensors } = loadSafetensors(bytes);
  b.loadStateDict(tensors);
  for (const t of Object.values(tensors)) t.dispose();
  for (const [n, t] of a.namedParameters()) assert.equal([...(await b.stateDict()[n]!.data())], [...(await t.data())], n);
  a.dispose();
  b.dispose();
});

test('train() and eval() reach every submodule; Dropout is the identity in eval mode', async () => {
  const m = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout(0.5), new nn.Sequential(new nn.Dropout(0.25)));
  assert.ok(m.namedModules().every(([, x]) => x.training));
  m.eval();
  assert.ok(m.namedModules().every(([, x]) => !x.training));
  const drop = m.at(1) as nn.Dropout;
  const x = tensor(Float32Array.from({ length: 4000 }, (_, i) => 1 + (i % 7)));
  const same = drop.forward(x);
  assert.equal([...(await same.data())], [...(await x.data())]);
  m.train();
  const y = await drop.forward(x).data();
  const xs = await x.data();
  let zeros = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 0) zeros++;
    else assert.ok(Math.abs(y[i]! - 2 * xs[i]!) < 1e-5, 'kept values are scaled by 1 / (1 - p)');
  }
  assert.ok(zeros > 1800 && zeros < 2200, `about half dropped, got ${zeros}`);
  x.dispose();
  same.dispose();
  m.dispose();
});

test('zeroGrad drops every parameter\'s gradient', () => {
  const m = new nn.Sequential(new nn.LayerNorm(3), new nn.LayerNorm(3));
  tidy(() => m.forward(tensor([[1, 2, 4]])).sum().backward());
  assert.ok(m.parameters().every((p) => p.grad !== null));
  m.zeroGrad();
  assert.ok(m.parameters().every((p) => p.grad === null));
  m.dispose();
});

// ------------------------------------------------------------------ initialisers

function stats(v: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (const x of v) { s += x; s2 += x * x; min = Math.min(min, x); max = Math.max(max, x); }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), min, max };
}

test('Linear\'s default init is PyTorch\'s: weight and bias uniform in ±1/√in', async () => {
  const l = new nn.Linear(50, 400);
  const bound = 1 / Math.sqrt(50);
  const w = stats(await l.weight.data());
  assert.ok(w.min >= -bound && w.max <= bound && w.max > 0.97 * bound && w.min < -0.97 * bound, JSON.stringify(w));
  assert.ok(Math.abs(w.std - bound / Math.sqrt(3)) < 0.01 * bound && Math.abs(w.mean) < 0.01 * bound, JSON.stringify(w));
  const b = stats(await l.bias!.data());
  assert.ok(b.min >= -bound && b.max <= bound && b.std > 0.4 * bound);
  l.dispose();
});

test('truncNormal_ stays inside its bounds with the truncated normal\'s std; seeds reproduce', async () => {
  const t = tensor(new Float32Array(40000));
  nn.init.manualSeed(42);
  nn.init.truncNormal_(t, { std: 0.02 });
  const first = await t.data();
  const s = stats(first);
  // N(0, σ²) truncated at ±2σ has std 0.8796σ.
  assert.ok(s.min >= -0.04 && s.max <= 0.04 && s.max > 0.039, JSON.stringify(s));
  assert.ok(Math.abs(s.std - 0.8796 * 0.02) < 0.0003 && Math.abs(s.mean) < 0.0003, JSON.stringify(s));
  nn.init.manualSeed(42);
  nn.init.truncNormal_(t, { std: 0.02 });
  assert.equal([...(await t.data())], [...first]);
  nn.init.truncNormal_(t, { mean: 1, std: 1, a: 0.5, b: 1.5 });
  const u = stats(await t.data());
  assert.ok(u.min >= 0.5 && u.max <= 1.5, 'absolute bounds');
  assert.throws(() => nn.init.truncNormal_(t, { std: 1, a: 10, b: 11 }), /widen/);
  nn.init.xavierUniform_(t.reshape([200, 200]));
  const x = stats(await t.data());
  assert.ok(x.max <= Math.sqrt(6 / 400) && x.max > 0.97 * Math.sqrt(6 / 400));
  t.dispose();
});

// ------------------------------------------------------------------ layers and functional forms (float64 references)

function linearRef(x: Arr, w: Arr, b: Arr | null): Arr {
  const [n, k] = x.shape as [number, number];
  const m = w.shape[0]!;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = b ? b.data[j]! : 0;
    for (let t = 0; t < k; t++) s += x.data[i * k + t]! * w.data[j * k + t]!;
    out[i * m + j] = s;
  }
  return arr([n, m], out);
}

function layerNormRef(x: Arr, w: Arr, b: Arr, eps: number): Arr {
  const d = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / d; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    const mu = row.reduce((a, v) => a + v, 0) / d;
    const v = row.reduce((a, x2) => a + (x2 - mu) ** 2, 0) / d;
    for (let i = 0; i < d; i++) out[r * d + i] = ((row[i]! - mu) / Math.sqrt(v + eps)) * w.data[i]! + b.data[i]!;
  }
  return arr(x.shape, out);
}

/** Mean cross-entropy with label smoothing ε: −Σ_c ((1−ε)·[c = y] + ε/C) · log softmax(z)_c. */
function crossEntropyRef(z: Arr, y: readonly number[], eps = 0): number {
  const [n, c] = z.shape as [number, number];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = [...z.data.subarray(i * c, (i + 1) * c)];
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
    for (let j = 0; j < c; j++) total -= ((j === y[i] ? 1 - eps : 0) + eps / c) * (row[j]! - lse);
  }
  return total / n;
}

test('LayerNorm and the functional forms match float64 references', async () => {
  const r = rng(3);
  const x = arr([5, 11], randArray(r, 55));
  const w = arr([11], randArray(r, 11)), b = arr([11], randArray(r, 11));
  const ln = new nn.LayerNorm(11, { eps: 1e-6 });
  assert.equal(ln.namedParameters().map(([n]) => n), ['weight', 'bias']);
  assert.equal([...(await ln.weight!.data())], new Array(11).fill(1));
  ln.loadStateDict({ weight: toTensor(w), bias: toTensor(b) });
  const xt = toTensor(x);
  assertClose(await ln.forward(xt).data(), layerNormRef(x, w, b, 1e-6).data, { atol: 2e-5, rtol: 2e-5, what: 'LayerNorm' });

  const targets = [3, 0, 10, 7, 7];
  const tt = tensor(targets);
  assertClose(await nn.functional.crossEntropy(xt, tt).data(), [crossEntropyRef(x, targets)], { rtol: 2e-6, what: 'crossEntropy' });
  assertClose(await nn.functional.crossEntropy(xt, tt, { labelSmoothing: 0.1 }).data(), [crossEntropyRef(x, targets, 0.1)], { rtol: 2e-6, what: 'crossEntropy smoothed' });
  const y = arr([5, 11], randArray(r, 55));
  const mse = x.data.reduce((a, v, i) => a + (v - y.data[i]!) ** 2, 0) / 55;
  assertClose(await nn.functional.mseLoss(xt, toTensor(y)).data(), [mse], { rtol: 2e-6, what: 'mseLoss' });
  assertClose(await nn.functional.gelu(xt).data(), x.data.map(unaryRef.gelu), { atol: 2e-6, what: 'gelu' });
  const sm = await nn.functional.softmax(xt).data();
  const lsm = await nn.functional.logSoftmax(xt).data();
  for (let i = 0; i < 5; i++) {
    const row = [...x.data.subarray(i * 11, (i + 1) * 11)];
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    assertClose(sm.subarray(i * 11, (i + 1) * 11), row.map((v) => Math.exp(v - lse)), { atol: 1e-6, what: 'softmax' });
    assertClose(lsm.subarray(i * 11, (i + 1) * 11), row.map((v) => v - lse), { atol: 2e-6, what: 'logSoftmax' });
  }
  ln.dispose();
});

test('Linear matches x·Wᵀ + b for 2-D and batched 3-D inputs, with and without bias', async () => {
  const r = rng(8);
  for (const bias of [true, false]) {
    const lin = new nn.Linear(13, 7, { bias });
    const w = arr([7, 13], await lin.weight.data());
    const b = bias ? arr([7], await lin.bias!.data()) : null;
    const x = arr([3 * 5, 13], randArray(r, 15 * 13));
    const want = linearRef(x, w, b).data;
    assertClose(await lin.forward(toTensor(x)).data(), want, { atol: 2e-5, rtol: 2e-5, what: `Linear 2-D bias=${bias}` });
    const y3 = lin.forward(tensor(Float32Array.from(x.data), { shape: [3, 5, 13] }));
    assert.equal([...y3.shape], [3, 5, 7]);
    assertClose(await y3.data(), want, { atol: 2e-5, rtol: 2e-5, what: `Linear 3-D bias=${bias}` });
    assert.equal(lin.namedParameters().map(([n]) => n), bias ? ['weight', 'bias'] : ['weight']);
    lin.dispose();
  }
  assert.throws(() => nn.functional.linear(tensor([[1, 2]]), tensor([[1, 2, 3]])), /does not end in 3/);
  // The fused epilogue: linear + GELU in one matmul.
  const lin = new nn.Linear(6, 5);
  const x = arr([4, 6], randArray(r, 24));
  const pre = linearRef(x, arr([5, 6], await lin.weight.data()), arr([5], await lin.bias!.data()));
  const fused = nn.functional.linear(toTensor(x), lin.weight, lin.bias, { activation: 'gelu' });
  assertClose(await fused.data(), pre.data.map(unaryRef.gelu), { atol: 2e-5, rtol: 2e-5, what: 'linear + gelu' });
  lin.dispose();
});

test('an MLP (Linear, GELU, Linear, cross-entropy) has gradients that match finite differences of its float64 reference', async () => {
  const r = rng(12);
  const [n, d, h, c] = [6, 5, 9, 4];
  const targets = [0, 3, 1, 2, 3, 1];
  const inputs = [arr([n, d], randArray(r, n * d)), arr([h, d], randArray(r, h * d, -0.6, 0.6)), arr([h], randArray(r, h, -0.5, 0.5)),
    arr([c, h], randArray(r, c * h, -0.6, 0.6)), arr([c], randArray(r, c, -0.5, 0.5))];
  const gelu = unaryRef.gelu;
  await gradCheck({
    inputs,
    gpu: (x, w1, b1, w2, b2) => nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).gelu(), w2, b2), tensor(targets)).reshape([1]),
    ref: (x, w1, b1, w2, b2) => {
      const hid = linearRef(x, w1, b1);
      const act = arr(hid.shape, hid.data.map(gelu));
      return arr([1], [crossEntropyRef(linearRef(act, w2, b2), targets)]);
    },
    what: 'MLP',
  });
});

test.run();
