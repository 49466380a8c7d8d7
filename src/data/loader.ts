// Epochs of batches from any ImageDataset: seeded shuffling, augmentation, normalisation, and
// prefetching — the next batches are assembled (and, for files, decoded) while training awaits the GPU.
import { permutation } from './random.js';
import { augmentSample, type AugmentOptions } from './augment.js';
import { assembleBatch, resolveNormalization, type Batch, type ImageDataset, type NormalizeOption, type Sample } from './dataset.js';

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true); the order depends only on (seed, epoch). */
  shuffle?: boolean;
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Host-side augmentation (default none). */
  augment?: AugmentOptions | false | null;
  normalize?: NormalizeOption;
  /** Batches assembled ahead of the one being consumed (default 2). */
  prefetch?: number;
}

// Yields to the event loop, so synchronous assembly runs while the trainer awaits the GPU.
const nextTask: () => Promise<void> =
  typeof setImmediate === 'function' ? () => new Promise((r) => setImmediate(r)) : () => new Promise((r) => setTimeout(r, 0));

export class DataLoader {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly augment: AugmentOptions | null;
  readonly normalize: NormalizeOption;
  readonly prefetch: number;

  constructor(dataset: ImageDataset, opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.dataset = dataset;
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    this.augment = opts.augment || null;
    this.normalize = opts.normalize;
    resolveNormalization(this.normalize); // fail now on a bad normalisation, not mid-epoch
    this.prefetch = Math.max(0, opts.prefetch ?? 2);
  }

  get batchesPerEpoch(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of an epoch. */
  order(epoch: number): Int32Array {
    if (this.shuffle) return permutation(this.dataset.length, this.seed, epoch);
    return Int32Array.from({ length: this.dataset.length }, (_, i) => i);
  }

  /** Batch k of an epoch, assembled now. */
  async batchAt(epoch: number, k: number, order = this.order(epoch)): Promise<Batch> {
    const indices = order.subarray(k * this.batchSize, Math.min(order.length, (k + 1) * this.batchSize));
    const ds = this.dataset;
    const samples: Sample[] = await Promise.all(Array.from(indices, (i) => ds.get(i)));
    const ready = this.augment ? samples.map((s) => augmentSample(s, ds.imageSize, this.augment!, epoch)) : samples;
    return assembleBatch(ready, ds.imageSize, ds.numPlaces, this.normalize);
  }

  /** The batches of one epoch, `prefetch` of them assembled ahead. */
  async *epoch(epoch = 0): AsyncGenerator<Batch, void, undefined> {
    const order = this.order(epoch);
    const count = this.batchesPerEpoch;
    const pending: Promise<Batch>[] = [];
    let next = 0;
    const fill = (target: number) => {
      while (next < count && pending.length < target) {
        const k = next++;
        const p = nextTask().then(() => this.batchAt(epoch, k, order));
        // A consumer that stops early never awaits these: keep their errors from going unhandled.
        p.catch(() => {});
        pending.push(p);
      }
    };
    for (;;) {
      fill(Math.max(1, this.prefetch));
      if (pending.length === 0) return;
      const batch = await pending.shift()!;
      // While the consumer works on `batch`, `prefetch` later batches are being assembled.
      fill(this.prefetch);
      yield batch;
    }
  }
}
