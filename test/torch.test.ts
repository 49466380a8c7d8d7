// The PyTorch bridge against real PyTorch (python/webfam_torch, docs/pytorch.md): `node train.js
// --export` gives files PyTorch loads strictly and whose logits (and iFAM masks) equal webfam's;
// one training step's gradients agree; training continued under torchrun (DDP, gloo, 2 processes)
// comes back through `--import` / `--eval DIR` with PyTorch's logits. Needs /usr/bin/python3 with
// torch (`npm run setup` installs python3-torch); without it every test here fails saying so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeSafetensors, encodeSafetensors, noGrad, saveSafetensors, tensor, tidy, vit, type HostTensor, type Tensor } from '../src/index.js';
import { batchLoss, type LossWeights, type ModelSpec } from '../src/vit/methods.js';
import { parseArgs } from '../src/train/args.js';
import { DEFAULT_RELEVANCE_WEIGHTS } from '../src/vit/relevance.js';
import type { Module } from '../src/nn/module.js';
import { setup, rng } from './harness.js';

test.before(setup);

const PYTHON = '/usr/bin/python3';
const PYTHONPATH = resolve('python');
const out = mkdtempSync(join(tmpdir(), 'webfam-torch-'));
test.after(() => rmSync(out, { recursive: true, force: true }));
const NORMALIZE = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as const;
/** Data flags for --export --with-data and --eval: the synthetic benchmark, a few images. */
const DATA = ['--benchmark', 'synthetic', '--train-size', '32', '--val-size', '16', '--test-size', '16'];

let torchChecked: string | null | undefined;
/** Fails the test (never skips it) when PyTorch cannot be imported. */
function requireTorch(): void {
  if (torchChecked === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    torchChecked = r.status === 0 ? null : (r.stderr || r.error?.message || '').trim().split('\n').at(-1) ?? 'failed';
  }
  if (torchChecked !== null) {
    assert.unreachable(`PyTorch is missing: \`${PYTHON} -c "import torch"\` fails (${torchChecked}). Run \`npm run setup\`, which installs python3-torch.`);
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
const trainJs = (args: string[]) => run(process.execPath, ['train.js', ...args]);
const python = (args: string[]) => run(PYTHON, args, { PYTHONPATH });
function ok(r: Run, what: string): Run {
  assert.is(r.code, 0, `${what} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

// ------------------------------------------------------------------ models with trained-like weights

/** A standard normal from a seeded uniform source (Box–Muller). */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * Replaces every weight with seeded random values of a trained model's magnitudes (initial weights
 * give near-constant logits, which would match anything): unit-scale activations, LayerNorm gains
 * around 1, visible LayerScale, biases and tokens that matter, an iFAM mask that keeps about half.
 */
function randomizeWeights(model: Module, seed: number): void {
  const r = rng(seed);
  const dict: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    let offset = 0, scale: number;
    if (/(^|\.)(norm\d?|head_norm|modulation)\.weight$/.test(name)) [offset, scale] = [1, 0.2];
    else if (name.endsWith('.gamma')) [offset, scale] = [0.5, 0.2];
    else if (name.endsWith('bias')) scale = 0.1;
    else if (/(cls_token|reg_token|pos_embed)$/.test(name)) scale = 0.5;
    else if (name.endsWith('prototypes')) scale = 0.3;
    else scale = 1 / Math.sqrt(t.size / t.shape[0]!);
    const v = new Float32Array(t.size);
    for (let i = 0; i < v.length; i++) v[i] = offset + scale * normal(r);
    if (name.endsWith('prototypes')) {
      // The background prototype (the last row) pulled towards the origin wins about half of the
      // patches, so iFAM's mask both keeps and drops (random prototypes keep 9 patches in 10).
      const D = t.shape[1]!;
      for (let i = v.length - D; i < v.length; i++) v[i] = v[i]! * 0.65;
    }
    dict[name] = tensor(v, { shape: [...t.shape] });
  }
  model.loadStateDict(dict);
  for (const t of Object.values(dict)) t.dispose();
}

const baseCfg = vit.vitConfig('webfam_test', { imageSize: 32 });
// The baseline takes DINOv2's options (registers, LayerScale, position embeddings over patches
// only), iFAM the plain ViT's, so both layouts of timm's ViT are checked.
const SPECS: Record<'baseline' | 'ifam', ModelSpec> = {
  baseline: { method: 'baseline', preset: 'webfam_test', vit: { ...baseCfg, regTokens: 2, layerScale: 1e-5, noEmbedClass: true }, numClasses: 2 },
  ifam: { method: 'ifam', preset: 'webfam_test', vit: baseCfg, numClasses: 2, ifam: { parts: 4, tau: 1, partDropout: 0.3, jointGrad: true, jointGradScale: 1 } },
};

interface Exported {
  checkpoint: string;
  dir: string;
  ck: vit.Checkpoint;
}

/** Writes a train.js-style checkpoint (optimiser entries and progress included) and exports it, once. */
const exportRuns: Partial<Record<'baseline' | 'ifam', Promise<Exported>>> = {};
function exported(method: 'baseline' | 'ifam'): Promise<Exported> {
  return (exportRuns[method] ??= (async () => {
    const spec = SPECS[method];
    const runDir = join(out, method);
    mkdirSync(runDir, { recursive: true });
    const model = method === 'ifam' ? new vit.IFAM(spec.vit, { ...spec.ifam!, numClasses: 2 }) : new vit.VisionTransformer({ ...spec.vit, numClasses: 2 });
    randomizeWeights(model, method === 'ifam' ? 11 : 7);
    const checkpoint = join(runDir, 'checkpoint.safetensors');
    const optimizer = { 'optimizer.state.0.exp_avg': tensor([1, 2, 3]), 'optimizer.state.0.exp_avg_sq': tensor([1, 2, 3]) };
    writeFileSync(checkpoint, await saveSafetensors({ ...model.stateDict(), ...optimizer }, {
      'webfam.spec': JSON.stringify(spec), 'webfam.normalize': JSON.stringify(NORMALIZE), 'webfam.classes': JSON.stringify(['square', 'triangle']),
      'webfam.progress': JSON.stringify({ phase: 0, epoch: 1, batch: 0, globalStep: 2 }), 'optimizer.json': '{}',
    }));
    // The run's config.json, as train.js leaves it: the export carries its loss settings to PyTorch.
    writeFileSync(join(runDir, 'config.json'), JSON.stringify({ method, 'label-smoothing': 0.1, 'w-tv': 0.5 }));
    const dir = join(runDir, 'pytorch');
    ok(await trainJs(['--export', checkpoint, '--with-data', ...DATA]), `--export ${method}`);
    model.eval();
    return { checkpoint, dir, ck: { spec, model, normalize: { ...NORMALIZE }, classNames: ['square', 'triangle'], metadata: {} } as vit.Checkpoint };
  })());
}

// ------------------------------------------------------------------ comparing with webfam

/** A data file's images normalised as webfam's loader (and webfam_torch) do, and its labels. */
function readData(path: string, n = Infinity): { x: Float32Array; shape: number[]; labels: Int32Array } {
  const { tensors } = decodeSafetensors(readFileSync(path));
  const imgs = tensors.images!;
  const [N0, C, S] = imgs.shape as [number, number, number, number];
  const N = Math.min(N0, n), plane = S * S;
  const x = new Float32Array(N * C * plane);
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) {
    const inv = 1 / NORMALIZE.std[c]!;
    for (let k = 0; k < plane; k++) x[(i * C + c) * plane + k] = (imgs.data[(i * C + c) * plane + k]! - NORMALIZE.mean[c]!) * inv;
  }
  return { x, shape: [N, C, S, S], labels: Int32Array.from(tensors.labels!.data.subarray(0, N)) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  assert.is(a.length, b.length, `${what}: ${a.length} values vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= worst)) worst = d; // NaN wins
  }
  return worst;
}

/** webfam's logits, and for iFAM its masks and each patch's margin max_fg A − A_bg. */
async function webfamOutputs(model: vit.Checkpoint['model'], data: { x: Float32Array; shape: number[] }) {
  const outs = tidy(() => noGrad(() => {
    const x = tensor(data.x, { shape: data.shape });
    if (!(model instanceof vit.IFAM)) return { logits: model.forward(x).logits! };
    const o = model.forward(x);
    const A = o.stage1.partLogits.div(model.opts.tau).softmax(-1);
    const K = model.opts.parts;
    return { logits: o.logits, mask: o.mask, margin: A.slice(2, 0, K).max(2).sub(A.slice(2, K, K + 1).squeeze(2)) };
  }));
  const result = { logits: await outs.logits.data(), mask: outs.mask ? await outs.mask.data() : undefined, margin: outs.margin ? await outs.margin.data() : undefined };
  for (const t of Object.values(outs)) t?.dispose();
  return result;
}

/** PyTorch's logits (and masks) from webfam_torch.evaluate --logits. */
async function torchOutputs(dir: string, data: string, tag: string): Promise<{ logits: Float32Array; mask?: Float32Array; figures: Record<string, any> }> {
  const file = join(out, `${tag}.safetensors`);
  const r = ok(await python(['-m', 'webfam_torch.evaluate', dir, '--data', data, '--logits', file, '--json']), `webfam_torch.evaluate ${tag}`);
  const { tensors } = decodeSafetensors(readFileSync(file));
  return { logits: tensors.logits!.data, mask: tensors.mask?.data, figures: JSON.parse(r.stdout.trim().split('\n').at(-1)!) };
}

/** Checks logits within 1e-4 and, for iFAM, masks equal except where the margin is a near-tie. */
async function assertSameOutputs(ck: vit.Checkpoint, dir: string, dataFile: string, tag: string): Promise<{ note: string; figures: Record<string, any> }> {
  const data = readData(dataFile);
  const mine = await webfamOutputs(ck.model, data);
  const theirs = await torchOutputs(dir, dataFile, tag);
  const dLogits = maxAbsDiff(mine.logits, theirs.logits, `${tag} logits`);
  assert.ok(dLogits < 1e-4, `${tag}: logits differ by up to ${dLogits}`);
  // Logits that all but equal each other would make the comparison empty.
  const spread = Math.max(...mine.logits) - Math.min(...mine.logits);
  assert.ok(spread > 0.5, `${tag}: webfam's logits span only ${spread}; the weights are too weak to test anything`);
  let note = `${tag}: max |Δ logits| ${dLogits.toExponential(2)}`;
  if (mine.mask) {
    assert.ok(theirs.mask, `${tag}: PyTorch returned no mask`);
    let kept = 0, differ = 0;
    mine.mask.forEach((m, i) => {
      kept += m;
      if (m !== theirs.mask![i]) {
        differ++;
        assert.ok(Math.abs(mine.margin![i]!) < 1e-5, `${tag}: mask entry ${i} is ${m} in webfam, ${theirs.mask![i]} in PyTorch, with margin ${mine.margin![i]} (not a tie)`);
      }
    });
    const ratio = kept / mine.mask.length;
    assert.ok(ratio > 0.05 && ratio < 0.95, `${tag}: the mask keeps ${(100 * ratio).toFixed(0)}% of patches; a test mask must both keep and drop`);
    note += `, masks: ${differ} of ${mine.mask.length} differ (near-ties), ${(100 * ratio).toFixed(0)}% kept`;
  }
  return { note, figures: theirs.figures };
}

// ------------------------------------------------------------------ tests

test('--export writes timm-named weights without optimiser state, config.json with timm arguments, and data files', async () => {
  for (const method of ['baseline', 'ifam'] as const) {
    const { dir, ck } = await exported(method);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const keysOf = (file: string) => Object.keys(decodeSafetensors(readFileSync(join(dir, file))).tensors).sort();
    if (method === 'baseline') {
      assert.equal(config.files, { model: 'model.safetensors' });
      assert.equal(keysOf('model.safetensors'), Object.keys(ck.model.stateDict()).sort());
      assert.equal(config.timm.kwargs, {
        img_size: 32, patch_size: 8, in_chans: 3, num_classes: 2, embed_dim: 64, depth: 3, num_heads: 2, mlp_ratio: 4, qkv_bias: true,
        init_values: 1e-5, class_token: true, no_embed_class: true, reg_tokens: 2, global_pool: 'token', drop_path_rate: 0,
      });
    } else {
      const m = ck.model as vit.IFAM;
      assert.equal(config.files, { stage1: 'stage1.safetensors', stage2: 'stage2.safetensors', heads: 'ifam_heads.safetensors' });
      assert.equal(keysOf('stage1.safetensors'), Object.keys(m.stage1.stateDict()).sort(), 'stage 1 is a plain timm ViT');
      assert.equal(keysOf('stage2.safetensors'), Object.keys(m.stage2.stateDict()).sort());
      assert.ok(!keysOf('stage1.safetensors').some((k) => k.startsWith('head.')), 'the stages have no head (num_classes 0)');
      assert.equal(keysOf('ifam_heads.safetensors'), Object.keys(m.stateDict()).filter((k) => !/^stage[12]\./.test(k)).sort());
      assert.equal(config.ifam, { parts: 4, tau: 1, part_dropout: 0.3, joint_grad: true, joint_grad_scale: 1 });
      assert.is(config.timm.kwargs.num_classes, 0);
      assert.is(config.timm.kwargs.init_values, null);
    }
    assert.is(config.norm_eps, 1e-6);
    assert.equal(config.normalize, NORMALIZE);
    assert.equal(config.class_names, ['square', 'triangle']);
    assert.is(config.training.w_tv, 0.5, "the run's own loss settings travel with the export");
    assert.is(config.training.w_background, 2, 'settings the run did not record are train.js defaults');
    const test16 = decodeSafetensors(readFileSync(join(dir, 'data', 'test.safetensors')));
    assert.equal(test16.tensors.images!.shape, [16, 3, 32, 32]);
    assert.equal(JSON.parse(test16.metadata['webfam.classes']!), ['square', 'triangle']);
  }
});

test('webfam → PyTorch: a baseline export gives webfam\'s logits within 1e-4', async () => {
  requireTorch();
  const { ck, dir } = await exported('baseline');
  console.log(`  ${(await assertSameOutputs(ck, dir, join(dir, 'data', 'test.safetensors'), 'baseline')).note}`);
});

test('webfam → PyTorch: an iFAM export gives webfam\'s logits within 1e-4 and the same hard masks', async () => {
  requireTorch();
  const { ck, dir } = await exported('ifam');
  console.log(`  ${(await assertSameOutputs(ck, dir, join(dir, 'data', 'test.safetensors'), 'ifam')).note}`);
});

test('webfam_torch\'s training defaults are train.js\'s (loss weights, and iFAM\'s mask gradient)', async () => {
  const r = ok(await python(['-c', 'import json, inspect\nfrom webfam_torch.losses import DEFAULT_TRAINING\nfrom webfam_torch.ifam import IFAM\n'
    + 'print(json.dumps({"training": DEFAULT_TRAINING, "joint_grad": inspect.signature(IFAM).parameters["joint_grad"].default}))']), 'reading the defaults');
  const py = JSON.parse(r.stdout) as { training: Record<string, number>; joint_grad: boolean };
  // train.js's defaults as it resolves them: the flags of an empty command line.
  const defaults: Record<string, unknown> = parseArgs([]);
  for (const [key, value] of Object.entries(py.training)) {
    const flag = key.replace(/_/g, '-');
    assert.is(value, defaults[flag], `${key}: webfam_torch ${value}, train.js --${flag} ${defaults[flag]}`);
  }
  assert.is(py.joint_grad, defaults['joint-grad'], 'IFAM(joint_grad=...) default');
});

// The loss of one training step on the same batch and weights, and its gradient for every
// parameter, in PyTorch (webfam_torch.losses.batch_loss, what webfam_torch.train steps on).
// Noise-free: eval mode (no Gumbel noise or part dropout), no equivariance (its transforms are random).
const GRADS_PY = `
import sys, torch
from webfam_torch import load_export, load_data, normalize, save_file
from webfam_torch.losses import DEFAULT_TRAINING, batch_loss
export, data, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
model, config = load_export(export)
images, labels, _, _ = load_data(data)
terms = batch_loss(config["method"], model, normalize(images[:n], config), labels[:n], dict(DEFAULT_TRAINING, w_equivariance=0.0, w_stage1=1.0))
terms["total"].backward()
grads = {"grad." + k: p.grad for k, p in model.named_parameters()}
grads.update({"loss." + k: v.detach().reshape(1) for k, v in terms.items()})
save_file(grads, out)
`;

test('one training step\'s loss and gradients agree with PyTorch within 1e-4 (baseline cross-entropy, iFAM with every deterministic term)', async () => {
  requireTorch();
  const notes: string[] = [];
  for (const method of ['baseline', 'ifam'] as const) {
    const { ck, dir } = await exported(method);
    const dataFile = join(dir, 'data', 'train.safetensors');
    const file = join(out, `grads-${method}.safetensors`);
    ok(await python(['-c', GRADS_PY, dir, dataFile, file, '8']), `PyTorch gradients (${method})`);
    const torch = decodeSafetensors(readFileSync(file)).tensors;
    const { x, shape, labels } = readData(dataFile, 8);
    const weights: LossWeights = {
      labelSmoothing: 0.1, stage1: 1, stage2: 1,
      parts: { presence: 1, equivariance: 0, orthogonality: 1, totalVariation: 0.2, backgroundPresence: 2, entropy: 1 },
      relevance: DEFAULT_RELEVANCE_WEIGHTS,
    };
    const model = ck.model;
    model.eval();
    model.zeroGrad();
    const losses = tidy(() => {
      const terms = batchLoss(method, model, { x: tensor(x, { shape }), labels, masks: null }, weights, 0, 0);
      terms.total.backward();
      return Object.fromEntries(Object.entries(terms).map(([k, t]) => [k, t.detach()]));
    });
    for (const [k, t] of Object.entries(losses)) {
      const want = torch[`loss.${k}`];
      assert.ok(want, `PyTorch has no loss term ${k}`);
      const v = (await t.data())[0]!;
      assert.ok(Math.abs(v - want.data[0]!) < 1e-4, `${method} loss ${k}: webfam ${v}, PyTorch ${want.data[0]}`);
      t.dispose();
    }
    let worst = 0, worstName = '', largest = 0;
    for (const [name, p] of model.namedParameters()) {
      const want = torch[`grad.${name}`];
      assert.ok(want, `PyTorch has no gradient for ${name}`);
      assert.ok(p.grad, `webfam has no gradient for ${name}`);
      const got = await p.grad!.data();
      const d = maxAbsDiff(got, want.data, `${method} grad ${name}`);
      if (!(d <= worst)) [worst, worstName] = [d, name];
      for (const g of want.data) largest = Math.max(largest, Math.abs(g));
    }
    model.zeroGrad();
    assert.ok(largest > 1e-3, `${method}: the largest gradient is ${largest}; nothing to compare`);
    assert.ok(worst < 1e-4, `${method}: gradients differ by up to ${worst} (${worstName})`);
    notes.push(`${method}: max |Δ grad| ${worst.toExponential(2)} (largest |grad| ${largest.toFixed(3)}), ${Object.keys(losses).length} loss terms`);
  }
  console.log(`  ${notes.join('; ')}`);
});

test('PyTorch → webfam: training continued in PyTorch (iFAM under torchrun: DDP, 2 processes) comes back through --import and --eval DIR with PyTorch\'s logits', async () => {
  requireTorch();
  const notes: string[] = [];
  for (const method of ['baseline', 'ifam'] as const) {
    const { dir } = await exported(method);
    const trained = join(out, `${method}-torch`);
    const trainArgs = ['-m', 'webfam_torch.train', dir, '--data', join(dir, 'data', 'train.safetensors'), '--out', trained, '--epochs', '1', '--batch-size', '8'];
    // One process for the baseline, torchrun (python -m torch.distributed.run) with two (gloo on CPU) for iFAM. `--redirects 1 --tee 1`
    // works around torchrun < 2.0 on Python 3.11 (its default "0" parses to None there).
    const t = method === 'ifam'
      ? await run(PYTHON, ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '1', '--tee', '1', ...trainArgs], { PYTHONPATH, OMP_NUM_THREADS: '1' })
      : await python(trainArgs);
    ok(t, `webfam_torch.train (${method})`);
    const world = method === 'ifam' ? 2 : 1;
    assert.match(t.stdout, world === 2 ? /4 steps on 2 processes/ : /4 steps on 1 process/);
    const config = JSON.parse(readFileSync(join(trained, 'config.json'), 'utf8'));
    assert.is(config.training.world_size, world);
    assert.is(config.training.w_tv, 0.5, 'PyTorch trained with the loss settings the export carried');
    // The weights moved, so what comes back is PyTorch's work, not the export.
    const file = method === 'ifam' ? 'stage1.safetensors' : 'model.safetensors';
    const before = decodeSafetensors(readFileSync(join(dir, file))).tensors;
    const after = decodeSafetensors(readFileSync(join(trained, file))).tensors;
    assert.ok(maxAbsDiff(after['blocks.0.attn.qkv.weight']!.data, before['blocks.0.attn.qkv.weight']!.data, 'qkv') > 1e-4, 'training did not change the weights');

    const imp = ok(await trainJs(['--import', trained]), `--import ${method}`);
    assert.match(imp.stdout, /imported .* as .*checkpoint\.safetensors/);
    const ck = vit.readCheckpoint(readFileSync(join(trained, 'checkpoint.safetensors')));
    assert.is(ck.spec.method, method);
    const same = await assertSameOutputs(ck, trained, join(dir, 'data', 'test.safetensors'), `${method} after PyTorch training`);
    notes.push(same.note);
    ck.model.dispose();

    // --eval takes the directory itself and reaches PyTorch's accuracy on the same test images.
    const ev = ok(await trainJs(['--eval', trained, '--json', '--quiet', ...DATA]), `--eval DIR (${method})`);
    const webfam = JSON.parse(ev.stdout.trim().split('\n').at(-1)!);
    assert.is(webfam.test.avg_acc, same.figures.avg_acc, '--eval DIR and PyTorch agree on the test accuracy');
    assert.is(webfam.test.worst_group_acc, same.figures.worst_group_acc);
  }
  console.log(`  ${notes.join('; ')}`);
});

test('bridge mistakes are one-line usage errors', async () => {
  const both = await trainJs(['--export', 'a.safetensors', '--import', 'b']);
  assert.is(both.code, 2);
  assert.match(both.stderr, /--export and --import exclude each other/);
  const notDir = await trainJs(['--import', join(out, 'nowhere')]);
  assert.is(notDir.code, 2);
  assert.match(notDir.stderr, /--import takes an export directory/);
  // An export whose weights do not fit its config: refused before a model is built, or with
  // every problem named when the sizes agree but the names do not.
  const { dir } = await exported('baseline');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const weights = decodeSafetensors(readFileSync(join(dir, 'model.safetensors')));
  const broken = (name: string, cfg: unknown, tensors: Record<string, HostTensor>) => {
    const d = join(out, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    writeFileSync(join(d, 'model.safetensors'), encodeSafetensors(tensors));
    return trainJs(['--import', d]);
  };
  const deeper = await broken('deeper', { ...config, timm: { ...config.timm, kwargs: { ...config.timm.kwargs, depth: 4 } } }, weights.tensors);
  assert.is(deeper.code, 2, deeper.stderr);
  assert.match(deeper.stderr, /config\.json describes a model of \d+ weights but the weight files hold \d+/);
  const { 'norm.weight': norm, ...rest } = weights.tensors;
  const renamed = await broken('renamed', config, { ...rest, 'fc_norm.weight': norm! });
  assert.is(renamed.code, 2, renamed.stderr);
  assert.match(renamed.stderr, /do not fit the model config\.json describes.*missing key norm\.weight.*unexpected key fc_norm\.weight/s);
  // A training run's checkpoint is never overwritten by --import.
  const { checkpoint } = await exported('baseline');
  const over = await trainJs(['--import', dir, '--to', checkpoint]);
  assert.is(over.code, 2);
  assert.match(over.stderr, /was not written by --import/);
});

test.run();
