// ViT configurations: the small CPU-sized presets used by tests and the embedded benchmark, and
// the real timm/DINOv2 ones whose safetensors weights load by key name.

export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** Classes of the linear head; 0 = no head (features only). */
  numClasses: number;
  /** Register tokens after the CLS token (DINOv2 "reg4": 4). */
  regTokens: number;
  /** LayerScale initial value (DINOv2: 1e-5), or 0 for no LayerScale. */
  layerScale: number;
  /** Position embeddings cover patches only (DINOv2, timm's no_embed_class) rather than CLS too. */
  noEmbedClass: boolean;
  qkvBias: boolean;
  /** Stochastic depth rate of the last block (linearly increasing from 0). */
  dropPath: number;
  /** LayerNorm epsilon (timm ViTs: 1e-6). */
  normEps: number;
}

const base: Omit<ViTConfig, 'imageSize' | 'patchSize' | 'embedDim' | 'depth' | 'numHeads'> = {
  inChans: 3,
  mlpRatio: 4,
  numClasses: 1000,
  regTokens: 0,
  layerScale: 0,
  noEmbedClass: false,
  qkvBias: true,
  dropPath: 0,
  normEps: 1e-6,
};

export const PRESETS = {
  /** Tests: 32 px, patch 8 (16 patches), width 64, depth 3, 2 heads of 32. */
  webfam_test: { ...base, imageSize: 32, patchSize: 8, embedDim: 64, depth: 3, numHeads: 2, numClasses: 2 },
  /** The embedded benchmark's default: 32 px, patch 4 (64 patches), width 96, depth 4, 3 heads of 32. */
  webfam_tiny: { ...base, imageSize: 32, patchSize: 4, embedDim: 96, depth: 4, numHeads: 3, numClasses: 2 },
  /** The training-step benchmark: 64 px, patch 8, width 192, depth 4, 3 heads of 64, MLP ×4. */
  webfam_small: { ...base, imageSize: 64, patchSize: 8, embedDim: 192, depth: 4, numHeads: 3, numClasses: 2 },
  vit_small_patch16_224: { ...base, imageSize: 224, patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 },
  vit_base_patch16_224: { ...base, imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 },
  vit_small_patch14_reg4_dinov2: {
    ...base, imageSize: 518, patchSize: 14, embedDim: 384, depth: 12, numHeads: 6, numClasses: 0,
    regTokens: 4, layerScale: 1e-5, noEmbedClass: true,
  },
  vit_base_patch14_reg4_dinov2: {
    ...base, imageSize: 518, patchSize: 14, embedDim: 768, depth: 12, numHeads: 12, numClasses: 0,
    regTokens: 4, layerScale: 1e-5, noEmbedClass: true,
  },
} satisfies Record<string, ViTConfig>;

export type PresetName = keyof typeof PRESETS;

/** A preset by name with overrides, or a full config; validated. */
export function vitConfig(preset: PresetName | Partial<ViTConfig>, overrides: Partial<ViTConfig> = {}): ViTConfig {
  const start: Partial<ViTConfig> = typeof preset === 'string' ? PRESETS[preset] : preset;
  if (typeof preset === 'string' && !(preset in PRESETS)) {
    throw new Error(`unknown ViT preset "${preset}"; known: ${Object.keys(PRESETS).join(', ')}`);
  }
  const c = { ...base, ...start, ...overrides } as ViTConfig;
  for (const k of ['imageSize', 'patchSize', 'embedDim', 'depth', 'numHeads'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`ViT config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.imageSize % c.patchSize !== 0) throw new Error(`ViT config: image size ${c.imageSize} is not a multiple of patch size ${c.patchSize}`);
  if (c.embedDim % c.numHeads !== 0) throw new Error(`ViT config: width ${c.embedDim} is not divisible by ${c.numHeads} heads`);
  return c;
}

/** Patches per side, patch tokens, prefix tokens (CLS + registers). */
export function tokenCounts(c: ViTConfig, imageSize = c.imageSize): { grid: number; patches: number; prefix: number; tokens: number } {
  const grid = imageSize / c.patchSize;
  const patches = grid * grid;
  const prefix = 1 + c.regTokens;
  return { grid, patches, prefix, tokens: prefix + patches };
}

/** Multiply-adds of one forward pass per image, ×2 for FLOPs (matmuls and attention only). */
export function forwardFlops(c: ViTConfig, imageSize = c.imageSize): number {
  const { patches, tokens: T } = tokenCounts(c, imageSize);
  const D = c.embedDim;
  const K = c.inChans * c.patchSize * c.patchSize;
  const perBlock = T * D * 3 * D + 2 * T * T * D + T * D * D + 2 * T * D * D * c.mlpRatio;
  return 2 * (patches * K * D + c.depth * perBlock + D * Math.max(c.numClasses, 0));
}
