/**
 * labelsmooth core: label-smoothed cross-entropy and its gradient over typed arrays, in every framework's
 * convention. No framework and no Node-only imports: it bundles for browsers.
 */

export {
  type FallbackReason,
  type KernelEvent,
  type KernelInfo,
  type KernelPath,
  type KernelStatus,
  kernelInfo,
  onKernelEvent,
  resetKernelInfo,
} from '../kernels/index.js';
export type { BinaryCrossEntropyOptions, BinaryCrossEntropyResult } from './binaryCrossEntropy.js';
export { binaryCrossEntropy } from './binaryCrossEntropy.js';
export { crossEntropy } from './crossEntropy.js';
export { crossEntropyAsync } from './crossEntropyAsync.js';
export { LabelSmoothingError } from './errors.js';
export { type InitKernelsOptions, initKernels } from './initKernels.js';
export { type NoiseMatrixOptions, noiseMatrix } from './noiseMatrix.js';
export {
  OnlineLabelSmoothing,
  type OnlineLabelSmoothingState,
  type OnlineUpdateOptions,
} from './onlineLabelSmoothing.js';
export { smoothLabels } from './smoothLabels.js';
export type * from './types.js';
export { type KernelWorkspace, kernelWorkspace } from './workspace.js';
