// The GPU side of webfam: buffer pool, pipeline cache, per-dispatch uniforms, and the command
// encoder that batches dispatches until a sync point. Nothing here waits for the GPU except
// `read()` (what `await tensor.data()` calls) and `sync()`. What a kernel is, and how its
// uniforms are declared and packed, is src/shaders/kernel.ts.
import type { AdapterDescription, InitOptions } from './device.js';
import {
  UNIFORM_WORDS, kernelSource, linearGroups, linearMain, uniforms, type Access, type Kernel, type UniformSpec, type UniformValues,
} from '../shaders/kernel.js';

const UNIFORM_BYTES = UNIFORM_WORDS * 4; // also the uniform offset alignment we use (>= 256 is required)
const UNIFORM_RING_SLOTS = 1024;

export interface Dispatch<S extends UniformSpec> {
  /** Op name and shapes; it is what a GPU error message names. */
  label: string;
  /** Storage buffers, in the order of `kernel.access`. `bytes` limits the bound range. */
  buffers: { buffer: GPUBuffer; bytes: number }[];
  /** The kernel's uniform fields, by name. */
  uniforms: UniformValues<S>;
  workgroups: readonly [number, number?, number?];
}

/** GPU time per kernel, from timestamp queries (see Runtime.startProfile). */
export interface KernelProfile {
  kernel: string;
  dispatches: number;
  ms: number;
}

interface Profiler {
  querySet: GPUQuerySet;
  capacity: number;
  used: number;
  keys: string[];
  totals: Map<string, { dispatches: number; ns: number }>;
  pending: Promise<void>[];
}

export interface MemoryInfo {
  /** Bytes held by live tensors. */
  liveBytes: number;
  /** Bytes in free buffers kept for reuse. */
  pooledBytes: number;
  /** Highest `liveBytes` seen since start or the last `resetPeak()`. */
  peakBytes: number;
  /** Tensors created and not yet disposed (or collected). */
  liveTensors: number;
  /** GPU buffers created so far (pool misses). */
  buffersCreated: number;
  /** Compute pipelines compiled so far. */
  pipelines: number;
  /** Dispatches and queue submissions so far. */
  dispatches: number;
  submits: number;
}

/** 4398046511104 → "4 TiB" (for error messages). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${Number(v.toPrecision(3))} ${units[u]}`;
}

function sizeClass(bytes: number): number {
  // Round up to a quarter of the enclosing power of two: at most 25% waste, few classes.
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = Math.max(256, p / 4);
  return Math.ceil(bytes / step) * step;
}

export class Runtime {
  readonly device: GPUDevice;
  readonly adapterDescription: AdapterDescription;
  keepAlive: unknown = null;
  lost: string | null = null;

  debug = false;
  poison = false;
  batchSize = 64;
  /** Elementwise fusion (src/tensor/fusion.ts): pointwise ops are recorded and fused lazily. */
  fuse = true;
  /**
   * Records work held back (pending fused kernels) so it precedes the next command; set by the
   * fusion layer, called before every dispatch, copy, write, read and sync.
   */
  pendingWork: (() => void) | null = null;

  private free = new Map<number, GPUBuffer[]>();
  private readbackFree: GPUBuffer[] = [];
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelineLayouts = new Map<string, GPUPipelineLayout>();

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batchCount = 0;
  private batchLabels: string[] = [];
  private uniformWords = new Uint32Array(UNIFORM_WORDS * UNIFORM_RING_SLOTS);
  private uniformFloats = new Float32Array(this.uniformWords.buffer);
  private uniformBuffer: GPUBuffer;
  /** A 256-byte storage buffer to bind where a kernel's optional output is not wanted. */
  readonly scratch: GPUBuffer;
  private uniformsUsed = 0;
  private pendingScopes = new Set<Promise<void>>();
  private profiler: Profiler | null = null;
  private errors: string[] = [];
  /** Buffers whose creation the GPU reported as failed (see acquire). */
  private failed = new WeakSet<GPUBuffer>();

  stats = { liveBytes: 0, pooledBytes: 0, peakBytes: 0, liveTensors: 0, buffersCreated: 0, dispatches: 0, submits: 0 };

  constructor(device: GPUDevice, desc: AdapterDescription, opts: InitOptions) {
    this.device = device;
    this.adapterDescription = desc;
    this.configure(opts);
    this.uniformBuffer = device.createBuffer({
      label: 'webfam uniform ring',
      size: UNIFORM_BYTES * UNIFORM_RING_SLOTS,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.scratch = device.createBuffer({ label: 'webfam scratch', size: 256, usage: GPUBufferUsage.STORAGE });
    device.lost.then((info) => {
      if (this.destroyed) return;
      this.lost = `${info.reason}: ${info.message}`;
      console.error(`webfam: GPU device lost (${this.lost}). Tensors on it are gone; call init() again.`);
    });
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(`GPU error outside any op: ${err.message}`);
    });
  }

  private destroyed = false;

  configure(opts: InitOptions): void {
    if (opts.debug !== undefined) this.debug = opts.debug;
    if (opts.poison !== undefined) this.poison = opts.poison;
    if (opts.batchSize !== undefined) this.batchSize = Math.max(1, opts.batchSize);
    if (opts.fuse !== undefined) {
      this.settle();
      this.fuse = opts.fuse;
    }
  }

  /** Records pending fused work now (see `pendingWork`). */
  settle(): void {
    this.pendingWork?.();
  }

  // ---------------------------------------------------------------- buffers

  /** The largest storage buffer a kernel can bind on this device, in bytes. */
  get maxBufferBytes(): number {
    const limits = this.device.limits;
    return Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  }

  /** Throws the error `acquire` would for a size the device cannot have; returns the limit. */
  checkBytes(bytes: number, what = 'a buffer'): number {
    const limit = this.maxBufferBytes;
    if (!(bytes <= limit)) {
      throw new RangeError(`${what} needs ${formatBytes(bytes)}, more than the largest buffer this GPU allows (${formatBytes(limit)})`);
    }
    return limit;
  }

  /**
   * A storage buffer of at least `bytes` bytes, from the pool when possible. A size the device
   * cannot have throws here, before anything is counted; a buffer the GPU fails to allocate (out
   * of memory, reported later) stops counting as live as soon as the failure is known.
   */
  acquire(bytes: number, what = 'a buffer'): GPUBuffer {
    const limit = this.checkBytes(bytes, what);
    // Rounding up to the size class must not cross the device limit either.
    const size = Math.min(sizeClass(Math.max(4, bytes)), Math.floor(limit / 4) * 4);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) {
      this.stats.pooledBytes -= size;
    } else {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      const created = this.device.createBuffer({
        size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      buf = created;
      const peakBefore = this.stats.peakBytes;
      const scope = Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]).then(([validation, oom]) => {
        const e = oom ?? validation;
        if (!e) return;
        this.errors.push(`${oom ? 'out of GPU memory' : 'GPU error'} allocating ${formatBytes(size)} for ${what} (live ${formatBytes(this.stats.liveBytes - size)}): ${e.message}`);
        // The buffer does not exist: stop counting it now, and never pool it.
        this.failed.add(created);
        this.stats.liveBytes -= size;
        this.stats.peakBytes = Math.max(peakBefore, this.stats.liveBytes);
      });
      this.track(scope);
      this.stats.buffersCreated++;
    }
    this.stats.liveBytes += size;
    if (this.stats.liveBytes > this.stats.peakBytes) this.stats.peakBytes = this.stats.liveBytes;
    if (this.poison) this.fillBits(buf, size, 0x7fc00000);
    return buf;
  }

  /** Returns a buffer to the pool. Commands already recorded that use it still see its contents. */
  release(buf: GPUBuffer): void {
    const size = buf.size;
    if (this.failed.has(buf)) {
      // Its allocation failed: it was already taken off the live count, and is not reusable.
      this.failed.delete(buf);
      buf.destroy();
      return;
    }
    this.stats.liveBytes -= size;
    if (this.destroyed) return;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buf);
    this.stats.pooledBytes += size;
  }

  /** Destroys every pooled (free) buffer. */
  emptyCache(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.stats.pooledBytes = 0;
  }

  /** Writes host data into a buffer, ordered after everything recorded so far. */
  write(buf: GPUBuffer, data: Float32Array | Uint32Array | Int32Array, byteOffset = 0): void {
    // queue.writeBuffer runs before any not-yet-submitted commands; if the buffer was reused from
    // the pool, recorded commands may still read its old contents, so submit them first.
    this.settle();
    if (this.batchCount > 0) this.flush();
    this.device.queue.writeBuffer(buf, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  private fillBits(buf: GPUBuffer, bytes: number, bits: number): void {
    const words = bytes / 4;
    this.dispatch(FILL_BITS_KERNEL, {
      label: 'poison',
      buffers: [{ buffer: buf, bytes }],
      uniforms: { count: words, bits },
      workgroups: linearGroups(words),
    });
  }

  // ---------------------------------------------------------------- pipelines

  private bindGroupLayout(access: readonly Access[]): GPUBindGroupLayout {
    const key = access.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', minBindingSize: UNIFORM_BYTES } },
      ];
      access.forEach((a, i) =>
        entries.push({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' },
        }),
      );
      layout = this.device.createBindGroupLayout({ entries, label: `layout(${key})` });
      this.layouts.set(key, layout);
      this.pipelineLayouts.set(key, this.device.createPipelineLayout({ bindGroupLayouts: [layout] }));
    }
    return layout;
  }

  pipeline<S extends UniformSpec>(kernel: Kernel<S>): GPUComputePipeline {
    let p = this.pipelines.get(kernel.key);
    if (p) return p;
    this.bindGroupLayout(kernel.access);
    const code = kernelSource(kernel);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: kernel.key });
    p = this.device.createComputePipeline({
      label: kernel.key,
      layout: this.pipelineLayouts.get(kernel.access.join(','))!,
      compute: { module, entryPoint: 'main' },
    });
    const scope = this.device.popErrorScope().then(async (e) => {
      if (!e) return;
      let detail = e.message;
      try {
        const info = await module.getCompilationInfo();
        const msgs = info.messages.map((m) => `  line ${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`);
        if (msgs.length) detail += '\n' + msgs.join('\n');
      } catch { /* compilation info is optional */ }
      this.errors.push(`kernel ${kernel.key} failed to compile: ${detail}`);
    });
    this.track(scope);
    this.pipelines.set(kernel.key, p);
    return p;
  }

  // ---------------------------------------------------------------- dispatch

  /** Records one compute dispatch; it runs when the batch is submitted. */
  dispatch<S extends UniformSpec>(kernel: Kernel<S>, d: Dispatch<S>): void {
    this.settle();
    this.throwPendingErrors();
    if (this.lost) throw new Error(`webfam: GPU device lost (${this.lost}); cannot run ${d.label}`);
    if (d.buffers.length !== kernel.access.length) {
      throw new Error(`webfam internal: ${d.label}: kernel ${kernel.key} takes ${kernel.access.length} buffers, got ${d.buffers.length}`);
    }
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const pipeline = this.pipeline(kernel);
    if (this.uniformsUsed >= UNIFORM_RING_SLOTS) this.flush();
    const slot = this.uniformsUsed++;
    kernel.uniforms.pack(d.uniforms, this.uniformWords, this.uniformFloats, slot * UNIFORM_WORDS);

    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer, offset: slot * UNIFORM_BYTES, size: UNIFORM_BYTES } }];
    d.buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b.buffer, offset: 0, size: Math.max(4, b.bytes) } }));
    const bindGroup = this.device.createBindGroup({ layout: this.layouts.get(kernel.access.join(','))!, entries });

    if (!this.encoder) this.beginBatch();
    const prof = this.profiler;
    if (prof) {
      // Each dispatch in its own pass, timed at its start and end.
      if (this.pass) {
        this.pass.end();
        this.pass = null;
      }
      const j = prof.used++;
      prof.keys[j] = kernel.key;
      const pass = this.encoder!.beginComputePass({ timestampWrites: { querySet: prof.querySet, beginningOfPassWriteIndex: 2 * j, endOfPassWriteIndex: 2 * j + 1 } });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    } else {
      if (!this.pass) this.pass = this.encoder!.beginComputePass();
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(x, y, z);
    }
    this.batchCount++;
    this.stats.dispatches++;
    if (this.batchLabels.length < 12) this.batchLabels.push(d.label);
    if (this.debug || this.batchCount >= this.batchSize || (prof && prof.used >= prof.capacity)) this.flush();
  }

  /**
   * Starts timing every dispatch on the GPU (needs the 'timestamp-query' feature). Dispatches
   * then run one per compute pass, which costs a little; use it to find where time goes.
   */
  startProfile(capacity = 2048): void {
    if (!this.device.features.has('timestamp-query')) throw new Error('profiling needs the timestamp-query feature, which this adapter lacks');
    this.flush();
    this.profiler = {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: 2 * capacity }),
      capacity, used: 0, keys: [], totals: new Map(), pending: [],
    };
  }

  /** Stops profiling; GPU milliseconds per kernel, largest first. */
  async stopProfile(): Promise<KernelProfile[]> {
    const prof = this.profiler;
    if (!prof) return [];
    this.flush();
    this.profiler = null;
    await Promise.all(prof.pending);
    prof.querySet.destroy();
    return [...prof.totals].map(([kernel, t]) => ({ kernel, dispatches: t.dispatches, ms: t.ns / 1e6 })).sort((a, b) => b.ms - a.ms);
  }

  private resolveProfile(): void {
    const prof = this.profiler;
    if (!prof || prof.used === 0 || !this.encoder) return;
    const n = prof.used;
    const bytes = 16 * n;
    const resolve = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.encoder.resolveQuerySet(prof.querySet, 0, 2 * n, resolve, 0);
    this.encoder.copyBufferToBuffer(resolve, 0, read, 0, bytes);
    const keys = prof.keys.slice(0, n);
    prof.used = 0;
    prof.pending.push((async () => {
      await this.device.queue.onSubmittedWorkDone();
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange());
      keys.forEach((k, j) => {
        const e = prof.totals.get(k) ?? { dispatches: 0, ns: 0 };
        e.dispatches++;
        e.ns += Number(t[2 * j + 1]! - t[2 * j]!);
        prof.totals.set(k, e);
      });
      read.unmap();
      read.destroy();
      resolve.destroy();
    })());
  }

  /** Records a buffer-to-buffer copy (ordered with dispatches). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.settle();
    if (bytes === 0) return;
    if (!this.encoder) this.beginBatch();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder!.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.batchCount++;
  }

  private beginBatch(): void {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    this.encoder = this.device.createCommandEncoder();
  }

  /** Submits everything recorded so far. Does not wait. */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.resolveProfile();
    if (this.uniformsUsed > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformWords.buffer, 0, this.uniformsUsed * UNIFORM_BYTES);
    }
    const cmd = this.encoder.finish();
    this.device.queue.submit([cmd]);
    this.stats.submits++;
    const labels = this.batchLabels;
    const count = this.batchCount;
    const where = count === 1 ? labels[0] : `a batch of ${count} commands (${labels.join('; ')}${count > labels.length ? '; …' : ''})`;
    const validation = this.device.popErrorScope();
    const oom = this.device.popErrorScope();
    this.track(
      Promise.all([validation, oom]).then(([v, o]) => {
        if (v) this.errors.push(`GPU validation error in ${where}: ${v.message}`);
        if (o) this.errors.push(`GPU out of memory in ${where}: ${o.message}`);
      }),
    );
    this.encoder = null;
    this.batchCount = 0;
    this.batchLabels = [];
    this.uniformsUsed = 0;
  }

  private track(p: Promise<void>): void {
    this.pendingScopes.add(p);
    p.finally(() => this.pendingScopes.delete(p));
  }

  private throwPendingErrors(): void {
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new Error(`webfam: ${msg}${this.debug ? '' : '\n(init({ debug: true }) names the exact op)'}`);
    }
  }

  /** Waits until the GPU has finished everything submitted, then reports any GPU errors. */
  async sync(): Promise<void> {
    this.settle();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all([...this.pendingScopes]);
    this.throwPendingErrors();
  }

  /** Copies `bytes` bytes of a buffer back to the host. */
  async read(buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.throwPendingErrors();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    let staging = this.readbackFree.findIndex((b) => b.size >= size && b.size <= size * 2);
    const rb = staging >= 0 ? this.readbackFree.splice(staging, 1)[0]! : this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.copy(buf, 0, rb, 0, size);
    this.flush();
    try {
      await rb.mapAsync(GPUMapMode.READ, 0, size);
    } catch (e) {
      await Promise.all([...this.pendingScopes]);
      this.throwPendingErrors();
      throw e;
    }
    const out = rb.getMappedRange(0, size).slice(0, bytes);
    rb.unmap();
    if (this.readbackFree.length < 8) this.readbackFree.push(rb);
    else rb.destroy();
    await Promise.all([...this.pendingScopes]);
    this.throwPendingErrors();
    return out;
  }

  memory(): MemoryInfo {
    // Pending fused values are counted as the buffers they will be.
    this.settle();
    return { ...this.stats, pipelines: this.pipelines.size };
  }

  resetPeak(): void {
    this.settle();
    this.stats.peakBytes = this.stats.liveBytes;
  }

  async destroy(): Promise<void> {
    try {
      this.settle();
      this.flush();
      await this.device.queue.onSubmittedWorkDone();
    } catch { /* the device may already be gone */ }
    this.destroyed = true;
    this.emptyCache();
    for (const b of this.readbackFree) b.destroy();
    this.uniformBuffer.destroy();
    this.scratch.destroy();
    this.device.destroy();
  }
}

/** Fills a buffer with a 32-bit pattern (the NaN poison of `init({ poison: true })`). */
const FILL_BITS_KERNEL: Kernel<{ count: 'u32'; bits: 'u32' }> = {
  key: 'fill_bits',
  uniforms: uniforms({ count: 'u32', bits: 'u32' }),
  access: ['read_write'],
  wgsl: () => /* wgsl */ `
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${linearMain()}
  if (i < params.count) { out[i] = params.bits; }
}`,
};
