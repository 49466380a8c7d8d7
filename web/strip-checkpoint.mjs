// Makes a train.js checkpoint fit to ship with the page: keeps the model weights and the metadata
// the page reads (spec, normalisation, class names), drops the optimiser state (two thirds of it)
// and the run's progress.
// Usage: node web/strip-checkpoint.mjs <runs/NAME/checkpoint.safetensors> <web/checkpoints/OUT.safetensors>
import { readFileSync, writeFileSync } from 'node:fs';

const [src, dst] = process.argv.slice(2);
if (!src || !dst) {
  console.error('usage: node web/strip-checkpoint.mjs <train.js checkpoint> <output.safetensors>');
  process.exit(2);
}
// Host-side only (no GPU): the Node build of the library, whose vit.stripCheckpoint checks the file
// as readCheckpoint does and keeps the format's own metadata and the model's entries.
const { vit } = await import(new URL('../dist/node/index.js', import.meta.url).href);
const input = readFileSync(src);
let bytes;
try {
  bytes = vit.stripCheckpoint(input, { where: src });
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
writeFileSync(dst, bytes);
console.log(`${dst}: ${(bytes.length / 2 ** 20).toFixed(2)} MB (from ${(input.length / 2 ** 20).toFixed(2)} MB)`);
process.exit(0);
