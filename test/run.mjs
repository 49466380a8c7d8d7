// Runs the built uvu suites (dist/test/*.test.js) in one process, so the WebGPU device is
// created once, and ends with the line "N passed, N failed". The op-family suites run twice:
// with elementwise fusion (the default) and again with `init({ fuse: false })`, so both the fused
// kernels and the one-kernel-per-op path stay checked against the references.
// Usage: node test/run.mjs [name-filter ...]
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve('dist/test');
if (!existsSync(dir)) {
  console.error('no built tests: run `node scripts/build.mjs --tests` first (npm test does)');
  process.exit(1);
}
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

/** Suites of op families, run a second time with fusion off (test/harness.ts reads the flag). */
const OP_FAMILIES = ['pointwise', 'movement', 'reduce', 'softmax', 'layernorm', 'loss', 'matmul', 'gather', 'attention', 'optim', 'autograd', 'random', 'creation'];
const unfused = files.filter((f) => OP_FAMILIES.includes(f.replace(/\.test\.js$/, '')));

globalThis.UVU_DEFER = 1;
const uvu = await import('uvu');
let passed = 0, failed = 0, skipped = 0;
let idx = 0;
const fuseOff = new Set();
for (const [f, fuse] of [...files.map((f) => [f, true]), ...unfused.map((f) => [f, false])]) {
  globalThis.UVU_INDEX = idx++;
  const group = [f.replace(/\.test\.js$/, '') + (fuse ? '' : ' (fusion off)')];
  globalThis.UVU_QUEUE.push(group);
  if (!fuse) fuseOff.add(group);
  // A second import under another URL evaluates the suite again, registering its tests anew.
  await import(pathToFileURL(join(dir, f)).href + (fuse ? '' : '?fuse=off'));
}
// Count per test: wrap every queued suite runner (and set fusion for its suite).
for (const group of globalThis.UVU_QUEUE) {
  for (let i = 1; i < group.length; i++) {
    const run = group[i];
    group[i] = async () => {
      globalThis.WEBFAM_TEST_FUSE = !fuseOff.has(group);
      const res = await run();
      const [errs, ran, skip, max] = res;
      passed += ran;
      skipped += skip;
      failed += max - ran; // uvu's total counts only the tests that ran (skips are separate)
      if (errs.length && max - ran === 0) failed += 1;
      return res;
    };
  }
}
await uvu.exec(false);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
// dawn.node keeps the event loop alive; exit explicitly once results are printed.
setTimeout(() => process.exit(process.exitCode), 100);
