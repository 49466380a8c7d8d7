// The tape: accumulation into .grad, zeroGrad, noGrad, detach, shared subexpressions, grad() of
// intermediate tensors without touching .grad, and a second pass over a retained graph — the
// pattern relevance maps use (∂y/∂A as constants, then a loss through A).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, noGrad, grad, tidy } from '../src/index.js';
import { setup, assertClose } from './harness.js';

test.before(setup);

test('backward accumulates into .grad until zeroGrad', async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).sum().backward();
  assert.equal([...(await x.grad!.data())], [2, 4, 6]);
  x.mul(3).sum().backward();
  assert.equal([...(await x.grad!.data())], [5, 7, 9]);
  x.zeroGrad();
  assert.is(x.grad, null);
});

test('a shared subexpression (diamond) sums both paths', async () => {
  const x = tensor([0.5, -1], { requiresGrad: true });
  const h = x.exp();
  h.mul(h).add(h).sum().backward(); // d/dx (e^2x + e^x) = 2e^2x + e^x
  assertClose(await x.grad!.data(), [0.5, -1].map((v) => 2 * Math.exp(2 * v) + Math.exp(v)), { rtol: 1e-6 });
});

test('noGrad and detach record nothing', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = noGrad(() => x.mul(2));
  assert.is(y.requiresGrad, false);
  assert.is(y.node, null);
  const z = x.mul(2).detach();
  assert.is(z.requiresGrad, false);
  assert.throws(() => y.sum().backward(), /does not require grad/);
});

test('grad() returns gradients of intermediate tensors and leaves .grad alone; unrelated inputs get zeros', async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const other = tensor([7, 7], { requiresGrad: true });
  const h = x.mul(2);
  const y = h.square().sum();
  const [gh, gx, go] = grad(y, [h, x, other]);
  assert.equal([...(await gh!.data())], [4, 8, 12]);
  assert.equal([...(await gx!.data())], [8, 16, 24]);
  assert.equal([...(await go!.data())], [0, 0]);
  assert.is(x.grad, null);
});

test('a retained graph can be walked again: gradients w.r.t. an intermediate as constants, then a loss through it', async () => {
  // y = Σ a², a = softmax(x w); first ∂y/∂a (constant), then L = Σ (∂y/∂a ⊙ a) backpropagated to w.
  const w = tensor([[0.5, -0.2], [0.1, 0.3]], { requiresGrad: true });
  const x = tensor([[1, 2], [3, -1]]);
  const a = x.matmul(w).softmax(-1);
  const y = a.square().sum();
  const [ga] = grad(y, [a], { retainGraph: true });
  const L = ga!.mul(a).sum();
  L.backward();
  // Reference by finite differences of L(w) with ga held fixed.
  const gaHost = await ga!.data();
  const f = (wv: number[]) => {
    let s = 0;
    for (let r = 0; r < 2; r++) {
      const z = [0, 1].map((c) => x0[r]![0]! * wv[c]! + x0[r]![1]! * wv[2 + c]!);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const Z = e[0]! + e[1]!;
      s += gaHost[r * 2]! * (e[0]! / Z) + gaHost[r * 2 + 1]! * (e[1]! / Z);
    }
    return s;
  };
  const x0 = [[1, 2], [3, -1]];
  const w0 = [0.5, -0.2, 0.1, 0.3];
  const num = w0.map((_, i) => {
    const p = [...w0], m = [...w0];
    p[i]! += 1e-6;
    m[i]! -= 1e-6;
    return (f(p) - f(m)) / 2e-6;
  });
  assertClose(await w.grad!.data(), num, { atol: 1e-5, rtol: 1e-4 });
});

test('walking a freed graph a second time is an error, not a silent no-op', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.square().sum();
  y.backward();
  assert.throws(() => y.backward(), /was freed by an earlier backward\(\)\/grad\(\); pass \{ retainGraph: true \}/);
});

test('backward inside tidy keeps .grad and frees the rest', async () => {
  const x = tensor([1, 2], { requiresGrad: true });
  tidy(() => {
    x.square().sum().backward();
  });
  assert.equal([...(await x.grad!.data())], [2, 4]);
});

test.run();
