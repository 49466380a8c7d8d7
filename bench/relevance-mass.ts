// How much of a ViT's attention-rollout relevance falls on patches that do not touch the object, on
// the Fashion-MNIST benchmark's test split, under four rules for the per-block term:
//   relu  mean_h relu(∂y/∂A ⊙ A)   (Chefer et al.; what robustvit's losses act on)
//   abs   mean_h |∂y/∂A ⊙ A|       (positive and negative evidence)
//   neg   mean_h relu(−∂y/∂A ⊙ A)  (negative evidence only)
//   attn  mean_h A                 (plain attention rollout, no gradients)
// with y the predicted class's logit and R ← R + Ā·R from the identity; the share is the CLS row's
// mass on off-object patch columns. Read it beside background-swap.ts, which measures what the
// decision uses: a map that looks right says little if the decision reads what the map leaves out.
//   node dist/bench/relevance-mass.js CHECKPOINT... [--images 200] [--json]
import { init } from '../src/tensor/device.js';
import { tensor, tidy, type Tensor } from '../src/tensor/tensor.js';
import { grad, noGrad } from '../src/autograd/tape.js';
import { eye } from '../src/tensor/creation.js';
import { checkpointArg } from './lib/checkpoint.js';
import { objectPatches } from './lib/patches.js';
import { normalizeImage } from '../src/vit/predict.js';
import type { VisionTransformer } from '../src/vit/vit.js';
import { fashionBenchmark, loadFashionMnist, type FashionClass } from '../src/data/fashion.js';

const RULES = ['relu', 'abs', 'neg', 'attn'] as const;
type Rule = (typeof RULES)[number];

const argv = process.argv.slice(2);
const count = Number(argv.includes('--images') ? argv[argv.indexOf('--images') + 1] : 200);
const paths = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--images');
if (paths.length === 0 || !(Number.isInteger(count) && count > 0)) {
  process.stderr.write('usage: node dist/bench/relevance-mass.js CHECKPOINT... [--images N] [--json]  (baseline or robustvit checkpoints)\n');
  process.exit(2);
}
await init();
const source = await loadFashionMnist();
for (const path of paths) {
  const ck = checkpointArg(path, 'relevance-mass');
  if (ck.spec.method === 'ifam') {
    process.stderr.write(`relevance-mass: ${path} is an iFAM checkpoint; its mask, not a rollout, says what stage 2 sees\n`);
    process.exit(2);
  }
  const model = ck.model as unknown as VisionTransformer;
  model.eval();
  const { imageSize: S, patchSize: P, regTokens } = ck.spec.vit;
  const g = S / P, prefix = 1 + regTokens;
  const ds = fashionBenchmark({ split: 'test', source, size: count, imageSize: S, classes: ck.classNames as FashionClass[] });
  const share: Record<Rule, number> = { relu: 0, abs: 0, neg: 0, attn: 0 };
  let offObjectPatches = 0;
  const B = 50;
  for (let start = 0; start < ds.length; start += B) {
    const n = Math.min(B, ds.length - start);
    const x = new Float32Array(n * 3 * S * S);
    const onObject = new Uint8Array(n * g * g);
    for (let k = 0; k < n; k++) {
      const s = ds.get(start + k);
      x.set(normalizeImage(s.image, ck.normalize), k * 3 * S * S);
      onObject.set(objectPatches(s.mask!, S, P), k * g * g);
    }
    const clsRows = tidy(() => {
      const out = model.forward(tensor(x, { shape: [n, 3, S, S] }), { returnAttention: true });
      const attn = out.attention!;
      const grads = grad(out.logits!.max(-1).sum(), attn);
      const T = attn[0]!.shape[2]!;
      return RULES.map((rule) => noGrad(() => {
        let R: Tensor = eye(T).reshape(1, T, T).expand(n, T, T);
        for (let l = 0; l < attn.length; l++) {
          const ga = grads[l]!.mul(attn[l]!);
          const term = rule === 'relu' ? ga.relu() : rule === 'abs' ? ga.abs() : rule === 'neg' ? ga.neg().relu() : attn[l]!;
          R = R.add(term.mean(1).matmul(R));
        }
        return R.slice(1, 0, 1).slice(2, prefix).reshape(n, g * g);
      }));
    });
    const rows = await Promise.all(clsRows.map((t) => t.data()));
    for (const t of clsRows) t.dispose();
    RULES.forEach((rule, ri) => {
      for (let b = 0; b < n; b++) {
        let total = 0, off = 0;
        for (let p = 0; p < g * g; p++) {
          const v = rows[ri]![b * g * g + p]!;
          total += v;
          if (!onObject[b * g * g + p]) off += v;
        }
        share[rule] += total > 0 ? off / total : 0;
      }
    });
    for (let b = 0; b < n; b++) for (let p = 0; p < g * g; p++) offObjectPatches += onObject[b * g * g + p] ? 0 : 1;
  }
  const pct = (v: number) => (100 * v) / ds.length;
  const result = {
    checkpoint: path, method: ck.spec.method, images: ds.length,
    off_object_share: Object.fromEntries(RULES.map((r) => [r, pct(share[r])])) as Record<Rule, number>,
    off_object_patches: (100 * offObjectPatches) / (ds.length * g * g),
  };
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(`${path} (${ck.spec.method}), ${ds.length} test images: share of the CLS row's relevance on patches off the object\n`);
    process.stdout.write(`  ${RULES.map((r) => `${r} ${result.off_object_share[r].toFixed(1)}%`).join(', ')}  (off-object patches: ${result.off_object_patches.toFixed(1)}% of all)\n`);
  }
}
process.exit(0);
