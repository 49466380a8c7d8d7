// Vision Transformers on webfam: the shared ViT, its presets and weights, and evaluation helpers.
export { VisionTransformer, PatchEmbed, Attention, Mlp, Block, resizePosEmbed, type ViTForwardOptions, type ViTOutput } from './vit.js';
export { PRESETS, vitConfig, tokenCounts, forwardFlops, type ViTConfig, type PresetName } from './config.js';
export { dropMaskedTokens } from './drop.js';
