// float64 reference of layer norm over the trailing elements (biased variance, as PyTorch).
import { arr, type Arr } from './array.js';

/** Layer norm over the trailing `normalized` elements (biased variance). */
export function layerNormRef(x: Arr, normalized: number, weight?: Arr | null, bias?: Arr | null, eps = 1e-5): Arr {
  const out = arr(x.shape);
  const rows = x.data.length / normalized;
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < normalized; j++) mean += x.data[r * normalized + j]!;
    mean /= normalized;
    let v = 0;
    for (let j = 0; j < normalized; j++) v += (x.data[r * normalized + j]! - mean) ** 2;
    v /= normalized;
    for (let j = 0; j < normalized; j++) {
      let y = (x.data[r * normalized + j]! - mean) / Math.sqrt(v + eps);
      if (weight) y *= weight.data[j]!;
      if (bias) y += bias.data[j]!;
      out.data[r * normalized + j] = y;
    }
  }
  return out;
}
