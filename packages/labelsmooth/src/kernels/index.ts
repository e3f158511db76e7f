import { threadsReady } from './threads.js';
import { loadKernel } from './wasm.js';

export {
  type FallbackReason,
  type KernelEvent,
  type KernelInfo,
  type KernelPath,
  kernelInfo,
  onKernelEvent,
  resetKernelInfo,
} from './events.js';

/** What {@link initKernels} found. */
export interface KernelStatus {
  /** The WASM SIMD kernel is compiled and used. */
  wasm: boolean;
  /** The worker pool is running (Node). */
  threads: boolean;
}

/**
 * Compile the WASM kernel and start the worker pool now, instead of lazily. Optional in Node; in a
 * browser main thread call it (or use {@link crossEntropyAsync}) once, since browsers do not compile
 * WASM synchronously there: until then crossEntropy runs the JS path. Failures are also reported through
 * {@link onKernelEvent} and {@link kernelInfo}.
 */
export async function initKernels(options: { threads?: boolean } = {}): Promise<KernelStatus> {
  const mod = await loadKernel();
  const threads = mod !== null && options.threads !== false ? await threadsReady() : false;
  return { wasm: mod !== null, threads };
}
