// PyTorch on the CPU as a training-step peer: what a user without a GPU would run instead of
// webfam. The step runs in a Python process (bench/peers/vit_torch_step.py, Debian's python3-torch)
// driven over a line protocol, so the benchmark's rounds interleave it with the WebGPU libraries
// step by step and every library meets the same machine load. Same weights, batch and AdamW.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { decodeSafetensors, encodeSafetensors, type HostTensor } from '../../src/io/safetensors.js';
import { timmKwargs } from '../../src/vit/export.js';
import type { AdapterSummary } from './types.js';
import { checkParams, type HostParams, type StepSpec, type TrainCase, type TrainPeer } from './vit-common.js';

const PYTHON = process.env.WEBFAM_PYTHON ?? '/usr/bin/python3';

/** The repository root: the nearest folder above this (bundled or not) file with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('torch peer: cannot find the repository root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** A child process answering one line per command. */
class LineChild {
  private lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private stderr = '';
  private exited: string | null = null;

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    proc.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    proc.on('exit', (code) => {
      this.exited = `python exited with ${code}: ${this.stderr.trim().split('\n').at(-1) ?? ''}`;
      this.waiting?.('');
    });
  }

  async next(): Promise<string> {
    const line = this.lines.shift() ?? (this.exited ? '' : await new Promise<string>((r) => { this.waiting = r; }));
    if (this.exited && line === '') throw new Error(this.exited);
    return line;
  }

  async ask(command: string): Promise<string> {
    this.proc.stdin.write(command + '\n');
    return this.next();
  }
}

export function vitTorchPeer(): TrainPeer {
  let version = 'python3-torch';
  return {
    name: 'torch',
    get version() { return version; },
    async init(): Promise<AdapterSummary> {
      // The adapter is the CPU itself; the torch version is known once the process says ready.
      return { vendor: 'cpu', architecture: process.arch, description: `CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length} (PyTorch, no WebGPU)` };
    },

    async prepare(spec: StepSpec, initial: HostParams): Promise<TrainCase> {
      const c = spec.config;
      checkParams('torch', c, initial);
      const dir = mkdtempSync(join(tmpdir(), 'webfam-torch-peer-'));
      const tensors: Record<string, HostTensor> = { ...initial };
      tensors.__images = { shape: [spec.batch, c.inChans, c.imageSize, c.imageSize], data: spec.images };
      tensors.__labels = { shape: [spec.batch], data: Float32Array.from(spec.labels) };
      const config = { kwargs: { ...timmKwargs(c, c.numClasses), norm_eps: c.normEps }, opt: spec.opt, threads: cpus().length };
      const source = join(dir, 'case.safetensors');
      writeFileSync(source, encodeSafetensors(tensors, { config: JSON.stringify(config) }));
      const root = repoRoot();
      const proc = spawn(PYTHON, [join(root, 'bench/peers/vit_torch_step.py'), source], { env: { ...process.env, PYTHONPATH: join(root, 'python') } });
      const child = new LineChild(proc);
      const ready = (await child.next()).split(' ');
      if (ready[0] !== 'ready') throw new Error(`unexpected first line from python: ${ready.join(' ')}`);
      version = `${ready[1]} (CPU, ${ready[2]} threads)`;
      const expect = (answer: string, what: string): void => {
        if (answer !== 'ok') throw new Error(`${what}: python answered ${answer}`);
      };
      let peakRss = 0;
      return {
        note: `PyTorch ${ready[1]} eager on the CPU (${ready[2]} threads, Debian's build): python/webfam_torch's timm-layout VisionTransformer, F.cross_entropy, torch.optim.AdamW; the step is timed from sending "step" to the reply after optimizer.step() and loss.item()`,
        async step() { expect(await child.ask('step'), 'step'); },
        async lastLoss() { return Number(await child.ask('loss')); },
        async params() {
          const path = join(dir, 'params.safetensors');
          expect(await child.ask(`params ${path}`), 'params');
          peakRss = Number(await child.ask('memory'));
          return decodeSafetensors(readFileSync(path)).tensors;
        },
        /** The Python process's peak resident set (weights, activations, the interpreter and torch). */
        memory(): Record<string, number> { return peakRss ? { processPeakRssBytes: peakRss } : {}; },
        dispose() {
          proc.stdin.end('quit\n');
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}
