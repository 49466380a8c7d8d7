// Reading files named by users and data (Node): only regular files, their size checked before any
// byte is read, and names from a data folder resolved inside that folder after following symlinks.
// What a careless or hostile name can do otherwise: /dev/zero or a FIFO is read forever,
// `../../etc/passwd` or a symlink reads outside the data, a sparse 100 GB file fills memory.
// Writing: every file webfam writes (checkpoints, JSON, pictures, metadata.csv) goes through
// writeFileAtomic, so a crash or a full disk never leaves one half-written.
import { nodeModule } from './node.js';
import { formatBytes } from '../tensor/runtime.js';

export type FileProblem = 'missing' | 'unreadable' | 'unwritable' | 'not-regular' | 'too-large' | 'outside';

/**
 * A file that cannot be used: missing, not a regular file, too large, or outside its folder. The
 * message is "<what> <path> <detail>"; `detail` alone suits messages that name the path already.
 */
export class FileError extends Error {
  constructor(readonly path: string, readonly problem: FileProblem, readonly what: string, readonly detail: string) {
    super(`${what} ${path}${detail.startsWith(':') ? '' : ' '}${detail}`);
    this.name = 'FileError';
  }
}

function failed(file: string, what: string, e: unknown): FileError {
  const code = (e as NodeJS.ErrnoException).code;
  return new FileError(file, code === 'ENOENT' ? 'missing' : 'unreadable', what, `: ${reasonOf(e)}`);
}

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type FsConstants = typeof import('node:fs')['constants'];

async function apis(): Promise<{ fs: Fs; path: Path; constants: FsConstants }> {
  const fs = await nodeModule<Fs>('node:fs/promises', 'reading files', 'in a browser fetch the bytes instead');
  const path = await nodeModule<Path>('node:path', 'reading files');
  const { constants } = await nodeModule<typeof import('node:fs')>('node:fs', 'reading files');
  return { fs, path, constants };
}

/** What a non-regular file is, for messages. */
function kindOf(st: import('node:fs').Stats): string {
  if (st.isFile()) return 'a file';
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'something other than a file';
}

/** The reason a file system call failed, as a short phrase ("no such file", "permission denied"). */
export function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such file or folder';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'a part of the path is not a folder';
    case 'EISDIR': return 'is a folder';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'ENAMETOOLONG': return 'name too long';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    default: return String((e as Error).message ?? e).split('\n')[0]!;
  }
}

export interface ReadOptions {
  /** Refuse files larger than this (checked before reading). */
  maxBytes: number;
  /** What the file is, for messages ("weights file", "image"). */
  what: string;
}

/**
 * Opens a regular file of at most `maxBytes` for reading; the caller closes the handle. The file
 * is opened non-blocking (so a named pipe cannot stall the open) and checked with fstat on the
 * open handle (so a file swapped in after a check cannot slip past it) before anything is read.
 */
export async function openRegularFile(file: string, opts: ReadOptions): Promise<{ handle: import('node:fs/promises').FileHandle; size: number }> {
  const { fs, constants } = await apis();
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    throw failed(file, opts.what, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileError(file, 'not-regular', opts.what, `is ${kindOf(st)}, not a regular file`);
    if (st.size > opts.maxBytes) throw new FileError(file, 'too-large', opts.what, `is ${formatBytes(st.size)}, over the ${formatBytes(opts.maxBytes)} limit`);
    return { handle: fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e instanceof FileError ? e : failed(file, opts.what, e);
  }
}

/**
 * Reads a whole regular file of at most `maxBytes` (see openRegularFile for the checks made first).
 */
export async function readRegularFile(file: string, opts: ReadOptions): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file, opts);
  try {
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(out, at, size - at, at);
      if (bytesRead === 0) break; // the file shrank while being read
      at += bytesRead;
    }
    return at === size ? out : out.subarray(0, at);
  } catch (e) {
    throw failed(file, opts.what, e);
  } finally {
    await handle.close();
  }
}

/** The real path of a folder (symlinks resolved), checked to be a folder. */
export async function realFolder(dir: string, what: string): Promise<string> {
  const { fs } = await apis();
  let real: string;
  try {
    real = await fs.realpath(dir);
  } catch (e) {
    throw failed(dir, what, e);
  }
  const st = await fs.stat(real);
  if (!st.isDirectory()) throw new FileError(dir, 'not-regular', what, `is ${kindOf(st)}, not a folder`);
  return real;
}

/**
 * Resolves `name` (a relative path read from a data file) inside the folder whose real path is
 * `realDir`, following symlinks; throws a FileError when the name is absolute, leaves the folder
 * (`..`, or a symlink pointing out), or does not exist. Returns the real path of the file.
 */
export async function resolveInside(realDir: string, name: string, what: string): Promise<string> {
  const { fs, path } = await apis();
  if (name.includes('\0')) throw new FileError(name.replace(/\0/g, '\\0'), 'outside', what, `name ${JSON.stringify(name)} contains a NUL character`);
  if (path.isAbsolute(name)) throw new FileError(name, 'outside', what, `name ${JSON.stringify(name)} is an absolute path; names must be relative to the data folder ${realDir}`);
  const joined = path.resolve(realDir, name);
  const inside = (p: string) => {
    const rel = path.relative(realDir, p);
    return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
  };
  if (!inside(joined)) throw new FileError(joined, 'outside', what, `name ${JSON.stringify(name)} points outside the data folder ${realDir}`);
  let real: string;
  try {
    real = await fs.realpath(joined);
  } catch (e) {
    throw failed(joined, what, e);
  }
  if (!inside(real)) throw new FileError(joined, 'outside', what, `is a symbolic link to ${real}, outside the data folder ${realDir}`);
  return real;
}

/**
 * Writes `data` to `path` whole or not at all: into a temporary file next to it (name.tmp-..., which
 * train.js clears from a run folder), flushed to disk, then renamed over `path`. On failure the
 * temporary file is removed and a FileError names `path` and the reason.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await nodeModule<Fs>('node:fs/promises', 'writing files', 'in a browser keep the bytes or offer them as a download');
  const tmp = `${path}.tmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new FileError(path, 'unwritable', 'cannot write', `: ${reasonOf(e)}`);
  }
}
