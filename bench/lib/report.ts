// Turns the measurements into the results files: one JSON document (everything, samples
// included) and one markdown page (the table people read), written atomically.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdapterSummary } from '../peers/types.js';
import type { LoadSample } from './env.js';
import type { Family } from '../../src/tensor/ops/names.js';
import type { CheckResult } from './workloads.js';

export type PeerOutcome =
  | {
      status: 'ok';
      /** How the library computes it (fused or composed, which ops). */
      note: string;
      /** Compute dispatches in one iteration, counted at the GPU API. */
      dispatches: number;
      medianMs: number;
      minMs: number;
      maxMs: number;
      /** Per-iteration milliseconds, one per sample. */
      samplesMs: number[];
      iters: number;
      firstCallMs: number;
      gflops?: number;
      gbps: number;
      check: CheckResult;
    }
  | { status: 'unavailable' | 'error'; reason: string };

export interface WorkloadResult {
  id: string;
  title: string;
  family: Family;
  flops?: number;
  bytes: number;
  load: LoadSample;
  peers: Record<string, PeerOutcome>;
  /** `webfam/<peer>`: webfam's speed over the peer's (peer median time / webfam median time). */
  ratios: Record<string, number>;
}

export interface RunReport {
  suite: 'kernels';
  date: string;
  adapter: AdapterSummary;
  /** The adapter each library reported (they should all name the same one). */
  adapters: Record<string, AdapterSummary | { error: string }>;
  sameAdapter: boolean;
  versions: Record<string, string>;
  node: string;
  platform: string;
  options: Record<string, unknown>;
  load: { start: LoadSample; end?: LoadSample };
  totalSec?: number;
  notes: string[];
  results: WorkloadResult[];
}

const fmt = (x: number, digits = 3): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(digits));
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));

function cell(r: WorkloadResult, peer: string, footnotes: string[]): string {
  const o = r.peers[peer];
  if (!o) return '–';
  if (o.status !== 'ok') {
    // One footnote per distinct reason (the same reason on every row of a family).
    const text = `${peer}: ${o.status} — ${o.reason.split('\n')[0]}`;
    if (!footnotes.includes(text)) footnotes.push(text);
    return `${o.status === 'error' ? 'error' : 'n/a'} [${footnotes.indexOf(text) + 1}]`;
  }
  const rate = o.gflops !== undefined ? `${fmt(o.gflops)} GFLOP/s` : `${fmt(o.gbps)} GB/s`;
  const bad = o.check.ok ? '' : ' **WRONG**';
  return `${rate} (${ms(o.medianMs)} ms)${bad}`;
}

export function markdown(rep: RunReport, peerNames: string[]): string {
  const others = peerNames.filter((p) => p !== 'webfam');
  const a = rep.adapter;
  const lines: string[] = [];
  lines.push(`# Kernel benchmark — ${rep.date.slice(0, 10)}`, '');
  lines.push(`Adapter: **${a.description || a.device || '?'}** (vendor \`${a.vendor}\`, architecture \`${a.architecture}\`)` +
    `${rep.sameAdapter ? ', the same for every library' : ' — **the libraries reported different adapters, see the JSON**'}.`);
  lines.push(`Versions: ${Object.entries(rep.versions).map(([k, v]) => `${k} ${v}`).join(', ')}; Node ${rep.node} (${rep.platform}).`);
  const l0 = rep.load.start, l1 = rep.load.end;
  lines.push(`Load average (1/5/15 min) at start ${l0.loadavg.join(' / ')}${l1 ? `, at end ${l1.loadavg.join(' / ')}` : ''} on ${l0.cpus} CPUs.`);
  if (rep.totalSec !== undefined) lines.push(`Total time ${rep.totalSec.toFixed(0)} s; options ${JSON.stringify(rep.options)}.`);
  lines.push('');
  lines.push('Median time per iteration of GPU work (each sample: several back-to-back iterations, then one wait');
  lines.push('for the GPU, no readback). Matmul in GFLOP/s (2·M·N·K), the rest in GB/s of ideal traffic (inputs read');
  lines.push('once, output written once). Ratios: webfam\'s speed over the peer\'s (> 1: webfam faster).');
  lines.push('– : the library has no counterpart of this op in the benchmark.');
  lines.push('');
  const footnotes: string[] = [];
  const header = ['workload', ...peerNames, ...others.map((p) => `webfam/${p}`)];
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
  for (const r of rep.results) {
    const cells = peerNames.map((p) => cell(r, p, footnotes));
    const ratios = others.map((p) => (r.ratios[`webfam/${p}`] !== undefined ? `${r.ratios[`webfam/${p}`]!.toFixed(2)}×` : '–'));
    lines.push(`| ${r.title} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  if (footnotes.length) {
    lines.push('');
    footnotes.forEach((f, i) => lines.push(`[${i + 1}] ${f}  `));
  }

  lines.push('', '## How each library computes it', '');
  lines.push('Dispatches per iteration are counted at the WebGPU API (1 = one fused kernel).', '');
  lines.push(`| workload | ${peerNames.join(' | ')} |`, `| --- | ${peerNames.map(() => '---').join(' | ')} |`);
  for (const r of rep.results) {
    const cells = peerNames.map((p) => {
      const o = r.peers[p];
      if (!o || o.status !== 'ok') return '–';
      return `${o.note}; ${o.dispatches} dispatch${o.dispatches === 1 ? '' : 'es'}`;
    });
    lines.push(`| ${r.title} | ${cells.join(' | ')} |`);
  }

  lines.push('', '## Spread and checks', '');
  lines.push('min–max ms per iteration over the samples (samples × iterations per sample); output spot-checked');
  lines.push('against float64 (worst error / tolerance, ≤ 1 passes); 1-minute load average when the workload began.', '');
  lines.push(`| workload | load | ${peerNames.join(' | ')} |`, `| --- | --- | ${peerNames.map(() => '---').join(' | ')} |`);
  for (const r of rep.results) {
    const cells = peerNames.map((p) => {
      const o = r.peers[p];
      if (!o || o.status !== 'ok') return '–';
      return `${ms(o.minMs)}–${ms(o.maxMs)} (${o.samplesMs.length}×${o.iters}); check ${o.check.ok ? 'ok' : 'FAIL'} ${o.check.worst.toPrecision(2)}`;
    });
    lines.push(`| ${r.title} | ${r.load.loadavg[0]} | ${cells.join(' | ')} |`);
  }
  if (rep.notes.length) {
    lines.push('', '## Notes', '');
    for (const n of rep.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes `<base>.json` and `<base>.md` in `dir` (via temporary files, so none is half-written). */
export function writeReport(dir: string, base: string, rep: RunReport, peerNames: string[]): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [join(dir, `${base}.json`), JSON.stringify(rep, null, 2) + '\n'],
    [join(dir, `${base}.md`), markdown(rep, peerNames)],
  ];
  for (const [file, text] of files) {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
  return files.map(([f]) => f);
}
