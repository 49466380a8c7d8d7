// Memory statistics and sync points, exposed to users.
import { rt } from './device.js';
import type { KernelProfile, MemoryInfo } from './runtime.js';

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

/** Starts timing every GPU dispatch (timestamp queries); `stopProfile()` returns the totals. */
export function startProfile(): void {
  rt().startProfile();
}

/** GPU milliseconds per kernel since `startProfile()`, largest first. */
export function stopProfile(): Promise<KernelProfile[]> {
  return rt().stopProfile();
}
