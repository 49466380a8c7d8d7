// The process-level setup the peers need in Node (a browser-like `navigator.gpu` on Dawn), the
// versions measured, the machine's load, and a dispatch counter that works for every library.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, loadavg } from 'node:os';

// dawn.node's GPU object must outlive every device made from it, or Node segfaults.
let gpuKeepAlive: GPU | null = null;

/**
 * Gives this process what jax-js and TensorFlow.js look for in a browser: WebGPU's constants as
 * globals and `navigator.gpu` (plus `userAgent`, which jax-js reads). Must run before either
 * library is imported; TF.js's WebGPU backend registers itself only if `navigator.gpu` exists.
 */
export async function installNavigatorGpu(dawnFlags: string[] = []): Promise<GPU> {
  if (gpuKeepAlive) return gpuKeepAlive;
  const specifier = 'webgpu';
  const { create, globals } = (await import(specifier)) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  const gpu = create(dawnFlags);
  gpuKeepAlive = gpu;
  // Node 21+ defines its own `navigator` (without gpu) as an accessor: replace it, do not assign.
  const prior = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
  Object.defineProperty(globalThis, 'navigator', {
    value: { hardwareConcurrency: cpus().length, ...(prior ?? {}), gpu, userAgent: `Node.js/${process.versions.node}` },
    configurable: true,
    writable: true,
  });
  return gpu;
}

/** The installed version of a package (read from its package.json, whatever its `exports`). */
export function installedVersion(pkg: string): string {
  const require = createRequire(import.meta.url);
  try {
    let dir = dirname(require.resolve(pkg));
    for (let i = 0; i < 6; i++, dir = dirname(dir)) {
      const f = join(dir, 'package.json');
      if (existsSync(f)) {
        const json = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
        if (json.name === pkg) return json.version ?? 'unknown';
      }
    }
  } catch { /* not installed */ }
  return 'not installed';
}

export interface LoadSample {
  /** /proc/loadavg's 1, 5 and 15 minute averages. */
  loadavg: [number, number, number];
  cpus: number;
}

export function machineLoad(): LoadSample {
  const [a, b, c] = loadavg();
  return { loadavg: [round2(a!), round2(b!), round2(c!)], cpus: cpus().length };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

// ------------------------------------------------------------------ dispatch counting

let dispatchCount = 0;

/**
 * Runs `fn` with every compute dispatch in the process counted (all three libraries record
 * through the same GPUComputePassEncoder), so "fused" is measured, not claimed. The counting
 * wrapper is removed again, so timed runs go through the untouched native methods.
 */
export async function countDispatches(fn: () => Promise<void>): Promise<number> {
  const proto = (globalThis as unknown as { GPUComputePassEncoder?: { prototype: Record<string, unknown> } }).GPUComputePassEncoder?.prototype;
  if (!proto) {
    await fn();
    return NaN;
  }
  const names = ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect'];
  const originals = names.map((n) => proto[n] as (...args: unknown[]) => unknown);
  names.forEach((n, i) => {
    const original = originals[i]!;
    proto[n] = function (this: unknown, ...args: unknown[]) {
      dispatchCount++;
      return original.apply(this, args);
    };
  });
  const before = dispatchCount;
  try {
    await fn();
  } finally {
    names.forEach((n, i) => { proto[n] = originals[i]; });
  }
  return dispatchCount - before;
}
