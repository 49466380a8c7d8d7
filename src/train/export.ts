// The PyTorch bridge in `node train.js` (docs/pytorch.md):
//   --export CHECKPOINT [--to DIR] [--with-data]   weights for PyTorch/timm + config.json (+ data files)
//   --import DIR [--to FILE]                       an export directory (e.g. after PyTorch training) → checkpoint
// and export directories as a model source for --eval and --init. The layout itself lives in the
// browser-safe src/vit/export.ts; this module reads and writes the files, each atomically, with
// config.json written last so a directory with a config.json is complete.
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeSafetensors, parseSafetensorsHeader, readSafetensorsFile, type HostTensor } from '../io/safetensors.js';
import { readRegularFile, writeFileAtomic } from '../io/files.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../vit/checkpoint.js';
import { exportCheckpoint, importExport, ExportError, type ExportFiles } from '../vit/export.js';
import type { ImageDataset, NormalizeOption } from '../data/dataset.js';
import { FLAGS, UsageError, type FlagName, type ParsedArgs } from './args.js';
import { log } from './console.js';

/** An export's or a run's config.json is a few KB; anything this large is not one. */
const MAX_CONFIG_BYTES = 16 * 2 ** 20;

/** The train.js flags whose values webfam_torch.train takes as its loss settings (python names). */
const LOSS_FLAGS = ['label-smoothing', 'w-stage1', 'w-stage2', 'w-presence', 'w-equivariance', 'w-orthogonality', 'w-tv', 'w-background', 'w-entropy'] as const satisfies readonly FlagName[];
/** Data files above this size would not fit in one JS buffer comfortably; such data belong in a PyTorch pipeline. */
const MAX_DATA_BYTES = 1.5 * 2 ** 30;

type OpenData = (args: ParsedArgs, backbone: { normalize: NormalizeOption } | null) => Promise<{ train: ImageDataset; val: ImageDataset; test: ImageDataset }>;

/** Checks the combination of bridge flags; call before any work. */
export function checkBridgeFlags(args: ParsedArgs): void {
  const modes = (['export', 'import', 'eval'] as const).filter((k) => args[k]);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} exclude each other: run them one after the other`);
  if (args.to && !args.export && !args.import) throw new UsageError('--to goes with --export (the directory to write) or --import (the checkpoint to write)');
  if (args['with-data'] && !args.export) throw new UsageError('--with-data goes with --export');
}

/** Whether `path` is an export directory (a folder with config.json). */
export function isExportDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Reads an export directory's config.json and weight files into memory. */
async function readExportFiles(dir: string): Promise<{ config: unknown; files: Record<string, Uint8Array> }> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new UsageError(`${dir} is not an export directory (no config.json); write one with --export, or save one with webfam_torch`);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(await readRegularFile(configPath, { maxBytes: MAX_CONFIG_BYTES, what: 'export config' })));
  } catch (e) {
    throw new UsageError(`${configPath} is not valid JSON (${(e as Error).message})`);
  }
  if ((config as { format?: unknown })?.format === undefined && existsSync(join(dir, 'checkpoint.safetensors'))) {
    throw new UsageError(`${dir} is a training run's folder, not an export; give its checkpoint.safetensors`);
  }
  const files: Record<string, Uint8Array> = {};
  const named = (config as { files?: unknown })?.files;
  for (const name of typeof named === 'object' && named ? Object.values(named) : []) {
    if (typeof name !== 'string' || /[\\/]/.test(name)) continue; // specFromConfig reports it
    const path = join(dir, name);
    if (existsSync(path)) files[name] = await readSafetensorsFile(path);
  }
  return { config, files };
}

/** Builds the model of an export directory (for --import, --eval DIR and --init DIR). */
export async function readExportDir(dir: string): Promise<Checkpoint> {
  try {
    return importExport(await readExportFiles(dir));
  } catch (e) {
    if (e instanceof ExportError) throw new UsageError(`${dir}: ${e.message}`);
    throw e;
  }
}

/** readExportDir, saying what it read (for --eval DIR and --init DIR). */
export async function loadExportAsCheckpoint(dir: string): Promise<Checkpoint> {
  const ck = await readExportDir(dir);
  log(`read the export ${dir} (${ck.spec.method}, ${ck.spec.vit.depth} blocks of width ${ck.spec.vit.embedDim})`);
  return ck;
}

/** The run's loss settings when its config.json sits next to the checkpoint, else train.js's defaults. */
async function trainingSettings(checkpoint: string): Promise<Record<string, unknown>> {
  const runConfig = join(dirname(checkpoint), 'config.json');
  let used: Record<string, unknown> = {};
  let source = 'node train.js defaults';
  if (existsSync(runConfig)) {
    try {
      used = JSON.parse(new TextDecoder().decode(await readRegularFile(runConfig, { maxBytes: MAX_CONFIG_BYTES, what: 'run config' }))) as Record<string, unknown>;
      source = runConfig;
    } catch {
      // Not a run's config (or unreadable): the defaults stand.
    }
  }
  const out: Record<string, unknown> = { source };
  for (const flag of LOSS_FLAGS) out[flag.replace(/-/g, '_')] = typeof used[flag] === 'number' ? used[flag] : FLAGS[flag].default;
  return out;
}

/** Writes an export's files into `dir` (created if needed), config.json last. */
export async function writeExport(dir: string, exp: ExportFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(exp.files)) await writeFileAtomic(join(dir, name), bytes);
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(exp.config, null, 2) + '\n');
}

/** A data split as a safetensors file: images [N, 3, S, S] in [0, 1], labels [N], places [N] (f32). */
async function dataFileBytes(ds: ImageDataset): Promise<Uint8Array> {
  const S = ds.imageSize, plane = 3 * S * S;
  if (ds.length * plane * 4 > MAX_DATA_BYTES) {
    throw new UsageError(`--with-data: ${ds.length} images of ${S}×${S} need ${(ds.length * plane * 4 / 2 ** 30).toFixed(1)} GiB as float32; for data this large, read the images with a PyTorch data pipeline instead`);
  }
  const images = new Float32Array(ds.length * plane);
  const labels = new Float32Array(ds.length), places = new Float32Array(ds.length);
  for (let i = 0; i < ds.length; i++) {
    const s = await ds.get(i);
    images.set(s.image, i * plane);
    labels[i] = s.label;
    places[i] = s.place;
  }
  const tensors: Record<string, HostTensor> = {
    images: { shape: [ds.length, 3, S, S], data: images },
    labels: { shape: [ds.length], data: labels },
    places: { shape: [ds.length], data: places },
  };
  return encodeSafetensors(tensors, {
    'webfam.classes': JSON.stringify(ds.classNames), 'webfam.places': JSON.stringify(ds.placeNames), 'webfam.groups': JSON.stringify(ds.groupNames),
  });
}

/** `--export CHECKPOINT [--to DIR] [--with-data]`. */
export async function exportCommand(args: ParsedArgs, openData: OpenData): Promise<number> {
  const source = args.export!;
  if (!existsSync(source)) throw new UsageError(`--export: ${source} does not exist`);
  if (isExportDir(source)) throw new UsageError(`--export takes a checkpoint file; ${source} is a directory (already an export?)`);
  const dir = args.to ?? join(dirname(source), 'pytorch');
  const ck = readCheckpoint(await readSafetensorsFile(source), { where: source, plainWeightsHint: 'for plain timm weights use --weights' });
  try {
    const exp = await exportCheckpoint(ck, await trainingSettings(source));
    if (args['with-data']) {
      const data = await openData({ ...args, 'image-size': ck.spec.vit.imageSize }, null);
      // The data flags are the user's to repeat; a different class pair would mislabel every image.
      if (data.test.classNames.join(',') !== ck.classNames.join(',')) {
        throw new UsageError(`--with-data: the data flags give classes ${data.test.classNames.join(', ')} but the checkpoint was trained on ${ck.classNames.join(', ')}; pass the run's data flags (--benchmark, --classes or --data)`);
      }
      await mkdir(join(dir, 'data'), { recursive: true });
      for (const split of ['train', 'val', 'test'] as const) {
        await writeFileAtomic(join(dir, 'data', `${split}.safetensors`), await dataFileBytes(data[split]));
      }
    }
    await writeExport(dir, exp);
    const names = [...Object.keys(exp.files), 'config.json', ...(args['with-data'] ? ['data/{train,val,test}.safetensors'] : [])];
    process.stdout.write(`exported ${source} (${ck.spec.method}) to ${dir}/: ${names.join(', ')}\n`);
    return 0;
  } finally {
    ck.model.dispose();
  }
}

/** `--import DIR [--to FILE]`: an export directory back into a checkpoint --eval, --init and the demo read. */
export async function importCommand(args: ParsedArgs): Promise<number> {
  const dir = args.import!;
  if (!isExportDir(dir)) throw new UsageError(`--import takes an export directory (with config.json); ${dir} is ${existsSync(dir) ? 'a file' : 'missing'}`);
  const target = args.to ?? join(dir, 'checkpoint.safetensors');
  if (existsSync(target)) {
    // Only an earlier import may be replaced: a training run's checkpoint holds optimiser state and progress.
    const header = parseSafetensorsHeader(await readSafetensorsFile(target));
    if (header.metadata['webfam.imported'] === undefined) throw new UsageError(`--import: ${target} exists and was not written by --import; choose another --to`);
  }
  const ck = await readExportDir(dir);
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, await writeCheckpoint(ck.model, { spec: ck.spec, normalize: ck.normalize, classNames: ck.classNames, metadata: { 'webfam.imported': dir } }));
    process.stdout.write(`imported ${dir} (${ck.spec.method}) as ${target}; evaluate it with: node train.js --eval ${target}\n`);
    return 0;
  } finally {
    ck.model.dispose();
  }
}
