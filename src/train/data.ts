// train.js's data: the default Fashion-MNIST benchmark (or, given more than two --classes, a
// pretraining set), the embedded synthetic one, or a Waterbirds-layout folder (read and checked in
// full before training), split into train/val/test.
import { syntheticDataset } from '../data/synthetic.js';
import { fashionBenchmark, loadFashionMnist, FASHION_CLASSES, type FashionClass, type FashionMnist, type FashionSplit } from '../data/fashion.js';
import { IdxError } from '../io/idx.js';
import { SCRATCH_NORMALIZATION, type ImageDataset, type NormalizeOption } from '../data/dataset.js';
import { validateFolder, waterbirdsDataset, type FolderReport } from '../data/waterbirds.js';
import { UsageError, type ParsedArgs } from './args.js';
import { log } from './console.js';


export interface DataSplits {
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  normalize: NormalizeOption;
  description: string;
}

/**
 * The splits the flags describe. `backbone`: the pretrained weights the model starts from, with the
 * normalisation they were trained with (null: from scratch, images normalised around the middle grey).
 */
export async function openData(args: ParsedArgs, backbone: { normalize: NormalizeOption } | null, forTraining = false): Promise<DataSplits> {
  const normalize: NormalizeOption = backbone ? backbone.normalize : SCRATCH_NORMALIZATION;
  if (args.data) {
    if (args.explicit.has('benchmark')) throw new UsageError('--benchmark and --data exclude each other: --data DIR trains on the folder instead of a benchmark');
    // Bad data fails here, before any training: every row is read and every image decoded.
    const report = await validateFolder(args.data, { skipBad: args['skip-bad'] });
    if (args['skip-bad'] && report.skipped.length) log(`data: ${report.summary}`);
    checkFolderSplits(report, forTraining);
    const open = (split: 'train' | 'val' | 'test') => waterbirdsDataset(args.data!, { split, imageSize: args['image-size'], skipBad: args['skip-bad'], report });
    const [train, val, test] = await Promise.all([open('train'), open('val'), open('test')]);
    return { train, val, test, normalize: backbone ? backbone.normalize : 'imagenet', description: `${args.data} (${train.length}/${val.length}/${test.length} images, ${report.numClasses} classes, ${report.numPlaces} places)` };
  }
  // Only training images are spuriously correlated; val and test keep all groups balanced. The
  // data seed is fixed: --seed changes the model's initialisation and the order of batches, not the data.
  const common = { imageSize: args['image-size'], seed: 0 };
  const sizes = `${args['train-size']}/${args['val-size']}/${args['test-size']} images, ${args['image-size']} px, ${Math.round(args.agreement * 100)}% background agreement in train`;
  if (args.benchmark === 'synthetic') {
    return {
      train: syntheticDataset({ ...common, split: 'train', size: args['train-size'], agreement: args.agreement }),
      val: syntheticDataset({ ...common, split: 'val', size: args['val-size'] }),
      test: syntheticDataset({ ...common, split: 'test', size: args['test-size'] }),
      normalize,
      description: `embedded synthetic benchmark (${sizes})`,
    };
  }
  const classes = parseClasses(args.classes!);
  // More than two classes make a pretraining set: every place with every class, in equal numbers.
  const pretraining = classes.length > 2;
  if (pretraining && args.explicit.has('agreement') && args.agreement !== 0.5) {
    throw new UsageError(`--agreement ${args.agreement}: with ${classes.length} classes (a pretraining set) the background is independent of the class; leave --agreement out`);
  }
  const trainAgreement = pretraining ? 0.5 : args.agreement;
  let source: FashionMnist;
  try {
    source = await loadFashionMnist(args['fashion-dir']!);
  } catch (e) {
    if (e instanceof IdxError) throw new UsageError(`the default benchmark needs Fashion-MNIST: ${e.message}`);
    throw e;
  }
  const open = (split: FashionSplit, size: number, agreement?: number) => {
    try {
      return fashionBenchmark({ ...common, source, classes, split, size, ...(agreement === undefined ? {} : { agreement }) });
    } catch (e) {
      throw new UsageError(`--${split}-size ${size}: ${(e as Error).message.replace(/^fashionBenchmark: /, '')}`);
    }
  };
  return {
    train: open('train', args['train-size'], trainAgreement),
    val: open('val', args['val-size']),
    test: open('test', args['test-size']),
    normalize,
    description: pretraining
      ? `Fashion-MNIST pretraining set: ${classes.join(', ')} on land/water, background independent of the class (${args['train-size']}/${args['val-size']}/${args['test-size']} images, ${args['image-size']} px)`
      : `Fashion-MNIST ${classes.join(' vs ')} on land/water (${sizes})`,
  };
}

/**
 * What a folder must hold to train (or test) on: at least two classes, every split non-empty, and
 * every class present in the training split (a class seen only in val or test is a typo in y far
 * more often than a real class). Names the folder, and the line of the offending row.
 */
function checkFolderSplits(report: FolderReport, forTraining: boolean): void {
  const where = report.csvPath;
  if (report.rows.length > 0 && report.numClasses < 2) {
    throw new UsageError(`${where}: every usable row has y = 0, and a classifier needs at least two classes (y = 0 and y = 1)`);
  }
  const names = ['train', 'val', 'test'] as const;
  for (const k of forTraining ? [0, 1, 2] : [2]) {
    if (report.splitCounts[k as 0 | 1 | 2] === 0) throw new UsageError(`${where}: no usable rows in the ${names[k]} split (split = ${k})${report.skipped.length ? `; ${report.summary}` : ''}`);
  }
  if (!forTraining) return;
  const trainRows = new Map<number, number>();
  for (const r of report.rows) if (r.split === 0) trainRows.set(r.y, (trainRows.get(r.y) ?? 0) + 1);
  const stray = report.rows.find((r) => !trainRows.has(r.y));
  if (stray) throw new UsageError(`${where}:${stray.line}: y = ${stray.y} has no row in the training split (split = 0), so the model could never learn that class`);
  // A handful of rows of a class next to hundreds of the others is more likely a typo in y.
  const most = Math.max(...trainRows.values());
  for (const [y, n] of trainRows) {
    if (n <= 5 && n < 0.01 * most) {
      const first = report.rows.find((r) => r.split === 0 && r.y === y)!;
      log(`train.js: warning: class y = ${y} has only ${n} training row${n > 1 ? 's' : ''} (the first on ${where}:${first.line}) against ${most} for the largest class; a typo in y?`);
    }
  }
}

/** --classes "a,b[,...]" as two or more different Fashion-MNIST class names. */
function parseClasses(value: string): FashionClass[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase());
  const known = FASHION_CLASSES as readonly string[];
  const bad = names.find((n) => !known.includes(n));
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (names.length < 2 || bad !== undefined || repeated !== undefined) {
    const why = bad !== undefined ? ` ("${bad}" is not one)` : repeated !== undefined ? ` ("${repeated}" is named twice)` : '';
    throw new UsageError(`--classes needs two or more different Fashion-MNIST classes separated by commas (${FASHION_CLASSES.join(', ')}); got "${value}"${why}`);
  }
  return names as FashionClass[];
}
