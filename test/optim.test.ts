// Optimisers: the registry's cases of their ops (test/cases/optim.ts: one AdamW, SGD or clipping
// update against float64 references), then the optimisers against PyTorch's update rules over
// several steps of a hand-made loss whose gradient depends on the parameters; gradient clipping;
// schedules; and state dicts that resume training bit for bit (also through safetensors).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, tidy, optim, saveSafetensors, loadSafetensors, type Tensor } from '../src/index.js';
import { adamwRefStep, sgdRefStep, clipGradNormRef, type AdamWRefState, type SGDRefState } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, checkForward, byOp } from './harness.js';
import { cases } from './cases/optim.js';

test.before(async () => {
  await setup();
});

/** A parameter with its loss coefficients: L = Σ ½·w·p² + c·p, so dL/dp = w·p + c. */
interface Problem {
  shape: number[];
  p0: Float64Array;
  w: Float64Array;
  c: Float64Array;
}

function problem(r: () => number, shape: number[]): Problem {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, p0: randArray(r, n, -1, 1), w: randArray(r, n, 0.1, 2), c: randArray(r, n, -1, 1) };
}

const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

/** Runs the loss forward and backward on the GPU (gradients land in p.grad). */
function backwardStep(params: Tensor[], probs: Problem[]): void {
  tidy(() => {
    let loss: Tensor | null = null;
    params.forEach((p, i) => {
      const w = tensor(f32(probs[i]!.w), { shape: probs[i]!.shape });
      const c = tensor(f32(probs[i]!.c), { shape: probs[i]!.shape });
      const li = p.square().mul(w).mul(0.5).add(p.mul(c)).sum();
      loss = loss ? loss.add(li) : li;
    });
    loss!.backward();
  });
}

const gradRef = (p: Float64Array, pr: Problem) => p.map((x, i) => pr.w[i]! * x + pr.c[i]!);

for (const [op, opCases] of byOp(cases)) {
  test(`${op} (the op the optimisers call) matches the float64 reference`, async () => {
    for (const c of opCases) await checkForward(c);
  });
}

test('AdamW matches PyTorch\'s update rule in float64 over 8 steps, with two groups and a schedule', async () => {
  const r = rng(31);
  const probs = [problem(r, [37]), problem(r, [5, 13]), problem(r, [3, 1, 7])];
  const params = probs.map((pr) => tensor(f32(pr.p0), { shape: pr.shape, requiresGrad: true }));
  const betas: [number, number] = [0.8, 0.95];
  const opt = new optim.AdamW(
    [
      { params: [params[0]!, params[1]!], weightDecay: 0.1 },
      { params: [params[2]!], lrScale: 0.5, weightDecay: 0, eps: 1e-6 },
    ],
    { lr: 0.05, betas, eps: 1e-8 },
  );
  const sched = optim.cosineSchedule({ baseLr: 0.05, warmupSteps: 3, totalSteps: 8, minLr: 0.001 });
  const scale = [1, 1, 0.5], wd = [0.1, 0.1, 0], eps = [1e-8, 1e-8, 1e-6];
  const ref: AdamWRefState[] = probs.map((pr) => ({ p: Float64Array.from(pr.p0), m: new Float64Array(pr.p0.length), v: new Float64Array(pr.p0.length), step: 0 }));
  for (let step = 0; step < 8; step++) {
    const base = sched(step);
    opt.setLr(base);
    assert.is(opt.paramGroups[1]!.lr, base * 0.5);
    backwardStep(params, probs);
    opt.step();
    opt.zeroGrad();
    ref.forEach((s, k) => adamwRefStep(s, gradRef(s.p, probs[k]!), { lr: base * scale[k]!, betas, eps: eps[k]!, weightDecay: wd[k]! }));
  }
  const sd = opt.stateDict();
  for (let k = 0; k < 3; k++) {
    assertClose(await params[k]!.data(), ref[k]!.p, { atol: 2e-6, rtol: 1e-5, what: `AdamW param ${k}` });
    assertClose(await sd.state[k]!.buffers.exp_avg!.data(), ref[k]!.m, { atol: 1e-6, rtol: 1e-5, what: `AdamW exp_avg ${k}` });
    assertClose(await sd.state[k]!.buffers.exp_avg_sq!.data(), ref[k]!.v, { atol: 1e-7, rtol: 1e-5, what: `AdamW exp_avg_sq ${k}` });
    assert.is(sd.state[k]!.step, 8);
  }
  opt.dispose();
  params.forEach((p) => p.dispose());
});

for (const cfg of [
  { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.05 },
  { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.01 },
  { momentum: 0.9, dampening: 0.3, nesterov: false, weightDecay: 0 },
  { momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0.02 },
]) {
  test(`SGD matches PyTorch's update rule in float64 over 6 steps (${JSON.stringify(cfg)})`, async () => {
    const r = rng(77);
    const probs = [problem(r, [41]), problem(r, [6, 11])];
    const params = probs.map((pr) => tensor(f32(pr.p0), { shape: pr.shape, requiresGrad: true }));
    const lr = 0.1;
    const opt = new optim.SGD(params, { lr, ...cfg });
    const ref: SGDRefState[] = probs.map((pr) => ({ p: Float64Array.from(pr.p0), buf: new Float64Array(pr.p0.length), step: 0 }));
    for (let step = 0; step < 6; step++) {
      backwardStep(params, probs);
      opt.step();
      opt.zeroGrad();
      ref.forEach((s, k) => sgdRefStep(s, gradRef(s.p, probs[k]!), { lr, ...cfg }));
    }
    for (let k = 0; k < 2; k++) assertClose(await params[k]!.data(), ref[k]!.p, { atol: 2e-6, rtol: 1e-5, what: `SGD param ${k}` });
    if (cfg.momentum) assertClose(await opt.stateDict().state[1]!.buffers.momentum_buffer!.data(), ref[1]!.buf, { atol: 2e-6, rtol: 1e-5, what: 'momentum buffer' });
    opt.dispose();
    params.forEach((p) => p.dispose());
  });
}

test('parameters without a gradient are skipped: unchanged, no state, no step counted', async () => {
  const a = tensor([1, 2, 3], { requiresGrad: true });
  const b = tensor([4, 5], { requiresGrad: true });
  const opt = new optim.AdamW([a, b], { lr: 0.1, weightDecay: 0.5 });
  tidy(() => a.mul(a).sum().backward());
  opt.step();
  assert.equal([...(await b.data())], [4, 5]);
  const sd = opt.stateDict();
  assert.equal(Object.keys(sd.state), ['0']);
  assert.ok((await a.data())[0]! < 1);
  opt.zeroGrad();
  assert.is(a.grad, null);
  opt.dispose();
  a.dispose();
  b.dispose();
});

test('clipGradNorm computes the global L2 norm on the GPU and scales by min(1, max / (norm + 1e-6))', async () => {
  const r = rng(5);
  // 5000 elements spans two sum-of-squares chunks; 1 and 0 elements are edge cases.
  const shapes = [[5000], [3, 17], [1], [0, 4]];
  const grads = shapes.map((s) => randArray(r, s.reduce((a, b) => a * b, 1), -1, 1));
  const norm64 = clipGradNormRef(grads, 1).norm;
  for (const maxNorm of [norm64 / 3, norm64 * 2]) {
    const want = clipGradNormRef(grads, maxNorm);
    const params = shapes.map((s) => tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), { shape: s, requiresGrad: true }));
    params.forEach((p, i) => { p.grad = tensor(f32(grads[i]!), { shape: shapes[i]! }).keep(); });
    const noGradParam = tensor([1, 2], { requiresGrad: true });
    const norm = optim.clipGradNorm([...params, noGradParam], maxNorm);
    assert.equal([...norm.shape], []);
    assertClose(await norm.data(), [want.norm], { rtol: 1e-6, what: 'norm' });
    for (let i = 0; i < shapes.length; i++) {
      assertClose(await params[i]!.grad!.data(), want.clipped[i]!, { atol: 1e-7, rtol: 2e-6, what: `clipped grad ${i}` });
    }
    norm.dispose();
    for (const p of [...params, noGradParam]) { p.zeroGrad(); p.dispose(); }
  }
  const none = optim.clipGradNorm([tensor([1])], 1);
  assert.is(await none.item(), 0);
  assert.throws(() => optim.clipGradNorm([], -1), /maxNorm/);
});

test('cosineSchedule: linear warm-up to the peak, cosine to minLr, then flat', () => {
  const f = optim.cosineSchedule({ baseLr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 });
  assertClose([0, 1, 2, 3].map(f), [0.25, 0.5, 0.75, 1], { what: 'warm-up' });
  assert.is(f(4), 1);
  assertClose([f(9)], [0.55], { what: 'halfway = (base + min) / 2' });
  assertClose([f(6)], [0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.2))], { what: 'step 6' });
  assert.is(f(14), 0.1);
  assert.is(f(1000), 0.1);
  for (let s = 4; s < 14; s++) assert.ok(f(s + 1) < f(s), 'decreasing after warm-up');
  const noWarm = optim.cosineSchedule({ baseLr: 2, totalSteps: 10 });
  assert.is(noWarm(0), 2);
  assertClose([noWarm(5)], [1]);
  assert.throws(() => optim.cosineSchedule({ baseLr: 1, warmupSteps: 5, totalSteps: 3 }), /totalSteps/);
  assert.throws(() => f(-1), /step/);
});

test('groups: lr or lrScale per group, weight decay per group, lr follows setLr; bad setups are rejected', () => {
  const [a, b, c] = [tensor([1], { requiresGrad: true }), tensor([2], { requiresGrad: true }), tensor([3], { requiresGrad: true })];
  const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.02, weightDecay: 0.1 }, { params: [c], lrScale: 3 }], { lr: 0.1 });
  assert.equal(opt.paramGroups.map((g) => g.lr), [0.1, 0.02, 0.1 * 3]);
  assert.equal(opt.paramGroups.map((g) => g.weightDecay), [0, 0.1, 0]);
  opt.setLr(0.05);
  assertClose(opt.paramGroups.map((g) => g.lr), [0.05, 0.01, 0.15]);
  assert.throws(() => new optim.SGD([{ params: [a] }, { params: [a] }], { lr: 1 }), /more than one group/);
  assert.throws(() => new optim.SGD([{ params: [a], lr: 1, lrScale: 2 }], { lr: 1 }), /both lr and lrScale/);
  assert.throws(() => new optim.SGD([a], { lr: 1, nesterov: true }), /Nesterov/);
  assert.throws(() => new optim.AdamW([a], { betas: [1, 0.9] }), /betas/);
  assert.throws(() => new optim.AdamW([]), /no parameters/);
  [a, b, c].forEach((t) => t.dispose());
});

test('a state dict saved through safetensors resumes AdamW and SGD training bit for bit', async () => {
  const r = rng(9);
  const probs = [problem(r, [29]), problem(r, [4, 9])];
  for (const make of [
    (ps: Tensor[]) => new optim.AdamW([{ params: [ps[0]!] }, { params: [ps[1]!], lrScale: 0.3, weightDecay: 0 }], { lr: 0.03 }),
    (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }),
  ]) {
    const params = probs.map((pr) => tensor(f32(pr.p0), { shape: pr.shape, requiresGrad: true }));
    const opt = make(params);
    for (let s = 0; s < 3; s++) { opt.setLr(0.03 + s * 0.01); backwardStep(params, probs); opt.step(); opt.zeroGrad(); }
    // Checkpoint: parameters and optimiser state in one file.
    const { tensors, metadata } = optim.stateToTensors(opt.stateDict());
    const bytes = await saveSafetensors({ ...tensors, 'p.0': params[0]!, 'p.1': params[1]! }, metadata);
    const loaded = loadSafetensors(bytes);
    const params2 = [loaded.tensors['p.0']!.requiresGrad_(), loaded.tensors['p.1']!.requiresGrad_()];
    const opt2 = make(params2);
    opt2.loadStateDict(optim.stateFromTensors(loaded.tensors, loaded.metadata));
    for (const t of Object.values(loaded.tensors)) if (!params2.includes(t)) t.dispose(); // the optimiser copied them
    assert.is(opt2.baseLr, opt.baseLr);
    assert.equal(opt2.paramGroups.map((g) => g.lr), opt.paramGroups.map((g) => g.lr));
    for (let s = 0; s < 3; s++) {
      for (const [ps, o] of [[params, opt], [params2, opt2]] as const) { o.setLr(0.02); backwardStep(ps, probs); o.step(); o.zeroGrad(); }
    }
    for (let k = 0; k < 2; k++) assert.equal([...(await params2[k]!.data())], [...(await params[k]!.data())], `param ${k} after resuming`);
    assert.equal(opt2.stateDict().state[0]!.step, 6);
    for (const o of [opt, opt2]) o.dispose();
    for (const p of [...params, ...params2]) p.dispose();
  }
});

test('loadStateDict rejects a mismatched state and leaves the optimiser unchanged', async () => {
  const a = tensor([1, 2, 3], { requiresGrad: true });
  const b = tensor([[1, 2]], { requiresGrad: true });
  const opt = new optim.AdamW([a, b], { lr: 0.1 });
  tidy(() => a.mul(b.sum()).sum().backward());
  opt.step();
  const good = opt.stateDict();
  const other = new optim.AdamW([b, a], { lr: 0.1 }); // same count, swapped shapes
  assert.throws(() => other.loadStateDict(good), (e: Error) => /exp_avg has shape \[3\], the parameter \[1, 2\]/.test(e.message) && /nothing was loaded/.test(e.message));
  assert.equal(Object.keys(other.stateDict().state), []);
  const twoGroups = new optim.AdamW([{ params: [a] }, { params: [b] }], { lr: 0.1 });
  assert.throws(() => twoGroups.loadStateDict(good), /1 parameter groups, this optimiser 2/);
  assert.throws(() => optim.stateFromTensors({}, {}), /no "optimizer.json"/);
  const badHyper = { ...good, paramGroups: [{ ...good.paramGroups[0]!, betas: [2, 0.9] }] };
  assert.throws(() => opt.loadStateDict(badHyper), /betas must be in \[0, 1\)/);
  assert.equal(opt.paramGroups[0]!.betas, [0.9, 0.999], 'unchanged after a rejected load');
  for (const o of [opt, other, twoGroups]) o.dispose();
  a.zeroGrad(); b.zeroGrad(); a.dispose(); b.dispose();
});

test.run();
