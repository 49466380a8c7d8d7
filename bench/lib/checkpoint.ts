// The checkpoint a bench tool was given on its command line, for the tools that study trained
// models (background-swap, relevance-mass): read and checked, or one line and exit code 2.
import { readFileSync } from 'node:fs';
import { readCheckpoint, type LoadedCheckpoint } from '../../src/vit/checkpoint.js';

/** The checkpoint at `path`, or one line `program: …` naming what is wrong with it (exit code 2). */
export function checkpointArg(path: string, program: string): LoadedCheckpoint {
  try {
    return readCheckpoint(readFileSync(path), { where: path });
  } catch (e) {
    const message = (e as Error).message;
    process.stderr.write(`${program}: ${message.includes(path) ? message : `${path}: ${message}`}\n`);
    process.exit(2);
  }
}
