// What a finished run reports: the test table (stdout, or stderr under --json), metrics.json's
// final entry, the --json line, and notes about the pictures.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AdapterDescription } from '../tensor/device.js';
import type { Module } from '../nn/module.js';
import type { FigureBackend } from '../io/figure.js';
import { groupCounts } from '../data/dataset.js';
import type { Method } from '../vit/methods.js';
import type { ParsedArgs } from './args.js';
import type { DataSplits } from './data.js';
import type { Phase } from './plan.js';
import type { Progression } from './resume.js';
import { evaluate, pictureIndices, type EvalResult } from './evaluate.js';
import { saveSamplePicture } from './pictures.js';
import { writeJsonAtomic } from './folder.js';
import { loadSelectedEpoch } from './select.js';
import { log } from './console.js';

/** The test table; on stderr when stdout is kept for --json's one line. */
export function printSummary(result: EvalResult, method: string, extra: string, out: NodeJS.WritableStream = process.stdout): void {
  const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);
  const lines = [`\n${method} — test split${extra}`, '  group                          accuracy   n'];
  for (const [g, v] of Object.entries(result.groups)) lines.push(`  ${g.padEnd(30)} ${pct(v.acc)}  ${v.n}`);
  lines.push(`  ${'average'.padEnd(30)} ${pct(result.avg_acc)}`);
  if (result.train_weighted_acc !== undefined) lines.push(`  ${'average, train-weighted'.padEnd(30)} ${pct(result.train_weighted_acc)}`);
  lines.push(`  ${'worst group'.padEnd(30)} ${pct(result.worst_group_acc)}`);
  if (result.mask_miou !== undefined) {
    const map = method === 'ifam' ? 'hard mask mIoU' : 'relevance map mIoU';
    lines.push(`  ${map.padEnd(30)} ${pct(result.mask_miou)}`);
    lines.push(`  ${'pixel accuracy'.padEnd(30)} ${pct(result.mask_pixel_acc)}`);
  }
  if (result.mask_keep_ratio !== undefined) lines.push(`  ${'patches kept by the mask'.padEnd(30)} ${pct(result.mask_keep_ratio)}`);
  out.write(lines.join('\n') + '\n');
}

export function publicResult(r: EvalResult): Omit<EvalResult, 'samples'> {
  const { samples: _samples, ...rest } = r;
  return rest;
}

let figureNoteShown = false;

/** Says once per run when pictures fall back to the bitmap font (sharp missing, or no font for it). */
export function noteFigureBackend(backend: FigureBackend | null): void {
  if (backend !== 'raster' || figureNoteShown) return;
  figureNoteShown = true;
  log('pictures: drawn with the built-in bitmap font, as sharp is not installed or finds no font; `npm install sharp` (and a font such as fonts-dejavu-core) gives them real text');
}

/** <dir>/pictures/<file>, the folder made on first use (so a failed run leaves no empty one). */
export function picturePath(dir: string, file: string): string {
  mkdirSync(join(dir, 'pictures'), { recursive: true });
  return join(dir, 'pictures', file);
}

/** What the final report needs to know about the run. */
export interface FinishedRun {
  args: ParsedArgs;
  method: Method;
  dir: string;
  bestPath: string;
  data: DataSplits;
  phases: readonly Phase[];
  model: Module;
  adapter: AdapterDescription;
  /** config.json's content, repeated in the --json line. */
  config: Record<string, unknown>;
}

/**
 * Tests the run's model (--select's epoch, or the last), draws the test pictures, writes
 * metrics.json's final entry and prints the summary (and --json's line).
 */
export async function testAndReport(run: FinishedRun, prog: Progression): Promise<number> {
  const { args, method, dir, bestPath, data, model } = run;
  const selected = args.select !== 'last' && prog.best ? prog.best : null;
  if (selected) await loadSelectedEpoch(model, bestPath, selected);
  const test = await evaluate(method, model, data.test, {
    batchSize: args['batch-size'], normalize: data.normalize, quiet: args.quiet, label: 'test', noise: args['eval-noise'],
    relevance: method !== 'ifam', keepSamples: pictureIndices(data.test), trainGroupCounts: groupCounts(data.train),
  });
  if (args.pictures) {
    noteFigureBackend(await saveSamplePicture(picturePath(dir, 'test-samples.png'), test.samples, data.test, `${method} on test images of every group`));
  }
  const epochs = run.phases.reduce((a, p) => a + p.epochs, 0);
  const finalMetrics: Record<string, unknown> = {
    method, epochs, train_seconds: prog.trainSeconds, img_per_s: prog.imagesSeen / Math.max(1e-9, prog.trainSeconds),
    steps: prog.globalStep, run_dir: dir, adapter: run.adapter.description, data: data.description,
    ...(method === 'ifam' ? { joint_grad: args['joint-grad'], w_stage1: args['w-stage1'] } : {}),
    val: (selected ? prog.history[selected.epoch - 1] : prog.history.at(-1)) ?? null,
    ...(selected ? { selected: { by: args.select, epoch: selected.epoch, checkpoint: bestPath } } : {}),
    test: publicResult(test),
  };
  await writeJsonAtomic(join(dir, 'metrics.json'), { method, epochs: prog.history, final: finalMetrics });
  const chosen = selected ? `; model of epoch ${selected.epoch}, chosen by ${args.select}` : '';
  // With --json, stdout carries the one JSON line and nothing else (`| jq` works); people read stderr.
  const human = args.json ? process.stderr : process.stdout;
  printSummary(test, method, ` after ${epochs} epochs, ${prog.trainSeconds.toFixed(0)} s of training (${(finalMetrics.img_per_s as number).toFixed(1)} img/s)${chosen}`, human);
  human.write(`outputs in ${dir}/ (per-step log: ${join(dir, 'log.jsonl')})\n`);
  if (args.json) process.stdout.write(JSON.stringify({ ...finalMetrics, config: run.config }) + '\n');
  return 0;
}
