// The npm package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the
// tarball's contents, and a fresh consumer project that installs it without webgpu or sharp, as a
// web developer would. There, under `strict`: a Node file, a page file and the README's code
// blocks type-check against the shipped declarations; a bundler resolves the browser build; and
// the `webfam` command, the Node entry and its missing-package messages behave, then the Node
// entry computes on Dawn once `webgpu` is added.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as webfam from '../src/index.js';

const repo = resolve('.');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'webfam-package-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const packs = join(work, 'packs');
const app = join(work, 'app');
mkdirSync(packs);
mkdirSync(app);

// Generous sizes, to catch a source map, the demo's checkpoints or a second copy slipping in.
const MAX_PACKED = 1_000_000;
const MAX_UNPACKED = 3_000_000;

/** The environment without the npm_* variables of an enclosing `npm test`, which would steer npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_') || /^npm_config_(cache|registry|userconfig)$/.test(k)) env[k] = v;
  return env;
}

function npm(args: string[], cwd: string): string {
  try {
    return execFileSync('npm', args, { cwd, env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

function run(file: string, args: string[], opts: { cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(file, args, { cwd: opts.cwd ?? app, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
}

interface TarEntry { path: string; size: number }

/** The files of a .tgz (ustar headers: name, size in octal, prefix). */
function tarEntries(tgz: string): TarEntry[] {
  const tar = gunzipSync(readFileSync(tgz));
  const text = (a: number, b: number) => tar.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
  const entries: TarEntry[] = [];
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = parseInt(text(at + 124, at + 136).trim() || '0', 8);
    const prefix = text(at + 345, at + 500);
    const type = String.fromCharCode(tar[at + 156]!);
    if (type === '0' || type === '\0') entries.push({ path: (prefix ? prefix + '/' : '') + text(at, at + 100), size });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

let tarball = '';
let entries: TarEntry[] = [];

test('npm pack builds a tarball of the Node and browser builds, declarations, the command and the licence, nothing else', () => {
  npm(['pack', '--pack-destination', packs], repo);
  const name = readdirSync(packs).find((f) => /^webfam-.*\.tgz$/.test(f));
  assert.ok(name, `npm pack wrote no webfam-*.tgz into ${packs}`);
  tarball = join(packs, name!);
  entries = tarEntries(tarball);
  const paths = entries.map((e) => e.path.replace(/^package\//, ''));
  for (const needed of ['package.json', 'README.md', 'LICENSE', 'bin/webfam.js', 'dist/node/index.js', 'dist/node/train.js', 'dist/browser/webfam.js', 'dist/types/index.d.ts']) {
    assert.ok(paths.includes(needed), `the tarball lacks ${needed}`);
  }
  const unwanted = paths.filter((p) => p.endsWith('.map') || (p.endsWith('.ts') && !p.endsWith('.d.ts')) || /^(src|test|bench|web|examples|scripts|python)\//.test(p) || /^dist\/(test|bench|web|examples)\//.test(p));
  assert.equal(unwanted, [], 'source maps, sources, tests or the demo in the tarball');
  // The library once for Node (shared by the entry and the CLI) and once minified for browsers.
  // Above 150 KB: a copy of the library is over 200 KB, while the CLI's own code (dist/node/train.js,
  // about 100 KB with its figures) is not one.
  const large = entries.filter((e) => e.path.endsWith('.js') && e.size > 150_000).map((e) => e.path);
  assert.equal(large.length, 2, `the library should be in the tarball twice (Node, browser), found large files ${large.join(', ')}`);

  const packed = readFileSync(tarball).length;
  const unpacked = entries.reduce((s, e) => s + e.size, 0);
  console.log(`  ${name}: ${(packed / 1000).toFixed(1)} kB packed, ${(unpacked / 1000).toFixed(1)} kB unpacked, ${entries.length} files`);
  assert.ok(packed < MAX_PACKED, `tarball is ${packed} bytes packed`);
  assert.ok(unpacked < MAX_UNPACKED, `tarball is ${unpacked} bytes unpacked`);
});

test('package.json: types first in exports, @webgpu/types a dependency, Dawn and sharp optional peers, a bin', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.equal(Object.keys(pkg.exports['.'])[0], 'types', 'TypeScript reads the first matching condition');
  assert.ok(pkg.dependencies?.['@webgpu/types'], 'the declarations name WebGPU types: @webgpu/types must install with webfam');
  for (const native of ['webgpu', 'sharp']) {
    assert.not.ok(pkg.dependencies?.[native], `${native} must not install with webfam (browser users do not need it)`);
    assert.ok(pkg.peerDependencies?.[native] && pkg.peerDependenciesMeta?.[native]?.optional, `${native} is an optional peer dependency`);
    assert.ok(pkg.devDependencies?.[native], `${native} is a devDependency, so npm ci installs it for the tests`);
  }
  assert.equal(pkg.bin?.webfam, 'bin/webfam.js');
});

test('a fresh project installs the tarball offline and gets neither webgpu nor sharp', () => {
  assert.ok(tarball, 'no tarball (the pack test failed)');
  // The dependencies come from this checkout as tarballs too, so no registry is needed: the
  // consumer's @webgpu/types satisfies webfam's dependency on it; @types/node is for the Node file.
  const deps = ['@webgpu/types', '@types/node', 'undici-types'].map((d) => join(repo, 'node_modules', d));
  const before = new Set(readdirSync(packs));
  npm(['pack', ...deps, '--pack-destination', packs, '--ignore-scripts'], repo);
  const depTarballs = readdirSync(packs).filter((f) => !before.has(f)).map((f) => join(packs, f));
  assert.equal(depTarballs.length, deps.length, `packing ${deps.join(', ')}`);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'webfam-consumer', private: true, type: 'module' }, null, 2));
  npm(['install', tarball, ...depTarballs, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], app);
  assert.ok(existsSync(join(app, 'node_modules/webfam/dist/types/index.d.ts')));
  assert.ok(existsSync(join(app, 'node_modules/.bin/webfam')), 'npm linked the webfam command');
  assert.not.ok(existsSync(join(app, 'node_modules/webgpu')), 'webgpu was installed with webfam');
  assert.not.ok(existsSync(join(app, 'node_modules/sharp')), 'sharp was installed with webfam');
});

// ------------------------------------------------------------------ types under strict

const NODE_FILE = `import { init, tensor, randn, tidy, noGrad, vit, type Tensor } from 'webfam';
import { readFile } from 'node:fs/promises';

const adapter = await init();
console.log(adapter.description, adapter.backend);
const w = randn([3, 1], { requiresGrad: true });
const x: Tensor = tensor([[1, 2, 3], [4, 5, 6]]);
const loss = tidy(() => {
  const l = x.matmul(w).gelu().square().mean();
  l.backward();
  return l;
});
const grad: Float32Array = await w.grad!.data();
console.log(await loss.item(), grad);

const ck = vit.readCheckpoint(await readFile('runs/ifam/checkpoint.safetensors'));
const image = tensor(new Float32Array(3 * 32 * 32), { shape: [1, 3, 32, 32] });
if (ck.method === 'ifam') {
  const out = noGrad(() => ck.model.forward(image, { disabledParts: [0] }));
  const mask: Tensor = out.mask;
  const parts: number | undefined = ck.spec.ifam?.parts;
  console.log(mask.shape, out.stage1.maps.shape, parts);
} else {
  const out = ck.model.forward(image, { returnAttention: true });
  const logits: Tensor | undefined = out.logits;
  console.log(logits?.shape, out.attention?.length);
}
const anyKind: vit.Checkpoint = ck;
console.log(anyKind.classNames, anyKind.normalize?.mean);
`;

const PAGE_FILE = `import { init, tensor, vit } from 'webfam';

const picker = document.querySelector<HTMLInputElement>('input[type=file]')!;
const bar = document.querySelector('progress')!;
await init();
const ck = await vit.fetchCheckpoint(picker.files?.[0] ?? new URL('checkpoints/ifam-demo.safetensors', location.href), {
  onProgress: (loaded, total) => (bar.value = total ? loaded / total : 0),
});
const x = tensor(new Float32Array(3 * 32 * 32), { shape: [1, 3, 32, 32] });
if (ck.method === 'ifam') {
  const { logits, mask, stage1 } = ck.model.forward(x, { disabledParts: [2] });
  const kept: Float32Array = await mask.data();
  console.log(kept, await logits.data(), stage1.maps.shape);
  const known: vit.Checkpoint<'ifam'> = ck;
  console.log(known.model.partDiscovery(x).maps.shape);
}
`;

// Names the README's page snippets take from their page, with the types a page gives them.
const PAGE_GLOBALS = `declare const fileInput: HTMLInputElement;
declare const bar: HTMLProgressElement;
declare const pixels: Float32Array;
`;

/** The README's ```js / ```ts blocks, with the README line each starts on. */
function readmeBlocks(): { line: number; code: string }[] {
  const readme = readFileSync('README.md', 'utf8');
  const blocks: { line: number; code: string }[] = [];
  for (const m of readme.matchAll(/^```(?:js|javascript|ts|typescript)\n([\s\S]*?)^```/gm)) {
    blocks.push({ line: readme.slice(0, m.index).split('\n').length, code: m[1]! });
  }
  return blocks;
}

function tsconfig(name: string, options: Record<string, unknown>, include: string[]): string {
  const file = join(app, `tsconfig.${name}.json`);
  const compilerOptions = { target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, ...options };
  writeFileSync(file, JSON.stringify({ compilerOptions, include }, null, 2));
  return file;
}

function typecheck(config: string): string {
  const r = run(process.execPath, [tsc, '-p', config, '--pretty', 'false']);
  return r.status === 0 ? '' : `${r.stdout}${r.stderr}`.trim() || `tsc exited with ${r.status} (${r.error?.message ?? 'no output'})`;
}

test('under strict, a Node file, a page file and the README code blocks type-check against the installed package', () => {
  assert.ok(existsSync(join(app, 'node_modules/webfam')), 'the package is not installed (an earlier test failed)');
  mkdirSync(join(app, 'node-src'), { recursive: true });
  mkdirSync(join(app, 'page-src'), { recursive: true });
  mkdirSync(join(app, 'readme'), { recursive: true });
  writeFileSync(join(app, 'node-src/main.ts'), NODE_FILE);
  writeFileSync(join(app, 'page-src/page.ts'), PAGE_FILE);
  writeFileSync(join(app, 'readme/page-globals.d.ts'), PAGE_GLOBALS);
  const blocks = readmeBlocks();
  assert.ok(blocks.length > 0, 'no ```js block in README.md');
  for (const b of blocks) {
    // The browser snippet imports the bundle as ./webfam.js; its types are the package's.
    const code = b.code.replace(/from\s+(['"])[^'"]*webfam(?:\.m?js)?\1/g, "from 'webfam'");
    writeFileSync(join(app, `readme/readme-line-${b.line}.ts`), `${code}\nexport {};\n`);
  }

  // A Node project (@tsconfig/node20's module settings; DOM too, as the user's project had), and
  // a bundled web page without Node's types: the declarations must not need them.
  const node = tsconfig('node', { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'] }, ['node-src', 'readme']);
  const page = tsconfig('page', { module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] }, ['page-src', 'readme']);
  for (const config of [node, page]) {
    let errors = typecheck(config);
    // A free name in a snippet (its own data, say) is declared `any` and checked again, unless
    // it is one of webfam's exports the snippet forgot to import.
    const free = new Set([...errors.matchAll(/^readme\/\S+\(\d+,\d+\): error TS(?:2304|2552): Cannot find name '(\w+)'/gm)].map((m) => m[1]!));
    if (free.size > 0) {
      const forgotten = [...free].filter((n) => n in webfam);
      assert.equal(forgotten, [], `README code uses webfam exports without importing them:\n${errors}`);
      console.log(`  README code blocks use names from their page, declared any: ${[...free].join(', ')}`);
      writeFileSync(join(app, 'readme/free-names.d.ts'), [...free].map((n) => `declare const ${n}: any;\n`).join(''));
      errors = typecheck(config);
    }
    assert.equal(errors, '', `tsc -p ${config} (readme/readme-line-N.ts is README.md's code block from line N):\n${errors}`);
  }
});

test('a bundler resolves the browser build, which carries no Node code', async () => {
  const { build } = await import('esbuild');
  const result = await build({ entryPoints: [join(app, 'page-src/page.ts')], absWorkingDir: app, bundle: true, write: false, format: 'esm', platform: 'browser', metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('node_modules/webfam/dist/browser/webfam.js'), `bundled ${inputs.join(', ')}`);
  assert.not.ok(inputs.some((f) => f.includes('dist/node/')), 'the Node build reached a page bundle');
});

// ------------------------------------------------------------------ the command and the Node entry

test('`webfam --help` and `webfam train --help` work without webgpu; `webfam train` names what to install, in one line', () => {
  const bin = join(app, 'node_modules/.bin/webfam');
  const help = run(bin, ['--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /webfam train/);
  assert.match(help.stdout, /npx -p webfam -p webgpu -p sharp webfam train/);
  const trainHelp = run(bin, ['train', '--help']);
  assert.equal(trainHelp.status, 0, trainHelp.stderr);
  assert.match(trainHelp.stdout, /--method/);
  // It names the command the user typed, not the repository's `node train.js`.
  assert.match(trainHelp.stdout, /^webfam train \[flags\]/);
  assert.not.match(trainHelp.stdout, /node train\.js/);

  const train = run(bin, ['train', '--epochs', '1']);
  assert.equal(train.status, 1, `${train.stdout}${train.stderr}`);
  assert.equal(train.stderr.trim().split('\n').length, 1, train.stderr);
  assert.match(train.stderr, /`webgpu`.*npm install webgpu.*npx -p webfam -p webgpu webfam train/);
  const withData = run(bin, ['train', '--data', 'birds']);
  assert.match(withData.stderr, /npm install webgpu sharp/);
  const unknown = run(bin, ['trian']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "trian"/);
});

test('the Node entry imports without webgpu; init() and image decoding name the package to install', () => {
  const code = `import { init, data } from 'webfam';
for (const f of [() => init(), () => data.decodeImage(new Uint8Array(8))]) {
  try { await f(); console.log('no error'); } catch (e) { console.log(e.message); }
}`;
  const r = run(process.execPath, ['--input-type=module', '-e', code]);
  assert.equal(r.status, 0, r.stderr);
  const [gpu, image] = r.stdout.trim().split('\n');
  assert.match(gpu!, /^webfam: .*`webgpu`, an optional peer dependency of webfam that is not installed; run `npm install webgpu`$/);
  assert.match(image!, /`sharp`, an optional peer dependency of webfam that is not installed; run `npm install sharp`$/);
});

test('with webgpu added, the installed package computes on Dawn', () => {
  symlinkSync(join(repo, 'node_modules/webgpu'), join(app, 'node_modules/webgpu'), 'dir');
  const code = `import { init, tensor } from 'webfam';
const adapter = await init();
console.log(adapter.backend, (await tensor([1, 2, 3]).mul(2).add(1).data()).join(','));
process.exit(0);`;
  const r = run(process.execPath, ['--input-type=module', '-e', code]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^dawn-node 3,5,7$/m);
});

test.run();
