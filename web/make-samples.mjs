// Writes the demo's share of the Fashion-MNIST benchmark to web/data/: the objects of the first
// samples of each split (train 512, val 64, test 64; the default classes, data seed 0), in sample
// order, as gzip-compressed IDX files. The page composes them into exactly the images `node
// train.js` trains and tests on (test/browser.test.ts checks it), without Fashion-MNIST's 30 MB.
// Usage (after `npm run build`): node web/make-samples.mjs [FASHION_MNIST_DIR]
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { data } from '../dist/node/index.js';

export const DEMO_SAMPLE_COUNTS = { train: 512, val: 64, test: 64 };

const source = await data.loadFashionMnist(process.argv[2] ?? data.FASHION_MNIST_DIR);
mkdirSync('web/data', { recursive: true });
for (const [split, count] of Object.entries(DEMO_SAMPLE_COUNTS)) {
  const ds = data.fashionBenchmark({ split, source, size: data.FASHION_DEFAULT_SIZES[split] });
  const files = data.encodeObjects(data.sampleObjects(ds, count));
  for (const [kind, bytes] of Object.entries(files)) {
    const path = `web/data/fashion-${split}-${kind}.idx.gz`;
    // mtime 0 in the gzip header: the same objects give the same bytes, so git sees no change.
    writeFileSync(`${path}.tmp`, gzipSync(bytes, { level: 9 }));
    renameSync(`${path}.tmp`, path);
    console.log(`wrote ${path}`);
  }
}
