// Matrix multiply front-end. (Placeholder interface; the tiled kernel lands in src/shaders/matmul.ts.)
import type { Tensor } from '../tensor.js';

export interface MatmulOptions {
  /** Use a's last two axes transposed, without a copy. */
  transA?: boolean;
  /** Use b's last two axes transposed, without a copy. */
  transB?: boolean;
  /** Added to every output row (shape [N]). */
  bias?: Tensor;
  /** Applied after the bias. */
  activation?: 'none' | 'gelu' | 'geluTanh' | 'relu';
}

export function matmul(_a: Tensor, _b: Tensor, _opts: MatmulOptions = {}): Tensor {
  throw new Error('matmul: not implemented yet');
}
