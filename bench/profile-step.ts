// GPU time of one training step, per kernel (timestamp queries), for a method and model preset:
//   node dist/bench/profile-step.js [--method ifam|baseline|relevance] [--model webfam_tiny] [--batch 32] [--image 32] [--patch P] [--no-fuse]
// --no-fuse runs one kernel per pointwise op (init({ fuse: false })), to see what fusion changes.
import { init, tensor, tidy, sync, startProfile, stopProfile, adapterInfo } from '../src/index.js';
import { syntheticDataset } from '../src/data/synthetic.js';
import { AdamW } from '../src/nn/optim.js';
import { vitConfig, type PresetName } from '../src/vit/config.js';
import { batchLoss, buildModel, type Method } from '../src/vit/methods.js';
import { DEFAULT_PART_LOSS_WEIGHTS } from '../src/vit/part_losses.js';
import { DEFAULT_RELEVANCE_WEIGHTS } from '../src/vit/relevance.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const method = flag('method', 'ifam') as Method | 'relevance';
const preset = flag('model', 'webfam_tiny') as PresetName;
const B = Number(flag('batch', '32'));
const S = Number(flag('image', '32'));
const patch = flag('patch', '');

await init({ fuse: !argv.includes('--no-fuse') });
const ds = syntheticDataset({ split: 'train', size: B, imageSize: S, seed: 0 });
const batch = ds.batch(Array.from({ length: B }, (_, i) => i));
const spec = {
  method: (method === 'relevance' ? 'robustvit' : method) as Method, preset, vit: vitConfig(preset, { imageSize: S, ...(patch ? { patchSize: Number(patch) } : {}) }), numClasses: 2,
  // The paper's iFAM setting (joint mask gradient, stage-1 loss on), not train.js's defaults: it
  // runs every kernel of the step, ∂/∂keyMask included, and keeps profiles comparable over time.
  ifam: { parts: 4, tau: 1, partDropout: 0.3, jointGrad: true },
};
const model = buildModel(spec);
model.train();
const opt = new AdamW(model.parameters(), { lr: 1e-3 });
const weights = { labelSmoothing: 0.1, stage1: 1, stage2: 1, parts: DEFAULT_PART_LOSS_WEIGHTS, relevance: DEFAULT_RELEVANCE_WEIGHTS };
const step = (k: number) => tidy(() => {
  const x = tensor(batch.images, { shape: [B, 3, S, S] });
  const masks = tensor(batch.masks!, { shape: [B, S, S] });
  const t = batchLoss(method, model, { x, labels: batch.labels, masks }, weights, 0, k);
  t.total.backward();
  opt.step();
  opt.zeroGrad();
  return t.total.detach();
});
(await step(0)).dispose();
await sync();
let t0 = performance.now();
(step(1)).dispose();
await sync();
const wall = performance.now() - t0;
startProfile();
step(2).dispose();
const prof = await stopProfile();
const total = prof.reduce((a, p) => a + p.ms, 0);
console.log(`${method} step${argv.includes('--no-fuse') ? ' (fusion off)' : ''}, ${preset}${patch ? ` patch ${patch}` : ''}, batch ${B}, ${S}px on ${adapterInfo().description}: wall ${wall.toFixed(0)} ms, GPU ${total.toFixed(0)} ms in ${prof.reduce((a, p) => a + p.dispatches, 0)} dispatches`);
for (const p of prof.slice(0, 25)) console.log(`${p.ms.toFixed(1).padStart(9)} ms ${(100 * p.ms / total).toFixed(1).padStart(5)}%  ${String(p.dispatches).padStart(5)}×  ${p.kernel}`);
process.exit(0);
