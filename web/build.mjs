// Builds the demo page into dist/web/, a static site: webfam.js (the library's browser bundle, the
// same build as dist/browser/webfam.js), main.js (the page, importing ./webfam.js), the HTML and
// CSS, the demo checkpoints and the benchmark objects of web/data/. Node-only code reaching the library bundle fails the build.
// `node web/build.mjs` builds and prints the bundle sizes (minified, and gzipped).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, format: 'esm', target: 'es2022', platform: 'browser', sourcemap: true, minify: true, logLevel: 'warning', absWorkingDir: root };

// The page imports the library as '../src/index.js' (so tsc checks it against the sources); in the
// build that import becomes the separate bundle './webfam.js', exactly what an embedding page loads.
// Any other path into src/ would bundle a second copy of the engine, so it is an error.
const libraryAsExternal = {
  name: 'webfam-external',
  setup(b) {
    b.onResolve({ filter: /\/src\// }, (args) => {
      if (!args.importer.includes(`${root}/web/`)) return undefined;
      if (/\/src\/index\.js$/.test(args.path)) return { path: './webfam.js', external: true };
      return { errors: [{ text: `web/ may import the library only through ../src/index.js (got ${args.path})` }] };
    });
  },
};

/** Node-only code in the browser bundle: static imports of node:*, webgpu or sharp, or any package at all. */
export function browserBundleProblems(metafile, outfile) {
  const problems = [];
  for (const input of Object.keys(metafile.inputs)) {
    if (input.includes('node_modules/')) problems.push(`bundles the package file ${input}`);
  }
  for (const [file, out] of Object.entries(metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    for (const imp of out.imports) problems.push(`${file} imports ${imp.path} (${imp.kind})`);
  }
  const code = readFileSync(join(root, outfile), 'utf8');
  if (/\bimport\s*\(\s*["'`](node:|webgpu|sharp)/.test(code) || /\bfrom\s*["'](node:|webgpu|sharp)/.test(code)) problems.push(`${outfile} has a literal Node-only import`);
  if (/\brequire\s*\(/.test(code)) problems.push(`${outfile} calls require()`);
  return problems;
}

function sizes(path) {
  const bytes = readFileSync(path);
  return { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Builds dist/web/ (or `outdir`) and returns the sizes of the library and page bundles. */
export async function buildDemo({ outdir = 'dist/web' } = {}) {
  const out = resolve(root, outdir);
  mkdirSync(join(out, 'checkpoints'), { recursive: true });
  const libFile = join(outdir, 'webfam.js');
  const lib = await build({ ...common, entryPoints: ['src/index.ts'], outfile: libFile, external: ['webgpu', 'node:*', 'sharp'], metafile: true });
  const problems = browserBundleProblems(lib.metafile, libFile);
  if (problems.length) throw new Error(`the browser bundle holds Node-only code:\n  ${problems.join('\n  ')}`);
  await build({ ...common, entryPoints: ['web/main.ts'], outfile: join(outdir, 'main.js'), plugins: [libraryAsExternal] });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'web', f), join(out, f));
  const ckptDir = join(root, 'web', 'checkpoints');
  const checkpoints = existsSync(ckptDir) ? readdirSync(ckptDir).filter((f) => f.endsWith('.safetensors')) : [];
  for (const f of checkpoints) copyFileSync(join(ckptDir, f), join(out, 'checkpoints', f));
  // The benchmark objects the page composes its sample and training images from (web/data/README.md).
  mkdirSync(join(out, 'data'), { recursive: true });
  for (const f of readdirSync(join(root, 'web', 'data')).filter((n) => n.endsWith('.idx.gz'))) copyFileSync(join(root, 'web', 'data', f), join(out, 'data', f));
  return { outdir: out, library: sizes(join(out, 'webfam.js')), page: sizes(join(out, 'main.js')), checkpoints };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const r = await buildDemo();
  console.log(`built ${r.outdir}`);
  console.log(`  webfam.js (library: engine, nn, ViT, iFAM, relevance, data): ${kb(r.library.bytes)} minified, ${kb(r.library.gzip)} gzipped`);
  console.log(`  main.js (the demo page): ${kb(r.page.bytes)} minified, ${kb(r.page.gzip)} gzipped`);
  console.log(`  checkpoints: ${r.checkpoints.join(', ') || 'none'}`);
}
