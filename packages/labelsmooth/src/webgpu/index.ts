/**
 * labelsmooth/webgpu: label-smoothed cross-entropy (with soft-capping and z-loss) on a WebGPU device, for
 * users of any WebGPU framework: logits and labels in GPUBuffers, the gradient written into a GPUBuffer,
 * only scalars read back. No dependencies; the WebGPU types come from `@webgpu/types`.
 */
export {
  crossEntropyWebGPU,
  type WebGPUCrossEntropyBuffers,
  type WebGPUCrossEntropyOptions,
  type WebGPUCrossEntropyResult,
} from './crossEntropy.js';
