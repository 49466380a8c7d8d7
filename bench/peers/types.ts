// What each library (webfam and its peers) provides to the kernel benchmark.
import type { WorkloadSpec } from '../lib/workloads.js';

/** The adapter a library ended up on, as it reports it. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device?: string;
  description: string;
}

/** One workload, set up on one library with its inputs already on the GPU. */
export interface PreparedCase {
  /**
   * Issues `iters` iterations back to back and resolves once the GPU has finished all of them
   * (each library's own "block until ready"), so the clock covers the GPU work and no readback.
   */
  run(iters: number): Promise<void>;
  /** One output, read back to the host, for the float64 check (not timed). */
  output(): Promise<Float32Array>;
  /** How the library computes it: fused or composed, and how (shown in the table). */
  note: string;
  /** Frees the inputs. */
  dispose(): void;
}

/** Thrown by `prepare` when a library cannot run a workload on this machine. */
export class Unavailable extends Error {}

export interface Peer {
  /** Short name used in the table and in `--peers`: webfam, jax-js, tfjs. */
  name: string;
  /** Package version(s) measured. */
  version: string;
  /** Sets the library up on the WebGPU adapter and says which adapter it got. */
  init(): Promise<AdapterSummary>;
  /**
   * Uploads the inputs and returns the case; throws `Unavailable` when it cannot run it. The
   * peers are given only workloads with `spec.peer` set; webfam runs every registry case.
   */
  prepare(spec: WorkloadSpec): Promise<PreparedCase>;
  /** Releases the device (end of the run). */
  shutdown(): Promise<void>;
}
