// Memory statistics and sync points, exposed to users.
import { rt } from './device.js';
import type { MemoryInfo } from './runtime.js';

/** Live, pooled and peak GPU bytes, live tensors, pipelines, dispatch counts. */
export function memory(): MemoryInfo {
  return rt().memory();
}

/** Waits for all submitted GPU work and reports GPU errors. */
export async function sync(): Promise<void> {
  await rt().sync();
}

export function resetPeakMemory(): void {
  rt().resetPeak();
}

/** Frees pooled (unused) GPU buffers. */
export function emptyCache(): void {
  rt().emptyCache();
}
