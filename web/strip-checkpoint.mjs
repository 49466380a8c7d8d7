// Makes a train.js checkpoint fit to ship with the page: keeps the model weights and the metadata
// the page reads (spec, normalisation, class names), drops the optimiser state (two thirds of it).
// Usage: node web/strip-checkpoint.mjs <runs/NAME/checkpoint.safetensors> <web/checkpoints/OUT.safetensors>
import { readFileSync, writeFileSync } from 'node:fs';

const [src, dst] = process.argv.slice(2);
if (!src || !dst) {
  console.error('usage: node web/strip-checkpoint.mjs <train.js checkpoint> <output.safetensors>');
  process.exit(2);
}
// Host-side safetensors only (no GPU): the Node build of the library.
const { decodeSafetensors, encodeSafetensors } = await import(new URL('../dist/node/index.js', import.meta.url).href);
const { tensors, metadata } = decodeSafetensors(readFileSync(src));
if (!metadata['webfam.spec']) {
  console.error(`${src} is not a train.js checkpoint (no webfam.spec metadata)`);
  process.exit(1);
}
const kept = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('optimizer.')));
const meta = {};
for (const k of ['webfam.spec', 'webfam.normalize', 'webfam.classes']) if (metadata[k] !== undefined) meta[k] = metadata[k];
const bytes = encodeSafetensors(kept, meta);
writeFileSync(dst, bytes);
console.log(`${dst}: ${Object.keys(kept).length} tensors, ${(bytes.length / 2 ** 20).toFixed(2)} MB (from ${(readFileSync(src).length / 2 ** 20).toFixed(2)} MB)`);
process.exit(0);
