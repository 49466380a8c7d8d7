// Kernel benchmark: every op of the op-case registry (test/cases/) timed in webfam, next to jax-js
// and TensorFlow.js on the same WebGPU adapter for the workloads they have, in one process, on the
// same random inputs, each output checked against the op's float64 reference. `npm run bench -- --help` lists the options; results go
// to bench/results/ (see bench/README.md for how to read them).
import { parseArgs, selectWorkloads, HELP } from './lib/args.js';
import { countDispatches, installNavigatorGpu, installedVersion, machineLoad } from './lib/env.js';
import { median, sample, warmUp, type SamplePlan, type TimingPlan } from './lib/measure.js';
import { writeReport, type PeerOutcome, type RunReport, type WorkloadResult } from './lib/report.js';
import { CASES, workload, type WorkloadSpec } from './lib/workloads.js';
import { jaxPeer } from './peers/jax.js';
import { tfjsPeer } from './peers/tfjs.js';
import { Unavailable, type AdapterSummary, type Peer, type PreparedCase } from './peers/types.js';
import { webfamPeer } from './peers/webfam.js';
import { createRequire } from 'node:module';

const log = (...args: unknown[]): void => console.error(...args);

/** Memory the outputs of one sample may hold at once (webfam and jax-js keep them all to the end). */
const OUTPUTS_PER_SAMPLE_BYTES = 1 << 30;

function webfamVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** A file-name tag for the adapter: `lavapipe` for Mesa's software Vulkan, else vendor-architecture. */
function adapterTag(a: AdapterSummary): string {
  if (/llvmpipe|lavapipe/i.test(`${a.description} ${a.device ?? ''}`)) return 'lavapipe';
  if (/swiftshader/i.test(`${a.description} ${a.device ?? ''}`)) return 'swiftshader';
  const slug = `${a.vendor}-${a.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return slug || 'unknown-adapter';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface LiveCase {
  peer: Peer;
  prepared: PreparedCase;
  dispatches: number;
  plan: SamplePlan;
  samples: number[];
}

/**
 * Runs one workload on every library: prepare and warm up each, then take the samples in rounds
 * (one sample per library per round, rotating who goes first), then check each output.
 */
async function runWorkload(spec: WorkloadSpec, peers: (Peer | string)[], basePlan: TimingPlan): Promise<Record<string, PeerOutcome>> {
  // webfam and jax-js keep every output of a sample alive until the GPU is done: bound that memory.
  const plan = { ...basePlan, maxIters: Math.max(1, Math.min(basePlan.maxIters, Math.floor(OUTPUTS_PER_SAMPLE_BYTES / spec.outputBytes))) };
  const outcomes: Record<string, PeerOutcome> = {};
  const live: LiveCase[] = [];
  const fail = (c: LiveCase, e: unknown): void => {
    outcomes[c.peer.name] = { status: 'error', reason: errorText(e) };
    c.prepared.dispose();
    live.splice(live.indexOf(c), 1);
  };
  for (const peer of peers) {
    // A peer that did not start, or has no counterpart of this op: no entry ('–' in the tables).
    if (typeof peer === 'string' || (peer.name !== 'webfam' && !spec.peer)) continue;
    let prepared: PreparedCase;
    try {
      prepared = await peer.prepare(spec);
    } catch (e) {
      outcomes[peer.name] = { status: e instanceof Unavailable ? 'unavailable' : 'error', reason: errorText(e) };
      continue;
    }
    const c: LiveCase = { peer, prepared, dispatches: NaN, plan: { iters: 1, samples: 0, firstCallSec: NaN }, samples: [] };
    live.push(c);
    try {
      c.dispatches = await countDispatches(() => prepared.run(1));
      c.plan = await warmUp(prepared, plan);
    } catch (e) {
      fail(c, e);
    }
  }
  const rounds = Math.max(0, ...live.map((c) => c.plan.samples));
  for (let r = 0; r < rounds; r++) {
    const order = [...live.slice(r % Math.max(1, live.length)), ...live.slice(0, r % Math.max(1, live.length))];
    for (const c of order) {
      if (c.plan.samples <= r || !live.includes(c)) continue;
      try {
        c.samples.push(...(await sample(`${c.peer.name} ${spec.id}`, c.prepared, c.plan.iters, 1)));
      } catch (e) {
        fail(c, e);
      }
    }
  }
  for (const c of [...live]) {
    try {
      const check = spec.check(await c.prepared.output());
      const t = median(c.samples);
      outcomes[c.peer.name] = {
        status: 'ok',
        note: c.prepared.note,
        dispatches: c.dispatches,
        medianMs: t * 1e3,
        minMs: Math.min(...c.samples) * 1e3,
        maxMs: Math.max(...c.samples) * 1e3,
        samplesMs: c.samples.map((s) => s * 1e3),
        iters: c.plan.iters,
        firstCallMs: c.plan.firstCallSec * 1e3,
        ...(spec.flops !== undefined ? { gflops: spec.flops / t / 1e9 } : {}),
        gbps: spec.bytes / t / 1e9,
        check,
      };
      c.prepared.dispose();
    } catch (e) {
      fail(c, e);
    }
  }
  return outcomes;
}

function describe(o: PeerOutcome): string {
  if (o.status !== 'ok') return `${o.status}: ${o.reason.split('\n')[0]}`;
  const rate = o.gflops !== undefined ? `${o.gflops.toFixed(2)} GFLOP/s` : `${o.gbps.toFixed(2)} GB/s`;
  return `${rate}, median ${o.medianMs.toFixed(2)} ms (${o.samplesMs.length}×${o.iters}), ${o.dispatches} dispatches, check ${o.check.ok ? 'ok' : `FAIL (${o.check.worst.toPrecision(3)})`}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const workloads = selectWorkloads(CASES, args);
  const plan: TimingPlan = {
    budgetSec: args.budgetSec,
    minSamples: args.samples ?? 3,
    maxSamples: args.samples ?? (args.quick ? 5 : 10),
    minCallSec: 0.05,
    // Large enough that a fast GPU's samples are not mostly the wait for the GPU.
    maxIters: 1000,
  };
  const started = performance.now();
  const startLoad = machineLoad();
  log(`kernels: ${workloads.length} workloads × [${args.peers.join(', ')}]; load ${startLoad.loadavg.join(' ')} on ${startLoad.cpus} CPUs`);

  // navigator.gpu first: the peers look for it when they are imported.
  await installNavigatorGpu(args.dawnFlags);
  const makers: Record<string, () => Peer> = {
    webfam: () => webfamPeer(webfamVersion()),
    'jax-js': () => jaxPeer(installedVersion('@jax-js/jax')),
    tfjs: () => tfjsPeer(`core ${installedVersion('@tensorflow/tfjs-core')}, webgpu ${installedVersion('@tensorflow/tfjs-backend-webgpu')}`),
  };
  const peers: Peer[] = [];
  const adapters: RunReport['adapters'] = {};
  const peerFailures: Record<string, string> = {};
  for (const name of args.peers) {
    const peer = makers[name]!();
    try {
      adapters[name] = await peer.init();
      peers.push(peer);
      log(`  ${name} ${peer.version}: ${adapters[name]!.description || adapters[name]!.vendor}`);
    } catch (e) {
      peerFailures[name] = errorText(e);
      adapters[name] = { error: peerFailures[name]! };
      log(`  ${name}: could not start (${peerFailures[name]})`);
    }
  }
  const okAdapters = Object.values(adapters).filter((a): a is AdapterSummary => !('error' in a));
  const adapter = (adapters.webfam && !('error' in adapters.webfam) ? adapters.webfam : okAdapters[0]) ?? { vendor: '?', architecture: '?', description: 'no adapter' };
  const sameAdapter = okAdapters.every((a) => a.vendor === adapter.vendor && a.architecture === adapter.architecture && a.description === adapter.description);

  const report: RunReport = {
    suite: 'kernels',
    date: new Date().toISOString(),
    adapter,
    adapters,
    sameAdapter,
    versions: Object.fromEntries(args.peers.map((n) => [n, peers.find((p) => p.name === n)?.version ?? makers[n]!().version])),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    options: { quick: args.quick, only: args.only, skip: args.skip, samples: args.samples ?? 'auto', budgetSec: args.budgetSec },
    load: { start: startLoad },
    notes: [
      'webfam runs on its own Dawn instance (webfam creates it in init()); jax-js and TF.js share the navigator.gpu instance. All three request the same physical adapter.',
      'Timing: warm-up first (compiles, lazy uploads); each sample runs several iterations back to back and waits for the GPU once (webfam: sync() with the outputs alive; jax-js: blockUntilReady on every output; TF.js: submit + queue.onSubmittedWorkDone()). Samples are taken in rounds, one per library per round, so load changes hit all libraries alike.',
      'Inputs are seeded uniform random values, never constants (jax-js would fold constants into its kernels), made by the registry case (test/cases/); every output is compared in full with the case\'s float64 reference (src/tensor/reference/) at the tolerances of the tests.',
      'jax-js and TF.js run the workloads they have a counterpart for (matmul, softmax, layer norm, a GELU chain); – marks the rest.',
      'On a shared CPU with a software adapter (lavapipe) the numbers move with the machine\'s load; see the load averages.',
    ],
    results: [],
  };

  for (const c of workloads) {
    log(`${c.name}`);
    const spec = workload(c);
    const result: WorkloadResult = { id: spec.id, title: spec.title, family: spec.family, ...(spec.flops !== undefined ? { flops: spec.flops } : {}), bytes: spec.bytes, load: machineLoad(), peers: {}, ratios: {} };
    const outcomes = await runWorkload(spec, args.peers.map((n) => peers.find((p) => p.name === n) ?? n), plan);
    for (const name of args.peers) {
      const outcome = outcomes[name] ?? (peerFailures[name] !== undefined ? { status: 'unavailable', reason: `${name} could not start: ${peerFailures[name]}` } as const : undefined);
      if (!outcome) continue;
      result.peers[name] = outcome;
      log(`  ${name.padEnd(7)} ${describe(outcome)}`);
    }
    const mine = result.peers.webfam;
    for (const [name, o] of Object.entries(result.peers)) {
      if (name !== 'webfam' && mine?.status === 'ok' && o.status === 'ok') result.ratios[`webfam/${name}`] = o.medianMs / mine.medianMs;
    }
    report.results.push(result);
  }

  for (const p of peers) {
    try {
      await p.shutdown();
    } catch { /* end of run: nothing left to save */ }
  }
  report.load.end = machineLoad();
  report.totalSec = (performance.now() - started) / 1e3;

  if (args.write) {
    const filter = args.only.length ? `-${args.only.join('+').replace(/[^a-zA-Z0-9+.-]/g, '_')}` : '';
    const base = `kernels-${report.date.slice(0, 10)}-${args.tag ?? adapterTag(adapter)}${args.quick ? '-quick' : ''}${filter}`;
    const files = writeReport(args.out, base, report, args.peers);
    log(`wrote ${files.join(', ')}`);
  }
  if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  log(`done in ${report.totalSec.toFixed(0)} s`);
}

main().then(
  // Dawn and the peers' devices can keep the event loop alive: leave explicitly.
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(`kernels: ${errorText(e)}`);
    process.exit(1);
  },
);
