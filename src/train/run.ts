// `node train.js`: the CLI's entry. Parses the flags and hands over to one command — train
// (./train.ts: plan, run folder, epochs, test and report; --resume restores the run's flags first,
// ./resume.ts), --eval (./evaluate.ts), --export / --import (./export.ts) — and is the single place
// errors end up: everything a user can get wrong (flags, data, files, folders) is checked before
// the GPU starts where possible, and ends in one line and exit code 2.
import { reasonOf } from '../io/files.js';
import { helpText, parseArgs } from './args.js';
import { log, oneLine, startGpu } from './console.js';
import { openData } from './data.js';
import { NonFiniteLoss } from './epoch.js';
import { evalOnly } from './evaluate.js';
import { checkBridgeFlags, exportCommand, importCommand } from './export.js';
import { restoreRunArgs } from './resume.js';
import { train } from './train.js';

/** Errors in what the user gave (flags, data, files): one line, exit code 2. */
const USER_ERRORS = new Set(['UsageError', 'DataError', 'SafetensorsError', 'IdxError', 'FileError', 'ImageDecodeError', 'SpecError', 'CheckpointError']);

/**
 * The single place errors end up: user errors print one line (exit 2), a diverging loss exits 3,
 * GPU memory exhaustion one line (exit 1); anything else is a bug in webfam and keeps its stack
 * trace (exit 1). --debug adds the stack trace to every message.
 */
function reportError(e: unknown, debug: boolean): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = () => { if (debug && err.stack) log(err.stack); };
  const errno = err as NodeJS.ErrnoException;
  if (USER_ERRORS.has(err.name)) {
    log(`train.js: ${oneLine(err.message)}`);
    stack();
    return 2;
  }
  if (typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    // A file-system call on a path the user chose (the run folder, a file) failed.
    log(`train.js: cannot ${errno.syscall} ${errno.path ?? ''}: ${reasonOf(err)}`.replace('  ', ' '));
    stack();
    return 2;
  }
  if (err instanceof NonFiniteLoss) {
    log(`train.js: ${err.message}`);
    stack();
    return 3;
  }
  if (/out of GPU memory|GPU out of memory|largest buffer this GPU allows/.test(err.message)) {
    log(`train.js: ${oneLine(err.message)}; try a smaller --batch-size, --image-size or --model`);
    stack();
    return 1;
  }
  log(`train.js: internal error (a bug in webfam, not a problem with your input; please report it with the trace below): ${oneLine(err.message)}`);
  log(err.stack ?? '(no stack trace)');
  return 1;
}

/** Runs the CLI on `argv` (without node and the script); `program` names it in --help. */
export async function main(argv: readonly string[], opts: { program?: string } = {}): Promise<number> {
  // Known before parsing, so even an error in the flags can show its trace.
  let debug = argv.some((a) => /^--debug(=(true|1))?$/.test(a));
  // `node train.js --help | head`: a reader that went away is not an error (stdout carries only
  // the final summary and --json, written after everything is saved).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    let args = parseArgs(argv);
    debug = args.debug;
    if (args.help) {
      process.stdout.write(helpText(opts.program) + '\n');
      return 0;
    }
    checkBridgeFlags(args);
    if (args.export) {
      await startGpu();
      return await exportCommand(args, openData);
    }
    if (args.import) {
      await startGpu();
      return await importCommand(args);
    }
    if (args.eval) return await evalOnly(args);
    if (args.resume) args = restoreRunArgs(args, argv);
    return await train(args);
  } catch (e) {
    return reportError(e, debug);
  }
}
