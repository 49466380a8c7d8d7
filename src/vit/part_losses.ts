// iFAM's part-discovery losses on the stage-1 part maps A [B, K+1, h, w] (background last),
// each as docs/methods.md states it, composed from engine ops so autograd differentiates them.
import { Tensor, tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { avgPool2d, affineGrid, gridSample } from '../tensor/ops/image.js';
import { eye } from '../tensor/creation.js';

function fg(maps: Tensor): Tensor {
  return maps.slice(1, 0, maps.shape[1]! - 1);
}

/** 1 − mean_k max_{b,h,w} avgpool3x3(A_k), over foreground parts: every part shows up somewhere. */
export function presenceLoss(maps: Tensor): Tensor {
  const K1 = maps.shape[1]!;
  const pooled = avgPool2d(fg(maps), 3, 1, 1);
  const perPart = pooled.transpose(0, 1).reshape(K1 - 1, -1).max(1);
  return perPart.mean().neg().add(1);
}

/** mean((C − I)²) with C the cosine similarities between the K+1 part embeddings [B, K+1, D]. */
export function orthogonalityLoss(parts: Tensor): Tensor {
  const K1 = parts.shape[1]!;
  const norm = parts.square().sum(-1, true).add(1e-12).sqrt();
  const unit = parts.div(norm);
  const C = unit.matmul(unit, { transB: true }); // [B, K+1, K+1]
  const I = eye(K1);
  return C.sub(I).square().mean();
}

/** (Σ |Δ_h A| + |Δ_w A|) / (B·h·w): part maps should be piecewise smooth. */
export function totalVariationLoss(maps: Tensor): Tensor {
  const [B, , h, w] = maps.shape as [number, number, number, number];
  const dh = maps.slice(2, 1).sub(maps.slice(2, 0, h - 1)).abs().sum();
  const dw = maps.slice(3, 1).sub(maps.slice(3, 0, w - 1)).abs().sum();
  return dh.add(dw).div(B * h * w);
}

/** Radial weight [h, w]: 0 at the image centre, 1 at the corners (patch centres). */
export function radialWeight(h: number, w: number): Float32Array {
  const r = new Float32Array(h * w);
  const cy = (h - 1) / 2, cx = (w - 1) / 2;
  const far = Math.hypot(cy, cx) || 1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) r[y * w + x] = Math.hypot(y - cy, x - cx) / far;
  return r;
}

/** BCE(max_{h,w} avgpool3x3(A_bg) · r, 1): the background part must be present near the borders. */
export function backgroundPresenceLoss(maps: Tensor): Tensor {
  const [B, K1, h, w] = maps.shape as [number, number, number, number];
  const bg = maps.slice(1, K1 - 1, K1);
  const pooled = avgPool2d(bg, 3, 1, 1).reshape(B, h * w);
  const r = tensor(radialWeight(h, w), { shape: [1, h * w] });
  const peak = pooled.mul(r).max(1); // [B]
  return peak.clamp(1e-6, 1).log().neg().mean();
}

/** Mean over pixels of the entropy of A across parts: assignments should be confident. */
export function entropyLoss(maps: Tensor): Tensor {
  return maps.mul(maps.add(1e-8).log()).sum(1).neg().mean();
}

export interface AffineSample {
  /** θ [B, 2, 3] for affineGrid (output → input coordinates). */
  theta: Tensor;
}

/**
 * Random affine transforms per image: rotation ±90°, translation ≤ 0.11 (of the half-size
 * normalised range), scale 0.8–1.4, drawn from `random` (host, seeded by the caller).
 */
export function randomAffine(B: number, random: () => number): AffineSample {
  const th = new Float32Array(B * 6);
  for (let b = 0; b < B; b++) {
    const a = (random() * 2 - 1) * (Math.PI / 2);
    const s = 0.8 + random() * 0.6;
    const tx = (random() * 2 - 1) * 0.11, ty = (random() * 2 - 1) * 0.11;
    // Sampling grid maps output to input: the inverse of "scale by s, then rotate by a".
    const c = Math.cos(a) / s, si = Math.sin(a) / s;
    th.set([c, -si, tx, si, c, ty], b * 6);
  }
  return { theta: tensor(th, { shape: [B, 2, 3] }) };
}

/** Warps NCHW tensors by θ (bilinear, zeros outside, align_corners false). */
export function warp(x: Tensor, theta: Tensor): Tensor {
  const grid = noGrad(() => affineGrid(theta, x.shape));
  return gridSample(x, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
}

/** 1 − mean cos(A(T(x)), T(A(x))) over images and foreground parts. */
export function equivarianceLoss(mapsOfWarped: Tensor, warpedMaps: Tensor): Tensor {
  const [B, K1] = mapsOfWarped.shape as [number, number, number, number];
  const a = fg(mapsOfWarped).reshape(B, K1 - 1, -1);
  const b = fg(warpedMaps).reshape(B, K1 - 1, -1);
  const dot = a.mul(b).sum(-1);
  const na = a.square().sum(-1).add(1e-12).sqrt();
  const nb = b.square().sum(-1).add(1e-12).sqrt();
  return dot.div(na.mul(nb)).mean().neg().add(1);
}

export interface PartLossWeights {
  presence: number;
  equivariance: number;
  orthogonality: number;
  totalVariation: number;
  backgroundPresence: number;
  entropy: number;
}

/**
 * The authors' weights (docs/methods.md). `node train.js` trains from scratch on an 8×8 patch grid and
 * lowers total variation to 0.2 there (see its --w-tv help and the README).
 */
export const DEFAULT_PART_LOSS_WEIGHTS: PartLossWeights = {
  presence: 1, equivariance: 1, orthogonality: 1, totalVariation: 1, backgroundPresence: 2, entropy: 1,
};
