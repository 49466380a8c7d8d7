// `node train.js` end to end, as a user runs it: every method on a few dozen images, the files a
// run leaves (log.jsonl line by line), --json's single stdout line, --eval, resume equal to an
// uninterrupted run (log included), Ctrl-C, training without sharp, bad data and a diverging loss.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAGS } from '../src/train/args.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { decodePNG, encodePNG } from '../src/io/png.js';

const out = mkdtempSync(join(tmpdir(), 'webfam-train-'));
// Every run and data folder lives under `out`: one removal leaves nothing behind.
test.after(() => rmSync(out, { recursive: true, force: true }));
/** A tiny run on any data; TINY adds the benchmark's sizes (a --data folder has its own). */
const RUN = ['--model', 'webfam_test', '--image-size', '32', '--batch-size', '16', '--epochs', '1', '--out', out, '--quiet'];
const TINY = [...RUN, '--train-size', '32', '--val-size', '16', '--test-size', '16'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function trainJs(args: string[], opts: { onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void; nodeArgs?: string[] } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), 'train.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** --json: stdout is exactly one line, a JSON object (the human summary went to stderr). */
function onlyJson(r: Run): Record<string, any> {
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.is(lines.length, 1, `stdout holds ${lines.length} lines:\n${r.stdout}`);
  return lastJson(r);
}

/** log.jsonl, parsed line by line. */
function stepLog(dir: string): Record<string, any>[] {
  const text = readFileSync(join(dir, 'log.jsonl'), 'utf8');
  assert.ok(text.endsWith('\n'), 'log.jsonl ends with a whole line');
  return text.trimEnd().split('\n').map((l) => JSON.parse(l));
}

/** A log line without what depends on the machine's speed. */
function withoutTiming(rec: Record<string, any>): Record<string, any> {
  const { img_per_s: _r, elapsed_s: _e, ...rest } = rec;
  return rest;
}

function lastJson(r: Run): Record<string, any> {
  const line = r.stdout.trim().split('\n').at(-1)!;
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`last stdout line is not JSON: ${line}\nstderr:\n${r.stderr}`);
  }
}

test('--help documents every flag with its default', async () => {
  const r = await trainJs(['--help']);
  assert.is(r.code, 0);
  for (const name of Object.keys(FLAGS)) assert.ok(r.stdout.includes(`--${name}`), `--help lacks --${name}`);
  assert.ok(r.stdout.includes('(default: ifam)'));
});

test('robustvit --base-epochs 0 trains with the relevance losses from the initialisation, on the labels with --cls-target label', async () => {
  const r = await trainJs(['--method', 'robustvit', '--base-epochs', '0', '--cls-target', 'label', '--relevance-lr', '1e-3', '--name', 'rv-scratch', '--json', '--no-pictures', ...TINY]);
  assert.is(r.code, 0, r.stderr);
  const m = onlyJson(r);
  assert.is(m.config['cls-target'], 'label');
  assert.is(m.epochs, 1, 'no baseline phase');
  const log = stepLog(join(out, 'rv-scratch'));
  assert.equal(log.map((l) => l.phase), ['relevance', 'relevance']);
  for (const l of log) for (const k of ['loss_bg', 'loss_fg', 'loss_cls']) assert.ok(Number.isFinite(l[k]), `step ${l.step}: ${k} = ${l[k]}`);
});

test('more --classes make a pretraining set; --weights starts any method from its checkpoint, with the normalisation it was trained with', async () => {
  const pre = await trainJs(['--method', 'baseline', '--classes', 't-shirt,trouser,bag', '--name', 'pre3', '--json', '--no-pictures', ...RUN, '--train-size', '48', '--val-size', '24', '--test-size', '24']);
  assert.is(pre.code, 0, pre.stderr);
  const p = onlyJson(pre);
  assert.is(p.config.spec.numClasses, 3);
  assert.match(p.data, /^Fashion-MNIST pretraining set: t-shirt, trouser, bag on land\/water, background independent of the class/);
  const bad = await trainJs(['--classes', 't-shirt,trouser,bag', '--agreement', '0.9', ...TINY]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--agreement 0\.9: with 3 classes \(a pretraining set\) the background is independent of the class; leave --agreement out/);
  const twice = await trainJs(['--classes', 'bag,trouser,bag', ...TINY]);
  assert.is(twice.code, 2);
  assert.match(twice.stderr, /"bag" is named twice/);
  const preCkpt = join(out, 'pre3', 'checkpoint.safetensors');
  const normalizeOf = (path: string) => decodeSafetensors(readFileSync(path)).metadata['webfam.normalize'];
  for (const method of ['baseline', 'ifam']) {
    const r = await trainJs(['--method', method, '--weights', preCkpt, '--name', `from-pre3-${method}`, '--json', '--no-pictures', ...TINY]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`weights: loaded .*pre3/checkpoint\\.safetensors into ${method === 'ifam' ? 'stage1 and stage2' : 'the model'}`));
    assert.is(onlyJson(r).config.spec.numClasses, 2, 'a fresh two-class head');
    assert.is(normalizeOf(join(out, `from-pre3-${method}`, 'checkpoint.safetensors')), normalizeOf(preCkpt), 'the images are normalised as in pretraining');
  }
});

test('a mistyped flag is a usage error that suggests the right one', async () => {
  const r = await trainJs(['--epoch', '3']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown flag --epoch \(did you mean --epochs\?\)/);
  const r2 = await trainJs(['--lr', 'fast']);
  assert.is(r2.code, 2);
  assert.match(r2.stderr, /--lr needs a number, got "fast"/);
});

for (const method of ['baseline', 'ifam', 'robustvit']) {
  test(`${method}: a tiny run writes config, metrics, a line per step, checkpoint and pictures; --json prints only the metrics and config`, async () => {
    const r = await trainJs(['--method', method, '--name', method, '--json', ...TINY, ...(method === 'robustvit' ? ['--base-epochs', '1'] : [])]);
    assert.is(r.code, 0, r.stderr);
    const m = onlyJson(r);
    assert.match(r.stderr, /worst group/, 'the summary table goes to stderr');
    assert.match(r.stderr, /outputs in /);
    assert.is(m.config.method, method, 'the JSON carries the run\'s config');
    assert.is(m.config.name, method);
    assert.is(m.config.spec.method, method);
    assert.is(m.config['batch-size'], 16);
    assert.is(m.method, method);
    assert.is(m.epochs, method === 'robustvit' ? 2 : 1);
    for (const k of ['train_seconds', 'img_per_s']) assert.ok(m[k] > 0, `${k} = ${m[k]}`);
    assert.ok(m.test.avg_acc >= 0 && m.test.avg_acc <= 1);
    assert.ok(m.test.worst_group_acc <= m.test.avg_acc);
    assert.is(Object.keys(m.test.groups).length, 4);
    assert.ok(m.test.mask_miou > 0 && m.test.mask_miou <= 1, `mask mIoU ${m.test.mask_miou}`);
    const dir = join(out, method);
    for (const f of ['config.json', 'metrics.json', 'log.jsonl', 'checkpoint.safetensors', 'pictures/test-samples.png', 'pictures/curves.png']) {
      assert.ok(existsSync(join(dir, f)), `${f} missing`);
    }
    // One line per optimiser step (2 per epoch here), in order, with every loss term.
    const log = stepLog(dir);
    assert.equal(log.map((l) => l.step), Array.from({ length: m.steps }, (_, i) => i + 1));
    const phases = method === 'robustvit' ? ['baseline', 'baseline', 'relevance', 'relevance'] : ['train', 'train'];
    assert.equal(log.map((l) => l.phase), phases);
    assert.equal(log.map((l) => l.epoch), method === 'robustvit' ? [1, 1, 2, 2] : [1, 1]);
    const terms = { baseline: ['loss_ce'], ifam: ['loss_ce2', 'loss_ce1', 'loss_tv'], robustvit: ['loss_bg', 'loss_fg', 'loss_cls'] }[method]!;
    for (const l of log) {
      for (const k of ['loss', 'lr', 'img_per_s', 'elapsed_s']) assert.ok(typeof l[k] === 'number' && Number.isFinite(l[k]), `step ${l.step}: ${k} = ${l[k]}`);
      if (l.phase !== 'baseline') for (const k of terms) assert.type(l[k], 'number', `step ${l.step}: ${k}`);
    }
    for (let i = 1; i < log.length; i++) assert.ok(log[i]!.elapsed_s >= log[i - 1]!.elapsed_s, 'elapsed_s never goes back');
    // The epoch's mean loss in metrics.json is the mean of its steps' losses in the log.
    const first = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).epochs[0].train_loss;
    assert.ok(Math.abs((log[0]!.loss + log[1]!.loss) / 2 - first) < 1e-4 * Math.abs(first), `epoch 1: log says ${(log[0]!.loss + log[1]!.loss) / 2}, metrics.json ${first}`);
    const curves = decodePNG(readFileSync(join(dir, 'pictures', 'curves.png')));
    assert.equal([curves.width, curves.height], [960, 380]);
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    assert.is(metrics.final.test.avg_acc, m.test.avg_acc);
    const ck = decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')));
    assert.ok(ck.metadata['webfam.spec']);
    const ev = await trainJs(['--eval', join(dir, 'checkpoint.safetensors'), '--json', '--test-size', '16', '--quiet']);
    assert.is(ev.code, 0, ev.stderr);
    const e = onlyJson(ev);
    assert.is(e.test.avg_acc, m.test.avg_acc, '--eval reproduces the final test accuracy');
    assert.is(e.config.spec.method, method);
  });
}

test('--patch-size overrides the preset\'s patch: the checkpoint keeps it and --eval reproduces the run', async () => {
  const r = await trainJs(['--method', 'ifam', '--patch-size', '16', '--name', 'patch16', '--json', '--no-pictures', ...TINY]);
  assert.is(r.code, 0, r.stderr);
  const m = onlyJson(r);
  assert.is(m.config.spec.vit.patchSize, 16);
  assert.is(m.config.spec.vit.imageSize, 32);
  const ev = await trainJs(['--eval', join(out, 'patch16', 'checkpoint.safetensors'), '--json', '--test-size', '16', '--quiet']);
  assert.is(ev.code, 0, ev.stderr);
  const e = onlyJson(ev);
  assert.is(e.config.spec.vit.patchSize, 16);
  assert.is(e.test.avg_acc, m.test.avg_acc, '--eval reproduces the final test accuracy');
});

test('the default benchmark is learnable: a short run on balanced groups ends well above chance', async () => {
  // 128 steps of the small test model; 200 balanced test images, so chance is 50% ± 3.5.
  const r = await trainJs(['--method', 'baseline', '--agreement', '0.5', '--model', 'webfam_test', '--train-size', '1024', '--epochs', '2',
    '--val-size', '40', '--test-size', '200', '--out', out, '--quiet', '--no-pictures', '--json', '--name', 'learns']);
  assert.is(r.code, 0, r.stderr);
  const m = lastJson(r);
  assert.match(m.data, /^Fashion-MNIST sneaker vs ankle-boot on land\/water/);
  assert.ok(m.test.avg_acc > 0.65, `test accuracy ${m.test.avg_acc} after training on balanced groups`);
  assert.ok(m.test.train_weighted_acc > 0 && m.test.train_weighted_acc <= 1, 'the train-weighted average is reported');
});

test('without Fashion-MNIST the run stops, saying how to install it or to pick the synthetic benchmark', async () => {
  const r = await trainJs(['--fashion-dir', '/nonexistent/fashion', ...TINY, '--name', 'nodata']);
  assert.is(r.code, 2, r.stderr);
  const line = r.stderr.trim().split('\n').at(-1)!;
  assert.match(line, /^train\.js: the default benchmark needs Fashion-MNIST: .*\/nonexistent\/fashion\/train-images-idx3-ubyte\[\.gz\] not found/);
  assert.match(line, /apt-get install dataset-fashion-mnist/);
  assert.match(line, /--benchmark synthetic/);
  assert.not.ok(existsSync(join(out, 'nodata', 'checkpoint.safetensors')));
  const bad = await trainJs(['--classes', 'sneaker,boot', ...TINY, '--name', 'badclass']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--classes needs two or more different Fashion-MNIST classes .*"boot" is not one/);
  const both = await trainJs(['--benchmark', 'synthetic', '--data', '/tmp', ...TINY, '--name', 'both']);
  assert.is(both.code, 2);
  assert.match(both.stderr, /--benchmark and --data exclude each other/);
  const big = await trainJs([...TINY, '--test-size', '5000', '--name', 'bigtest']);
  assert.is(big.code, 2);
  assert.match(big.stderr, /--test-size 5000: test needs 2500 "sneaker" images, Fashion-MNIST's test set has 1000/);
});

test('--select val-worst tests the epoch with the best validation worst-group accuracy, kept as best.safetensors', async () => {
  const r = await trainJs(['--method', 'baseline', '--name', 'select', '--select', 'val-worst', '--seed', '1', '--json', ...TINY, '--epochs', '3', '--no-pictures']);
  assert.is(r.code, 0, r.stderr);
  const m = lastJson(r);
  const history = JSON.parse(readFileSync(join(out, 'select', 'metrics.json'), 'utf8')).epochs as { val_worst_group_acc: number; val_avg_acc: number }[];
  assert.is(history.length, 3);
  // The expected epoch, from the per-epoch validation figures: best worst group, then best average, then earliest.
  let expected = 0;
  history.forEach((e, i) => {
    const b = history[expected]!;
    if (e.val_worst_group_acc > b.val_worst_group_acc || (e.val_worst_group_acc === b.val_worst_group_acc && e.val_avg_acc > b.val_avg_acc)) expected = i;
  });
  assert.equal(m.selected, { by: 'val-worst', epoch: expected + 1, checkpoint: join(out, 'select', 'best.safetensors') });
  assert.equal(m.val, { ...history[expected], ...m.val });
  // The reported test figures are the best checkpoint's, and the last epoch stays in checkpoint.safetensors.
  const ev = await trainJs(['--eval', m.selected.checkpoint, '--json', '--test-size', '16', '--quiet']);
  assert.is(ev.code, 0, ev.stderr);
  assert.equal(lastJson(ev).test.groups, m.test.groups);
  const best = decodeSafetensors(readFileSync(m.selected.checkpoint));
  assert.is(JSON.parse(best.metadata['webfam.progress']!).epoch, expected + 1);
  const last = decodeSafetensors(readFileSync(join(out, 'select', 'checkpoint.safetensors')));
  assert.is(JSON.parse(last.metadata['webfam.progress']!).epoch, 3);
});

test('resuming an interrupted run gives exactly the metrics and weights of an uninterrupted one', async () => {
  const common = ['--method', 'ifam', '--seed', '3', '--json', ...TINY, '--epochs', '2'];
  const full = await trainJs([...common, '--name', 'full']);
  assert.is(full.code, 0, full.stderr);
  const half = await trainJs([...common, '--name', 'halves', '--stop-after', '1']);
  assert.is(half.code, 0, half.stderr);
  // What a kill after the checkpoint leaves in the log: later steps and a torn line. Resuming cuts them.
  const logPath = join(out, 'halves', 'log.jsonl');
  assert.is(stepLog(join(out, 'halves')).length, 2, 'the first half logged its two steps');
  appendFileSync(logPath, '{"step":3,"epoch":2,"phase":"train","loss":123}\n{"step":4,"ep');
  const rest = await trainJs([...common, '--name', 'halves', '--resume']);
  assert.is(rest.code, 0, rest.stderr);
  const a = lastJson(full).test, b = lastJson(rest).test;
  assert.equal(b, a);
  assert.equal(stepLog(join(out, 'halves')).map(withoutTiming), stepLog(join(out, 'full')).map(withoutTiming), 'the resumed run\'s log equals the uninterrupted one\'s, step by step');
  const ca = decodeSafetensors(readFileSync(join(out, 'full', 'checkpoint.safetensors')));
  const cb = decodeSafetensors(readFileSync(join(out, 'halves', 'checkpoint.safetensors')));
  for (const [k, t] of Object.entries(ca.tensors)) {
    const u = cb.tensors[k]!;
    assert.ok(u && t.data.every((v, i) => Object.is(v, u.data[i])), `${k} differs after resume`);
  }
});

test('Ctrl-C saves a checkpoint and exits; starting again without --resume refuses to overwrite it', async () => {
  let sent = false;
  const r = await trainJs(['--method', 'baseline', '--name', 'interrupted', ...TINY, '--train-size', '256', '--no-quiet'], {
    onStderr: (text, kill) => {
      if (!sent && /epoch 1\/1 \S* *[1-9]/.test(text)) {
        sent = true;
        kill('SIGINT');
      }
    },
  });
  assert.ok(sent, `never saw progress:\n${r.stderr}`);
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, /--resume/);
  assert.ok(existsSync(join(out, 'interrupted', 'checkpoint.safetensors')));
  const again = await trainJs(['--method', 'baseline', '--name', 'interrupted', ...TINY]);
  assert.is(again.code, 2);
  assert.match(again.stderr, /already holds a run/);
});

test('without sharp (an optional peer dependency) the CLI still trains and draws its pictures with the bitmap font', async () => {
  const r = await trainJs(['--method', 'ifam', '--name', 'nosharp', '--json', ...TINY], { nodeArgs: ['--import', './test/fixtures/hide-sharp.mjs'] });
  assert.is(r.code, 0, r.stderr);
  onlyJson(r);
  assert.match(r.stderr, /pictures: drawn with the built-in bitmap font/);
  for (const f of ['curves.png', 'test-samples.png']) {
    const img = decodePNG(readFileSync(join(out, 'nosharp', 'pictures', f)));
    assert.ok(img.width > 300 && img.height > 300, `${f} is ${img.width}×${img.height}`);
  }
});

test('a diverging loss stops the run with a clear message and keeps the last good checkpoint', async () => {
  const r = await trainJs(['--method', 'baseline', '--name', 'nan', ...TINY, '--epochs', '3', '--lr', '1e30', '--clip', '0', '--warmup-epochs', '0']);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /loss became (NaN|Infinity|-Infinity)/);
});

function writeFolder(dir: string, rows: string[], files: string[]): void {
  const img = { width: 8, height: 8, channels: 3 as const, data: new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) % 256) };
  for (const f of files) writeFileSync(join(dir, f), encodePNG(img));
  writeFileSync(join(dir, 'metadata.csv'), ['img_id,img_filename,y,split,place', ...rows].join('\n') + '\n');
}

test('bad data fails before training, naming the file and line; --skip-bad skips and reports it', async () => {
  const dir = mkdtempSync(join(out, 'folder-'));
  const files: string[] = [];
  const rows: string[] = [];
  for (let i = 0; i < 24; i++) {
    const f = `img${i}.png`;
    files.push(f);
    rows.push(`${i},${f},${i % 2},${i < 12 ? 0 : i < 18 ? 1 : 2},${(i >> 1) % 2}`);
  }
  rows.push('24,missing.png,1,0,1');
  writeFolder(dir, rows, files);
  const r = await trainJs(['--data', dir, '--method', 'baseline', ...RUN, '--name', 'bad']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /missing\.png/);
  assert.match(r.stderr, /line 26/);
  const s = await trainJs(['--data', dir, '--method', 'baseline', ...RUN, '--batch-size', '4', '--name', 'skip', '--skip-bad', '--json']);
  assert.is(s.code, 0, s.stderr);
  assert.match(s.stderr, /skipped 1/i);
});

test.run();
