// Vision Transformers on webfam: the shared ViT, its presets and weights, iFAM, relevance maps,
// the training methods (model, loss, evaluation forward), checkpoints, the PyTorch export layout,
// and evaluation helpers.
export { VisionTransformer, PatchEmbed, Attention, Mlp, Block, resizePosEmbed, type ViTForwardOptions, type ViTOutput } from './vit.js';
export { PRESETS, vitConfig, tokenCounts, forwardFlops, type ViTConfig, type PresetName } from './config.js';
export { dropMaskedTokens } from './drop.js';
export { IFAM, PartHead, straightThrough, scaleGradient, type IFAMOptions, type IFAMMaskOptions, type IFAMOutput, type PartOutput } from './ifam.js';
export * from './part_losses.js';
export { relevanceMap, relevanceFromAttention, relevanceLosses, DEFAULT_RELEVANCE_WEIGHTS, type RelevanceLossWeights, type RelevanceResult } from './relevance.js';
export { predict, normalizeImage, type Prediction } from './predict.js';
export { evaluate, pictureIndices, upsamplePatchMask, type EvaluateOptions, type EvalResult, type SampleOutputs } from './evaluate.js';
export { groupAccuracy, SegmentationMeter, averagePrecision, type GroupAccuracy, type SegmentationScore } from './metrics.js';
export { loadWeights, loadWeightsFrom, saveWeights, saveWeightsFile, type LoadWeightsOptions } from './weights.js';
export {
  readCheckpoint, fetchCheckpoint, writeCheckpoint, checkpointEntries, checkpointMetadata, checkCheckpoint, stripCheckpoint, modelEntries, isModelEntry,
  CheckpointError, CHECKPOINT_KEYS, OPTIMIZER_PREFIX,
  type Checkpoint, type CheckpointModel, type LoadedCheckpoint, type CheckpointHeader, type CheckpointContents, type CheckOptions,
} from './checkpoint.js';
export { buildModel, batchLoss, evalForward, type Method, type MethodModel, type ModelSpec, type TrainBatch, type LossWeights, type LossTerms, type EvalForward } from './methods.js';
export { checkSpec, specWeightCount, vitWeightCount, SpecError } from './spec.js';
export { exportCheckpoint, importExport, timmKwargs, ExportError, EXPORT_FORMAT, type ExportConfig, type ExportFiles, type TimmKwargs } from './export.js';
