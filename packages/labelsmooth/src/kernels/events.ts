// Which path computed the last loss, how often a faster path fell back to a slower one and why: readable
// at any time with kernelInfo(), and pushed to listeners registered with onKernelEvent(). A fallback is
// never silent (LABELSMOOTH_DEBUG is not needed to see one).

/** The path that computed a crossEntropy call. `'wasm+js'`: the kernel, with some rows on the reference. */
export type KernelPath = 'wasm' | 'wasm-threads' | 'wasm+js' | 'js' | 'workers';

/**
 * Why a faster path was not (fully) used although it was asked for or eligible:
 * - `'wasm-unavailable'`: the WASM kernel is not compiled (yet, e.g. a browser main thread before
 *   `initKernels()`), or WebAssembly SIMD is missing;
 * - `'float32-range'`: a class weight or noise value the float32 kernel cannot represent to float32
 *   precision (above 3.4e38, or below the normal range 1.2e−38): the whole call ran on the reference;
 * - `'rows-declined'`: the kernel could not finish some rows (e.g. |z_c − z_y| beyond the float32 range);
 *   those rows — only those — were recomputed by the reference;
 * - `'kernel-error'`: the kernel threw (an abort); the call ran on the reference;
 * - `'threads-failed'`: a worker thread exited, made no progress within a bound, failed or declined its
 *   rows. A worker that exited or stalled is retired and replaced, and the calling thread computes the
 *   chunks it held on the same kernel (the same bits; `rows` counts them: 0 when it died between calls);
 *   a worker that declined rows makes the call rerun on one thread;
 * - `'workers-failed'`: crossEntropyAsync's Web Workers failed; the batch ran on the page's thread;
 * - `'shared-memory-unavailable'`: kernelWorkspace could not use shared WebAssembly memory here (its
 *   buffers are ordinary arrays and calls on them take the usual path, with its copies), or the shared
 *   kernel memory (4 GB at most) could not take a call's area (the call took the ordinary path, or the
 *   reference for a workspace call);
 * - `'noise-not-shared'`: a call large enough for the worker threads has class-conditional noise in an
 *   ordinary array, which the workers cannot read: it ran on the calling thread (`noiseMatrix(S)` keeps S
 *   in shared memory, where they can).
 */
export type FallbackReason =
  | 'wasm-unavailable'
  | 'float32-range'
  | 'rows-declined'
  | 'kernel-error'
  | 'threads-failed'
  | 'workers-failed'
  | 'shared-memory-unavailable'
  | 'noise-not-shared';

/** What onKernelEvent listeners receive. */
export type KernelEvent =
  | {
      /** A call, or part of it, took a slower path than the kernel. */
      type: 'fallback';
      /** Why: the same names as the counts of {@link KernelInfo.fallbacks}. */
      reason: FallbackReason;
      /** A sentence about this occurrence. */
      detail: string;
      /** Rows that ran on the slower path because of it. */
      rows: number;
    }
  /** Compiling the WASM kernel failed: every call takes the JS reference. */
  | {
      /** The kind of event. */
      type: 'compile-error';
      /** What compiling threw. */
      error: unknown;
    }
  /** The worker-thread pool (Node) could not start: large batches run on the calling thread. */
  | {
      /** The kind of event. */
      type: 'threads-error';
      /** What starting the pool threw. */
      error: unknown;
    };

/** A snapshot of the kernels' state and history, from {@link kernelInfo}. */
export interface KernelInfo {
  /** The path of the most recent crossEntropy call and why it was chosen, or null before the first. */
  last: {
    /** Where the call ran. */
    path: KernelPath;
    /** Why that path, in a sentence (rows, staging, threads, S read in place…). */
    reason: string;
  } | null;
  /** Calls that fell back, by reason, since the process started (or {@link resetKernelInfo}). */
  fallbacks: Record<FallbackReason, number>;
  /** Rows the kernel declined and the reference recomputed, in total. */
  declinedRows: number;
  /** The compile error of the WASM kernel, when compiling failed. */
  compileError: string | null;
  /** Why the worker-thread pool could not start, when it failed. */
  threadsError: string | null;
}

const listeners = new Set<(e: KernelEvent) => void>();

function emptyFallbacks(): Record<FallbackReason, number> {
  return {
    'wasm-unavailable': 0,
    'float32-range': 0,
    'rows-declined': 0,
    'kernel-error': 0,
    'threads-failed': 0,
    'workers-failed': 0,
    'shared-memory-unavailable': 0,
    'noise-not-shared': 0,
  };
}

let info: KernelInfo = {
  last: null,
  fallbacks: emptyFallbacks(),
  declinedRows: 0,
  compileError: null,
  threadsError: null,
};

/**
 * Call `listener` on every kernel event (fallbacks, compile and thread-pool errors). Returns a function that
 * removes it. Listeners run synchronously; an exception in one is caught and does not affect the loss.
 */
export function onKernelEvent(listener: (event: KernelEvent) => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** A copy of the current {@link KernelInfo}. */
export function kernelInfo(): KernelInfo {
  return { ...info, last: info.last && { ...info.last }, fallbacks: { ...info.fallbacks } };
}

/** Clear the history of {@link kernelInfo} (the compile and threads errors stay: they are states). */
export function resetKernelInfo(): void {
  info = { ...info, last: null, fallbacks: emptyFallbacks(), declinedRows: 0 };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Record an event and pass it to the listeners. */
export function emitKernelEvent(event: KernelEvent): void {
  if (event.type === 'fallback') {
    info.fallbacks[event.reason]++;
    if (event.reason === 'rows-declined') info.declinedRows += event.rows;
  } else if (event.type === 'compile-error') info.compileError = message(event.error);
  else info.threadsError = message(event.error);
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // A debugging hook must not change the result of the loss.
    }
  }
}

/** Record the path a call took. */
export function recordPath(path: KernelPath, reason: string): void {
  info.last = { path, reason };
}
