// The runtime's contracts: GPU errors surface as exceptions that name the kernel or op, buffers
// are pooled and reused, new shapes reuse pipelines (shapes are uniforms), tidy frees what it
// should, and device errors do not poison later work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, tidy, memory, sync, randn, zeros, Tensor } from '../src/index.js';
import { rt } from '../src/tensor/device.js';
import { uniforms } from '../src/shaders/kernel.js';
import { setup, settle } from './harness.js';

test.before(setup);

test('a kernel that fails to compile surfaces as an exception naming the kernel and the WGSL error', async () => {
  const bad = { key: 'test_broken_kernel', uniforms: uniforms({}), access: ['read_write' as const], wgsl: () => '@compute @workgroup_size(1) fn main() { let x: f32 = oops; }' };
  const t = zeros([4]);
  rt().dispatch(bad, { label: 'broken op [4]', buffers: [t.binding], uniforms: {}, workgroups: [1] });
  let message = '';
  try {
    await sync();
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /test_broken_kernel failed to compile/);
  assert.match(message, /oops/);
  // The device stays usable.
  assert.equal([...(await tensor([1, 2]).add(1).data())], [2, 3]);
});

test('debug mode names the exact op of a GPU validation error', async () => {
  const r = rt();
  r.configure({ debug: true });
  try {
    const t = zeros([4]);
    // Binding a 4-element tensor where the kernel indexes past it is fine for WebGPU (robust
    // access), so provoke a real validation error: a range larger than the buffer.
    const k = { key: 'test_identity', uniforms: uniforms({}), access: ['read_write' as const], wgsl: () => '@group(0) @binding(1) var<storage, read_write> Y: array<f32>;\n@compute @workgroup_size(1) fn main() { Y[0] = 1.0; }' };
    r.dispatch(k, { label: 'oversized binding [4]', buffers: [{ buffer: t.buffer, bytes: 1 << 20 }], uniforms: {}, workgroups: [1] });
    let message = '';
    try {
      await sync();
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, /GPU validation error in oversized binding \[4\]/);
  } finally {
    r.configure({ debug: false });
  }
});

test('buffers are pooled: repeated allocations of one size create no new GPU buffers', () => {
  for (let i = 0; i < 3; i++) zeros([1000]).dispose();
  const before = memory().buffersCreated;
  for (let i = 0; i < 50; i++) zeros([1000]).dispose();
  assert.is(memory().buffersCreated, before);
  assert.ok(memory().pooledBytes > 0);
});

test('new shapes reuse the same pipelines (shapes travel as uniforms)', () => {
  // Warm up both reduction variants (column kernel for short rows, row kernel for long ones).
  tidy(() => [[3, 5], [2, 100]].map(([m, n]) => randn([m!, n!]).add(randn([m!, n!])).exp().sum(1)));
  const before = memory().pipelines;
  tidy(() => {
    for (const [m, n] of [[7, 11], [64, 3], [1, 129]] as const) randn([m, n]).add(randn([m, n])).exp().sum(1);
  });
  assert.is(memory().pipelines, before);
});

test('tidy disposes what was made inside except what it returns; live counts return to where they were', async () => {
  await settle();
  const start = memory();
  const kept = tidy(() => {
    const a = randn([10, 10]);
    const b = a.mul(2).add(1);
    return { out: b.sum(), list: [b.mean()] };
  });
  assert.is(kept.out.disposed, false);
  assert.is(kept.list[0]!.disposed, false);
  const mid = memory();
  await settle();
  assert.is(mid.liveTensors, start.liveTensors + 2);
  kept.out.dispose();
  kept.list[0]!.dispose();
  await settle();
  assert.is(memory().liveTensors, start.liveTensors);
  assert.is(memory().liveBytes, start.liveBytes);
});

test('using a disposed tensor is a clear error', () => {
  const t = tensor([1, 2, 3]);
  t.dispose();
  assert.throws(() => t.add(1), /used after dispose/);
});

test('tensor() rejects data that does not fill the shape, naming both', () => {
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /tensor: 3 values do not fill shape \[2, 2\] \(4 elements\)/);
  assert.ok(Tensor.empty([0, 3]).size === 0);
});

test.run();
