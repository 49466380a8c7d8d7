// The probe suite: `node train.js` and the engine fed what a careless or hostile user gives them —
// paths out of the data folder, devices, pipes, decompression bombs, absurd labels and sizes,
// hostile checkpoints, unwritable outputs, signals, leftovers of killed runs — each with the exit
// code, the one line `train.js: …` naming the culprit (never a stack trace), a bound on the memory
// the process reached (maxRSS, measured in the child) and no files left behind. Every data folder
// and file is built here, in a temporary folder. Add a probe whenever a new input path appears.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inspect } from 'node:util';
import { createDeflate } from 'node:zlib';
import { crossEntropy, grad, memory, tensor, zeros, type Tensor } from '../src/index.js';
import { encodePNG, crc32 } from '../src/io/png.js';
import { encodeSafetensors, type HostTensor } from '../src/io/safetensors.js';
import { buildModel, type ModelSpec } from '../src/vit/methods.js';
import { specWeightCount } from '../src/vit/spec.js';
import { FLAGS, helpText, type FlagSpec } from '../src/train/args.js';
import { vitConfig, PRESETS, type PresetName } from '../src/vit/config.js';
import { setup, settle } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'webfam-probes-'));
const out = join(root, 'runs');
mkdirSync(out);
/** Flags of a tiny run on the embedded benchmark (no dataset needed), as in train.test.ts. */
const TINY = ['--model', 'webfam_test', '--benchmark', 'synthetic', '--train-size', '32', '--val-size', '16', '--test-size', '16', '--batch-size', '16', '--epochs', '1', '--out', out, '--quiet'];
/** The memory a probe may reach: Node, Dawn and lavapipe start at about 150 MB; what the issue saw went to gigabytes. */
const RSS_BOUND_MB = 600;

// Each child records its peak resident memory when it exits: VmHWM, the high-water mark of its own
// address space. (getrusage's maxRSS would not do: Linux carries the parent's peak across fork and
// exec, so every child of a large test process would seem large.) maxRSS where /proc is missing.
const rssHook = join(root, 'rss-hook.cjs');
writeFileSync(rssHook, `process.on('exit', () => {
  const fs = require('fs');
  let kb;
  try { kb = Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch { kb = process.resourceUsage().maxRSS; }
  try { fs.writeFileSync(process.env.WEBFAM_PROBE_RSS, String(kb)); } catch {}
});
`);

interface Probe {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the child in MB (NaN if it did not exit by itself). */
  rssMb: number;
  seconds: number;
}

let probeCount = 0;
/**
 * Runs `node train.js args`. A child that outgrows 4× the RSS bound or the time limit is killed
 * (the probe then fails on its exit code), so a regression cannot take the machine down.
 */
function trainJs(args: string[], opts: { timeoutS?: number; onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<Probe> {
  const rssFile = join(root, `rss-${probeCount++}`);
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', rssHook, 'train.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEBFAM_PROBE_RSS: rssFile } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr, (sig) => child.kill(sig));
    });
    const guard = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
        if (kb > 4 * RSS_BOUND_MB * 1024) child.kill('SIGKILL');
      } catch { /* exited, or no /proc */ }
    }, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), (opts.timeoutS ?? 60) * 1000);
    child.on('close', (code, signal) => {
      clearInterval(guard);
      clearTimeout(timer);
      const rssMb = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : NaN;
      rmSync(rssFile, { force: true });
      resolve({ code, signal, stdout, stderr, rssMb, seconds: (performance.now() - start) / 1000 });
    });
  });
}

/** Every file and folder under `dir`, relative to it. */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const all: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      all.push(relative(dir, p));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return all.sort();
}

/**
 * Runs a probe that must fail: exit `code`, exactly one line starting "train.js: " that matches
 * `message`, no stack trace, peak memory under the bound, and nothing new under --out.
 */
async function expectFailure(args: string[], code: number, message: RegExp, opts: { timeoutS?: number; rssMb?: number } = {}): Promise<Probe> {
  const before = listing(out);
  const r = await trainJs(args, opts);
  const what = `train.js ${args.filter((a) => a !== out).join(' ').slice(0, 160)}`;
  assert.is(r.code, code, `${what}: exit code ${r.code} (signal ${r.signal}) after ${r.seconds.toFixed(1)} s, expected ${code}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('train.js:'));
  assert.is(lines.length, 1, `${what}: expected one "train.js:" line, got:\n${r.stderr}`);
  assert.match(lines[0]!, message, `${what}: the message was\n${lines[0]}`);
  assert.not.match(lines[0]!, /[\x00-\x08\x0b-\x1f\x7f]/, `${what}: control characters in the message`);
  assert.not.match(r.stderr, /^\s+at /m, `${what}: a stack trace was printed:\n${r.stderr}`);
  assert.ok(r.rssMb < (opts.rssMb ?? RSS_BOUND_MB), `${what}: peak memory ${r.rssMb.toFixed(0)} MB`);
  assert.equal(listing(out), before, `${what}: left files in --out`);
  if (process.env.WEBFAM_PROBE_REPORT) console.log(`probe: ${r.rssMb.toFixed(0).padStart(4)} MB ${r.seconds.toFixed(2).padStart(6)} s  ${lines[0]!.slice(0, 110)}`);
  return r;
}

// ------------------------------------------------------------------ data folders

const PNG8 = encodePNG({ width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) % 256) });
const MASK8 = encodePNG({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).map((_, i) => (i % 8 > 3 ? 255 : 0)) });
const HEADER = 'img_id,img_filename,y,split,place,mask_filename';

/** 12 good rows: both classes and places in every split (lines 2-13), images and masks present. */
function goodRows(): string[] {
  return Array.from({ length: 12 }, (_, i) => `${i},img${i}.png,${i % 2},${i < 4 ? 0 : i < 8 ? 1 : 2},${(i >> 1) % 2},mask${i}.png`);
}

let folderCount = 0;
/** A Waterbirds-layout folder with the good rows, then `extra` rows (line 14 on), and `files`. */
function folder(extra: string[], files: Record<string, Uint8Array | string> = {}, rows = goodRows()): string {
  const dir = join(root, `data${folderCount++}`, 'set');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 12; i++) {
    writeFileSync(join(dir, `img${i}.png`), PNG8);
    writeFileSync(join(dir, `mask${i}.png`), MASK8);
  }
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'metadata.csv'), [HEADER, ...rows, ...extra].join('\n') + '\n');
  return dir;
}

const DATA_FLAGS = (dir: string) => ['--data', dir, '--method', 'baseline', '--model', 'webfam_test', '--image-size', '32', '--batch-size', '4', '--epochs', '1', '--out', out, '--quiet'];

/** A PNG whose header claims width × height (grey) with all-zero rows: small on disk, huge decoded. */
async function pngBomb(width: number, height: number): Promise<Uint8Array> {
  const deflate = createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => deflate.on('end', r));
  const row = Buffer.alloc(1 + width); // filter byte 0, then zero pixels
  const rowsPerWrite = Math.max(1, Math.floor((1 << 20) / row.length));
  const block = Buffer.concat(Array(rowsPerWrite).fill(row));
  for (let y = 0; y < height; y += rowsPerWrite) {
    const n = Math.min(rowsPerWrite, height - y);
    if (!deflate.write(n === rowsPerWrite ? block : block.subarray(0, n * row.length))) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    dv.setUint32(8 + body.length, crc32(out, 4, 8 + body.length));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(chunks)), chunk('IEND', new Uint8Array(0))]);
}

test('the probe folder is sound: a good folder passes every check up to the GPU', async () => {
  // The control for the data probes below: only their bad row differs. --out is a file here so
  // the run stops right after the data checks, at the run folder, without starting the GPU.
  const blocker = join(root, 'out-is-a-file');
  writeFileSync(blocker, 'x');
  const r = await trainJs([...DATA_FLAGS(folder([])), '--out', blocker]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /data: .*\(4\/4\/4 images, 2 classes, 2 places\)/);
  assert.match(r.stderr, /train\.js: cannot create the run folder .*out-is-a-file.* is not a folder/);
});

test('file names in metadata.csv stay inside the data folder, after symlinks', async () => {
  writeFileSync(join(root, 'outside.png'), PNG8);
  const dir = folder(['12,../../outside.png,0,0,0,mask0.png']);
  await expectFailure(DATA_FLAGS(dir), 2, /outside\.png: image file name "\.\.\/\.\.\/outside\.png" points outside the data folder .*metadata\.csv line 14\)$/);
  await expectFailure(DATA_FLAGS(folder(['12,../../../../../../../../etc/passwd,0,0,0,mask0.png'])), 2, /etc\/passwd.*points outside the data folder.*line 14/);
  await expectFailure(DATA_FLAGS(folder(['12,/etc/passwd,0,0,0,mask0.png'])), 2, /^train\.js: \/etc\/passwd: image file name "\/etc\/passwd" is an absolute path; names must be relative to the data folder.*line 14/);
  const linked = folder([], {});
  symlinkSync(join(root, 'outside.png'), join(linked, 'link.png'));
  writeFileSync(join(linked, 'metadata.csv'), [HEADER, ...goodRows(), '12,link.png,0,0,0,mask0.png'].join('\n') + '\n');
  await expectFailure(DATA_FLAGS(linked), 2, /link\.png: image file is a symbolic link to .*outside\.png, outside the data folder.*line 14/);
  // A symlink inside the folder to a file inside it is fine (the control passes the data checks).
  const inside = folder([]);
  symlinkSync('img0.png', join(inside, 'alias.png'));
  writeFileSync(join(inside, 'metadata.csv'), [HEADER, ...goodRows(), '12,alias.png,0,0,0,mask0.png'].join('\n') + '\n');
  const blocker = join(root, 'out-is-a-file');
  const ok = await trainJs([...DATA_FLAGS(inside), '--out', blocker]);
  assert.match(ok.stderr, /data: .*\(5\/4\/4 images/, ok.stderr);
  // A mask may not leave the folder either; nor a NUL byte hide in a name.
  const maskOut = folder([]);
  symlinkSync('/etc/hostname', join(maskOut, 'evil-mask.png'));
  writeFileSync(join(maskOut, 'metadata.csv'), [HEADER, ...goodRows(), '12,img0.png,0,0,0,evil-mask.png'].join('\n') + '\n');
  await expectFailure(DATA_FLAGS(maskOut), 2, /evil-mask\.png: mask file is a symbolic link to \/etc\/hostname, outside the data folder.*line 14/);
  await expectFailure(DATA_FLAGS(folder(['12,img0\0.png,0,0,0,mask0.png'])), 2, /image file name "img0\\u0000\.png" contains a NUL character.*line 14/);
});

test('only regular files of bounded size are read: /dev/zero, pipes, folders and sparse giants are refused at once', async () => {
  const zero = folder([]);
  symlinkSync('/dev/zero', join(zero, 'zero.png'));
  writeFileSync(join(zero, 'metadata.csv'), [HEADER, ...goodRows(), '12,zero.png,0,0,0,mask0.png'].join('\n') + '\n');
  // /dev/zero is outside the folder; the checks refuse it before opening it (the issue saw 7.4 GB).
  await expectFailure(DATA_FLAGS(zero), 2, /zero\.png: image file is a symbolic link to \/dev\/zero, outside the data folder/, { timeoutS: 20 });
  const pipe = folder([]);
  execFileSync('mkfifo', [join(pipe, 'pipe.png')]);
  writeFileSync(join(pipe, 'metadata.csv'), [HEADER, ...goodRows(), '12,pipe.png,0,0,0,mask0.png'].join('\n') + '\n');
  await expectFailure(DATA_FLAGS(pipe), 2, /pipe\.png: image file is a named pipe, not a regular file.*line 14/, { timeoutS: 20 });
  const sub = folder([]);
  mkdirSync(join(sub, 'images'));
  writeFileSync(join(sub, 'metadata.csv'), [HEADER, ...goodRows(), '12,images,0,0,0,mask0.png'].join('\n') + '\n');
  await expectFailure(DATA_FLAGS(sub), 2, /images: image file is a folder, not a regular file.*line 14/);
  const giant = folder([]);
  writeFileSync(join(giant, 'giant.png'), '');
  truncateSync(join(giant, 'giant.png'), 200 * 2 ** 20); // sparse: no disk used
  writeFileSync(join(giant, 'metadata.csv'), [HEADER, ...goodRows(), '12,giant.png,0,0,0,mask0.png'].join('\n') + '\n');
  await expectFailure(DATA_FLAGS(giant), 2, /giant\.png: image file is 200 MiB, over the 128 MiB limit.*line 14/);
  // The metadata file itself: a device, a giant, a folder that is a file.
  const devcsv = join(root, 'devcsv');
  mkdirSync(devcsv);
  symlinkSync('/dev/zero', join(devcsv, 'metadata.csv'));
  await expectFailure(DATA_FLAGS(devcsv), 2, /metadata\.csv: cannot read the metadata file \(.*is a character device, not a regular file\)/, { timeoutS: 20 });
  const bigcsv = join(root, 'bigcsv');
  mkdirSync(bigcsv);
  writeFileSync(join(bigcsv, 'metadata.csv'), '');
  truncateSync(join(bigcsv, 'metadata.csv'), 300 * 2 ** 20);
  await expectFailure(DATA_FLAGS(bigcsv), 2, /metadata\.csv: cannot read the metadata file \(.*300 MiB, over the 64 MiB limit\)/);
  await expectFailure(DATA_FLAGS(join(root, 'outside.png')), 2, /cannot read the metadata file \(data folder .*outside\.png is a file, not a folder\)/);
  await expectFailure(DATA_FLAGS(join(root, 'no-such-folder')), 2, /cannot read the metadata file \(data folder .*no-such-folder: no such file or folder\)/);
  // Fashion-MNIST's IDX files go through the same kind of check.
  const fashion = join(root, 'fashion');
  mkdirSync(fashion);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) symlinkSync('/dev/zero', join(fashion, f));
  await expectFailure([...TINY, '--benchmark', 'fashion', '--fashion-dir', fashion], 2, /the default benchmark needs Fashion-MNIST: .*idx\d-ubyte: not a regular file/, { timeoutS: 20 });
});

test('decompression bombs: a 20000×20000 PNG is refused from its header, as an image and as a mask', async () => {
  const bomb = await pngBomb(20000, 20000);
  assert.ok(bomb.length < 1 << 20, `the bomb is small on disk (${bomb.length} bytes)`);
  const asMask = await expectFailure(DATA_FLAGS(folder(['12,img0.png,0,0,0,bomb.png'], { 'bomb.png': bomb })), 2, /bomb\.png: mask is 20000×20000 = 400,000,000 pixels, over the limit of 33,554,432.*line 14/, { timeoutS: 30 });
  assert.ok(asMask.seconds < 20, `refused in ${asMask.seconds.toFixed(1)} s (the issue saw 38 s and 1 GB)`);
  await expectFailure(DATA_FLAGS(folder(['12,bomb.png,0,0,0,mask0.png'], { 'bomb.png': bomb })), 2, /bomb\.png: .*image is 20000×20000 = 400,000,000 pixels, over the limit.*line 14/, { timeoutS: 30 });
});

test('classes and places are numbered 0, 1, … without gaps, with two classes at least, every class in training', async () => {
  const r = await expectFailure(DATA_FLAGS(folder(['12,img0.png,1000000000,0,0,mask0.png'])), 2, /metadata\.csv:14: y = 1000000000, but classes \(y\) must be numbered 0, 1, 2, … without gaps and no row has y = 2/, { timeoutS: 30 });
  assert.ok(r.seconds < 20, `y = 1e9 refused in ${r.seconds.toFixed(1)} s (the issue saw 260 s and a heap overflow)`);
  await expectFailure(DATA_FLAGS(folder(['12,img0.png,0,0,100000000,mask0.png'])), 2, /metadata\.csv:14: place = 100000000, but places must be numbered 0, 1, 2, … without gaps and no row has place = 2/, { timeoutS: 30 });
  await expectFailure(DATA_FLAGS(folder(['12,img0.png,3,0,0,mask0.png'])), 2, /metadata\.csv:14: y = 3, .*no row has y = 2/);
  // y = 2 in otherwise binary data, on a test row: a class training never sees.
  await expectFailure(DATA_FLAGS(folder(['12,img0.png,2,2,0,mask0.png'])), 2, /metadata\.csv:14: y = 2 has no row in the training split/);
  await expectFailure(DATA_FLAGS(folder([], {}, goodRows().map((l) => l.replace(/^(\d+,img\d+\.png),1,/, '$1,0,')))), 2, /every usable row has y = 0, and a classifier needs at least two classes/);
  await expectFailure(DATA_FLAGS(folder([], {}, goodRows().filter((l) => l.split(',')[3] !== '1'))), 2, /no usable rows in the val split \(split = 1\)/);
  await expectFailure(DATA_FLAGS(folder(['12,img0.png,99999999999999999999999,0,0,mask0.png'])), 2, /metadata\.csv:14: y = 1e\+23, but classes/);
  // One stray y = 2 among many training rows is allowed (it may be a real class) but said out loud.
  const many = Array.from({ length: 600 }, (_, i) => `${100 + i},img${i % 12}.png,${i % 2},0,${(i >> 1) % 2},mask0.png`);
  const blocker = join(root, 'out-is-a-file');
  const stray = await trainJs([...DATA_FLAGS(folder([...many, '700,img0.png,2,0,0,mask0.png', '701,img1.png,2,1,0,mask0.png', '702,img1.png,2,2,0,mask0.png'])), '--out', blocker]);
  assert.match(stray.stderr, /train\.js: warning: class y = 2 has only 1 training row \(the first on .*metadata\.csv:614\) against 302 for the largest class; a typo in y\?/, stray.stderr);
  assert.match(stray.stderr, /3 classes, 2 places/);
});

test('sizes and settings out of range are one-line errors naming the flag, before any memory is spent', async () => {
  const cases: [string[], RegExp][] = [
    [['--train-size', '1000000000'], /--train-size must be at most 1000000, got 1000000000/],
    [['--val-size', '0'], /--val-size must be positive, got 0/],
    [['--batch-size', '100000'], /--batch-size must be at most 4096/],
    [['--image-size', '33'], /--image-size 33 is not a multiple of webfam_test's patch size 8 \(try 32 or 40\)/],
    [['--image-size', '30'], /--image-size 30 is not a multiple of webfam_test's patch size 8 \(try 24 or 32\)/],
    [['--image-size', '65536'], /--image-size must be at most 1024, got 65536/],
    [['--model', 'vit_small_patch14_reg4_dinov2'], /--image-size 32 is not a multiple of vit_small_patch14_reg4_dinov2's patch size 14 \(try 28 or 42\)/],
    [['--patch-size', '5'], /--image-size 32 is not a multiple of --patch-size 5 \(try 30 or 35\)/],
    [['--patch-size', '-2'], /--patch-size must be at least 0, got -2/],
    [['--model', 'nonexistent'], /--model must be one of webfam_test, .*; got "nonexistent"/],
    [['--seed', '-1'], /--seed must be at least 0, got -1/],
    [['--seed', '1e20'], /--seed must be at most 4294967295/],
    [['--parts', '100000'], /--parts must be at most 64, got 100000/],
    [['--epochs', '0'], /--epochs must be positive, got 0/],
    [['--tau', '0'], /--tau must be positive, got 0/],
    [['--lr', 'NaN'], /--lr needs a number, got "NaN"/],
    [['--name', '../x'], /--name "\.\.\/x" must be a plain folder name/],
    [['--name', '.'], /--name "\." must be a plain folder name/],
    [['--name', ''], /--name needs a value|--name "" must be a plain folder name/],
  ];
  for (const [flags, message] of cases) {
    const r = await expectFailure([...TINY, ...flags], 2, message);
    assert.ok(r.seconds < 10, `${flags.join(' ')}: ${r.seconds.toFixed(1)} s`);
  }
  assert.not.ok(existsSync(join(root, 'x')), '--name ../x wrote nothing outside --out');
  // A reader that goes away (`node train.js --help | head -1`) is no error.
  const help = spawn(process.execPath, ['train.js', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  help.stdout.destroy();
  let helpErr = '';
  help.stderr.on('data', (d) => (helpErr += d));
  const helpCode = await new Promise((r) => help.on('close', r));
  assert.is(helpCode, 0, helpErr);
  assert.is(helpErr, '');
  // --debug keeps the one line and adds the stack trace.
  const debug = await trainJs([...TINY, '--seed', '-1', '--debug']);
  assert.is(debug.code, 2);
  assert.match(debug.stderr, /^train\.js: --seed must be at least 0, got -1$/m);
  assert.match(debug.stderr, /^\s+at parseArgs /m, debug.stderr);
});

test('flags that do not apply are errors naming the method or mode', async () => {
  const cases: [string[], RegExp][] = [
    [['--method', 'baseline', '--init', 'base.safetensors'], /--init .* does not apply to --method baseline/],
    [['--method', 'baseline', '--parts', '3'], /--parts is an iFAM setting and does not apply to --method baseline/],
    [['--method', 'robustvit', '--w-tv', '0.5'], /--w-tv is an iFAM setting and does not apply to --method robustvit/],
    [['--method', 'ifam', '--w-bg', '1'], /--w-bg is a robustvit setting and does not apply to --method ifam/],
    [['--method', 'robustvit', '--init', 'a.safetensors', '--base-epochs', '2'], /--base-epochs does not apply with --init/],
    [['--classes', 'bag,coat'], /--classes applies to the Fashion-MNIST benchmark, not to --benchmark synthetic/],
    [['--skip-bad'], /--skip-bad applies to --data folders only/],
  ];
  for (const [flags, message] of cases) await expectFailure([...TINY, ...flags], 2, message);
  const dir = folder([]);
  await expectFailure([...DATA_FLAGS(dir), '--train-size', '32'], 2, /--train-size describes a benchmark and does not apply with --data/);
  await expectFailure([...DATA_FLAGS(dir), '--agreement', '0.5', '--classes', 'bag,coat'], 2, /--agreement, --classes describe a benchmark and do not apply with --data/);
  await expectFailure(['--eval', 'x.safetensors', '--epochs', '3', '--model', 'webfam_test'], 2, /--epochs, --model do not apply to --eval/);
  await expectFailure(['--eval', 'x.safetensors', '--method', 'ifam'], 2, /--method does not apply to --eval/);
});

// ------------------------------------------------------------------ weights and checkpoints

/** A host state dict with the shapes `spec`'s model has (values small, deterministic). */
async function stateOf(spec: ModelSpec, fill: (name: string, i: number) => number = (_, i) => Math.sin(i) * 0.02): Promise<Record<string, HostTensor>> {
  await setup();
  const model = buildModel(spec);
  const host: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) host[k] = { shape: [...t.shape], data: Float32Array.from({ length: t.size }, (_, i) => fill(k, i)) };
  model.dispose();
  return host;
}

const SPEC: ModelSpec = { method: 'baseline', preset: 'webfam_test', vit: vitConfig('webfam_test', { imageSize: 32 }), numClasses: 2 };
const META = (spec: unknown) => ({ 'webfam.spec': typeof spec === 'string' ? spec : JSON.stringify(spec), 'webfam.normalize': JSON.stringify({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }), 'webfam.classes': '["a","b"]' });

test('--weights, --init and --eval read only regular files, check the header first, and refuse hostile specs', async () => {
  const fifo = join(root, 'weights.fifo');
  execFileSync('mkfifo', [fifo]);
  const sparse = join(root, 'sparse.safetensors');
  writeFileSync(sparse, '');
  truncateSync(sparse, 3 * 2 ** 30);
  const zeros1g = join(root, 'zeros.safetensors');
  writeFileSync(zeros1g, '');
  truncateSync(zeros1g, 2 ** 30);
  const r = await expectFailure([...TINY, '--weights', '/dev/zero'], 2, /safetensors: file \/dev\/zero is a character device, not a regular file/, { timeoutS: 20 });
  assert.ok(r.seconds < 10, `--weights /dev/zero refused in ${r.seconds.toFixed(1)} s (the issue saw 4.5 GB in 20 s)`);
  await expectFailure([...TINY, '--weights', fifo], 2, /weights\.fifo is a named pipe, not a regular file/, { timeoutS: 20 });
  await expectFailure([...TINY, '--weights', sparse], 2, /sparse\.safetensors is 3 GiB, over the 2 GiB limit/);
  // 1 GiB of zeros: the header (length 0) is read and refused before the rest is.
  await expectFailure([...TINY, '--weights', zeros1g], 2, /header length 0 is too short for a JSON object \(in .*zeros\.safetensors\)/);
  await expectFailure([...TINY, '--weights', root], 2, /is a folder, not a regular file/);
  await expectFailure(['--eval', '/dev/zero', '--benchmark', 'synthetic'], 2, /\/dev\/zero is a character device/, { timeoutS: 20 });
  await expectFailure([...TINY, '--method', 'robustvit', '--init', '/dev/zero'], 2, /\/dev\/zero is a character device/, { timeoutS: 20 });
  // The PyTorch bridge reads checkpoints, configs and weight files through the same checks.
  await expectFailure(['--export', '/dev/zero', '--to', join(root, 'never')], 2, /\/dev\/zero is a character device/, { timeoutS: 20 });
  const zeroExport = join(root, 'zero-export');
  mkdirSync(zeroExport);
  symlinkSync('/dev/zero', join(zeroExport, 'config.json'));
  await expectFailure(['--import', zeroExport, '--to', join(root, 'never.safetensors')], 2, /config\.json is a character device/, { timeoutS: 20 });

  const state = await stateOf(SPEC);
  const write = (name: string, tensors: Record<string, HostTensor>, meta: Record<string, string>) => {
    const p = join(root, name);
    writeFileSync(p, encodeSafetensors(tensors, meta));
    return p;
  };
  await expectFailure(['--eval', write('garbage-spec.safetensors', state, META('{not json')), '--benchmark', 'synthetic'], 2, /garbage-spec\.safetensors: metadata "webfam\.spec" is not valid JSON/);
  await expectFailure(['--eval', write('method-spec.safetensors', state, META({ ...SPEC, method: 'magic' })), '--benchmark', 'synthetic'], 2, /"webfam\.spec"\.method must be one of baseline, ifam, robustvit, got "magic"/);
  await expectFailure(['--eval', write('nan-spec.safetensors', state, META({ ...SPEC, vit: { ...SPEC.vit, depth: null } })), '--benchmark', 'synthetic'], 2, /"webfam\.spec"\.vit\.depth must be a whole number in \[1, 256\], got null/);
  // A spec claiming a huge model over small weights: refused by counting, before any allocation.
  const huge = await expectFailure(['--eval', write('huge-spec.safetensors', state, META({ ...SPEC, vit: { ...SPEC.vit, embedDim: 8192, depth: 256, numHeads: 8 }, numClasses: 100000 })), '--benchmark', 'synthetic'], 2, /describes a baseline model with [\d,]+ weights \(width 8192, depth 256, 100000 classes\), but the file holds [\d,]+/);
  assert.ok(huge.rssMb < 300, `peak memory ${huge.rssMb.toFixed(0)} MB (the issue saw 800 MB)`);
  await expectFailure(['--eval', write('plain.safetensors', state, {}), '--benchmark', 'synthetic'], 2, /plain\.safetensors is not a webfam checkpoint/);
  await expectFailure(['--eval', join(root, 'absent.safetensors'), '--benchmark', 'synthetic'], 2, /--eval: checkpoint .*absent\.safetensors does not exist/);
  const ifamSpec: ModelSpec = { ...SPEC, method: 'ifam', ifam: { parts: 2, tau: 1, partDropout: 0.3, jointGrad: true } };
  const ifam = write('ifam.safetensors', await stateOf(ifamSpec), META(ifamSpec));
  await expectFailure([...TINY, '--method', 'robustvit', '--init', ifam], 2, /--init needs a baseline \(or robustvit\) checkpoint to fine-tune; .*ifam\.safetensors is an ifam checkpoint/);
  // Weights that do not fit the model: one line, not a 90-line dump (this one starts the GPU).
  const wrong: Record<string, HostTensor> = { ...state, 'blocks.0.attn.qkv.weight': { shape: [3, 3], data: new Float32Array(9) }, 'extra.weight': { shape: [1], data: new Float32Array(1) } };
  delete wrong['blocks.1.norm1.weight'];
  await expectFailure([...TINY, '--method', 'baseline', '--weights', write('wrong-keys.safetensors', wrong, {}), '--name', 'wrongkeys'], 2, /--weights .*wrong-keys\.safetensors does not fit --model webfam_test at 32 px: \d+ problems, nothing was loaded: blocks\.0\.attn\.qkv\.weight: shape \[3, 3\] in the dict, \[192, 64\] in the module; missing key blocks\.1\.norm1\.weight \(shape \[64\]\);.* unexpected key extra\.weight$/, { timeoutS: 60 });
});

test('--eval of weights with NaN says so instead of printing a meaningless accuracy', async () => {
  const state = await stateOf(SPEC, (k, i) => (k === 'blocks.0.mlp.fc1.weight' && i % 7 === 0 ? NaN : Math.sin(i) * 0.02));
  const path = join(root, 'nan-weights.safetensors');
  writeFileSync(path, encodeSafetensors(state, META(SPEC)));
  const r = await trainJs(['--eval', path, '--benchmark', 'synthetic', '--test-size', '8', '--batch-size', '8', '--quiet'], { timeoutS: 90 });
  assert.is(r.code, 0, r.stderr);
  const nans = Math.ceil(state['blocks.0.mlp.fc1.weight']!.data.length / 7).toLocaleString('en-US');
  assert.match(r.stderr, new RegExp(`train\\.js: warning: ${nans} of [\\d,]+ weights in .*nan-weights\\.safetensors are NaN or infinite \\(blocks\\.0\\.mlp\\.fc1\\.weight\\); the accuracy below is meaningless`));
  // The class count must match the data's.
  const three = join(root, 'three-classes.safetensors');
  const spec3 = { ...SPEC, numClasses: 3 };
  writeFileSync(three, encodeSafetensors(await stateOf(spec3), META(spec3)));
  await expectFailure(['--eval', three, '--benchmark', 'synthetic', '--test-size', '8', '--quiet'], 2, /classifies 3 classes, but the test data has 2/, { timeoutS: 90 });
  const badNorm = join(root, 'bad-normalize.safetensors');
  writeFileSync(badNorm, encodeSafetensors(await stateOf(SPEC), { ...META(SPEC), 'webfam.normalize': '{"mean":[0.5],"std":[0]}' }));
  await expectFailure(['--eval', badNorm, '--benchmark', 'synthetic', '--test-size', '8', '--quiet'], 2, /bad-normalize\.safetensors: metadata "webfam\.normalize" is malformed \(normalize: expected 3 means and 3 positive stds/, { timeoutS: 90 });
});

test('the spec check counts weights exactly: every preset and method builds the number checkSpec expects', async () => {
  await setup();
  for (const preset of ['webfam_test', 'webfam_tiny', 'webfam_small'] as PresetName[]) {
    for (const method of ['baseline', 'ifam'] as const) {
      const spec: ModelSpec = { method, preset, vit: vitConfig(preset, { imageSize: PRESETS[preset].patchSize * 4 }), numClasses: 3, ...(method === 'ifam' ? { ifam: { parts: 5, tau: 1, partDropout: 0.3, jointGrad: true } } : {}) };
      const model = buildModel(spec);
      const n = Object.values(model.stateDict()).reduce((a, t) => a + t.size, 0);
      model.dispose();
      assert.is(specWeightCount(spec), n, `${method} ${preset}`);
    }
  }
  // DINOv2's layout (registers, LayerScale, no class position), made small.
  const dino: ModelSpec = { method: 'robustvit', preset: 'vit_small_patch14_reg4_dinov2', vit: vitConfig('vit_small_patch14_reg4_dinov2', { imageSize: 28, embedDim: 48, depth: 2, numHeads: 2 }), numClasses: 2 };
  const m = buildModel(dino);
  assert.is(specWeightCount(dino), Object.values(m.stateDict()).reduce((a, t) => a + t.size, 0), 'DINOv2 with registers and LayerScale');
  m.dispose();
});

// ------------------------------------------------------------------ the run folder

test('an unusable --out is one line, at once, and nothing is created', async () => {
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  await expectFailure([...TINY, '--out', file], 2, /cannot create the run folder .*a-file\/\S+: .*a-file is not a folder/);
  await expectFailure([...TINY, '--out', join(file, 'below')], 2, /cannot create the run folder .*: .*a-file is not a folder/);
  const proc = await expectFailure([...TINY, '--out', '/proc/webfam-probe'], 2, /cannot create the run folder \/proc\/webfam-probe\/\S+: no such file or folder/, { timeoutS: 20 });
  assert.ok(proc.seconds < 10, `--out /proc/x answered in ${proc.seconds.toFixed(1)} s (it used to hang)`);
  await expectFailure([...TINY, '--out', '/sys/webfam-probe'], 2, /cannot create the run folder \/sys\/webfam-probe\/\S+: (permission denied|read-only file system)/);
  // The run folder already exists as a file.
  writeFileSync(join(out, 'taken'), 'x');
  await expectFailure([...TINY, '--name', 'taken'], 2, /the run folder .*taken exists and is not a folder/);
  rmSync(join(out, 'taken'));
});

test('a run folder in use by another train.js is refused, naming the process', async () => {
  const dir = join(out, 'locked');
  mkdirSync(dir);
  writeFileSync(join(dir, 'train.lock'), `${process.pid}\n`);
  await expectFailure([...TINY, '--name', 'locked'], 2, new RegExp(`locked is in use by another train\\.js \\(process ${process.pid}\\)`));
  assert.ok(existsSync(join(dir, 'train.lock')), 'the other run keeps its lock');
  rmSync(dir, { recursive: true });
});

/** A run folder as train.js leaves it, with a checkpoint whose metadata is `meta`. */
function fakeRun(name: string, config: Record<string, unknown>, meta: Record<string, string>, state: Record<string, HostTensor>): string {
  const dir = join(out, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'checkpoint.safetensors'), encodeSafetensors(state, meta));
  return dir;
}

test('--help says which flags --resume lets change, and the bounds of every bounded flag', () => {
  const text = helpText();
  const resumeLine = text.split('\n').find((l) => l.trimStart().startsWith('--resume '))!;
  for (const [k, spec] of Object.entries(FLAGS) as [string, FlagSpec][]) {
    if (spec.resumable && k !== 'help') assert.ok(resumeLine.includes(`--${k}`), `--resume's help names --${k}`);
    if (spec.max !== undefined) assert.ok(text.includes(`${spec.min}–${spec.max}`), `--${k}'s bounds are in --help`);
  }
});

test('--resume reads the run\'s config.json, refuses changed flags by name, and needs a real checkpoint', async () => {
  const state = await stateOf(SPEC);
  const config = { method: 'baseline', model: 'webfam_test', benchmark: 'synthetic', 'train-size': 32, 'val-size': 16, 'test-size': 16, 'batch-size': 16, epochs: 2, data: null, data_description: 'synthetic' };
  fakeRun('noprogress', config, META(SPEC), state);
  await expectFailure(['--name', 'noprogress', '--resume', '--out', out], 2, /--resume: .*noprogress\/checkpoint\.safetensors has no valid "webfam\.progress" metadata/);
  await expectFailure(['--name', 'noprogress', '--resume', '--out', out, '--batch-size', '8', '--train-size', '64'], 2, /--resume continues the run exactly as it was configured in .*config\.json, so it refuses --batch-size 8 \(the run has 16\), --train-size 64 \(the run has 32\); only --stop-after, --epochs, --json, --pictures, --quiet, --debug/);
  await expectFailure(['--name', 'noprogress', '--resume', '--out', out, '--method', 'ifam'], 2, /refuses --method ifam \(the run has baseline\)/);
  const garbled = fakeRun('garbled', config, META(SPEC), state);
  writeFileSync(join(garbled, 'config.json'), '{"epochs": ');
  await expectFailure(['--name', 'garbled', '--resume', '--out', out], 2, /--resume: cannot read the run's flags from .*garbled\/config\.json \(.*JSON/);
  writeFileSync(join(garbled, 'config.json'), JSON.stringify({ ...config, 'batch-size': 'many' }));
  await expectFailure(['--name', 'garbled', '--resume', '--out', out], 2, /--resume: .*config\.json: --batch-size needs a number, got "many"/);
  await expectFailure(['--name', 'never-ran', '--resume', '--out', out], 2, /--resume: .*never-ran\/checkpoint\.safetensors does not exist/);
  // Runs from before data_description kept "<folder> (n/n/n images)" under "data": the folder is restored from it.
  const { data: _data, data_description: _description, 'train-size': _t, 'val-size': _v, 'test-size': _s, benchmark: _b, ...rest } = config;
  // (A flag such a run passed though it did not apply, here --base-epochs to a baseline, is not restored.)
  const old = fakeRun('oldformat', { ...rest, 'base-epochs': 1, data: '/srv/birds (4/4/4 images)' }, META(SPEC), state);
  await expectFailure(['--name', 'oldformat', '--resume', '--out', out, '--data', '/srv/other'], 2, /refuses --data \/srv\/other \(the run has \/srv\/birds\)/);
  await expectFailure(['--name', 'oldformat', '--resume', '--out', out], 2, /oldformat\/checkpoint\.safetensors has no valid "webfam\.progress"/);
  rmSync(old, { recursive: true });
  rmSync(join(out, 'noprogress'), { recursive: true });
  rmSync(garbled, { recursive: true });
});

test('SIGTERM saves a checkpoint like Ctrl-C; --resume with only --name finishes it, clearing a killed run\'s leftovers', async () => {
  let sent = false;
  const name = 'terminated';
  const r = await trainJs(['--method', 'baseline', '--name', name, ...TINY, '--train-size', '256', '--epochs', '2', '--no-quiet', '--seed', '5'], {
    timeoutS: 180,
    onStderr: (text, kill) => {
      if (!sent && /epoch 1\/2 \S* *[1-9]/.test(text)) {
        sent = true;
        kill('SIGTERM');
      }
    },
  });
  assert.ok(sent, `never saw progress:\n${r.stderr}`);
  assert.is(r.code, 143, r.stderr);
  assert.match(r.stderr, /interrupted \(SIGTERM\): saving a checkpoint/);
  assert.match(r.stderr, new RegExp(`continue with: node train\\.js --name ${name} --resume --out `));
  const dir = join(out, name);
  assert.ok(existsSync(join(dir, 'checkpoint.safetensors')), 'checkpoint saved');
  assert.not.ok(existsSync(join(dir, 'train.lock')), 'lock released');
  // What a SIGKILL in the middle of a write leaves: temporary files and a lock of a dead process.
  writeFileSync(join(dir, 'checkpoint.safetensors.tmp-lx2k9-abc123'), new Uint8Array(192));
  writeFileSync(join(dir, 'metrics.json.tmp-4242'), '{');
  writeFileSync(join(dir, 'train.lock'), '999999999\n');
  const rest = await trainJs(['--name', name, '--resume', '--out', out, '--quiet', '--json'], { timeoutS: 180 });
  assert.is(rest.code, 0, rest.stderr);
  assert.match(rest.stderr, /removed 2 temporary files an interrupted write left/);
  const m = JSON.parse(rest.stdout.trim().split('\n').at(-1)!);
  assert.is(m.method, 'baseline', 'the method came from config.json');
  assert.is(m.epochs, 2);
  assert.equal(readdirSync(dir).filter((f) => /tmp-|\.lock$/.test(f)), [], 'no temporary files or lock left');
  // Extending a finished run with --epochs is allowed (and said to change the schedule); shortening is not.
  await expectFailure(['--name', name, '--resume', '--out', out, '--epochs', '1'], 2, /this run has already trained 2 epochs; --epochs 1 cannot shorten it/, { timeoutS: 60 });
  const longer = await trainJs(['--name', name, '--resume', '--out', out, '--quiet', '--json', '--epochs', '3', '--no-pictures'], { timeoutS: 180 });
  assert.is(longer.code, 0, longer.stderr);
  assert.match(longer.stderr, /--epochs 3 instead of the run's 2; the learning-rate schedule now spans the new length/);
  assert.is(JSON.parse(longer.stdout.trim().split('\n').at(-1)!).epochs, 3);
});

test('a run that fails before its first checkpoint leaves no run folder behind (no empty pictures/, no new --out)', async () => {
  const fresh = join(out, 'fresh', 'deeper');
  const r = await expectFailure(['--method', 'baseline', '--name', 'diverges', ...TINY, '--out', fresh, '--lr', '1e30', '--clip', '0', '--warmup-epochs', '0'], 3, /^train\.js: loss became .*no checkpoint had been written yet, so the run folder is removed/, { timeoutS: 120 });
  assert.match(r.stderr, /webfam on /, 'it got as far as training');
  assert.not.ok(existsSync(join(out, 'fresh')), 'the folders made for the run are gone');
});

// ------------------------------------------------------------------ the engine

test('engine: backward() on a non-scalar needs a gradient, as in PyTorch', async () => {
  await setup();
  const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const y = x.mul(2);
  assert.throws(() => y.backward(), /backward: grad can be implicitly created only for scalar outputs, and this output has shape \[2,2\]/);
  assert.throws(() => grad(y, [x]), /grad: grad can be implicitly created only for scalar outputs/);
  y.backward(tensor([[1, 0], [0, 1]]));
  assert.equal([...(await x.grad!.data())], [2, 0, 0, 2]);
  const one = x.sum().reshape(1);
  one.backward(); // a one-element tensor of any shape is fine
  assert.equal([...(await x.grad!.data())], [3, 1, 1, 3]);
});

test('engine: crossEntropy refuses host targets that are not class indices', async () => {
  await setup();
  const logits = tensor([[1, 2, 3], [3, 2, 1]]);
  for (const bad of [[0.5, 1], [0, 3], [-1, 0], [NaN, 0], [Infinity, 0], Float32Array.of(1.5, 0)] as ArrayLike<number>[]) {
    assert.throws(() => crossEntropy(logits, bad as number[]), /crossEntropy: target (0\.5|3|-1|NaN|Infinity|1\.5) at index [01] is not a class index in \[0, 3\)/);
  }
  assert.ok(Number.isFinite(await crossEntropy(logits, [2, 0]).item()));
  assert.ok(Number.isFinite(await crossEntropy(logits, [-100, 0], { ignoreIndex: -100 }).item()), 'ignoreIndex is not a class');
});

test('engine: tensor() of something that is not numbers is a clear TypeError, never a stack overflow', async () => {
  await setup();
  const loop: unknown[] = [1];
  loop.push(loop);
  const cases: [unknown, RegExp][] = [
    [['a', 'b'], /tensor: expected numbers, got the string "a" at \[0\]/],
    [[1, 'b'], /got the string "b" at \[1\]/],
    [[[1, 2], [3, '4']], /got the string "4" at \[1\]\[1\]/],
    ['abc', /expected a number, an array of numbers .* got the string "abc"/],
    [null, /got null/],
    [undefined, /got undefined/],
    [{ a: 1 }, /got an object \(Object\)/],
    [[true, false], /got boolean true at \[0\]/],
    [[1n], /got bigint 1 at \[0\]/],
    [new BigInt64Array(2), /got bigint 0 at \[0\]/],
    [{ length: 2, 0: 1, 1: 'x' }, /got the string "x" at \[1\]/],
  ];
  for (const [data, message] of cases) assert.throws(() => tensor(data as number[]), (e: Error) => e instanceof TypeError && message.test(e.message), `tensor(${inspect(data, { depth: 1 })})`);
  assert.throws(() => tensor(loop as number[]), /ragged nested array|nested more than 32 deep/);
  assert.throws(() => tensor([[1], [2, 3]]), /tensor: ragged nested array at \[1\]: length 2 vs 1/);
  assert.throws(() => tensor([1, [2]] as unknown as number[]), /ragged nested array: a list at \[1\] where a number was expected/);
  assert.equal([...(await tensor([Float32Array.of(1, 2), [3, 4]] as unknown as number[][]).data())], [1, 2, 3, 4], 'typed arrays may nest');
});

test('engine: a tensor too large for the GPU is refused up front, and memory() counts only buffers that exist', async () => {
  await setup();
  await settle();
  const before = memory();
  assert.throws(() => zeros([1e6, 1e6]), (e: Error) => e instanceof RangeError && /a tensor of shape \[1000000, 1000000\] needs 3\.64 TiB, more than the largest buffer this GPU allows/.test(e.message));
  const after = memory();
  assert.is(after.liveBytes, before.liveBytes, 'live bytes unchanged (the issue saw 4.4 TB)');
  assert.is(after.peakBytes, before.peakBytes, 'peak unchanged');
  assert.is(after.buffersCreated, before.buffersCreated, 'no buffer was created');
  assert.equal([...(await tensor([1, 2]).add(1).data())], [2, 3], 'the device still works');
});

test('engine: console.log(t) and String(t) show shape, dtype and state; await t.repr() prints the values as PyTorch does', async () => {
  await setup();
  const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const y = x.mul(2);
  assert.is(String(x), 'Tensor(shape=[2, 2], dtype=float32, requiresGrad=true)');
  assert.is(String(y), 'Tensor(shape=[2, 2], dtype=float32, requiresGrad=true, gradFn=mul)');
  assert.is(inspect(x), String(x), 'console.log shows the summary, not the internals');
  assert.not.match(inspect({ t: x }), /_storage|GPUBuffer/);
  assert.is(await x.repr(), 'tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)');
  assert.is(await y.repr(), 'tensor([[2., 4.],\n        [6., 8.]], grad_fn=<MulBackward>)');
  const z: Tensor = tensor([0.5]);
  z.dispose();
  assert.is(String(z), 'Tensor(shape=[1], dtype=float32, disposed)');
});

test.after(() => {
  rmSync(root, { recursive: true, force: true });
});

test.run();
