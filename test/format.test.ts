// Printing values as PyTorch does: each expected string below is what `print(torch.tensor(...))`
// shows for the same float32 values with the default print options (precision 4, threshold 1000,
// edge items 3, line width 80).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTensor } from '../src/tensor/format.js';

const f32 = (values: number[]) => Float32Array.from(values);
const range = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

test('integers print with a trailing point, other values with 4 decimals, aligned to a common width', () => {
  assert.is(formatTensor(f32([1, 2, 3]), [3]), 'tensor([1., 2., 3.])');
  assert.is(formatTensor(f32([0.1, 0.25]), [2]), 'tensor([0.1000, 0.2500])');
  assert.is(formatTensor(f32([-1.5, 2]), [2]), 'tensor([-1.5000,  2.0000])');
  assert.is(formatTensor(f32([123456.7]), [1]), 'tensor([123456.7031])', 'the float32 value, as torch shows it');
  assert.is(formatTensor(f32([3.5]), []), 'tensor(3.5000)');
  assert.is(formatTensor(f32([-0]), []), 'tensor(-0.)');
  assert.is(formatTensor(new Float32Array(6), [2, 3]), 'tensor([[0., 0., 0.],\n        [0., 0., 0.]])');
});

test('scientific notation for tiny values, wide ranges and values over 1e8', () => {
  assert.is(formatTensor(f32([1e-5, 1]), [2]), 'tensor([1.0000e-05, 1.0000e+00])');
  assert.is(formatTensor(f32([1, 10000]), [2]), 'tensor([1.0000e+00, 1.0000e+04])');
  assert.is(formatTensor(f32([1e9]), [1]), 'tensor([1.0000e+09])');
});

test('nan and inf print as words, outside the common width as in torch', () => {
  assert.is(formatTensor(f32([1, NaN, Infinity]), [3]), 'tensor([1., nan, inf])');
  assert.is(formatTensor(f32([1, -2.5, 6, Infinity]), [2, 2]), 'tensor([[ 1.0000, -2.5000],\n        [ 6.0000,     inf]])');
});

test('rows wrap at 80 columns; higher ranks are separated by blank lines', () => {
  assert.is(formatTensor(range(30), [30]), [
    'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,',
    '        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,',
    '        28., 29.])',
  ].join('\n'));
  assert.is(formatTensor(range(8), [2, 2, 2]), 'tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])');
});

test('more than 1,000 elements are summarised with ... around 3 edge items per dimension', () => {
  assert.is(formatTensor(range(2000), [2000]), 'tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])');
  const text = formatTensor(range(2000), [40, 50]);
  const lines = text.split('\n');
  assert.is(lines[0], 'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,');
  assert.is(lines[6], '        ...,');
  assert.is(lines.at(-1), '         1.9990e+03]])');
});

test('empty tensors show their size; suffixes follow the values', () => {
  assert.is(formatTensor(new Float32Array(0), [0]), 'tensor([])');
  assert.is(formatTensor(new Float32Array(0), [0, 3]), 'tensor([], size=(0, 3))');
  assert.is(formatTensor(f32([1, 2]), [2], ['requires_grad=True']), 'tensor([1., 2.], requires_grad=True)');
  // A suffix that would pass column 80 goes on its own line.
  const wide = formatTensor(range(14), [14], ['grad_fn=<MulBackward>']);
  assert.is(wide, 'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n       grad_fn=<MulBackward>)');
});

test.run();
