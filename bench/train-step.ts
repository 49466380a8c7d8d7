// Training-step benchmark: one full step (forward, backward, AdamW) of the same ViT classifier in
// webfam, jax-js and TensorFlow.js, on the same adapter, in one process, from the same initial
// weights and batch; loss curves compared. PyTorch on the CPU runs beside them (in a Python process
// driven step by step) as the native reference a CPU-only user would otherwise pick. `node dist/bench/train-step.js --help` for options.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../src/io/files.js';
import { join } from 'node:path';
import { installNavigatorGpu, installedVersion, machineLoad, type LoadSample } from './lib/env.js';
import { median } from './lib/measure.js';
import type { AdapterSummary } from './peers/types.js';
import type { HostParams, StepSpec, TrainCase, TrainPeer } from './peers/vit-common.js';
import { vitWebfamPeer, webfamInitialParams } from './peers/vit-webfam.js';
import { vitJaxPeer } from './peers/vit-jax.js';
import { vitTfjsPeer } from './peers/vit-tfjs.js';
import { vitTorchPeer } from './peers/vit-torch.js';
import { syntheticDataset } from '../src/data/synthetic.js';
import { forwardFlops, vitConfig, PRESETS, type PresetName, type ViTConfig } from '../src/vit/config.js';

const HELP = `Usage: node dist/bench/train-step.js [options]      (or: npm run bench:step -- [options])

Times one training step (forward, backward, AdamW) of a ViT classifier in webfam, jax-js and
TensorFlow.js on the same WebGPU adapter, and in PyTorch on the CPU (/usr/bin/python3 with
python3-torch; WEBFAM_PYTHON names another interpreter), from the same weights and batch, compares
their loss curves, and writes bench/results/train-step-<date>-<tag>.{json,md}.

  --config <name>    a preset of src/vit/config.ts (default webfam_small: 64 px, patch 8, width 192,
                     depth 4, 3 heads), or dinov2_s224 (ViT-S/14 reg4 at 224 px); always 2 classes
  --image <px>       image size (default the config's)
  --batch <n>        batch size (default 32)
  --steps <n>        steps for every library (default 5); the first is the warm-up (compiles)
  --webfam-steps <n> steps for webfam (default 10, at least --steps)
  --peers <list>     libraries (default webfam,jax-js,tfjs,torch; webfam always runs: it makes the weights)
  --lr <x>           AdamW learning rate (default 1e-3; betas 0.9, 0.999, eps 1e-8, decay 0.01)
  --seed <n>         weight and data seed (default 0)
  --no-fuse          webfam without elementwise fusion (init({ fuse: false })): one kernel per op
  --out <dir>        where the results go (default bench/results)
  --tag <name>       file-name tag for the adapter (default from the adapter, e.g. lavapipe)
  --json             print the report as one JSON line on stdout (progress goes to stderr)
  --no-write         do not write result files
  --help             this text
`;

const log = (...args: unknown[]): void => console.error(...args);
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface Args {
  config: string; image?: number; batch: number; steps: number; webfamSteps: number; peers: string[];
  lr: number; seed: number; out: string; tag?: string; json: boolean; write: boolean; help: boolean; fuse: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { config: 'webfam_small', batch: 32, steps: 5, webfamSteps: 10, peers: ['webfam', 'jax-js', 'tfjs', 'torch'], lr: 1e-3, seed: 0, out: 'bench/results', json: false, write: true, help: false, fuse: true };
  const num = (flag: string, v: string | undefined, int = true): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || (int && (!Number.isInteger(x) || x < 1))) throw new Error(`${flag} needs a ${int ? 'positive integer' : 'number'}, got ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const v = (): string | undefined => argv[++i];
    if (f === '--config') a.config = v() ?? '';
    else if (f === '--image') a.image = num(f, v());
    else if (f === '--batch') a.batch = num(f, v());
    else if (f === '--steps') a.steps = num(f, v());
    else if (f === '--webfam-steps') a.webfamSteps = num(f, v());
    else if (f === '--peers') a.peers = (v() ?? '').split(',').filter(Boolean);
    else if (f === '--lr') a.lr = num(f, v(), false);
    else if (f === '--seed') a.seed = num(f, v(), false);
    else if (f === '--out') a.out = v() ?? a.out;
    else if (f === '--tag') a.tag = v();
    else if (f === '--json') a.json = true;
    else if (f === '--no-write') a.write = false;
    else if (f === '--no-fuse') a.fuse = false;
    else if (f === '--help' || f === '-h') a.help = true;
    else throw new Error(`unknown option ${f} (--help lists them)`);
  }
  const known = ['webfam', 'jax-js', 'tfjs', 'torch'];
  for (const p of a.peers) if (!known.includes(p)) throw new Error(`--peers: unknown library ${p} (known: ${known.join(', ')})`);
  if (!a.peers.includes('webfam')) a.peers.unshift('webfam');
  a.webfamSteps = Math.max(a.webfamSteps, a.steps);
  return a;
}

/** The ViT of a --config name, with 2 classes. */
function configFor(name: string, image?: number): ViTConfig {
  const aliases: Record<string, [PresetName, Partial<ViTConfig>]> = {
    dinov2_s224: ['vit_small_patch14_reg4_dinov2', { imageSize: 224 }],
    dinov2_b224: ['vit_base_patch14_reg4_dinov2', { imageSize: 224 }],
  };
  const [preset, extra] = aliases[name] ?? [name as PresetName, {}];
  if (!(preset in PRESETS)) throw new Error(`--config: unknown ${name} (presets: ${Object.keys(PRESETS).join(', ')}, ${Object.keys(aliases).join(', ')})`);
  return vitConfig(preset, { ...extra, numClasses: 2, dropPath: 0, ...(image ? { imageSize: image } : {}) });
}

function adapterTag(a: AdapterSummary): string {
  if (/llvmpipe|lavapipe/i.test(`${a.description} ${a.device ?? ''}`)) return 'lavapipe';
  const slug = `${a.vendor}-${a.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return slug || 'unknown-adapter';
}

interface StepRecord { ms: number; loss: number; load1: number }

interface PeerResult {
  status: 'ok' | 'error';
  error?: string;
  version: string;
  note?: string;
  adapter?: AdapterSummary;
  steps: StepRecord[];
  /** Median ms of the steps after the first (warm-up). */
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  firstStepMs?: number;
  imagesPerSec?: number;
  gflops?: number;
  memory?: Record<string, number>;
  /** webfam: 1; peers: peer median / webfam median (above 1 = webfam faster). */
  webfamSpeedup?: number;
  /** max over the compared steps of |loss − webfam's| / |webfam's|. */
  lossMaxRelDiff?: number;
  /** ‖θ − θ_webfam‖ / ‖θ_webfam − θ₀‖ after the compared steps: 0 = same trajectory. */
  paramRelDiff?: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const started = performance.now();
  const startLoad = machineLoad();
  const config = configFor(args.config, args.image);
  const B = args.batch;
  const flops = 3 * B * forwardFlops(config);
  log(`train-step: ${args.config} (${config.imageSize} px, patch ${config.patchSize}, width ${config.embedDim}, depth ${config.depth}, ${config.numHeads} heads), batch ${B}; ${(flops / 1e9).toFixed(1)} GFLOP/step; load ${startLoad.loadavg.join(' ')} on ${startLoad.cpus} CPUs`);

  // navigator.gpu first: the peers look for it when they are imported.
  await installNavigatorGpu();
  const webfamVersion = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  const makers: Record<string, () => TrainPeer> = {
    webfam: () => vitWebfamPeer(args.fuse ? webfamVersion : `${webfamVersion} (fusion off)`, { fuse: args.fuse }),
    'jax-js': () => vitJaxPeer(installedVersion('@jax-js/jax')),
    tfjs: () => vitTfjsPeer(`core ${installedVersion('@tensorflow/tfjs-core')}, webgpu ${installedVersion('@tensorflow/tfjs-backend-webgpu')}`),
    torch: () => vitTorchPeer(),
  };
  const results: Record<string, PeerResult> = {};
  const peers: TrainPeer[] = [];
  for (const name of args.peers) {
    const peer = makers[name]!();
    results[name] = { status: 'ok', version: peer.version, steps: [] };
    try {
      results[name]!.adapter = await peer.init();
      peers.push(peer);
      log(`  ${name} ${peer.version}: ${results[name]!.adapter!.description}`);
    } catch (e) {
      Object.assign(results[name]!, { status: 'error', error: `init: ${errorText(e)}` });
      log(`  ${name}: could not start (${errorText(e)})`);
    }
  }
  if (!peers.some((p) => p.name === 'webfam')) throw new Error(`webfam could not start: ${results.webfam?.error}`);

  // Same weights (webfam's initialisation) and the same batch (the synthetic shapes data set).
  const initial = await webfamInitialParams(config, args.seed);
  const data = syntheticDataset({ split: 'train', size: B, imageSize: config.imageSize, seed: args.seed });
  const batch = data.batch(Array.from({ length: B }, (_, i) => i), 'imagenet');
  const spec: StepSpec = { config, batch: B, images: batch.images, labels: Array.from(batch.labels), opt: { lr: args.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } };
  const numParams = Object.values(initial).reduce((n, p) => n + p.data.length, 0);

  const live: { peer: TrainPeer; c: TrainCase; steps: number }[] = [];
  for (const peer of peers) {
    try {
      live.push({ peer, c: await peer.prepare(spec, initial), steps: peer.name === 'webfam' ? args.webfamSteps : args.steps });
      results[peer.name]!.note = live.at(-1)!.c.note;
      results[peer.name]!.version = peer.version;
    } catch (e) {
      Object.assign(results[peer.name]!, { status: 'error', error: `prepare: ${errorText(e)}` });
      log(`  ${peer.name}: prepare failed (${errorText(e)})`);
    }
  }

  // Rounds: one step per library per round, rotating who goes first, so load changes hit all.
  // After the last compared step every library's parameters are read back (not timed).
  const compared = args.steps;
  const paramsAt: Record<string, HostParams> = {};
  const rounds = Math.max(0, ...live.map((l) => l.steps));
  for (let r = 0; r < rounds; r++) {
    const k = r % Math.max(1, live.length);
    for (const l of [...live.slice(k), ...live.slice(0, k)]) {
      if (l.steps <= r) continue;
      const res = results[l.peer.name]!;
      try {
        const load1 = machineLoad().loadavg[0];
        const t0 = performance.now();
        await l.c.step();
        const ms = performance.now() - t0;
        const loss = await l.c.lastLoss();
        res.steps.push({ ms, loss, load1 });
        log(`  step ${r} ${l.peer.name.padEnd(7)} ${ms.toFixed(0).padStart(7)} ms  loss ${loss.toFixed(6)}  (load ${load1})`);
        if (r === compared - 1) paramsAt[l.peer.name] = await l.c.params();
      } catch (e) {
        Object.assign(res, { status: 'error', error: `step ${r}: ${errorText(e)}` });
        log(`  ${l.peer.name}: step ${r} failed (${errorText(e)})`);
        try { l.c.dispose(); } catch { /* already broken */ }
        live.splice(live.indexOf(l), 1);
      }
    }
  }

  for (const l of live) {
    results[l.peer.name]!.memory = l.c.memory();
    l.c.dispose();
  }
  summarise(results, flops, B, compared, initial, paramsAt);
  const endLoad = machineLoad();
  const totalSec = (performance.now() - started) / 1e3;

  // PyTorch runs on the CPU by design; "same adapter" is about the WebGPU libraries.
  const adapters = Object.entries(results).filter(([name]) => name !== 'torch').map(([, r]) => r.adapter).filter((a): a is AdapterSummary => !!a);
  const adapter = results.webfam!.adapter!;
  const report = {
    suite: 'train-step',
    date: new Date().toISOString(),
    adapter,
    sameAdapter: adapters.every((a) => a.vendor === adapter.vendor && a.architecture === adapter.architecture && a.description === adapter.description),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    config: { name: args.config, ...config },
    batch: B,
    numParams,
    flopsPerStep: flops,
    optimizer: { name: 'AdamW (decoupled decay on every parameter)', ...spec.opt },
    options: { steps: args.steps, webfamSteps: args.webfamSteps, seed: args.seed, fuse: args.fuse },
    load: { start: startLoad, end: endLoad },
    totalSec,
    notes: [
      'Same initial weights (webfam\'s seeded initialisation, read back and loaded into the peers) and the same batch (synthetic shapes, ImageNet-normalised) for every library; the batch is reused every step.',
      'Each step is timed from issuing it to the GPU being done with it (webfam sync(); jax-js blockUntilReady on new params, moments and loss; TF.js submit + queue.onSubmittedWorkDone()); the loss read-back is not timed. The first step (shader compiles, jit tracing) is the warm-up and is not in the median.',
      'Steps are taken in rounds, one per library per round, rotating who goes first.',
      'GFLOP/s counts 3 × forwardFlops(config) × batch (matmuls and attention; backward taken as twice the forward).',
      'bufferPeakBytes: high-water mark of bytes in GPU buffers the library created on its device (pools included), counted by wrapping createBuffer/destroy after the library\'s init. webfam peakLiveBytes: its own memory().peakBytes (live tensors) over a step.',
      'On lavapipe the "GPU" is the CPU, shared with other work: see the load averages. First steps are mostly shader compiles (LLVM), so they depend on Mesa\'s on-disk shader cache being warm from earlier runs.',
    ],
    results,
  };

  if (args.write) {
    const suffix = (args.config === 'webfam_small' && !args.image && B === 32 ? '' : `-${args.config}${args.image ? `-${args.image}px` : ''}${B === 32 ? '' : `-b${B}`}`) + (args.fuse ? '' : '-nofuse');
    const base = `train-step-${report.date.slice(0, 10)}-${args.tag ?? adapterTag(adapter)}${suffix}`;
    mkdirSync(args.out, { recursive: true });
    const files: string[] = [];
    for (const [ext, text] of [['json', JSON.stringify(report, null, 2) + '\n'], ['md', markdown(report)]] as const) {
      const path = join(args.out, `${base}.${ext}`);
      await writeFileAtomic(path, text);
      files.push(path);
    }
    log(`wrote ${files.join(', ')}`);
  }
  if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  log(`done in ${totalSec.toFixed(0)} s`);
}

/** Medians, rates, ratios to webfam, and agreement with webfam's losses and parameters. */
function summarise(results: Record<string, PeerResult>, flops: number, B: number, compared: number, initial: HostParams, paramsAt: Record<string, HostParams>): void {
  for (const r of Object.values(results)) {
    if (r.steps.length === 0) continue;
    r.firstStepMs = r.steps[0]!.ms;
    const timed = r.steps.slice(1).map((s) => s.ms);
    if (timed.length === 0) continue;
    r.medianMs = median(timed);
    r.minMs = Math.min(...timed);
    r.maxMs = Math.max(...timed);
    r.imagesPerSec = B / (r.medianMs / 1e3);
    r.gflops = flops / (r.medianMs / 1e3) / 1e9;
  }
  const mine = results.webfam!;
  for (const r of Object.values(results)) {
    if (r.medianMs !== undefined && mine.medianMs !== undefined) r.webfamSpeedup = r.medianMs / mine.medianMs;
    const n = Math.min(compared, r.steps.length, mine.steps.length);
    if (n > 0) r.lossMaxRelDiff = Math.max(...r.steps.slice(0, n).map((s, i) => Math.abs(s.loss - mine.steps[i]!.loss) / Math.abs(mine.steps[i]!.loss)));
  }
  const ref = paramsAt.webfam;
  if (!ref) return;
  for (const [name, p] of Object.entries(paramsAt)) {
    let diff = 0, moved = 0;
    for (const [k, q] of Object.entries(ref)) {
      const a = p[k]!.data, b = q.data, z = initial[k]!.data;
      for (let i = 0; i < b.length; i++) {
        diff += (a[i]! - b[i]!) ** 2;
        moved += (b[i]! - z[i]!) ** 2;
      }
    }
    results[name]!.paramRelDiff = Math.sqrt(diff / moved);
  }
}

type Report = {
  date: string; adapter: AdapterSummary; sameAdapter: boolean; config: ViTConfig & { name: string }; batch: number; numParams: number;
  flopsPerStep: number; optimizer: Record<string, unknown>; options: { steps: number }; load: { start: LoadSample; end: LoadSample }; totalSec: number;
  node: string; notes: string[]; results: Record<string, PeerResult>;
};

const mib = (b?: number): string => (b === undefined || !Number.isFinite(b) ? '–' : `${(b / 2 ** 20).toFixed(1)} MiB`);
const num = (x: number | undefined, d = 1): string => (x === undefined ? '–' : x.toFixed(d));

function markdown(rep: Report): string {
  const c = rep.config, names = Object.keys(rep.results);
  const L: string[] = [];
  L.push(`# Training-step benchmark — ${rep.date.slice(0, 10)}`, '');
  L.push(`ViT classifier \`${c.name}\`: ${c.imageSize} px, patch ${c.patchSize}, width ${c.embedDim}, depth ${c.depth}, ${c.numHeads} heads, MLP ×${c.mlpRatio} (exact GELU), pre-norm, LayerNorm ε ${c.normEps.toExponential()}, CLS token + learned position embeddings${c.regTokens ? `, ${c.regTokens} registers` : ''}${c.layerScale ? `, LayerScale ${c.layerScale}` : ''}, final norm, linear head; ${c.numClasses} classes, batch ${rep.batch}, cross-entropy; ${(rep.numParams / 1e6).toFixed(2)} M parameters; AdamW lr ${rep.optimizer.lr}, betas (${rep.optimizer.beta1}, ${rep.optimizer.beta2}), eps ${rep.optimizer.eps}, weight decay ${rep.optimizer.weightDecay}.`, '');
  L.push(`Adapter: **${rep.adapter.description || rep.adapter.vendor}** (${rep.adapter.vendor}, ${rep.adapter.architecture})${rep.sameAdapter ? ', the same for every WebGPU library (PyTorch runs on the CPU)' : ' — **libraries reported different adapters** (see the JSON)'}. Node ${rep.node}. ${(rep.flopsPerStep / 1e9).toFixed(1)} GFLOP per step (3 × forward, matmuls and attention).`, '');
  L.push(`Load average (1/5/15 min, ${rep.load.start.cpus} CPUs): ${rep.load.start.loadavg.join(' / ')} at the start, ${rep.load.end.loadavg.join(' / ')} at the end; run took ${rep.totalSec.toFixed(0)} s.`, '');
  L.push('| library | ms/step (median) | min–max ms | steps timed | images/s | GFLOP/s | first step ms | peer time / webfam time | GPU buffers peak | loss vs webfam (max rel) | params vs webfam |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const n of names) {
    const r = rep.results[n]!;
    if (r.status !== 'ok') {
      L.push(`| ${n} ${r.version} | error: ${r.error?.split('\n')[0]} | | | | | | | | | |`);
      continue;
    }
    const ratio = n === 'webfam' ? '1' : r.webfamSpeedup !== undefined ? `**${r.webfamSpeedup.toFixed(2)}×**` : '–';
    const rel = (x?: number): string => (n === 'webfam' ? '–' : x === undefined ? '–' : x.toExponential(1));
    L.push(`| ${n} ${r.version} | ${num(r.medianMs, 0)} | ${num(r.minMs, 0)}–${num(r.maxMs, 0)} | ${Math.max(0, r.steps.length - 1)} | ${num(r.imagesPerSec, 2)} | ${num(r.gflops, 2)} | ${num(r.firstStepMs, 0)} | ${ratio} | ${mib(r.memory?.bufferPeakBytes)} | ${rel(r.lossMaxRelDiff)} | ${rel(r.paramRelDiff)} |`);
  }
  L.push('', '"peer time / webfam time" above 1 means webfam is that many times faster. "params vs webfam" is ‖θ − θ_webfam‖ / ‖θ_webfam − θ₀‖ after the compared steps.', '');

  L.push(`## Loss curves (same weights, same batch every step)`, '');
  L.push(`| step | ${names.join(' | ')} |`, `| ---: | ${names.map(() => '---:').join(' | ')} |`);
  const steps = Math.max(...names.map((n) => rep.results[n]!.steps.length));
  for (let i = 0; i < steps; i++) L.push(`| ${i} | ${names.map((n) => rep.results[n]!.steps[i]?.loss.toFixed(6) ?? '').join(' | ')} |`);
  L.push('');

  L.push('## Memory', '');
  const mem = rep.results.webfam?.memory;
  if (mem) L.push(`- webfam: peak live tensors during a step ${mib(mem.peakLiveBytes)} (\`memory().peakBytes\` after \`resetPeakMemory()\`); after the run ${mib(mem.liveBytes)} live + ${mib(mem.pooledBytes)} pooled; GPU buffers peak ${mib(mem.bufferPeakBytes)}.`);
  const tm = rep.results.tfjs?.memory;
  if (tm) L.push(`- tfjs: \`tf.memory()\` after the run: ${mib(tm.tensorBytes)} in tensors, ${mib(tm.allocatedInGpuBytes)} allocated on the GPU (numBytesAllocatedInGPU, pool included); GPU buffers peak ${mib(tm.bufferPeakBytes)}.`);
  const jm = rep.results['jax-js']?.memory;
  if (jm) L.push(`- jax-js exposes no memory statistics; GPU buffers peak ${mib(jm.bufferPeakBytes)}.`);
  const pm = rep.results.torch?.memory;
  if (pm) L.push(`- torch (CPU): peak resident set of its Python process ${mib(pm.processPeakRssBytes)} (interpreter and libraries included; not comparable with GPU buffer figures).`);
  L.push('');

  L.push('## How each library runs the step', '');
  for (const n of names) if (rep.results[n]!.note) L.push(`- **${n}**: ${rep.results[n]!.note}`);
  L.push('', '## Per step (ms, 1-minute load when the step began)', '');
  L.push(`| step | ${names.join(' | ')} |`, `| ---: | ${names.map(() => '---:').join(' | ')} |`);
  for (let i = 0; i < steps; i++) L.push(`| ${i} | ${names.map((n) => { const s = rep.results[n]!.steps[i]; return s ? `${s.ms.toFixed(0)} (${s.load1})` : ''; }).join(' | ')} |`);
  L.push('', '## Notes', '', ...rep.notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}

main().then(
  // Dawn and the peers' devices can keep the event loop alive: leave explicitly.
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(`train-step: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    process.exit(1);
  },
);
