// Builds dist/: the Node library, the browser ESM bundle (no Node-only code), type declarations,
// and, on request, the test (--tests), benchmark (--bench) and example (--examples) programs.
// dist/node, dist/browser/webfam.js and dist/types are what the npm package ships (package.json
// "files"); they carry no source maps, which would point at sources the package does not hold.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = new Set(process.argv.slice(2));
const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };
// `webgpu` (Dawn) and `sharp` are optional peer dependencies, only ever imported dynamically and
// only in Node (src/tensor/device.ts, src/data/image.ts).
const nodeOnly = ['webgpu', 'sharp'];

// The Node library and the training CLI (bin/webfam.js and train.js load dist/node/train.js) in
// one build: splitting puts the code they share in one chunk, so the package holds the library
// once and a process that imports both has one device.
const nodeLib = await build({
  ...common, sourcemap: false, metafile: true, splitting: true, platform: 'node', external: nodeOnly,
  entryPoints: { index: 'src/index.ts', train: 'src/train/run.ts' }, outdir: 'dist/node', chunkNames: 'chunk-[hash]',
});
// Chunks of earlier builds have other hashes: remove them (and old source maps) so they do not ship.
const written = new Set(Object.keys(nodeLib.metafile.outputs).map((f) => relative('dist/node', f)));
for (const f of readdirSync('dist/node')) if (!written.has(f)) rmSync(join('dist/node', f), { force: true });
await build({ ...common, sourcemap: false, entryPoints: ['src/index.ts'], outfile: 'dist/browser/webfam.js', platform: 'browser', external: [...nodeOnly, 'node:*'], minify: true });
rmSync('dist/browser/webfam.js.map', { force: true });

if (!args.has('--tests') && !args.has('--bench') && !args.has('--examples')) {
  // Declarations for package consumers; typecheck happens in `npm test`.
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  } catch { process.exitCode = 1; }
}

function entries(dir, filter) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter(filter).map((f) => join(dir, f));
}
const nodeProgram = { ...common, platform: 'node', external: ['webgpu', 'benny', 'playwright-core', '@tensorflow/*', '@jax-js/*', 'sharp', 'esbuild'], outbase: '.', outdir: 'dist', outExtension: { '.js': '.js' } };
if (args.has('--tests')) {
  rmSync('dist/test', { recursive: true, force: true });
  // splitting: the suites share one copy of the library, hence one device. Their chunks go to
  // dist/test/ too, so the rmSync above clears the previous build's (hashes change every build).
  await build({ ...nodeProgram, splitting: true, chunkNames: 'test/chunk-[hash]', entryPoints: entries('test', (f) => f.endsWith('.test.ts')) });
}
if (args.has('--bench')) {
  await build({ ...nodeProgram, entryPoints: entries('bench', (f) => f.endsWith('.ts')) });
}
if (args.has('--examples')) {
  await build({ ...nodeProgram, entryPoints: entries('examples', (f) => f.endsWith('.ts')) });
}
