/**
 * labelsmooth/tfjs: label smoothing where JavaScript users train. A TF.js op with a fused gradient, losses
 * for `model.compile`, and a calibration callback. Peer dependencies: @tensorflow/tfjs-core and
 * @tensorflow/tfjs-layers ^4.22 (or @tensorflow/tfjs, which brings both).
 */

export { type BatchDataset, type BatchesOptions, batches } from './batches.js';
export { CalibrationCallback, type CalibrationCallbackOptions } from './calibrationCallback.js';
export { type LayersLoss, type LayersLossOptions, losses, PROBABILITY_FLOOR } from './losses.js';
export {
  softmaxCrossEntropy,
  softmaxCrossEntropyParts,
  type TfCrossEntropyOptions,
  type TfCrossEntropyParts,
  type TfTarget,
} from './softmaxCrossEntropy.js';
