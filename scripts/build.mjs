// Builds dist/: the Node library, the browser ESM bundle (no Node-only code), type declarations,
// and, on request, the test (--tests), benchmark (--bench) and example (--examples) programs.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };

// `webgpu` is only ever imported dynamically and only in Node (see src/tensor/device.ts).
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/node/index.js', platform: 'node', external: ['webgpu'] });
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/browser/webfam.js', platform: 'browser', external: ['webgpu', 'node:*'], minify: true });
// The training CLI (train.js at the top level loads it).
await build({ ...common, entryPoints: ['src/train/run.ts'], outfile: 'dist/node/train.js', platform: 'node', external: ['webgpu', 'sharp'] });

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
const nodeProgram = { ...common, platform: 'node', external: ['webgpu', 'benny', 'playwright-core', '@tensorflow/*', '@jax-js/*', 'sharp'], outbase: '.', outdir: 'dist', outExtension: { '.js': '.js' } };
if (args.has('--tests')) {
  rmSync('dist/test', { recursive: true, force: true });
  // splitting: the suites share one copy of the library, hence one device.
  await build({ ...nodeProgram, splitting: true, entryPoints: entries('test', (f) => f.endsWith('.test.ts')) });
}
if (args.has('--bench')) {
  await build({ ...nodeProgram, entryPoints: entries('bench', (f) => f.endsWith('.ts')) });
}
if (args.has('--examples')) {
  await build({ ...nodeProgram, entryPoints: entries('examples', (f) => f.endsWith('.ts')) });
}
