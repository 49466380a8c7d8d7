// webfam's side of the kernel benchmark: the registry case's own call (the harness counts the
// dispatches per iteration, so a composed op shows as such).
import { init, shutdown, sync, tensor, tidy, adapterInfo, type Tensor } from '../../src/index.js';
import type { WorkloadSpec } from '../lib/workloads.js';
import type { AdapterSummary, Peer, PreparedCase } from './types.js';

export function webfamPeer(version: string): Peer {
  return {
    name: 'webfam',
    version,
    async init(): Promise<AdapterSummary> {
      await init();
      const a = adapterInfo();
      return { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
    },

    async prepare(spec: WorkloadSpec): Promise<PreparedCase> {
      const inputs: Tensor[] = spec.inputs.map((data, i) => tensor(data, { shape: spec.shapes[i]! }));
      const op = (): Tensor => spec.case.gpu(...inputs);
      return {
        note: spec.case.op,
        async run(iters: number): Promise<void> {
          // Outputs stay alive until the GPU is done: with elementwise fusion a chain runs only
          // when its value may still be needed, and an output disposed at once would never be
          // computed (jax-js is timed the same way, for the same reason).
          const outs: Tensor[] = [];
          for (let i = 0; i < iters; i++) outs.push(tidy(op));
          await sync();
          for (const y of outs) y.dispose();
        },
        async output(): Promise<Float32Array> {
          // tidy frees what the call made on the way (copies, stacked parts) and keeps the result.
          const y = tidy(op);
          try {
            return await y.data();
          } finally {
            y.dispose();
          }
        },
        dispose: () => inputs.forEach((t) => t.dispose()),
      };
    },

    async shutdown(): Promise<void> {
      await shutdown();
    },
  };
}
