// The training methods as the browser API offers them (vit.buildModel, batchLoss, evalForward,
// evaluate, predict) and seedAll: what train.js, the demo page and the benches share.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { data, dropout, noGrad, seedAll, tensor, tidy, vit, type Tensor } from '../src/index.js';
import { setup, rng, randArray } from './harness.js';

test.before(setup);

const cfg = vit.vitConfig('webfam_test', { imageSize: 32 });
const IFAM_SPEC: vit.ModelSpec = { method: 'ifam', preset: 'webfam_test', vit: cfg, numClasses: 2, ifam: { parts: 3, tau: 1, partDropout: 0.3, jointGrad: true } };
const BASELINE_SPEC: vit.ModelSpec = { method: 'baseline', preset: 'webfam_test', vit: cfg, numClasses: 2 };
const WEIGHTS: vit.LossWeights = {
  labelSmoothing: 0.1, stage1: 1, stage2: 1,
  parts: { ...vit.DEFAULT_PART_LOSS_WEIGHTS, equivariance: 0 },
  relevance: vit.DEFAULT_RELEVANCE_WEIGHTS,
};
const image = (n: number, seed = 3) => tensor(Float32Array.from(randArray(rng(seed), n * 3 * 32 * 32, 0, 1)), { shape: [n, 3, 32, 32] });

async function values(t: Tensor): Promise<number[]> {
  const v = [...(await t.data())];
  t.dispose();
  return v;
}

test('seedAll gives the same initial weights and the same random-op draws', async () => {
  const draw = async () => {
    seedAll(11);
    const m = vit.buildModel(BASELINE_SPEC);
    const w = await m.stateDict()['blocks.0.attn.qkv.weight']!.data();
    const mask = await values(tidy(() => dropout(tensor(new Float32Array(64).fill(1)), 0.5)));
    m.dispose();
    return { w: [...w], mask };
  };
  const a = await draw(), b = await draw();
  assert.equal(a.w, b.w);
  assert.equal(a.mask, b.mask);
  seedAll(12);
  const other = vit.buildModel(BASELINE_SPEC);
  assert.not.equal([...(await other.stateDict()['blocks.0.attn.qkv.weight']!.data())], a.w, 'another seed draws other weights');
  other.dispose();
});

test('buildModel builds the model of the spec\'s method; batchLoss names its terms and sums them with their weights', async () => {
  seedAll(1);
  const ifam = vit.buildModel(IFAM_SPEC);
  assert.instance(ifam, vit.IFAM);
  const baseline = vit.buildModel(BASELINE_SPEC);
  assert.instance(baseline, vit.VisionTransformer);
  const x = image(4), labels = Int32Array.from([0, 1, 1, 0]);
  const terms = tidy(() => {
    const t = vit.batchLoss('ifam', ifam, { x, labels, masks: null }, WEIGHTS, 0, 0);
    return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.detach()]));
  });
  const read: Record<string, number> = {};
  for (const [k, t] of Object.entries(terms)) read[k] = (await values(t))[0]!;
  assert.equal(Object.keys(read).sort(), ['background', 'ce1', 'ce2', 'entropy', 'orthogonality', 'presence', 'total', 'tv']);
  const p = WEIGHTS.parts;
  const sum = read.ce2! + read.ce1! + p.presence * read.presence! + p.orthogonality * read.orthogonality! + p.totalVariation * read.tv! + p.backgroundPresence * read.background! + p.entropy * read.entropy!;
  assert.ok(Math.abs(read.total! - sum) < 1e-4 * Math.max(1, Math.abs(sum)), `total ${read.total} vs the weighted sum ${sum}`);
  const ce = await values(tidy(() => vit.batchLoss('baseline', baseline, { x, labels, masks: null }, WEIGHTS, 0, 0).total.detach()));
  assert.ok(Number.isFinite(ce[0]!) && ce[0]! > 0);
  assert.throws(() => tidy(() => vit.batchLoss('relevance', baseline, { x, labels, masks: null }, WEIGHTS, 0, 0)), /robustvit needs foreground masks/);
  x.dispose();
  ifam.dispose();
  baseline.dispose();
});

test('the default iFAM keeps labels away from its mask: with the stage-1 loss off and the mask gradient cut, stage 1 learns the same from any labels; either signal on makes it depend on them', async () => {
  // Gradients of the whole training loss on everything that draws the mask (stage 1's ViT and the
  // part prototypes), for one batch under two opposite labellings; weights and Gumbel noise are
  // seeded alike, so the labels are the only difference.
  const maskGrads = async (stage1: number, jointGrad: boolean, labels: number[]) => {
    seedAll(5);
    const model = vit.buildModel({ ...IFAM_SPEC, ifam: { ...IFAM_SPEC.ifam!, jointGrad } });
    model.train();
    const x = image(4, 9);
    seedAll(6);
    const terms = vit.batchLoss('ifam', model, { x, labels: Int32Array.from(labels), masks: null }, { ...WEIGHTS, stage1 }, 0, 0);
    terms.total!.backward();
    for (const t of Object.values(terms)) t.dispose();
    const grads: number[] = [];
    for (const [name, p] of model.namedParameters()) {
      if ((name.startsWith('stage1.') || name.startsWith('part_head.prototypes')) && p.grad) grads.push(...(await p.grad.data()));
    }
    x.dispose();
    model.dispose();
    return grads;
  };
  for (const [stage1, jointGrad] of [[0, false], [1, false], [0, true]] as const) {
    const a = await maskGrads(stage1, jointGrad, [0, 1, 1, 0]);
    const b = await maskGrads(stage1, jointGrad, [1, 0, 0, 1]);
    const where = `stage-1 loss weight ${stage1}, joint gradient ${jointGrad}`;
    assert.ok(a.length > 0 && a.some((v) => v !== 0), `${where}: stage 1 learns nothing`);
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    if (stage1 === 0 && !jointGrad) assert.is(diff, 0, `${where}: the labels changed stage 1's gradients by up to ${diff}`);
    else assert.ok(diff > 1e-7, `${where}: the labels did not reach stage 1 (largest change ${diff})`);
  }
});

test('predict returns the evaluation forward\'s probabilities with iFAM\'s mask and parts, or a relevance map; disabled parts change the mask', async () => {
  seedAll(2);
  const model = vit.buildModel(IFAM_SPEC);
  model.eval();
  const ck = { spec: IFAM_SPEC, model, normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as const };
  const chw = Float32Array.from(randArray(rng(7), 3 * 32 * 32, 0, 1));
  const p = await vit.predict(ck, chw);
  assert.is(p.grid, 4);
  assert.is(p.mask!.length, 16);
  assert.is(p.parts!.length, 4 * 16);
  assert.ok(Math.abs(p.probs[0]! + p.probs[1]! - 1) < 1e-5);
  // The same numbers as evalForward on the normalised image.
  const x = tensor(vit.normalizeImage(chw, ck.normalize), { shape: [1, 3, 32, 32] });
  const logits = await values(tidy(() => vit.evalForward('ifam', model, x).logits.softmax(-1)));
  assert.equal([...p.probs], logits);
  const off = await vit.predict(ck, chw, { disabledParts: [0, 1, 2] });
  assert.ok(off.mask!.every((v) => v === 0), 'with every foreground part off, stage 2 sees no patch');
  x.dispose();
  model.dispose();

  const vitModel = vit.buildModel(BASELINE_SPEC);
  vitModel.eval();
  const r = await vit.predict({ spec: BASELINE_SPEC, model: vitModel, normalize: null }, chw);
  assert.is(r.relevance!.length, 32 * 32);
  assert.is(r.mask, undefined);
  try {
    await vit.predict({ spec: BASELINE_SPEC, model: vitModel, normalize: null }, new Float32Array(3));
    assert.unreachable('an image of the wrong size is refused');
  } catch (e) {
    assert.match((e as Error).message, /predict: the image has 3 values, the model wants 3×32×32/);
  }
  vitModel.dispose();
});

test('evaluate reports average, per-group and worst-group accuracy over a data set, in batches', async () => {
  seedAll(3);
  const model = vit.buildModel(BASELINE_SPEC);
  const ds = data.syntheticDataset({ split: 'val', size: 12, imageSize: 32, seed: 0 });
  const seen: [number, number][] = [];
  const r = await vit.evaluate('baseline', model, ds, { batchSize: 5, normalize: null, onBatch: (done, total) => seen.push([done, total]) });
  assert.equal(seen, [[1, 3], [2, 3], [3, 3]]);
  const n = Object.values(r.groups).reduce((a, g) => a + g.n, 0);
  assert.is(n, 12);
  assert.ok(r.worst_group_acc <= r.avg_acc && r.avg_acc <= 1);
  assert.is(model.training, false, 'evaluation leaves the model in eval mode');
  model.dispose();
});

test.run();
