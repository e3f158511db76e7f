// kernelWorkspace: N×K logits and gradient buffers in the WASM kernel's own (shared) memory, so that
// crossEntropy reads and writes them in place on every thread (see kernels/memory.ts for why).
import { emitKernelEvent } from '../kernels/events.js';
import { allocate, floats, markDisposed, release, sharedKernel } from '../kernels/memory.js';
import { fail } from './errors.js';
import { checkOptions } from './options.js';

/** Logits and gradient buffers for N×K problems in the kernel's memory, from {@link kernelWorkspace}. */
export interface KernelWorkspace {
  /** N, the rows the buffers hold. */
  readonly rows: number;
  /** K, the classes. */
  readonly classes: number;
  /** N×K float32 logits, row-major: write the model's outputs here, then pass this array as the logits. */
  readonly logits: Float32Array;
  /** N×K float32 gradient buffer: pass it as `options.grad`; crossEntropy writes dL/dlogits into it. */
  readonly grad: Float32Array;
  /**
   * Whether the buffers are in the shared kernel memory. False where WebAssembly threads are unavailable
   * (no SharedArrayBuffer, e.g. a browser page that is not cross-origin isolated): the buffers are then
   * ordinary arrays, calls take the usual path, and a `'shared-memory-unavailable'` fallback was reported.
   */
  readonly shared: boolean;
  /**
   * Give the memory back to the kernel. The arrays must not be used afterwards: crossEntropy refuses
   * `logits` and `grad` (their memory may already hold another workspace). Views made from them before
   * (`subarray`) cannot be told apart from a new workspace once their memory is reused: drop them too.
   */
  dispose(): void;
}

/**
 * Allocate N×K float32 logits and gradient buffers inside the WASM kernel's memory, shared by the calling
 * thread and the worker threads. `crossEntropy(ws.logits, labels, { classes: K, grad: ws.grad, … })` then
 * runs with no copy in or out and no allocation: every thread reads its rows of the logits and writes
 * its rows of the gradient in place. Ordinary arrays must be copied into the kernel's memory chunk by
 * chunk and the gradient copied back, and the calling thread does that for the workers too: serial work
 * that keeps two threads from running twice as fast as one.
 * A view on fewer rows (`ws.logits.subarray(0, n * K)` with `ws.grad.subarray(0, n * K)`) works too.
 *
 * @param rows N, at least 1
 * @param classes K, at least 1; 8·N·K bytes must fit in the 4 GB of WASM32 memory
 * @param options none are defined: any key is an error naming it (never silently ignored)
 */
export function kernelWorkspace(
  rows: number,
  classes: number,
  options?: Record<string, never>,
): KernelWorkspace {
  const fn = 'kernelWorkspace';
  checkOptions(fn, options, []);
  if (!Number.isSafeInteger(rows) || rows < 1) fail(fn, 'rows', undefined, rows, 'must be an integer ≥ 1');
  if (!Number.isSafeInteger(classes) || classes < 1)
    fail(fn, 'classes', undefined, classes, 'must be an integer ≥ 1');
  const size = rows * classes;
  if (sharedKernel() === null) {
    emitKernelEvent({
      type: 'fallback',
      reason: 'shared-memory-unavailable',
      detail:
        'kernelWorkspace: the shared-memory kernel cannot run here (no SharedArrayBuffer, e.g. a page that is not cross-origin isolated, or a browser main thread, which cannot compile WebAssembly synchronously); the workspace holds ordinary arrays',
      rows,
    });
    const plain = { logits: new Float32Array(size), grad: new Float32Array(size) };
    return { rows, classes, ...plain, shared: false, dispose: () => {} };
  }
  let logitsAt = -1;
  let gradAt: number;
  try {
    logitsAt = allocate(4 * size);
    gradAt = allocate(4 * size);
  } catch (error) {
    if (logitsAt >= 0) release(logitsAt); // the logits fitted, the gradient did not
    fail(
      fn,
      'rows',
      undefined,
      rows,
      `${rows}×${classes} logits and gradient do not fit: ${(error as Error).message}`,
    );
  }
  let disposed = false;
  const logits = floats(logitsAt, size);
  const grad = floats(gradAt, size);
  return {
    rows,
    classes,
    logits,
    grad,
    shared: true,
    dispose() {
      if (disposed) return;
      disposed = true;
      markDisposed(logits);
      markDisposed(grad);
      // (memory a retired worker thread may still write is given back once it has exited: kernels/memory.ts)
      release(logitsAt);
      release(gradAt);
    },
  };
}
