// jax-js on its WebGPU device. Its arrays are lazy and reference-counted: every use of an input
// takes `.ref`, and the clock stops only after `blockUntilReady` on every output, since an array
// that is never realised is never computed.
import type * as JaxModule from '@jax-js/jax';
import type { WorkloadSpec } from '../lib/workloads.js';
import { Unavailable, type AdapterSummary, type Peer, type PreparedCase } from './types.js';

type Jax = typeof JaxModule;
type JArray = JaxModule.Array;

/**
 * Imports jax-js and starts its WebGPU device. Imported only now: jax-js looks for
 * `navigator.gpu`, which the harness has just set up.
 */
export async function startJaxWebGPU(): Promise<{ jax: Jax; device: GPUDevice }> {
  const jax = await import('@jax-js/jax');
  const devices = await jax.init('webgpu');
  if (!devices.includes('webgpu')) throw new Unavailable('jax-js found no WebGPU device (is navigator.gpu set?)');
  jax.defaultDevice('webgpu');
  return { jax, device: jax.getWebGPUDevice() };
}

export function jaxPeer(version: string): Peer {
  let jax: Jax;
  return {
    name: 'jax-js',
    version,
    async init(): Promise<AdapterSummary> {
      const started = await startJaxWebGPU();
      jax = started.jax;
      const info = started.device.adapterInfo;
      return { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
    },

    async prepare(spec: WorkloadSpec): Promise<PreparedCase> {
      const np = jax.numpy;
      const w = spec.peer;
      if (!w) throw new Unavailable(`${spec.id}: no jax-js counterpart in this benchmark`);
      const host = spec.inputs;
      const [rows, cols] = spec.shapes[0]!;
      const inputs: JArray[] = [];
      const up = (data: Float32Array, shape: number[]): JArray => {
        const a = np.array(data).reshape(shape);
        inputs.push(a);
        return a;
      };
      // Every function is jitted: that is how jax-js fuses a chain of ops into one kernel.
      let op: () => JArray;
      let how: string;
      if (w.kind === 'matmul') {
        const a = up(host[0]!, spec.shapes[0]!), b = up(host[1]!, spec.shapes[1]!);
        const f = jax.jit((p: JArray, q: JArray) => np.matmul(p, q));
        op = () => f(a.ref, b.ref);
        how = 'jit(np.matmul)';
      } else if (w.kind === 'softmax') {
        const x = up(host[0]!, [rows!, cols!]);
        const f = jax.jit((v: JArray) => jax.nn.softmax(v, -1));
        op = () => f(x.ref);
        how = 'jit(nn.softmax)';
      } else if (w.kind === 'layernorm') {
        const x = up(host[0]!, [rows!, cols!]), g = up(host[1]!, [cols!]), b = up(host[2]!, [cols!]);
        const eps = w.eps;
        const f = jax.jit((v: JArray, gamma: JArray, beta: JArray) => jax.nn.standardize(v, -1, { epsilon: eps }).mul(gamma).add(beta));
        op = () => f(x.ref, g.ref, b.ref);
        how = 'jit(nn.standardize·γ+β)';
      } else {
        const x = up(host[0]!, [rows!, cols!]), a = up(host[1]!, [rows!, cols!]), b = up(host[2]!, [rows!, cols!]);
        const f = jax.jit((v: JArray, p: JArray, q: JArray) => jax.nn.gelu(v.mul(p).add(q), { approximate: false }));
        op = () => f(x.ref, a.ref, b.ref);
        how = 'jit(nn.gelu(x·a+b), exact)';
      }
      // Uploads are lazy too: realise the inputs before any clock starts.
      await jax.blockUntilReady(inputs);

      return {
        note: how,
        async run(iters: number): Promise<void> {
          const outs: JArray[] = [];
          for (let i = 0; i < iters; i++) outs.push(op());
          await jax.blockUntilReady(outs);
          for (const o of outs) o.dispose();
        },
        async output(): Promise<Float32Array> {
          // data() realises the array and gives up this reference to it.
          return (await op().data()) as Float32Array;
        },
        dispose(): void {
          for (const a of inputs) a.dispose();
        },
      };
    },

    async shutdown(): Promise<void> {
      // jax-js has no device teardown; its buffers were freed with the inputs and outputs.
    },
  };
}
