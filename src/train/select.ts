// --select val-worst / val-avg: the epoch whose model is tested. Scores compare lexicographically
// (the chosen accuracy first, the other one breaks ties; the earlier epoch wins a full tie); the
// best epoch's model is kept in best.safetensors while checkpoint.safetensors stays the last one.
import type { Module } from '../nn/module.js';
import { loadSafetensors, readSafetensorsFile } from '../io/safetensors.js';
import { modelEntries } from '../vit/checkpoint.js';
import type { Progression } from './resume.js';
import { log } from './console.js';

/** An epoch's validation score under --select `by`. */
export function selectionScore(by: string, val: { avg_acc: number; worst_group_acc: number }): number[] {
  return by === 'val-worst' ? [val.worst_group_acc, val.avg_acc] : [val.avg_acc, val.worst_group_acc];
}

/** Whether `score` beats the best so far (none yet: it does). */
export function isBetterEpoch(score: readonly number[], best: Progression['best']): boolean {
  return !best || score[0]! > best.score[0]! || (score[0] === best.score[0] && score[1]! > best.score[1]!);
}

/** Loads the selected epoch's weights (from `bestPath`) into `model` for testing. */
export async function loadSelectedEpoch(model: Module, bestPath: string, best: NonNullable<Progression['best']>): Promise<void> {
  const { tensors } = loadSafetensors(await readSafetensorsFile(bestPath));
  model.loadStateDict(modelEntries(tensors));
  for (const t of Object.values(tensors)) t.dispose();
  log(`--select ${best.by}: testing the model of epoch ${best.epoch} (${bestPath})`);
}
