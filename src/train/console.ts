// What train.js says on stderr besides progress bars: one-line messages, and which GPU runs.
import { init, type AdapterDescription } from '../tensor/device.js';

/** One line on stderr (stdout is kept for the summary and --json). */
export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** A multi-line message (a list of problems, a GPU error with its call site) as one line. */
export function oneLine(message: string, maxItems = 5): string {
  const lines = message.split('\n').map((l) => l.trim().replace(/^- /, '')).filter(Boolean);
  if (lines.length <= 1) return lines[0] ?? '';
  const items = lines.slice(1);
  const shown = items.slice(0, maxItems).join('; ');
  const sep = /[:;]$/.test(lines[0]!) ? ' ' : ': ';
  return `${lines[0]}${sep}${shown}${items.length > maxItems ? `; … and ${items.length - maxItems} more` : ''}`;
}

/** Starts the GPU (after everything that can be checked without it) and says which adapter runs. */
export async function startGpu(): Promise<AdapterDescription> {
  const adapter = await init();
  log(`webfam on ${adapter.description || adapter.device || adapter.vendor} (${adapter.backend})`);
  return adapter;
}
