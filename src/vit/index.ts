// Vision Transformers on webfam: the shared ViT, its presets and weights, iFAM, relevance maps,
// checkpoints, the PyTorch export layout, and evaluation helpers.
export { VisionTransformer, PatchEmbed, Attention, Mlp, Block, resizePosEmbed, type ViTForwardOptions, type ViTOutput } from './vit.js';
export { PRESETS, vitConfig, tokenCounts, forwardFlops, type ViTConfig, type PresetName } from './config.js';
export { dropMaskedTokens } from './drop.js';
export { IFAM, PartHead, straightThrough, scaleGradient, type IFAMOptions, type IFAMMaskOptions, type IFAMOutput, type PartOutput } from './ifam.js';
export * from './part_losses.js';
export { relevanceMap, relevanceFromAttention, relevanceLosses, DEFAULT_RELEVANCE_WEIGHTS, type RelevanceLossWeights, type RelevanceResult } from './relevance.js';
export { groupAccuracy, SegmentationMeter, averagePrecision, type GroupAccuracy, type SegmentationScore } from './metrics.js';
export { loadWeights, loadWeightsFrom, saveWeights, saveWeightsFile, type LoadWeightsOptions } from './weights.js';
export { readCheckpoint, fetchCheckpoint, type Checkpoint, type CheckpointModel, type LoadedCheckpoint, type ModelSpec, type Method } from './checkpoint.js';
export { exportCheckpoint, importExport, checkpointBytes, timmKwargs, ExportError, EXPORT_FORMAT, type ExportConfig, type ExportFiles, type TimmKwargs } from './export.js';
