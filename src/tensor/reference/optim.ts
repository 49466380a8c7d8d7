// float64 references of the optimiser updates (PyTorch's rules, written plainly) and of
// gradient-norm clipping, for test/optim.test.ts. Arrays are updated in place.

export interface AdamWRefState {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  /** Steps taken so far (incremented by the update). */
  step: number;
}

/** torch.optim.AdamW: decoupled decay, then Adam with bias corrections. */
export function adamwRefStep(s: AdamWRefState, g: ArrayLike<number>, o: { lr: number; betas: [number, number]; eps: number; weightDecay: number }): void {
  const t = ++s.step;
  const [b1, b2] = o.betas;
  const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
  for (let i = 0; i < s.p.length; i++) {
    s.p[i]! *= 1 - o.lr * o.weightDecay;
    s.m[i] = b1 * s.m[i]! + (1 - b1) * g[i]!;
    s.v[i] = b2 * s.v[i]! + (1 - b2) * g[i]! * g[i]!;
    s.p[i]! -= ((o.lr / bc1) * s.m[i]!) / (Math.sqrt(s.v[i]!) / Math.sqrt(bc2) + o.eps);
  }
}

export interface SGDRefState {
  p: Float64Array;
  buf: Float64Array;
  step: number;
}

/** torch.optim.SGD: L2 decay added to the gradient, momentum buffer seeded with the first gradient. */
export function sgdRefStep(
  s: SGDRefState,
  g0: ArrayLike<number>,
  o: { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number },
): void {
  const first = s.step++ === 0;
  for (let i = 0; i < s.p.length; i++) {
    let g = g0[i]! + o.weightDecay * s.p[i]!;
    if (o.momentum !== 0) {
      s.buf[i] = first ? g : o.momentum * s.buf[i]! + (1 - o.dampening) * g;
      g = o.nesterov ? g + o.momentum * s.buf[i]! : s.buf[i]!;
    }
    s.p[i]! -= o.lr * g;
  }
}

/** torch.nn.utils.clip_grad_norm_: returns the global L2 norm and the clipped gradients. */
export function clipGradNormRef(grads: readonly ArrayLike<number>[], maxNorm: number): { norm: number; clipped: Float64Array[] } {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  return { norm, clipped: grads.map((g) => Float64Array.from(g, (x) => x * scale)) };
}
