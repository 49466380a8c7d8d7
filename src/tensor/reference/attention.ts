// float64 references for masked attention, a_ij = m_j·exp(s_ij) / Σ_k m_k·exp(s_ik), and for that
// masked softmax alone.
import { arr, atBroadcast, unravel, type Arr } from './array.js';

/** q [B,H,Tq,D], k/v [B,H,Tk,D], mask [B,Tk] or null → { out [B,H,Tq,D], probs [B,H,Tq,Tk] }. */
export function maskedAttentionRef(q: Arr, k: Arr, v: Arr, mask: Arr | null, scale?: number): { out: Arr; probs: Arr } {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!;
  const sc = scale ?? 1 / Math.sqrt(D);
  const out = arr([B, H, Tq, D]);
  const probs = arr([B, H, Tq, Tk]);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    for (let i = 0; i < Tq; i++) {
      const s = new Float64Array(Tk);
      let mx = -Infinity;
      for (let j = 0; j < Tk; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(bh * Tq + i) * D + d]! * k.data[(bh * Tk + j) * D + d]!;
        s[j] = dot * sc;
        mx = Math.max(mx, s[j]!);
      }
      let z = 0;
      const w = new Float64Array(Tk);
      for (let j = 0; j < Tk; j++) {
        const m = mask ? mask.data[b * Tk + j]! : 1;
        w[j] = m * Math.exp(s[j]! - mx);
        z += w[j]!;
      }
      for (let j = 0; j < Tk; j++) {
        const a = z === 0 ? 0 : w[j]! / z;
        probs.data[(bh * Tq + i) * Tk + j] = a;
        for (let d = 0; d < D; d++) out.data[(bh * Tq + i) * D + d]! += a * v.data[(bh * Tk + j) * D + d]!;
      }
    }
  }
  return { out, probs };
}

/** Softmax with multiplicative weights over the last axis of s: a_j = m_j·exp(s_j) / Σ_k m_k·exp(s_k), 0 where Σ is 0; m broadcasts. */
export function maskedSoftmaxRef(s: Arr, m: Arr): Arr {
  const T = s.shape[s.shape.length - 1]!;
  const out = arr(s.shape);
  for (let row = 0; row < s.data.length / T; row++) {
    const idx = unravel(row * T, s.shape);
    const w = new Float64Array(T);
    let mx = -Infinity, z = 0;
    for (let j = 0; j < T; j++) mx = Math.max(mx, s.data[row * T + j]!);
    for (let j = 0; j < T; j++) {
      idx[idx.length - 1] = j;
      w[j] = atBroadcast(m, idx) * Math.exp(s.data[row * T + j]! - mx);
      z += w[j]!;
    }
    for (let j = 0; j < T; j++) out.data[row * T + j] = z === 0 ? 0 : w[j]! / z;
  }
  return out;
}
