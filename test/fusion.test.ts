// Elementwise fusion (src/tensor/fusion.ts): fused chains give what the same ops give one kernel
// at a time, forward and backward; a chain is one dispatch and allocates only what is kept; a new
// batch size compiles nothing; tidy, dispose, keep and in-place writes keep their meaning; and
// errors still come from the op call that caused them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, tidy, memory, sync, randn, zeros, type Tensor } from '../src/index.js';
import { rt } from '../src/tensor/device.js';
import { uploadInto_ } from '../src/tensor/ops/movement.js';
import { binary } from '../src/tensor/ops/pointwise.js';
import type { BinaryName } from '../src/shaders/pointwise.js';
import { arr, map, zip, unaryRef, binaryRef } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, randInt, assertClose, gradCheck, settle } from './harness.js';

test.before(async () => {
  await setup();
});

/** Runs `fn` with fusion on or off, restoring the setting the suite runs with. */
async function withFusion<T>(fuse: boolean, fn: () => Promise<T> | T): Promise<T> {
  const before = rt().fuse;
  await init({ fuse });
  try {
    return await fn();
  } finally {
    await init({ fuse: before });
  }
}

/**
 * Steps of a random chain. Each keeps its operands in the op's domain (sqrt of |v| + 0.5, exp of
 * tanh v, ...): WGSL lets a compiler assume no NaN or infinity, so out-of-domain values may differ
 * between two correct kernels.
 */
const UNARY_STEPS: ((v: Tensor) => Tensor)[] = [
  (v) => v.neg(), (v) => v.abs(), (v) => v.tanh(), (v) => v.sigmoid(), (v) => v.relu(), (v) => v.gelu(),
  (v) => v.gelu({ approximate: 'tanh' }), (v) => v.tanh().exp(), (v) => v.tanh().square(),
  (v) => v.abs().add(0.5).sqrt(), (v) => v.abs().add(0.5).reciprocal(), (v) => v.abs().add(0.5).log(),
];
const BINARY_STEPS: ((a: Tensor | number, b: Tensor | number) => Tensor)[] = [
  (a, b) => bin(a, 'add', b), (a, b) => bin(a, 'sub', b), (a, b) => bin(a, 'mul', b),
  (a, b) => bin(a, 'maximum', b), (a, b) => bin(a, 'minimum', b), (a, b) => bin(a, 'lt', b),
  (a, b) => bin(a, 'div', typeof b === 'number' ? b : b.abs().add(0.5)),
  (a, b) => bin(typeof a === 'number' ? a : a.abs().add(0.5), 'pow', typeof b === 'number' ? b : b.tanh()),
];
/** `a op b`, either side a tensor or a number (scalar-first ops take the scalar-first kernels). */
const bin = (a: Tensor | number, op: BinaryName, b: Tensor | number) => binary(op, a, b);

/** Output shapes (none a multiple of a workgroup, some with an inner dimension of 4k for vec4). */
const SHAPES = [[3, 5, 7], [6, 12], [2, 3, 8], [13], [4, 1, 9], [2, 2, 5, 4]];

/** A shape that broadcasts to `shape`: some dimensions set to 1, maybe leading ones dropped. */
function broadcastable(r: () => number, shape: number[]): number[] {
  const s = shape.map((d) => (r() < 0.35 ? 1 : d));
  return r() < 0.3 ? s.slice(randInt(r, 0, s.length - 1)) : s;
}

/**
 * One random chain over `inputs` (the first has the output shape), replayed identically from the
 * same seed; returns the values it kept (every third step and the last). The others die as the
 * chain moves on, as in a tidy, so a fused kernel never writes them.
 */
function randomChain(seed: number, inputs: Tensor[]): Tensor[] {
  const r = rng(seed);
  let v = inputs[0]!;
  const kept: Tensor[] = [];
  const made: Tensor[] = [];
  const steps = randInt(r, 3, 12);
  for (let s = 0; s < steps; s++) {
    const u = r();
    let next: Tensor;
    if (u < 0.4) next = UNARY_STEPS[randInt(r, 0, UNARY_STEPS.length - 1)]!(v);
    else {
      const step = BINARY_STEPS[randInt(r, 0, BINARY_STEPS.length - 1)]!;
      const other = u < 0.6 ? Math.fround(0.5 + r()) : inputs[randInt(r, 0, inputs.length - 1)]!;
      next = r() < 0.5 ? step(v, other) : step(other, v);
    }
    if (s % 3 === 2 || s === steps - 1) kept.push(next);
    else made.push(next);
    v = next;
  }
  made.forEach((t) => t.dispose());
  return kept;
}

test('random chains (broadcasting, scalars, shapes off every tile) give what the unfused ops give', async () => {
  for (let c = 0; c < 36; c++) {
    const r = rng(1000 + c);
    const shape = SHAPES[c % SHAPES.length]!;
    const n = shape.reduce((p, d) => p * d, 1);
    const first = arr(shape, randArray(r, n, 0.2, 2));
    const others = [0, 1].map(() => {
      const s = broadcastable(r, shape);
      return arr(s, randArray(r, s.reduce((p, d) => p * d, 1), 0.2, 2));
    });
    const run = (fuse: boolean) => withFusion(fuse, async () => {
      const inputs = [first, ...others].map((a) => tensor(Float32Array.from(a.data), { shape: a.shape }));
      const kept = tidy(() => randomChain(c, inputs));
      const values = await Promise.all(kept.map((t) => t.data()));
      [...inputs, ...kept].forEach((t) => t.dispose());
      return values;
    });
    const fused = await run(true);
    const unfused = await run(false);
    assert.is(fused.length, unfused.length);
    fused.forEach((f, k) => assertClose(f, unfused[k]!, { atol: 1e-6, rtol: 1e-5, what: `chain ${c} [${shape}] kept value ${k}` }));
  }
});

test('chains longer than a kernel holds, with more inputs and scalars than its bindings and uniforms take, split and stay exact', async () => {
  const r = rng(77);
  const shape = [3, 10, 8];
  // Ten broadcast inputs (each needs strides in the uniforms), ten flat ones, 80 steps.
  const shapes = [...Array.from({ length: 10 }, () => broadcastable(r, shape)), ...Array.from({ length: 10 }, () => shape)];
  const data = shapes.map((s) => randArray(r, s.reduce((p, d) => p * d, 1), 0.5, 1.5));
  const run = (fuse: boolean) => withFusion(fuse, async () => {
    const inputs = shapes.map((s, k) => tensor(Float32Array.from(data[k]!), { shape: s }));
    const rr = rng(5);
    const kept: Tensor[] = [];
    const out = tidy(() => {
      let v = tensor(Float32Array.from(data[10]!), { shape });
      for (let s = 0; s < 80; s++) {
        const other = inputs[s % inputs.length]!;
        v = s % 3 === 0 ? v.mul(other).tanh() : s % 3 === 1 ? v.add(Math.fround(rr())).sigmoid() : v.sub(other).mul(Math.fround(rr()));
        if (s % 17 === 0) kept.push(v.keep());
      }
      return v;
    });
    const values = await Promise.all([out, ...kept].map((t) => t.data()));
    [out, ...kept, ...inputs].forEach((t) => t.dispose());
    return values;
  });
  const fused = await run(true);
  const unfused = await run(false);
  fused.forEach((f, k) => assertClose(f, unfused[k]!, { atol: 1e-6, rtol: 1e-5, what: `value ${k}` }));
});

test('interleaved ops on two shapes, through reshapes, reductions and backward, give what the unfused ops give', async () => {
  // Pending values of one shape feed ops of another (broadcast), reshaped views of pending values
  // and reductions of them are computed first, and backward's own chains fuse.
  const unary: ((v: Tensor) => Tensor)[] = [(v) => v.neg(), (v) => v.abs(), (v) => v.tanh(), (v) => v.sigmoid(), (v) => v.relu(), (v) => v.gelu()];
  const ops: BinaryName[] = ['add', 'sub', 'mul', 'maximum', 'minimum'];
  for (let c = 0; c < 40; c++) {
    const results: Float32Array[][] = [];
    for (const fuse of [true, false]) {
      results.push(await withFusion(fuse, async () => {
        const r = rng(c * 7 + 1);
        const pool: Tensor[] = [];
        for (const shape of [SHAPES[randInt(r, 0, SHAPES.length - 1)]!, SHAPES[randInt(r, 0, SHAPES.length - 1)]!]) {
          pool.push(tensor(Float32Array.from(randArray(r, shape.reduce((p, d) => p * d, 1), -1, 1)), { shape, requiresGrad: r() < 0.5 }));
          const narrow = shape.map((d) => (r() < 0.4 ? 1 : d));
          pool.push(tensor(Float32Array.from(randArray(r, narrow.reduce((p, d) => p * d, 1), -1, 1)), { shape: narrow }));
        }
        const leaves = [...pool];
        const kept: Tensor[] = [];
        tidy(() => {
          for (let s = 0; s < 25; s++) {
            const a = pool[randInt(r, 0, pool.length - 1)]!;
            const u = r();
            let y: Tensor;
            if (u < 0.35) y = unary[randInt(r, 0, unary.length - 1)]!(a);
            else if (u < 0.5) {
              const tensorFirst = r() < 0.5;
              const s = Math.fround(r());
              y = binary(ops[randInt(r, 0, ops.length - 1)]!, tensorFirst ? a : s, tensorFirst ? s : a);
            } else if (u < 0.6) y = a.reshape([-1]).mul(1.5).reshape([...a.shape]);
            else if (u < 0.65) y = a.sum(-1, true);
            else {
              const b = pool[randInt(r, 0, pool.length - 1)]!;
              const op = ops[randInt(r, 0, ops.length - 1)]!;
              try {
                y = binary(op, a, b);
              } catch {
                continue; // shapes that do not broadcast
              }
            }
            pool.push(y);
            if (r() < 0.3) kept.push(y.keep());
          }
          const roots = pool.filter((t) => t.requiresGrad && !leaves.includes(t));
          if (roots.length) roots.map((t) => t.sum()).reduce((p, t) => p.add(t)).backward();
        });
        const values = await Promise.all([...kept, ...leaves.filter((l) => l.grad).map((l) => l.grad!)].map((t) => t.data()));
        [...kept, ...leaves].forEach((t) => { t.grad?.dispose(); t.dispose(); });
        return values;
      }));
    }
    const [fused, unfused] = results as [Float32Array[], Float32Array[]];
    assert.is(fused.length, unfused.length, `case ${c}`);
    fused.forEach((v, k) => assertClose(v, unfused[k]!, { atol: 1e-5, rtol: 1e-4, what: `case ${c} value ${k}` }));
  }
});

test('a chain computes what its float64 reference computes, with a broadcast operand and a scalar', async () => {
  const r = rng(3);
  const x = arr([5, 12], randArray(r, 60));
  const a = arr([12], randArray(r, 12));
  const b = arr([5, 1], randArray(r, 5));
  const ref = map(zip(zip(map(x, (v) => v * 1.5), a, binaryRef.add), b, binaryRef.mul), unaryRef.gelu);
  const [tx, ta, tb] = [x, a, b].map((v) => tensor(Float32Array.from(v.data), { shape: v.shape }));
  const y = tx!.mul(1.5).add(ta!).mul(tb!).gelu();
  assertClose(await y.data(), ref.data, { atol: 2e-6, rtol: 2e-5, what: 'gelu((1.5x + a)·b)' });
});

test('gradients through fused chains match finite differences, broadcast operands included', async () => {
  const r = rng(11);
  const x = arr([3, 7], randArray(r, 21, 0.3, 2));
  const w = arr([7], randArray(r, 7, 0.3, 2));
  await gradCheck({
    inputs: [x, w],
    gpu: (u, v) => u.mul(v).add(0.5).gelu().sub(v.square()).tanh().mul(u.sqrt()),
    ref: (u, v) => zip(map(zip(map(zip(u, v, binaryRef.mul), (t) => unaryRef.gelu(t + 0.5)), map(v, unaryRef.square), binaryRef.sub), Math.tanh), map(u, Math.sqrt), binaryRef.mul),
    what: 'tanh(gelu(x·w + 0.5) − w²)·√x',
  });
  await gradCheck({
    inputs: [x],
    gpu: (u) => u.div(u.add(1)).exp().mul(u).neg(),
    ref: (u) => map(u, (t) => -Math.exp(t / (t + 1)) * t),
    what: '−exp(x / (x + 1))·x',
  });
});

test('backward through a fused chain gives the gradients the unfused ops give', async () => {
  const r = rng(4);
  const xs = randArray(r, 8 * 12);
  const bs = randArray(r, 12);
  const run = (fuse: boolean) => withFusion(fuse, async () => {
    const x = tensor(Float32Array.from(xs), { shape: [8, 12], requiresGrad: true });
    const b = tensor(Float32Array.from(bs), { shape: [12], requiresGrad: true });
    tidy(() => x.add(b).gelu().mul(x).sigmoid().mul(2).sum().backward());
    const out = [await x.grad!.data(), await b.grad!.data()];
    [x.grad!, b.grad!, x, b].forEach((t) => t.dispose());
    return out;
  });
  const fused = await run(true);
  const unfused = await run(false);
  assertClose(fused[0]!, unfused[0]!, { atol: 1e-6, rtol: 1e-5, what: 'dx' });
  assertClose(fused[1]!, unfused[1]!, { atol: 1e-6, rtol: 1e-5, what: 'db' });
});

test('gelu(x·a + b) is one dispatch and allocates only its result', async () => {
  await withFusion(true, async () => {
    const x = randn([64, 48]), a = randn([64, 48]), b = randn([48]);
    await sync();
    rt().configure({ poison: false });
    try {
      const before = memory();
      rt().resetPeak();
      const y = tidy(() => x.mul(a).add(b).gelu());
      const after = memory();
      assert.is(after.dispatches - before.dispatches, 1, 'one fused kernel');
      assert.is(after.peakBytes - before.liveBytes, 64 * 48 * 4, 'only the result was ever allocated');
      y.dispose();
    } finally {
      rt().configure({ poison: true });
    }
    [x, a, b].forEach((t) => t.dispose());
  });
});

test('a new batch size reuses the fused pipeline (shapes and scalars are uniforms)', async () => {
  await withFusion(true, async () => {
    const chain = (batch: number, scale: number) => tidy(() => {
      const x = randn([batch, 7, 12]);
      const bias = randn([12]);
      return x.mul(scale).add(bias).tanh().square();
    });
    const warm = chain(2, 0.5);
    await warm.data();
    const pipelines = memory().pipelines;
    const y = chain(5, 3);
    await y.data();
    assert.is(memory().pipelines, pipelines, 'no new pipeline for batch 5 and another scalar');
    [warm, y].forEach((t) => t.dispose());
  });
});

test('tidy, dispose and keep: dead values are never written, kept ones are, and bytes return', async () => {
  await withFusion(true, async () => {
    await settle();
    const start = memory();
    const xs = Float32Array.from({ length: 30 }, (_, i) => i / 10 - 1);
    const x = tensor(xs, { shape: [5, 6] });
    let kept: Tensor | null = null;
    const out = tidy(() => {
      const t = x.mul(2);
      kept = t.add(1).keep();
      return t.exp().neg();
    });
    // A leaf disposed while a chain that reads it is pending: the chain still sees its values.
    const y = x.sub(0.5);
    x.dispose();
    assertClose(await out.data(), Array.from(xs, (v) => -Math.exp(2 * v)), { what: 'returned' });
    assertClose(await kept!.data(), Array.from(xs, (v) => 2 * v + 1), { what: 'kept' });
    assertClose(await y.data(), Array.from(xs, (v) => v - 0.5), { what: 'read after its input was disposed' });
    [out, kept!, y].forEach((t) => t.dispose());
    await settle();
    const end = memory();
    assert.is(end.liveTensors, start.liveTensors, 'live tensors');
    assert.is(end.liveBytes, start.liveBytes, 'live bytes');
  });
});

test('a pending chain reads its inputs as they were when the ops were called, not after an in-place write', async () => {
  await withFusion(true, async () => {
    const p = tensor([1, 2, 3, 4, 5]);
    const y = p.mul(10).add(1);
    uploadInto_(p, Float32Array.of(0, 0, 0, 0, 0));
    assert.equal([...(await y.data())], [11, 21, 31, 41, 51]);
    [p, y].forEach((t) => t.dispose());
  });
});

test('errors come from the op call, before anything is computed', async () => {
  await withFusion(true, async () => {
    const a = zeros([2, 3]), b = zeros([4]);
    assert.throws(() => a.add(b), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    const wide = zeros([200000, 1]), tall = zeros([1, 200000]);
    assert.throws(() => wide.mul(tall), (e: Error) => e instanceof RangeError && /a tensor of shape \[200000, 200000\] needs/.test(e.message));
    const gone = a.exp();
    gone.dispose();
    assert.throws(() => gone.add(1), /used after dispose/);
    assert.equal([...(await a.add(1).data())], [1, 1, 1, 1, 1, 1], 'the engine still works');
    [a, b, wide, tall].forEach((t) => t.dispose());
  });
});

test('gradients that are the upstream gradient itself share no memory once they are .grad', async () => {
  // add's gradients are views of the upstream gradient (no kernel); each leaf's .grad must still
  // be its own memory, since optimisers and clipping update .grad in place.
  const a = tensor([1, 2, 3], { requiresGrad: true });
  const b = tensor([4, 5, 6], { requiresGrad: true });
  const w = tensor([1, 10, 100]);
  a.add(b).mul(w).sum().backward();
  uploadInto_(a.grad!, Float32Array.of(0, 0, 0));
  assert.equal([...(await b.grad!.data())], [1, 10, 100]);
  assert.equal([...(await a.grad!.data())], [0, 0, 0]);
  [a, b, w].forEach((t) => { t.grad?.dispose(); t.dispose(); });
});

test('values reached by reshape and by broadcasting into a larger shape are computed first', async () => {
  await withFusion(true, async () => {
    const x = tensor([1, 2, 3, 4, 5, 6]);
    const y = x.mul(2).reshape([2, 3]).add(1);
    const z = x.add(1).add(tensor([[0], [10]]));
    assert.equal([...(await y.data())], [3, 5, 7, 9, 11, 13]);
    assert.equal([...(await z.data())], [2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17]);
  });
});

test.run();
