// Memory holds flat across a long training loop: a tiny MLP (Linear, GELU, Linear, cross-entropy)
// trained with AdamW and gradient clipping inside tidy, 1,000 steps, compared at step 10 and 1,000.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, tidy, nn, optim, memory, sync, type Tensor } from '../src/index.js';
import { setup, rng, randArray, settle } from './harness.js';

test.before(async () => {
  await setup();
});

test('1,000 training steps leave live bytes, live tensors and the buffer count exactly as at step 10', async () => {
  const r = rng(1);
  const x = tensor(Float32Array.from(randArray(r, 16 * 5)), { shape: [16, 5] });
  const y = tensor(Float32Array.from({ length: 16 }, (_, i) => i % 3));
  const model = new nn.Sequential(new nn.Linear(5, 8), new nn.GELU(), new nn.Linear(8, 3));
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-2 });
  const sched = optim.cosineSchedule({ baseLr: 1e-2, warmupSteps: 10, totalSteps: 1000 });
  await settle();
  const start = memory();
  let at10: ReturnType<typeof memory> | null = null;
  let firstLoss = NaN, lastLoss = NaN;
  for (let step = 1; step <= 1000; step++) {
    const loss = tidy(() => {
      const l = nn.functional.crossEntropy(model.forward(x), y);
      l.backward();
      return l;
    });
    const norm: Tensor = optim.clipGradNorm(model.parameters(), 1.0);
    opt.setLr(sched(step - 1));
    opt.step();
    opt.zeroGrad();
    if (step === 1) firstLoss = await loss.item();
    if (step === 1000) lastLoss = await loss.item();
    loss.dispose();
    norm.dispose();
    // Let the GPU catch up now and then, as a loop that logs would.
    if (step % 100 === 0) await sync();
    if (step === 10) {
      await sync();
      at10 = memory();
    }
  }
  await sync();
  const end = memory();
  // Run alone, live bytes are identical. In the full suite the garbage collector may return
  // tensors that earlier suites leaked (releasing their bytes but not their tensor count), so
  // bytes may only fall; a leak here would raise both counts.
  assert.ok(end.liveBytes <= at10!.liveBytes, `live bytes grew: ${at10!.liveBytes} -> ${end.liveBytes}`);
  if (end.liveBytes !== at10!.liveBytes) console.log(`memory test: ${at10!.liveBytes - end.liveBytes} bytes of other suites' leaked tensors were collected`);
  assert.is(end.liveBytes + end.pooledBytes, at10!.liveBytes + at10!.pooledBytes, 'bytes held by the pool, live or free');
  await settle();
  assert.is(end.liveTensors, at10!.liveTensors, 'live tensors');
  assert.is(end.buffersCreated, at10!.buffersCreated, 'no new GPU buffers after warm-up');
  assert.is(end.pipelines, at10!.pipelines, 'no new pipelines');
  // Only the optimiser state was added since the start (2 tensors per parameter).
  assert.is(end.liveTensors - start.liveTensors, 2 * model.parameters().length);
  assert.ok(lastLoss < firstLoss, `the loop trains: ${firstLoss} -> ${lastLoss}`);
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  const after = memory();
  assert.is(after.liveTensors, start.liveTensors - 2 - 4, 'everything is returned');
});

test.run();
