// Image ops: the registry's cases (test/cases/image.ts: unfold/fold, interpolate in every mode,
// avgPool2d, affineGrid, gridSample in every padding mode, against float64 references written
// after PyTorch's kernels, with gradients), then the conv-weight feature order of unfold,
// scaleFactor, PIL's antialias filter, warps, reproducible gradients and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { affineGrid, avgPool2d, fold, gridSample, interpolate, tensor, unfold, type Tensor } from '../src/index.js';
import { arr, imageRef, type Arr } from '../src/tensor/reference/index.js';
import { setup, rng, randArray, assertClose, toTensor, gradCheck, sameShapeAs, checkForward, checkBackward, byOp } from './harness.js';
import { affineTheta, cases } from './cases/image.js';

test.before(setup);

const numel = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const randArr = (seed: number, shape: number[], lo = -2, hi = 2) => arr(shape, randArray(rng(seed), numel(shape), lo, hi));
type P2 = [number, number];

for (const [op, opCases] of byOp(cases)) {
  test(`${op} matches the float64 reference${opCases.some((c) => c.grad) ? ', and its gradients finite differences' : ''}`, async () => {
    for (const c of opCases) {
      await checkForward(c);
      if (c.grad) await checkBackward(c);
    }
  });
}

// ---------------------------------------------------------------- unfold / fold

test('unfold cuts ViT patches whose features follow the conv weight layout [D, C, P, P]', async () => {
  const [N, C, H, W, P, D] = [2, 3, 8, 12, 4, 5];
  const x = randArr(1, [N, C, H, W]);
  const weight = randArr(2, [D, C, P, P]);
  const patches = unfold(toTensor(x), P);
  sameShapeAs(patches, [N, (H / P) * (W / P), C * P * P]);
  const pd = await patches.data();
  // patches @ weight.reshape(D, -1)^T must equal a stride-P convolution, computed here directly.
  const F = C * P * P, L = (H / P) * (W / P);
  for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) for (let d = 0; d < D; d++) {
    let viaPatches = 0;
    for (let f = 0; f < F; f++) viaPatches += pd[(n * L + l) * F + f]! * weight.data[d * F + f]!;
    const oy = Math.floor(l / (W / P)), ox = l % (W / P);
    let conv = 0;
    for (let c = 0; c < C; c++) for (let ky = 0; ky < P; ky++) for (let kx = 0; kx < P; kx++) {
      conv += x.data[((n * C + c) * H + oy * P + ky) * W + ox * P + kx]! * weight.data[((d * C + c) * P + ky) * P + kx]!;
    }
    assert.ok(Math.abs(viaPatches - conv) < 1e-4, `n ${n} patch ${l} channel ${d}: ${viaPatches} vs conv ${conv}`);
  }
  assertClose(pd, imageRef.unfold(x, [P, P], [P, P], [0, 0]).data, { atol: 0, rtol: 0, what: 'unfold vs reference' });
  // Non-overlapping patches: fold is the exact inverse.
  assertClose(await fold(patches, [H, W], P).data(), x.data, { atol: 0, rtol: 0, what: 'fold(unfold(x))' });
});

test('unfold and fold reject shapes that do not tile, naming the shapes', () => {
  const x = tensor(new Float32Array(2 * 3 * 10 * 12), { shape: [2, 3, 10, 12] });
  assert.throws(() => unfold(x, 4), /unfold: kernel 4x4 with stride 4x4 and padding 0x0 does not tile a 10x12 image exactly/);
  assert.throws(() => unfold(tensor([1, 2, 3]), 1), /unfold: expects an NCHW input of rank 4, got shape \[3\]/);
  assert.throws(() => unfold(x, 0), /unfold: kernel must be an integer >= 1/);
  const p = tensor(new Float32Array(2 * 6 * 48), { shape: [2, 6, 48] });
  assert.throws(() => fold(p, [8, 12], 3), /fold: kernel 3x3 with stride 3x3 and padding 0x0 does not tile a 8x12 image exactly/);
  assert.throws(() => fold(p, [8, 8], 4), /fold: patches of shape \[2, 6, 48\] do not match 4 patches of 4x4 pixels for a 8x8 output/);
});

// ---------------------------------------------------------------- interpolate

const modes: [string, 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic', boolean | undefined][] = [
  ['nearest', 'nearest', undefined],
  ['nearest-exact', 'nearest-exact', undefined],
  ['bilinear', 'bilinear', false],
  ['bilinear alignCorners', 'bilinear', true],
  ['bicubic', 'bicubic', false],
  ['bicubic alignCorners', 'bicubic', true],
];

test('interpolate with a scaleFactor uses 1/factor for coordinates, as PyTorch does', async () => {
  const x = randArr(3, [1, 2, 6, 5]);
  const t = toTensor(x);
  for (const [name, mode, align] of modes) {
    const y = interpolate(t, null, { mode, alignCorners: align, scaleFactor: [1.7, 0.65] });
    sameShapeAs(y, [1, 2, 10, 3], name);
    assertClose(await y.data(), imageRef.interpolate(x, [10, 3], mode, align ?? false, [1.7, 0.65]).data, { atol: 2e-5, rtol: 2e-5, what: `${name} scaleFactor` });
  }
});

test('a 2x antialiased bilinear downsample is PIL\'s [1, 3, 3, 1] / 8 filter; nearest has no antialias', async () => {
  // A 2x bilinear downsample is PIL's [1, 3, 3, 1] / 8 filter away from the borders.
  const row = randArr(14, [1, 1, 1, 16]);
  const half = await interpolate(toTensor(row), [1, 8], { mode: 'bilinear', antialias: true }).data();
  for (let o = 1; o < 7; o++) {
    const r = row.data;
    const expected = (r[2 * o - 1]! + 3 * r[2 * o]! + 3 * r[2 * o + 1]! + r[2 * o + 2]!) / 8;
    assert.ok(Math.abs(half[o]! - expected) < 1e-5, `output ${o}: ${half[o]} vs ${expected}`);
  }
  const x = randArr(15, [1, 1, 9, 6]);
  assert.throws(() => interpolate(toTensor(x), [3, 3], { antialias: true }), /interpolate: antialias only applies to bilinear and bicubic, not nearest/);
});

test('bilinear interpolation to the same size is the identity; bad arguments are named', async () => {
  const x = randArr(4, [1, 3, 5, 7]);
  assertClose(await interpolate(toTensor(x), [5, 7], { mode: 'bilinear' }).data(), x.data, { atol: 0, rtol: 0, what: 'identity' });
  const t = toTensor(x);
  assert.throws(() => interpolate(t, [3, 3], { mode: 'nearest', alignCorners: true }), /interpolate: alignCorners only applies to bilinear and bicubic, not nearest/);
  assert.throws(() => interpolate(t, [3, 3], { scaleFactor: 2 }), /interpolate: give either a size or a scaleFactor, not both/);
  assert.throws(() => interpolate(t, [0, 3]), /interpolate: size must be an integer >= 1/);
  assert.throws(() => interpolate(tensor([[1, 2]]), [3, 3]), /interpolate: expects an NCHW input of rank 4, got shape \[1, 2\]/);
  assert.throws(() => interpolate(t, [3, 3], { mode: 'area' as 'nearest' }), /interpolate: unknown mode 'area'/);
});

// ---------------------------------------------------------------- avgPool2d

test('avgPool2d\'s stride defaults to the kernel size; bad kernels and paddings are named', async () => {
  // stride defaults to the kernel size.
  const x = randArr(5, [1, 1, 6, 6]);
  assertClose(await avgPool2d(toTensor(x), 2).data(), imageRef.avgPool2d(x, [2, 2], [2, 2], [0, 0]).data, { atol: 1e-6, what: 'default stride' });
  assert.throws(() => avgPool2d(toTensor(x), 3, 1, 2), /avgPool2d: padding 2x2 must be at most half the kernel 3x3/);
  assert.throws(() => avgPool2d(toTensor(x), 7), /avgPool2d: kernel 7x7 does not fit input \[1, 1, 6, 6\]/);
});

// ---------------------------------------------------------------- affineGrid, gridSample

test('affineGrid names a theta of the wrong shape', () => {
  const theta = affineTheta([[0.3, 1.1, 0.1, -0.2], [-1.2, 0.8, -0.3, 0.05]]);
  assert.throws(() => affineGrid(toTensor(theta), [3, 1, 4, 4]), /affineGrid: theta must be \[N, 2, 3\] with N = 3 for size \[3, 1, 4, 4\], got \[2, 2, 3\]/);
});

test('warping by the identity affine grid reproduces the image; a rotation matches the reference', async () => {
  const x = randArr(10, [2, 4, 9, 7]);
  const identity = affineTheta([[0, 1, 0, 0], [0, 1, 0, 0]]);
  const g = affineGrid(toTensor(identity), [2, 4, 9, 7]);
  assertClose(await gridSample(toTensor(x), g).data(), x.data, { atol: 1e-5, rtol: 1e-5, what: 'identity warp' });
  // Translations keep sample points off pixel centres, where bilinear has kinks.
  const theta = affineTheta([[0.5, 0.9, 0.1, -0.1], [-0.25, 1.2, 0.037, 0.2]]);
  const warped = gridSample(toTensor(x), affineGrid(toTensor(theta), [2, 4, 9, 7]));
  const expected = imageRef.gridSample(x, imageRef.affineGrid(theta, [2, 4, 9, 7]), 'bilinear', 'zeros');
  assertClose(await warped.data(), expected.data, { atol: 1e-5, rtol: 1e-5, what: 'rotation warp' });
  // Gradients flow through both ops to theta and to the image.
  await gradCheck({
    inputs: [x, theta],
    gpu: (a, th) => gridSample(a, affineGrid(th, [2, 4, 9, 7])),
    ref: (a, th) => imageRef.gridSample(a, imageRef.affineGrid(th, [2, 4, 9, 7]), 'bilinear', 'zeros'),
    h: 1e-6,
    what: 'warp by affineGrid',
  });
});

test('the gridSample input gradient is bit-for-bit reproducible and exact across magnitudes', async () => {
  // Many grid points land on the same pixels (a strong zoom-in), so destinations sum many terms.
  const x = randArr(11, [1, 2, 6, 6]);
  const grid = randArr(12, [1, 40, 40, 2], -0.3, 0.3);
  const tg = toTensor(grid);
  for (const scale of [1, 1e-20, 1e20]) {
    const gOut = randArr(13, [1, 2, 40, 40], -scale, scale);
    const grads: Float32Array[] = [];
    for (let rep = 0; rep < 2; rep++) {
      const tx = toTensor(x, true);
      gridSample(tx, tg).backward(toTensor(gOut));
      grads.push(await tx.grad!.data());
    }
    assert.equal([...grads[1]!], [...grads[0]!], `scale ${scale}: identical runs`);
    // Reference: the adjoint of the (linear in x) reference, via unit vectors' contributions.
    const expected = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const e = arr(x.shape);
      e.data[i] = 1;
      const col = imageRef.gridSample(e, grid, 'bilinear', 'zeros');
      let s = 0;
      for (let k = 0; k < col.data.length; k++) s += col.data[k]! * gOut.data[k]!;
      expected[i] = s;
    }
    assertClose(grads[0]!, expected, { atol: 1e-5 * scale, rtol: 1e-5, what: `input gradient at scale ${scale}` });
  }
});

test('gridSample names bad shapes and options', () => {
  const x = tensor(new Float32Array(2 * 3 * 4 * 4), { shape: [2, 3, 4, 4] });
  const g = tensor(new Float32Array(1 * 2 * 2 * 2), { shape: [1, 2, 2, 2] });
  assert.throws(() => gridSample(x, g), /gridSample: grid must be \[N, Ho, Wo, 2\] with N = 2 for input \[2, 3, 4, 4\], got \[1, 2, 2, 2\]/);
  assert.throws(() => gridSample(x, tensor([1, 2])), /gridSample: expects an NCHW grid of rank 4, got shape \[2\]/);
  const g2 = tensor(new Float32Array(2 * 2 * 2 * 2), { shape: [2, 2, 2, 2] });
  assert.throws(() => gridSample(x, g2, { paddingMode: 'wrap' as 'zeros' }), /gridSample: unknown paddingMode 'wrap'/);
});

test.run();
