// Does a trained model read the background? A counterfactual on the Fashion-MNIST benchmark's test
// split: the same object at the same place in the image, composed over a background of the other
// place. A model that uses only the object keeps its prediction; one that reads the background
// flips it. For iFAM it also answers where the background gets in: with the mask computed from the
// original image held fixed, any flip comes from what the kept patches themselves show.
// Two partial swaps split the background by the model's patch grid: only the background pixels
// that share a patch with the object ("inside object patches"), or only the rest. A model that
// attends to the object's patches alone can still read the first: at 4-px patches about a third
// of the pixels in patches touching the object are background.
//   node dist/bench/background-swap.js runs/<name>/checkpoint.safetensors [--images 400] [--json]
import { init } from '../src/tensor/device.js';
import { tensor, tidy } from '../src/tensor/tensor.js';
import { noGrad } from '../src/autograd/tape.js';
import { checkpointArg } from './lib/checkpoint.js';
import { objectPatches } from './lib/patches.js';
import { evalForward } from '../src/vit/methods.js';
import { normalizeImage } from '../src/vit/predict.js';
import { fashionBenchmark, loadFashionMnist, renderFashion, type FashionClass } from '../src/data/fashion.js';
import { randomBackground } from '../src/data/backgrounds.js';
import { streamFor } from '../src/data/random.js';

const argv = process.argv.slice(2);
const path = argv[0];
if (!path || path.startsWith('--')) {
  process.stderr.write('usage: node dist/bench/background-swap.js CHECKPOINT [--images N] [--json]\n');
  process.exit(2);
}
const count = Number(argv.includes('--images') ? argv[argv.indexOf('--images') + 1] : 400);
await init();
const ck = checkpointArg(path, 'background-swap');
const S = ck.spec.vit.imageSize;
const classes = ck.classNames as FashionClass[];
const ds = fashionBenchmark({ split: 'test', source: await loadFashionMnist(), size: count, imageSize: S, classes });
const normalise = (img: Float32Array) => normalizeImage(img, ck.normalize);
ck.model.eval();
const isIfam = ck.spec.method === 'ifam';
// The swapped backgrounds come from their own stream, so every model sees the same counterfactuals.
const r = streamFor(0x5a9b);
const tally = { images: 0, right: 0, rightSwapped: 0, flips: 0, flipsFixedMask: 0, flipsInside: 0, flipsOutside: 0, objectPatchPixels: 0, backgroundInObjectPatches: 0 };
const P = ck.spec.vit.patchSize;
const B = 50;
for (let start = 0; start < ds.length; start += B) {
  const n = Math.min(B, ds.length - start);
  const orig = new Float32Array(n * 3 * S * S), swapped = new Float32Array(n * 3 * S * S);
  const inside = new Float32Array(n * 3 * S * S), outside = new Float32Array(n * 3 * S * S);
  const labels: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = start + k;
    const scene = ds.scene(i);
    const sample = ds.get(i);
    const other = { ...scene, background: randomBackground(r, 1 - scene.place) };
    const swappedImage = renderFashion(other, ds.object(i), S).image;
    const objectPatch = pixelsOfObjectPatches(sample.mask!, S, P);
    objectPatch.forEach((inPatch, p) => {
      tally.objectPatchPixels += inPatch;
      if (inPatch && sample.mask![p]! <= 0.5) tally.backgroundInObjectPatches++;
    });
    const [inImage, outImage] = [mix(sample.image, swappedImage, objectPatch, S), mix(swappedImage, sample.image, objectPatch, S)];
    orig.set(normalise(sample.image), k * 3 * S * S);
    swapped.set(normalise(swappedImage), k * 3 * S * S);
    inside.set(normalise(inImage), k * 3 * S * S);
    outside.set(normalise(outImage), k * 3 * S * S);
    labels.push(scene.label);
  }
  const preds = tidy(() => {
    const xo = tensor(orig, { shape: [n, 3, S, S] }), xs = tensor(swapped, { shape: [n, 3, S, S] });
    const fo = evalForward(ck.method, ck.model, xo), fs = evalForward(ck.method, ck.model, xs);
    const fi = evalForward(ck.method, ck.model, tensor(inside, { shape: [n, 3, S, S] }));
    const fx = evalForward(ck.method, ck.model, tensor(outside, { shape: [n, 3, S, S] }));
    const out = [fo.logits.argmax(-1), fs.logits.argmax(-1), fi.logits.argmax(-1), fx.logits.argmax(-1)];
    // iFAM: the swapped image seen through the original image's mask.
    if (ck.method === 'ifam') out.push(noGrad(() => ck.model.classifyMasked(xs, fo.mask!).argmax(-1)));
    return out;
  });
  const [po, ps, pi, px, pf] = await Promise.all(preds.map((t) => t.data()));
  for (const t of preds) t.dispose();
  labels.forEach((y, k) => {
    tally.images++;
    if (po![k] === y) tally.right++;
    if (ps![k] === y) tally.rightSwapped++;
    if (ps![k] !== po![k]) tally.flips++;
    if (pi![k] !== po![k]) tally.flipsInside++;
    if (px![k] !== po![k]) tally.flipsOutside++;
    if (pf && pf[k] !== po![k]) tally.flipsFixedMask++;
  });
}
const pct = (x: number) => (100 * x) / tally.images;
const result = {
  checkpoint: path, method: ck.spec.method, images: tally.images,
  accuracy: pct(tally.right), accuracy_swapped: pct(tally.rightSwapped), flipped: pct(tally.flips),
  flipped_inside_object_patches: pct(tally.flipsInside), flipped_outside_object_patches: pct(tally.flipsOutside), patch_size: P,
  background_share_of_object_patches: (100 * tally.backgroundInObjectPatches) / tally.objectPatchPixels,
  ...(isIfam ? { flipped_mask_fixed: pct(tally.flipsFixedMask) } : {}),
};
if (argv.includes('--json')) process.stdout.write(JSON.stringify(result) + '\n');
else {
  process.stdout.write(`${path} (${ck.spec.method}), ${tally.images} test images with the background swapped to the other place:\n`);
  process.stdout.write(`  accuracy ${result.accuracy.toFixed(1)}% → ${result.accuracy_swapped.toFixed(1)}%; predictions that flip: ${result.flipped.toFixed(1)}%\n`);
  process.stdout.write(`  swapping only the background inside the ${P}-px patches that touch the object: ${result.flipped_inside_object_patches.toFixed(1)}% flip; only outside them: ${result.flipped_outside_object_patches.toFixed(1)}%\n`);
  process.stdout.write(`  (${result.background_share_of_object_patches.toFixed(1)}% of the pixels in those patches are background)\n`);
  if (isIfam) process.stdout.write(`  with the original image's mask held fixed: ${result.flipped_mask_fixed!.toFixed(1)}% flip (what the kept patches show of the background)\n`);
}
process.exit(0);

/** 1 for every pixel of an S×S image whose P×P patch touches the object (`objectPatches`). */
function pixelsOfObjectPatches(mask: Float32Array, S: number, P: number): Uint8Array {
  const patches = objectPatches(mask, S, P), g = S / P;
  return Uint8Array.from({ length: S * S }, (_, p) => patches[Math.floor(p / S / P) * g + Math.floor((p % S) / P)]!);
}

/** `base` [3, S, S] with the pixels where `where` is 1 taken from `other`. */
function mix(base: Float32Array, other: Float32Array, where: Uint8Array, S: number): Float32Array {
  const out = Float32Array.from(base);
  for (let c = 0; c < 3; c++) for (let p = 0; p < S * S; p++) if (where[p]) out[c * S * S + p] = other[c * S * S + p]!;
  return out;
}
