// The examples run and do what they claim: the spiral MLP (examples/mlp.ts) learns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memory } from '../src/index.js';
import { trainSpirals } from '../examples/mlp.js';
import { setup, settle } from './harness.js';

test.before(async () => {
  await setup();
});

test('the spiral MLP example drives the loss down and classifies far above chance', async () => {
  await settle();
  const before = memory().liveTensors;
  const res = await trainSpirals({ perClass: 60, steps: 300, seed: 3 });
  assert.ok(res.initialLoss > 0.9, `starts near ln 3: ${res.initialLoss}`);
  assert.ok(res.finalLoss < 0.4 * res.initialLoss, `loss drops: ${res.initialLoss} -> ${res.finalLoss}`);
  assert.ok(res.accuracy > 0.85, `accuracy ${res.accuracy} (chance 1/3)`);
  // Other suites' undisposed tensors may be garbage-collected meanwhile (the count then drops),
  // so the check is that the example leaves nothing alive of its own: the count does not grow.
  await settle();
  assert.ok(memory().liveTensors <= before, `the example frees what it made (${before} live before, ${memory().liveTensors} after)`);
});

test.run();
