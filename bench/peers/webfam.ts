// webfam's side of the kernel benchmark: whatever webfam offers today for each workload (the
// harness counts the dispatches per iteration, so a composed op shows as such).
import { init, matmul, nn, shutdown, sync, tensor, tidy, adapterInfo, type Tensor } from '../../src/index.js';
import type { WorkloadSpec } from '../lib/workloads.js';
import { Unavailable, type AdapterSummary, type Peer, type PreparedCase } from './types.js';

function isNotImplemented(e: unknown): boolean {
  return e instanceof Error && /not implemented/i.test(e.message);
}

export function webfamPeer(version: string): Peer {
  return {
    name: 'webfam',
    version,
    async init(): Promise<AdapterSummary> {
      await init();
      const a = adapterInfo();
      return { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
    },

    async prepare(spec: WorkloadSpec, host: Float32Array[]): Promise<PreparedCase> {
      const w = spec.work;
      const inputs: Tensor[] = [];
      const up = (data: Float32Array, shape: number[]): Tensor => {
        const t = tensor(data, { shape });
        inputs.push(t);
        return t;
      };
      let op: () => Tensor;
      let how: string;
      if (w.family === 'matmul') {
        const a = up(host[0]!, [w.M, w.K]), b = up(host[1]!, [w.K, w.N]);
        op = () => matmul(a, b);
        how = 'matmul';
      } else if (w.family === 'softmax') {
        const x = up(host[0]!, [w.rows, w.cols]);
        op = () => x.softmax(-1);
        how = 'x.softmax(-1)';
      } else if (w.family === 'layernorm') {
        const x = up(host[0]!, [w.rows, w.cols]), g = up(host[1]!, [w.cols]), b = up(host[2]!, [w.cols]);
        op = () => nn.functional.layerNorm(x, [w.cols], g, b, w.eps);
        how = 'nn.functional.layerNorm';
      } else {
        const x = up(host[0]!, [w.rows, w.cols]), a = up(host[1]!, [w.rows, w.cols]), b = up(host[2]!, [w.rows, w.cols]);
        op = () => x.mul(a).add(b).gelu();
        how = 'x.mul(a).add(b).gelu()';
      }
      const disposeInputs = (): void => inputs.forEach((t) => t.dispose());

      // One probe iteration turns "not implemented" into a table entry instead of a crash.
      try {
        tidy(() => { op(); });
        await sync();
      } catch (e) {
        disposeInputs();
        if (isNotImplemented(e)) throw new Unavailable((e as Error).message);
        throw e;
      }

      return {
        note: how,
        async run(iters: number): Promise<void> {
          for (let i = 0; i < iters; i++) tidy(() => { op(); });
          await sync();
        },
        async output(): Promise<Float32Array> {
          const y = op();
          try {
            return await y.data();
          } finally {
            y.dispose();
          }
        },
        dispose: disposeInputs,
      };
    },

    async shutdown(): Promise<void> {
      await shutdown();
    },
  };
}
