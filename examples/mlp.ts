// A small end-to-end example: an MLP learns to tell apart three interleaved 2-D spirals, trained
// with AdamW, a warm-up + cosine schedule and cross-entropy, printing the loss as it goes.
// Run: node scripts/build.mjs --examples && node dist/examples/mlp.js
import { init, tensor, tidy, nn, optim, type Tensor } from '../src/index.js';

export interface SpiralOptions {
  /** Points per class (default 100). */
  perClass?: number;
  steps?: number;
  lr?: number;
  hidden?: number;
  seed?: number;
  /** Called every `logEvery` steps with the current loss (reads it back from the GPU). */
  log?: (step: number, loss: number) => void;
  logEvery?: number;
}

export interface SpiralResult {
  initialLoss: number;
  finalLoss: number;
  /** Training-set accuracy after the last step. */
  accuracy: number;
  classes: number;
}

/** Three spirals of `perClass` noisy points each; labels are the spiral index. */
export function spirals(perClass: number, seed: number): { x: Float32Array; y: Float32Array } {
  let s = seed >>> 0;
  const rand = () => {
    // mulberry32, so the data set is the same on every run.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float32Array(3 * perClass * 2);
  const y = new Float32Array(3 * perClass);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / perClass;
      const theta = c * ((2 * Math.PI) / 3) + 4 * r + 0.2 * (rand() - 0.5);
      const k = c * perClass + i;
      x[2 * k] = r * Math.sin(theta);
      x[2 * k + 1] = r * Math.cos(theta);
      y[k] = c;
    }
  }
  return { x, y };
}

class SpiralNet extends nn.Module {
  readonly net: nn.Sequential;
  constructor(hidden: number) {
    super();
    this.net = this.module('net', new nn.Sequential(
      new nn.Linear(2, hidden), new nn.GELU(),
      new nn.Linear(hidden, hidden), new nn.GELU(),
      new nn.Linear(hidden, 3),
    ));
  }

  forward(x: Tensor): Tensor {
    return this.net.forward(x);
  }
}

/** Trains the spiral classifier full-batch and reports the loss before and after and the accuracy. */
export async function trainSpirals(opts: SpiralOptions = {}): Promise<SpiralResult> {
  const { perClass = 100, steps = 400, lr = 0.02, hidden = 32, seed = 1, logEvery = 50 } = opts;
  await init();
  nn.init.manualSeed(seed);
  const data = spirals(perClass, seed);
  const n = 3 * perClass;
  const x = tensor(data.x, { shape: [n, 2] });
  const y = tensor(data.y);
  const model = new SpiralNet(hidden);
  const opt = new optim.AdamW(model.parameters(), { lr, weightDecay: 1e-4 });
  const schedule = optim.cosineSchedule({ baseLr: lr, warmupSteps: Math.min(20, steps), totalSteps: steps, minLr: lr / 20 });

  let initialLoss = NaN, finalLoss = NaN;
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      const l = nn.functional.crossEntropy(model.forward(x), y);
      l.backward();
      return l;
    });
    opt.setLr(schedule(step));
    opt.step();
    opt.zeroGrad();
    // Reading the loss waits for the GPU, so only do it now and then.
    if (step === 0 || step === steps - 1 || (step + 1) % logEvery === 0) {
      const v = await loss.item();
      if (step === 0) initialLoss = v;
      finalLoss = v;
      opts.log?.(step + 1, v);
    }
    loss.dispose();
  }
  const correct = tidy(() => model.forward(x).argmax(-1).eq(y).sum());
  const accuracy = (await correct.item()) / n;
  correct.dispose();
  for (const t of [x, y]) t.dispose();
  opt.dispose();
  model.dispose();
  return { initialLoss, finalLoss, accuracy, classes: 3 };
}

// Run directly (not when imported, e.g. by the test): train and print.
const entry = typeof process !== 'undefined' ? process.argv[1] : undefined;
if (entry && import.meta.url === (await import('node:url')).pathToFileURL(entry).href) {
  const t0 = performance.now();
  const res = await trainSpirals({ log: (s, l) => console.log(`step ${String(s).padStart(4)}  loss ${l.toFixed(4)}`) });
  console.log(`accuracy ${(100 * res.accuracy).toFixed(1)}% (chance ${(100 / res.classes).toFixed(1)}%), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(0);
}
