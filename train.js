#!/usr/bin/env node
// node train.js [flags] — trains iFAM, a baseline ViT or relevance-map fine-tuning on data with
// spurious backgrounds. `node train.js --help` lists every flag. The code is in src/train/.
import { existsSync } from 'node:fs';

const entry = new URL('./dist/node/train.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('train.js: dist/node/train.js is missing; run `npm install` (it builds webfam) first');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// dawn.node keeps the event loop alive; exit once the run is done.
process.exit(code);
