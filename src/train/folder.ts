// The run folder (Node): made folder by folder, locked against a second train.js, cleared of what
// an interrupted write left, removed again when a run fails before its first checkpoint; Ctrl-C
// and SIGTERM ask the run to save and stop.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { reasonOf, writeFileAtomic } from '../io/files.js';
import { UsageError } from './args.js';
import { log } from './console.js';

/** What the run does in its folder, told when a signal asks it to stop and when it has a checkpoint. */
export interface RunFolder {
  wasInterrupted: () => NodeJS.Signals | null;
  onCheckpoint: () => void;
}

/**
 * Makes and locks `dir`, runs `body` in it with Ctrl-C/SIGTERM turned into a request to save and
 * stop (a second signal quits at once), then unlocks; a run that never wrote `checkpointPath`
 * leaves nothing behind (no empty folders).
 */
export async function inRunFolder(dir: string, checkpointPath: string, body: (folder: RunFolder) => Promise<number>): Promise<number> {
  const created = makeFolders(dir);
  let unlock: () => void;
  try {
    unlock = lockRun(dir);
  } catch (e) {
    removeCreated(created);
    throw e;
  }
  let checkpointed = existsSync(checkpointPath);
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      unlock();
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    interrupted = signal;
    log(`\ninterrupted (${signal}): saving a checkpoint at the end of this step (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const stale = removeStaleTemporaries(dir);
    if (stale) log(`removed ${stale} temporary file${stale > 1 ? 's' : ''} an interrupted write left in ${dir}`);
    return await body({ wasInterrupted: () => interrupted, onCheckpoint: () => { checkpointed = true; } });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unlock();
    // A run that failed before its first checkpoint leaves nothing behind (no empty folders).
    if (!checkpointed) removeCreated(created);
  }
}

/** A JSON file (config.json, metrics.json) replaced whole or not at all. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Creates a folder and its missing parents one by one (Node's recursive mkdir loops forever under
 * /proc); returns the folders it created, outermost first.
 */
function makeFolders(dir: string): string[] {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  if (existsSync(p) && !statSync(p).isDirectory()) throw new UsageError(`cannot create the run folder ${dir}: ${p} is not a folder`);
  for (const q of missing) {
    try {
      mkdirSync(q);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(q).isDirectory()) continue;
      throw new UsageError(`cannot create the run folder ${dir}: ${reasonOf(e)} (${q})`);
    }
  }
  return missing;
}

/**
 * One train.js at a time per run folder: a lock file with the process id. A lock whose process is
 * gone (killed with SIGKILL, the machine restarted) is taken over. Returns the release function.
 */
function lockRun(dir: string): () => void {
  const lock = join(dir, 'train.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new UsageError(`cannot lock the run folder ${dir}: ${reasonOf(e)}`);
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new UsageError(`${dir} is in use by another train.js (process ${pid}); wait for it to finish, or if no such run is going on, remove ${lock}`);
      }
      rmSync(lock, { force: true });
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try { unlinkSync(lock); } catch { /* already gone */ }
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what an interrupted atomic write leaves (name.tmp-...), in the run folder and its pictures. */
function removeStaleTemporaries(dir: string): number {
  let removed = 0;
  for (const d of [dir, join(dir, 'pictures')]) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (!/\.tmp-[0-9a-z-]+$/i.test(f)) continue;
      rmSync(join(d, f), { force: true });
      removed++;
    }
  }
  return removed;
}

/** Removes the folders makeFolders created (innermost first; parents only while empty). */
function removeCreated(created: readonly string[]): void {
  if (created.length === 0) return;
  rmSync(created.at(-1)!, { recursive: true, force: true });
  for (const d of [...created].reverse().slice(1)) {
    try {
      if (readdirSync(d).length === 0) rmSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
}
