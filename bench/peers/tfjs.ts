// TensorFlow.js on @tensorflow/tfjs-backend-webgpu. Its ops run eagerly (each one records a
// dispatch at once, submitted in groups of 15), so finishing a batch means submitting what is
// recorded and waiting for the queue — the same thing webfam's sync() does, with no readback.
import type * as TfModule from '@tensorflow/tfjs-core';
import type { WorkloadSpec } from '../lib/workloads.js';
import { Unavailable, type AdapterSummary, type Peer, type PreparedCase } from './types.js';

type Tf = typeof TfModule;
type T = TfModule.Tensor;

/** The parts of TF.js's WebGPU backend the harness touches (not in its public types). */
export interface WebGpuBackendish {
  device: GPUDevice;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Submits every dispatch TF.js has recorded and waits for the GPU (what its `getBufferData` does
 * first); TF.js has no public call for this.
 */
export async function tfjsFinish(backend: WebGpuBackendish): Promise<void> {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  await backend.device.queue.onSubmittedWorkDone();
}

/**
 * Imports TF.js and its WebGPU backend and switches to it; `beforeBackend` runs between the two
 * (the training-step peer registers gradients there). Imported only now: the backend registers
 * itself at import time, and only if `navigator.gpu` exists, which the harness has set up.
 */
export async function startTfjsWebGPU(beforeBackend?: () => Promise<unknown>): Promise<{ tf: Tf; backend: WebGpuBackendish; adapter: AdapterSummary }> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  await beforeBackend?.();
  if (!(await tf.setBackend('webgpu'))) throw new Unavailable('tfjs: the webgpu backend did not initialise');
  await tf.ready();
  const backend = tf.backend() as unknown as WebGpuBackendish;
  const info = backend.device.adapterInfo;
  return { tf, backend, adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description } };
}

export function tfjsPeer(version: string): Peer {
  let tf: Tf;
  let backend: WebGpuBackendish;
  const finish = () => tfjsFinish(backend);
  return {
    name: 'tfjs',
    version,
    async init(): Promise<AdapterSummary> {
      let adapter: AdapterSummary;
      ({ tf, backend, adapter } = await startTfjsWebGPU());
      return adapter;
    },

    async prepare(spec: WorkloadSpec): Promise<PreparedCase> {
      const w = spec.peer;
      if (!w) throw new Unavailable(`${spec.id}: no TF.js counterpart in this benchmark`);
      const host = spec.inputs;
      const [rows, cols] = spec.shapes[0]!;
      const inputs: T[] = [];
      const keep = <X extends T>(t: X): X => {
        inputs.push(t);
        return t;
      };
      const up = (data: Float32Array, shape: number[]): T => keep(tf.tensor(data, shape, 'float32'));
      let op: () => T;
      let how: string;
      if (w.kind === 'matmul') {
        const a = up(host[0]!, spec.shapes[0]!), b = up(host[1]!, spec.shapes[1]!);
        op = () => tf.matMul(a, b);
        how = 'tf.matMul';
      } else if (w.kind === 'softmax') {
        const x = up(host[0]!, [rows!, cols!]);
        op = () => tf.softmax(x);
        how = 'tf.softmax';
      } else if (w.kind === 'layernorm') {
        const x = up(host[0]!, [rows!, cols!]);
        // batchNorm wants mean, variance, scale and offset of one rank.
        const g = up(host[1]!, [1, cols!]), b = up(host[2]!, [1, cols!]);
        const eps = w.eps;
        op = () => {
          const { mean, variance } = tf.moments(x, -1, true);
          return tf.batchNorm(x, mean, variance, b, g, eps);
        };
        how = 'tf.moments + tf.batchNorm (no layer-norm op)';
      } else {
        const x = up(host[0]!, [rows!, cols!]), a = up(host[1]!, [rows!, cols!]), b = up(host[2]!, [rows!, cols!]);
        // Scalars made once: a JS number in an op would be uploaded on every call.
        const half = keep(tf.scalar(0.5)), one = keep(tf.scalar(1)), rsqrt2 = keep(tf.scalar(Math.SQRT1_2));
        op = () => {
          const y = tf.add(tf.mul(x, a), b);
          return tf.mul(tf.mul(y, half), tf.add(tf.erf(tf.mul(y, rsqrt2)), one));
        };
        how = 'mul, add, then gelu from erf (tfjs-core has no gelu)';
      }
      const disposeInputs = (): void => inputs.forEach((t) => t.dispose());

      return {
        note: how,
        async run(iters: number): Promise<void> {
          for (let i = 0; i < iters; i++) tf.tidy(() => { op(); });
          await finish();
        },
        async output(): Promise<Float32Array> {
          const y = tf.tidy(op);
          try {
            return (await y.data()) as Float32Array;
          } finally {
            y.dispose();
          }
        },
        dispose: disposeInputs,
      };
    },

    async shutdown(): Promise<void> {
      tf.disposeVariables();
      tf.engine().reset();
    },
  };
}
