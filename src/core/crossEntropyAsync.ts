import { initKernels } from '../kernels/index.js';
import { crossEntropy } from './crossEntropy.js';
import type { CrossEntropyOptions, CrossEntropyResult, Matrix, Target } from './types.js';

/**
 * {@link crossEntropy} for browser main threads, where blocking and synchronous WASM compilation are not
 * allowed: the kernel is compiled asynchronously first, then the computation runs (without threads).
 */
export async function crossEntropyAsync(
  logits: Matrix,
  target: Target,
  options: CrossEntropyOptions = {},
): Promise<CrossEntropyResult> {
  await initKernels({ threads: false });
  return crossEntropy(logits, target, { ...options, threads: false });
}
