import { type KernelStatus, initKernels as startKernels } from '../kernels/index.js';
import { fail } from './errors.js';
import { checkOptions } from './options.js';

/** Options of {@link initKernels}. */
export interface InitKernelsOptions {
  /** Start the worker pool too (Node; default true). */
  threads?: boolean;
}

/**
 * Compile the WASM kernel and start the worker pool now, instead of lazily. Optional in Node; in a
 * browser main thread call it (or use {@link crossEntropyAsync}) once, since browsers do not compile
 * WASM synchronously there: until then crossEntropy runs the JS path. Failures are also reported through
 * {@link onKernelEvent} and {@link kernelInfo}. Options are checked like every other function's: an
 * unknown key (`{ thread: false }`) is an error, not a silently started pool.
 */
export async function initKernels(options?: InitKernelsOptions): Promise<KernelStatus> {
  const fn = 'initKernels';
  const o = checkOptions<InitKernelsOptions>(fn, options, ['threads']);
  if (o.threads !== undefined && typeof o.threads !== 'boolean')
    fail(fn, 'options.threads', undefined, o.threads, 'must be a boolean');
  return startKernels(o);
}
