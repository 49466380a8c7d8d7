// Folders in the Waterbirds layout (Node): metadata.csv with img_id,img_filename,y,split,place
// [,mask_filename], images at <dir>/<img_filename>. validateFolder checks every row and decodes
// every file before training starts; WaterbirdsDataset serves one split as an ImageDataset.
import { parseCsv, csvLine } from './csv.js';
import { decodeImage, decodeMask, decodeResized, hwcToCHW, imageSize, maskToSize, type ResizeOptions } from './image.js';
import { assembleBatch, groupNamesOf, type Batch, type ImageDataset, type NormalizeOption, type Sample } from './dataset.js';
import { encodePNG } from '../io/png.js';
import { FileError, readRegularFile, realFolder, resolveInside, writeFileAtomic } from '../io/files.js';
import { nodeModule } from '../io/node.js';

/**
 * The largest metadata.csv read: Waterbirds' is 0.6 MB, and a million rows fit in about 60 MB.
 * Parsed rows take several times their text, so this also bounds the memory validation takes.
 */
export const MAX_METADATA_BYTES = 64 * 2 ** 20;
/** The largest image or mask file read (a 33-megapixel PNG is under 100 MB). */
export const MAX_IMAGE_FILE_BYTES = 128 * 2 ** 20;

export const REQUIRED_COLUMNS = ['img_id', 'img_filename', 'y', 'split', 'place'] as const;
export const SPLITS = { train: 0, val: 1, test: 2 } as const;
export type SplitName = keyof typeof SPLITS;

export interface MetadataRow {
  /** Line of metadata.csv the row starts on (1 = header). */
  line: number;
  imgId: string;
  filename: string;
  y: number;
  split: number;
  place: number;
  maskFilename: string | null;
}

export type BadKind = 'malformed-row' | 'missing-value' | 'bad-y' | 'bad-split' | 'bad-place' | 'duplicate-id' | 'bad-path' | 'missing-file' | 'bad-image' | 'missing-mask' | 'bad-mask';

export interface BadRow { line: number; file: string; kind: BadKind; reason: string }

/** Bad data: names the file and the metadata.csv line. */
export class DataError extends Error {
  constructor(readonly file: string, readonly line: number, readonly kind: BadKind | 'bad-header' | 'missing-metadata', message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export interface FolderReport {
  dir: string;
  csvPath: string;
  /** The usable rows, in file order. */
  rows: MetadataRow[];
  /** Data rows in metadata.csv (usable + skipped). */
  total: number;
  skipped: BadRow[];
  skippedByKind: Partial<Record<BadKind, number>>;
  numClasses: number;
  numPlaces: number;
  hasMasks: boolean;
  /** Usable rows per split [train, val, test]. */
  splitCounts: [number, number, number];
  /** "skipped 2 of 10 rows: 1 missing-file, 1 bad-image" (or "all N rows usable"). */
  summary: string;
}

export interface ValidateOptions {
  /** Skip bad rows (reporting them) instead of failing on the first one. */
  skipBad?: boolean;
  /** Decode every image and mask (default true); false only checks that the files exist. */
  decode?: boolean;
  /** Files decoded at once (default 4). */
  concurrency?: number;
}

interface NodeApis { fs: typeof import('node:fs/promises'); path: typeof import('node:path'); zlib: typeof import('node:zlib') }
let nodeApis: Promise<NodeApis> | null = null;
function node(): Promise<NodeApis> {
  nodeApis ??= (async () => {
    const load = <T>(specifier: string) => nodeModule<T>(specifier, 'reading data folders', 'in a browser use a benchmark');
    try {
      return { fs: await load<NodeApis['fs']>('node:fs/promises'), path: await load<NodeApis['path']>('node:path'), zlib: await load<NodeApis['zlib']>('node:zlib') };
    } catch (e) {
      nodeApis = null;
      throw e;
    }
  })();
  return nodeApis;
}

const INT = /^\s*\d+\s*$/;

/** Checks the folder's metadata and files; throws DataError on the first problem unless skipBad. */
export async function validateFolder(dir: string, opts: ValidateOptions = {}): Promise<FolderReport> {
  const { path } = await node();
  const csvPath = path.join(dir, 'metadata.csv');
  let realDir: string;
  try {
    realDir = await realFolder(dir, 'data folder');
  } catch (e) {
    throw new DataError(dir, 0, 'missing-metadata', `${csvPath}: cannot read the metadata file (${(e as Error).message})`);
  }
  let text: string;
  try {
    text = new TextDecoder().decode(await readRegularFile(path.join(realDir, 'metadata.csv'), { maxBytes: MAX_METADATA_BYTES, what: 'metadata file' }));
  } catch (e) {
    throw new DataError(csvPath, 0, 'missing-metadata', `${csvPath}: cannot read the metadata file (${(e as Error).message})`);
  }
  const records = parseCsv(text);
  const header = records[0];
  if (!header || header.error) throw new DataError(csvPath, header?.line ?? 1, 'bad-header', `${csvPath}:${header?.line ?? 1}: ${header?.error ?? 'empty file, expected a header row'}`);
  const names = header.fields.map((f) => f.trim());
  const col: Record<string, number> = {};
  names.forEach((n, k) => { if (!(n in col)) col[n] = k; });
  const missing = REQUIRED_COLUMNS.filter((c) => !(c in col));
  if (missing.length) {
    throw new DataError(csvPath, header.line, 'bad-header', `${csvPath}:${header.line}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${names.join(',')})`);
  }
  const hasMaskColumn = 'mask_filename' in col;
  const skipBad = opts.skipBad ?? false;
  const bad: BadRow[] = [];
  const flag = (b: BadRow) => { bad.push(b); };

  // Row-level checks, in file order.
  const candidates: MetadataRow[] = [];
  const seen = new Map<string, number>();
  for (const rec of records.slice(1)) {
    const at = (c: string) => (rec.fields[col[c]!] ?? '').trim();
    if (rec.error) { flag({ line: rec.line, file: csvPath, kind: 'malformed-row', reason: `malformed CSV row: ${rec.error}` }); continue; }
    if (rec.fields.length !== names.length) {
      flag({ line: rec.line, file: csvPath, kind: 'malformed-row', reason: `malformed CSV row: ${rec.fields.length} fields, the header has ${names.length}` });
      continue;
    }
    const empty = [...REQUIRED_COLUMNS].filter((c) => at(c) === '');
    if (empty.length) { flag({ line: rec.line, file: csvPath, kind: 'missing-value', reason: `empty ${empty.join(', ')}` }); continue; }
    if (!INT.test(at('y'))) { flag({ line: rec.line, file: csvPath, kind: 'bad-y', reason: `bad y value "${at('y')}" (expected a class index 0, 1, ...)` }); continue; }
    if (!/^\s*[012]\s*$/.test(at('split'))) { flag({ line: rec.line, file: csvPath, kind: 'bad-split', reason: `bad split value "${at('split')}" (expected 0 train, 1 val or 2 test)` }); continue; }
    if (!INT.test(at('place'))) { flag({ line: rec.line, file: csvPath, kind: 'bad-place', reason: `bad place value "${at('place')}" (expected a background index 0, 1, ...)` }); continue; }
    const id = at('img_id');
    if (seen.has(id)) { flag({ line: rec.line, file: csvPath, kind: 'duplicate-id', reason: `img_id ${id} already used on line ${seen.get(id)}` }); continue; }
    seen.set(id, rec.line);
    const maskName = hasMaskColumn ? at('mask_filename') : '';
    candidates.push({ line: rec.line, imgId: id, filename: at('img_filename'), y: Number(at('y')), split: Number(at('split')), place: Number(at('place')), maskFilename: maskName || null });
  }

  // File checks, several at once. Without skipBad only rows before the first bad one matter:
  // the error reported is always the earliest bad line, whatever order the checks finish in.
  if (!skipBad && bad.length > 0) {
    const first = bad[0]!.line;
    const cut = candidates.findIndex((r) => r.line > first);
    if (cut >= 0) candidates.length = cut;
  }
  const decode = opts.decode ?? true;
  const checkFile = async (row: MetadataRow): Promise<BadRow | null> => {
    const file = path.join(dir, row.filename);
    let bytes: Uint8Array;
    try { bytes = await readRowFile(realDir, row.filename, 'image'); } catch (e) {
      const missing = e instanceof FileError && (e.problem === 'missing' || e.problem === 'unreadable');
      // An absolute name is reported as given, not joined onto the folder.
      const named = e instanceof FileError && e.problem === 'outside' ? e.path : file;
      return { line: row.line, file: named, kind: missing ? 'missing-file' : 'bad-path', reason: missing ? 'image file not found or unreadable' : `image file ${(e as FileError).detail ?? (e as Error).message}` };
    }
    let size: { width: number; height: number };
    try {
      if (decode) size = await decodeImage(bytes);
      else size = await imageSize(bytes);
    } catch (e) { return { line: row.line, file, kind: 'bad-image', reason: (e as Error).message }; }
    if (row.maskFilename === null) return null;
    const maskFile = path.join(dir, row.maskFilename);
    let maskBytes: Uint8Array;
    try { maskBytes = await readRowFile(realDir, row.maskFilename, 'mask'); } catch (e) {
      const missing = e instanceof FileError && (e.problem === 'missing' || e.problem === 'unreadable');
      const named = e instanceof FileError && e.problem === 'outside' ? e.path : maskFile;
      return { line: row.line, file: named, kind: missing ? 'missing-mask' : 'bad-path', reason: missing ? 'mask file not found or unreadable' : `mask file ${(e as FileError).detail ?? (e as Error).message}` };
    }
    if (!decode) return null;
    try {
      const m = await decodeMask(maskBytes);
      // Masks may be stored at another resolution, but must have the image's shape.
      if (Math.abs(m.width / m.height - size.width / size.height) > 0.02 * (size.width / size.height)) {
        return { line: row.line, file: maskFile, kind: 'bad-mask', reason: `mask is ${m.width}×${m.height} but the image is ${size.width}×${size.height} (different aspect ratio)` };
      }
    } catch (e) { return { line: row.line, file: maskFile, kind: 'bad-mask', reason: (e as Error).message }; }
    return null;
  };
  const results: (BadRow | null | undefined)[] = new Array(candidates.length);
  const limit = Math.max(1, opts.concurrency ?? 4);
  let next = 0, stop = false;
  await Promise.all(Array.from({ length: Math.min(limit, candidates.length) }, async () => {
    while (!stop && next < candidates.length) {
      const k = next++;
      results[k] = await checkFile(candidates[k]!);
      if (results[k] && !skipBad) stop = true; // fail fast; the earliest bad row is reported below
    }
  }));
  const rows: MetadataRow[] = [];
  candidates.forEach((row, k) => {
    const r = results[k];
    if (r) flag(r);
    else if (r === null) rows.push(row);
  });
  bad.sort((a, b) => a.line - b.line);
  if (!skipBad && bad.length > 0) {
    const b = bad[0]!;
    throw new DataError(b.file, b.line, b.kind, b.file === csvPath ? `${csvPath}:${b.line}: ${b.reason}` : `${b.file}: ${b.reason} (${csvPath} line ${b.line})`);
  }

  checkNumbering(rows, 'y', csvPath);
  checkNumbering(rows, 'place', csvPath);

  const skippedByKind: Partial<Record<BadKind, number>> = {};
  for (const b of bad) skippedByKind[b.kind] = (skippedByKind[b.kind] ?? 0) + 1;
  const total = records.length - 1;
  const splitCounts: [number, number, number] = [0, 0, 0];
  for (const r of rows) splitCounts[r.split as 0 | 1 | 2]++;
  const summary = bad.length === 0 ? `all ${total} rows usable`
    : `skipped ${bad.length} of ${total} rows: ${Object.entries(skippedByKind).map(([k, n]) => `${n} ${k}`).join(', ')}`;
  return {
    dir, csvPath, rows, total, skipped: bad, skippedByKind,
    numClasses: rows.reduce((m, r) => Math.max(m, r.y + 1), 0),
    numPlaces: rows.reduce((m, r) => Math.max(m, r.place + 1), 0),
    hasMasks: rows.length > 0 && rows.every((r) => r.maskFilename !== null),
    splitCounts, summary,
  };
}

/** Reads a file named by a row: inside the folder (after symlinks), regular, of bounded size. */
async function readRowFile(realDir: string, name: string, what: 'image' | 'mask'): Promise<Uint8Array> {
  const real = await resolveInside(realDir, name, `${what} file`);
  return readRegularFile(real, { maxBytes: MAX_IMAGE_FILE_BYTES, what: `${what} file` });
}

/**
 * Classes (y) and places must be numbered 0, 1, …, K−1 without gaps: the model gets one output per
 * class up to the largest y, so a stray y = 1000000000 would otherwise build a billion-class head,
 * and a gap would be a class with no data. Names the line of the row that implies the gap.
 */
function checkNumbering(rows: readonly MetadataRow[], column: 'y' | 'place', csvPath: string): void {
  const firstLine = new Map<number, number>();
  for (const r of rows) if (!firstLine.has(r[column])) firstLine.set(r[column], r.line);
  if (firstLine.size === 0) return;
  const values = [...firstLine.keys()].sort((a, b) => a - b);
  const largest = values.at(-1)!;
  if (largest === values.length - 1) return;
  let missing = 0;
  while (firstLine.has(missing)) missing++;
  const line = firstLine.get(largest)!;
  const what = column === 'y' ? 'classes (y)' : 'places';
  throw new DataError(csvPath, line, column === 'y' ? 'bad-y' : 'bad-place',
    `${csvPath}:${line}: ${column} = ${largest}, but ${what} must be numbered 0, 1, 2, … without gaps and no row has ${column} = ${missing} (${values.length} distinct value${values.length > 1 ? 's' : ''}: ${values.slice(0, 5).join(', ')}${values.length > 5 ? ', …' : ''})`);
}

// ------------------------------------------------------------------ the data set

export interface WaterbirdsOptions extends ResizeOptions {
  split: SplitName | 0 | 1 | 2;
  /** Side S of the square images (default 224). */
  imageSize?: number;
  /** Skip bad rows instead of failing (see validateFolder). */
  skipBad?: boolean;
  /** A report from validateFolder, to avoid validating the folder again for each split. */
  report?: FolderReport;
  /** Keep decoded images (as bytes) in memory (default: when they take under 1 GiB). */
  cache?: boolean;
  /** Names of the classes and places (default Waterbirds': land bird / water bird, land / water). */
  classNames?: readonly string[];
  placeNames?: readonly string[];
}

export class WaterbirdsDataset implements ImageDataset {
  readonly length: number;
  readonly numClasses: number;
  readonly numPlaces: number;
  readonly classNames: readonly string[];
  readonly placeNames: readonly string[];
  readonly groupNames: readonly string[];
  readonly hasMasks: boolean;
  private readonly cache: ({ image: Uint8Array; mask: Uint8Array | null } | undefined)[] | null;

  constructor(readonly dir: string, readonly rows: readonly MetadataRow[], readonly imageSize: number, report: FolderReport, private readonly resize: ResizeOptions, opts: WaterbirdsOptions) {
    this.length = rows.length;
    // Class and place counts come from the whole folder, so every split agrees on them.
    this.numClasses = Math.max(1, report.numClasses);
    this.numPlaces = Math.max(1, report.numPlaces);
    const two = this.numClasses === 2 && this.numPlaces === 2;
    this.classNames = opts.classNames ?? (two ? ['land bird', 'water bird'] : Array.from({ length: this.numClasses }, (_, k) => `class ${k}`));
    this.placeNames = opts.placeNames ?? (two ? ['land', 'water'] : Array.from({ length: this.numPlaces }, (_, k) => `place ${k}`));
    if (this.classNames.length !== this.numClasses || this.placeNames.length !== this.numPlaces) {
      throw new Error(`waterbirdsDataset: ${this.classNames.length} class names and ${this.placeNames.length} place names for ${this.numClasses} classes and ${this.numPlaces} places`);
    }
    this.groupNames = groupNamesOf(this.classNames, this.placeNames);
    this.hasMasks = rows.length > 0 && rows.every((r) => r.maskFilename !== null);
    const bytes = this.length * imageSize * imageSize * 4;
    this.cache = (opts.cache ?? bytes < 2 ** 30) ? new Array(this.length) : null;
  }

  labelOf(i: number): { label: number; place: number } {
    const row = this.row(i);
    return { label: row.y, place: row.place };
  }

  row(i: number): MetadataRow {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`waterbirds: index ${i} outside [0, ${this.length})`);
    return this.rows[i]!;
  }

  async get(i: number): Promise<Sample> {
    const row = this.row(i);
    let entry = this.cache?.[i];
    if (!entry) {
      entry = await this.decode(row);
      if (this.cache) this.cache[i] = entry;
    }
    const S = this.imageSize;
    const mask = entry.mask ? Float32Array.from(entry.mask) : null;
    return { index: i, image: hwcToCHW(entry.image, S, S), label: row.y, place: row.place, mask };
  }

  /** Samples `indices` as one batch (decoded concurrently); images normalised if asked. */
  async batch(indices: ArrayLike<number>, normalize?: NormalizeOption): Promise<Batch> {
    const samples = await Promise.all(Array.from(indices, (i) => this.get(i)));
    return assembleBatch(samples, this.imageSize, this.numPlaces, normalize);
  }

  private realDir: Promise<string> | null = null;

  private async decode(row: MetadataRow): Promise<{ image: Uint8Array; mask: Uint8Array | null }> {
    const { path } = await node();
    this.realDir ??= realFolder(this.dir, 'data folder');
    const realDir = await this.realDir;
    const file = path.join(this.dir, row.filename);
    const where = `(${path.join(this.dir, 'metadata.csv')} line ${row.line})`;
    let decoded;
    try {
      decoded = await decodeResized(await readRowFile(realDir, row.filename, 'image'), this.imageSize, this.resize);
    } catch (e) {
      throw new DataError(file, row.line, 'bad-image', `${file}: ${(e as Error).message} ${where}`);
    }
    if (row.maskFilename === null) return { image: decoded.data, mask: null };
    const maskFile = path.join(this.dir, row.maskFilename);
    try {
      const m = maskToSize(await decodeMask(await readRowFile(realDir, row.maskFilename, 'mask')), decoded.rect, decoded.width, decoded.height, this.imageSize);
      return { image: decoded.data, mask: Uint8Array.from(m) };
    } catch (e) {
      throw new DataError(maskFile, row.line, 'bad-mask', `${maskFile}: ${(e as Error).message} ${where}`);
    }
  }
}

/** One split of a Waterbirds-layout folder; validates the folder first unless given a report. */
export async function waterbirdsDataset(dir: string, opts: WaterbirdsOptions): Promise<WaterbirdsDataset> {
  const split = typeof opts.split === 'number' ? opts.split : SPLITS[opts.split];
  if (split !== 0 && split !== 1 && split !== 2) throw new Error(`waterbirdsDataset: split must be train/val/test or 0/1/2, got ${JSON.stringify(opts.split)}`);
  const S = opts.imageSize ?? 224;
  if (!Number.isInteger(S) || S < 1) throw new Error(`waterbirdsDataset: imageSize must be a positive integer, got ${S}`);
  const report = opts.report ?? (await validateFolder(dir, { skipBad: opts.skipBad ?? false }));
  const rows = report.rows.filter((r) => r.split === split);
  return new WaterbirdsDataset(dir, rows, S, report, { resize: opts.resize ?? 'cover', crop: opts.crop ?? 1 }, opts);
}

// ------------------------------------------------------------------ writing folders

/**
 * Writes data sets as a Waterbirds-layout folder: PNG images and masks under images/ and masks/,
 * and metadata.csv (split s gets the data set at index s; pass null to leave a split out).
 */
export async function exportFolder(dir: string, splits: readonly (ImageDataset | null)[]): Promise<void> {
  const { fs, path, zlib } = await node();
  await fs.mkdir(path.join(dir, 'images'), { recursive: true });
  await fs.mkdir(path.join(dir, 'masks'), { recursive: true });
  const lines = [csvLine([...REQUIRED_COLUMNS, 'mask_filename'])];
  const png = (data: Uint8Array, S: number, channels: 1 | 3) => encodePNG({ width: S, height: S, channels, data }, { deflate: (d) => zlib.deflateSync(d) });
  let id = 0;
  for (let split = 0; split < splits.length; split++) {
    const ds = splits[split];
    if (!ds) continue;
    const S = ds.imageSize, plane = S * S;
    for (let i = 0; i < ds.length; i++) {
      const s = await ds.get(i);
      const rgb = new Uint8Array(plane * 3);
      for (let k = 0; k < plane; k++) for (let c = 0; c < 3; c++) rgb[k * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, s.image[c * plane + k]!)));
      const name = `images/${split}_${String(i).padStart(5, '0')}.png`;
      await fs.writeFile(path.join(dir, name), png(rgb, S, 3));
      let maskName = '';
      if (s.mask) {
        maskName = `masks/${split}_${String(i).padStart(5, '0')}.png`;
        await fs.writeFile(path.join(dir, maskName), png(Uint8Array.from(s.mask, (v) => (v > 0.5 ? 255 : 0)), S, 1));
      }
      lines.push(csvLine([id++, name, s.label, split, s.place, maskName]));
    }
  }
  // metadata.csv last and atomically: a folder with a metadata file is a complete folder.
  const csvPath = path.join(dir, 'metadata.csv');
  await writeFileAtomic(csvPath, lines.join('\n') + '\n');
}
