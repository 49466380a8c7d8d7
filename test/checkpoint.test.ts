// vit.readCheckpoint / fetchCheckpoint: a train.js-style checkpoint (spec, normalisation and class
// names in the metadata, optimiser state alongside) rebuilds the same model from bytes, a Blob or a
// fetch Response, reports progress, and files that are not webfam checkpoints fail clearly;
// writeCheckpoint and stripCheckpoint write the same format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors, noGrad, optim, saveSafetensors, tensor, tidy, vit, type Tensor } from '../src/index.js';
import { setup, rng, randArray } from './harness.js';

test.before(setup);

const cfg = vit.vitConfig({ imageSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2 });

async function checkpointBytes(spec: vit.ModelSpec, model: { stateDict(): Record<string, Tensor> }, extra: Record<string, Tensor> = {}): Promise<Uint8Array> {
  return saveSafetensors({ ...model.stateDict(), ...extra }, {
    'webfam.spec': JSON.stringify(spec),
    'webfam.normalize': JSON.stringify({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
    'webfam.classes': JSON.stringify(['square', 'triangle']),
  });
}

const image = () => tensor(Float32Array.from(randArray(rng(5), 2 * 3 * 16 * 16, 0, 1)), { shape: [2, 3, 16, 16] });

test('an iFAM checkpoint read from bytes gives the same model outputs, spec, normalisation and classes', async () => {
  const ifam = { parts: 3, tau: 1, partDropout: 0.3, jointGrad: true };
  const spec: vit.ModelSpec = { method: 'ifam', preset: 'custom', vit: cfg, numClasses: 2, ifam };
  const model = new vit.IFAM(cfg, { ...ifam, numClasses: 2 }).eval();
  // Optimiser state in the file is ignored, as train.js checkpoints carry it.
  const bytes = await checkpointBytes(spec, model, { 'optimizer.state.0.exp_avg': tensor([1, 2, 3]) });
  const ck = vit.readCheckpoint(bytes);
  assert.instance(ck.model, vit.IFAM);
  assert.equal(ck.spec, spec);
  assert.equal(ck.classNames, ['square', 'triangle']);
  assert.equal(ck.normalize, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
  assert.is(ck.model.training, false, 'a read checkpoint is in eval mode');
  const x = image();
  const a = noGrad(() => model.forward(x)), b = noGrad(() => (ck.model as vit.IFAM).forward(x));
  assert.equal([...(await b.logits.data())], [...(await a.logits.data())]);
  assert.equal([...(await b.mask.data())], [...(await a.mask.data())]);
});

test('fetchCheckpoint reads a Blob (a picked file) and a Response, reporting progress up to the size', async () => {
  const spec: vit.ModelSpec = { method: 'baseline', preset: 'custom', vit: cfg, numClasses: 2 };
  const model = new vit.VisionTransformer({ ...cfg, numClasses: 2 }).eval();
  const bytes = await checkpointBytes(spec, model);
  const seen: [number, number | undefined][] = [];
  const ck = await vit.fetchCheckpoint(new Blob([new Uint8Array(bytes)]), { onProgress: (loaded, total) => seen.push([loaded, total]) });
  assert.instance(ck.model, vit.VisionTransformer);
  assert.ok(seen.length > 0, 'no progress reported');
  assert.equal(seen.at(-1), [bytes.length, bytes.length], 'progress ends at the whole file, with its size as the total');
  const x = image();
  const want = await noGrad(() => model.forward(x).logits!).data();
  assert.equal([...(await noGrad(() => (ck.model as vit.VisionTransformer).forward(x).logits!).data())], [...want]);
  const fromResponse = await vit.fetchCheckpoint(new Response(new Uint8Array(bytes)));
  assert.equal([...(await noGrad(() => (fromResponse.model as vit.VisionTransformer).forward(x).logits!).data())], [...want]);
});

test('writeCheckpoint keeps the optimiser state for resuming; stripCheckpoint keeps only what a page reads', async () => {
  const spec: vit.ModelSpec = { method: 'baseline', preset: 'custom', vit: cfg, numClasses: 2 };
  const model = new vit.VisionTransformer({ ...cfg, numClasses: 2 });
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
  tidy(() => {
    model.forward(image()).logits!.sum().backward();
    opt.step();
  });
  const bytes = await vit.writeCheckpoint(model, { spec, normalize: null, classNames: ['a', 'b'], optimizer: opt, metadata: { 'webfam.progress': '{}' } });
  const written = decodeSafetensors(bytes);
  assert.ok(Object.keys(written.tensors).some((k) => k.startsWith(vit.OPTIMIZER_PREFIX)), 'optimiser state written');
  assert.is(written.metadata['webfam.progress'], '{}');
  const header = vit.checkCheckpoint(written);
  assert.equal(header.spec, spec);
  assert.equal(header.classNames, ['a', 'b']);
  const stripped = decodeSafetensors(vit.stripCheckpoint(bytes));
  assert.equal(Object.keys(stripped.tensors).sort(), Object.keys(model.stateDict()).sort());
  assert.equal(Object.keys(stripped.metadata).sort(), ['webfam.classes', 'webfam.normalize', 'webfam.spec']);
  const ck = vit.readCheckpoint(bytes);
  const x = image();
  model.eval();
  assert.equal([...(await noGrad(() => (ck.model as vit.VisionTransformer).forward(x).logits!).data())], [...(await noGrad(() => model.forward(x).logits!).data())]);
  opt.dispose();
});

test('files that are not webfam checkpoints fail with a clear message', async () => {
  const model = new vit.VisionTransformer({ ...cfg, numClasses: 2 });
  const plain = await saveSafetensors(model.stateDict());
  assert.throws(() => vit.readCheckpoint(plain), /not a webfam checkpoint \(no "webfam.spec" metadata\)/);
  const bad = await saveSafetensors(model.stateDict(), { 'webfam.spec': '{"method":"nope"}' });
  assert.throws(() => vit.readCheckpoint(bad), /checkpoint: "webfam\.spec"\.method must be one of baseline, ifam, robustvit, got "nope"/);
  const broken = await saveSafetensors(model.stateDict(), { 'webfam.spec': '{not json' });
  assert.throws(() => vit.readCheckpoint(broken), /"webfam.spec" is not valid JSON/);
  const spec: vit.ModelSpec = { method: 'baseline', preset: 'custom', vit: { ...cfg, depth: 3 }, numClasses: 2 };
  const mismatched = await checkpointBytes(spec, model);
  // Checked against the file's header before any weight is uploaded.
  assert.throws(() => vit.readCheckpoint(mismatched), /describes a baseline model with [\d,]+ weights \(width 32, depth 3, 2 classes\), but the file holds [\d,]+/);
  const badNormalize = await saveSafetensors(model.stateDict(), { ...vit.checkpointMetadata({ ...spec, vit: cfg }, null, ['a', 'b']), 'webfam.normalize': '{"mean":[0.5],"std":[1]}' });
  assert.throws(() => vit.readCheckpoint(badNormalize, { where: 'demo.safetensors' }), /demo\.safetensors: metadata "webfam\.normalize" is malformed/);
});

test.run();
