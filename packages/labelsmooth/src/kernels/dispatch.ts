// The one entry from the core into the WASM kernels: given a validated plan, run it on the SIMD kernel
// (threaded for large batches in Node) and return the sums, or decline and say why. Declined rows come
// back as a list for the caller's reference to recompute. Every decision is recorded (kernelInfo) and
// every fallback is an event (onKernelEvent).

import { emitKernelEvent, type FallbackReason, recordPath } from './events.js';
import { familyLayoutBytes } from './family.js';
import { type FusedJob, type InPlaceMatrix, mainKernel, runRows } from './fused.js';
import { fusedJob, unsupportedShape } from './job.js';
import { kernelZLoss } from './languageModel.js';
import { matrixKernel } from './matrixMemory.js';
import type { KernelPlan } from './plan.js';
import {
  afterWorkersGone,
  MAX_THREADS,
  type MatrixShare,
  runThreaded,
  runWorkspaceThreaded,
  THREAD_MIN_SIZE,
  threadsNow,
} from './threads.js';
import { chunkRows, type KernelInstance, kernelModule } from './wasm.js';
import {
  allocate,
  collectCall,
  floats,
  inKernelMemory,
  layoutCall,
  memoryRegion,
  release,
  sharedKernel,
  workChunks,
} from './workspace.js';

/** Below this many logits (`kernel: 'auto'`) the reference is as fast as a kernel call. */
export const KERNEL_MIN_SIZE = 2048;
/**
 * Minimum logits per call before a workspace call is shared with the worker threads: without staging
 * copies the only cost is waking them (tens of µs).
 */
export const WORKSPACE_THREAD_MIN_SIZE = 1 << 16;

/** What {@link runKernel} did. */
export type KernelOutcome =
  | {
      ran: true;
      /** Weighted sums over the rows the kernel finished (per-row outputs are filled instead for 'none'). */
      nll: number;
      smoothing: number;
      /** H_w(q), with a confidence penalty (else 0). */
      entropy: number;
      /** ζ·lse² × the row weights, with a z-loss (else 0; per-row outputs filled instead for 'none'). */
      zLoss?: number;
      /** Rows the kernel declined, ascending: their parts and gradient rows are not written. */
      declined: number[];
    }
  | {
      ran: false;
      /** Why the kernel did not run, as a sentence. */
      reason: string;
      /** Set when this is a fallback (the kernel was eligible) rather than a choice. */
      fallback?: FallbackReason;
    };

function decline(reason: string, fallback?: FallbackReason, rows = 0): KernelOutcome {
  if (fallback) emitKernelEvent({ type: 'fallback', reason: fallback, detail: reason, rows });
  return { ran: false, reason, fallback };
}

/**
 * Run `plan` on the WASM SIMD kernel if it applies: float32 logits, class-index targets, a shared noise
 * and mask, `kernel` not `'js'`, and (for `'auto'`) at least {@link KERNEL_MIN_SIZE} logits. Batches of
 * ≥ 2²⁰ logits are split across the worker-thread pool when it runs (not in the in-place mode, whose
 * declined rows must still hold their logits).
 *
 * @param scale the reduction's factor applied to the gradient (1/denominator, 1/normalizer or 1)
 * @param perRow per-row outputs for reduction 'none', or null to sum
 * @param zScale the z-loss's factor (`mean`: 1/the count of rows not ignored), or null without a z-loss
 */
export function runKernel(
  plan: KernelPlan,
  scale: number,
  perRow: FusedJob['perRow'],
  zScale: number | null = null,
): KernelOutcome {
  const n = plan.rows;
  const size = n * plan.classes;
  if (plan.kernel === 'js') return decline("options.kernel is 'js'");
  if (plan.kernel === 'auto' && size < KERNEL_MIN_SIZE)
    return decline(`fewer than ${KERNEL_MIN_SIZE} logits: the reference is as fast`);
  const shape = unsupportedShape(plan);
  if (shape) return decline(shape);
  const kernel = mainKernel();
  if (!kernel) return decline('the WASM kernel is not compiled here (yet)', 'wasm-unavailable', n);
  const job = fusedJob(plan, scale, perRow, zScale);
  if (job === 'float32-range')
    return decline(
      'a class weight, noise value, soft cap or z-loss weight is outside the float32 kernel’s range',
      'float32-range',
      n,
    );
  const outcome = runJob(plan, job, kernel);
  if (outcome.ran) outcome.zLoss = kernelZLoss(job, outcome.declined, perRow?.zLoss ?? null);
  return outcome;
}

/** Run a job on the calling thread, the worker threads or a workspace, as its plan and size say. */
function runJob(plan: KernelPlan, job: FusedJob, kernel: KernelInstance): KernelOutcome {
  const n = plan.rows;
  const size = n * plan.classes;

  // Class-conditional noise is threaded when S is in shared memory (noiseMatrix() puts it there): in the
  // kernel's memory every thread reads S[yᵢ] in place; in a SharedArrayBuffer outside it (a matrix too
  // large for it) each thread stages the rows of its chunks. A plain array would be copied to every worker.
  const unshared = noiseUnshared(job);
  if (!unshared && onWorkspace(plan)) return runOnWorkspace(plan, job, false);
  // Threads never take the in-place mode: its declined rows must still hold their logits.
  const threadsAllowed = plan.threads && !plan.inPlace && n >= 2;
  const midsize = size >= WORKSPACE_THREAD_MIN_SIZE && size < THREAD_MIN_SIZE;
  if (!unshared && threadsAllowed && midsize && sharedKernel()) {
    const staged = runStaged(plan, job);
    if (staged) return staged;
  }
  const threadable = threadsAllowed && size >= THREAD_MIN_SIZE;
  const notThreaded =
    unshared && (threadable || (threadsAllowed && midsize && sharedKernel())) ? NOT_SHARED : null;
  if (notThreaded)
    emitKernelEvent({ type: 'fallback', reason: 'noise-not-shared', detail: notThreaded, rows: n });
  // The calling thread reads S in place where a kernel instance on S's memory can (its chunks of a
  // threaded call too), and with S in the shared kernel memory the workers as well.
  const threaded = threadable && !unshared;
  const place = matrixInPlace(job, threaded ? MAX_THREADS : 1);
  try {
    return runHere(plan, job, kernel, threaded, notThreaded, place);
  } finally {
    if (place?.region) releaseLater(place.region);
  }
}

/**
 * The rows split between the calling thread and the worker threads (`threaded`, when the pool runs), else
 * on the calling thread alone; S read in place there where `place` says.
 */
function runHere(
  plan: KernelPlan,
  job: FusedJob,
  kernel: KernelInstance,
  threaded: boolean,
  notThreaded: string | null,
  place: (InPlaceMatrix & { share: MatrixShare | null }) | null,
): KernelOutcome {
  const n = plan.rows;
  // The pool starts now if it has not yet (the call waits for its workers to be ready).
  if (threaded && threadsNow(kernelModule()!)) {
    const split = runThreaded(kernel, job, place, place?.share ?? null);
    if (split !== 'no-pool' && split !== null) {
      const inPlace = place
        ? place.share
          ? ', S read in place'
          : ', S read in place on the calling thread'
        : '';
      recordPath('wasm-threads', `${n} rows split across worker threads${inPlace}`);
      return { ran: true, ...split, declined: [] };
    }
    if (split === null)
      emitKernelEvent({
        type: 'fallback',
        reason: 'threads-failed',
        detail: 'a worker thread failed or declined rows; rerunning on the calling thread',
        rows: n,
      });
  }
  const declined: number[] = [];
  let sums: { nll: number; smoothing: number; entropy: number } | null;
  try {
    sums = place ? runRows(place.kernel, job, 0, n, declined, place) : runRows(kernel, job, 0, n, declined);
  } catch (error) {
    // A kernel abort. Rows written before it cannot be recomputed in the in-place mode.
    if (plan.inPlace) throw error;
    return decline(`the kernel threw: ${message(error)}`, 'kernel-error', n);
  }
  const where = `${n} rows on the calling thread${place ? ', S read in place' : ''}`;
  recordRun(declined, n, 'wasm', `${where}${notThreaded ? ` (${notThreaded})` : ''}`);
  return { ran: true, nll: sums!.nll, smoothing: sums!.smoothing, entropy: sums!.entropy, declined };
}

/**
 * For a call with class-conditional noise on ordinary arrays: kernel instances on the memory that holds S
 * (the shared kernel memory, or S's own: matrixMemory.ts) read S[yᵢ] in place instead of copying each row
 * next to its logits first. Returns the calling thread's instance and chunk area, and (`share`) with S in
 * the shared kernel memory the chunk areas of `threads` threads for the workers too (`region`: allocated
 * for this call, to release; with S in its own memory, null: the workers stage its rows); null to stage
 * S's rows everywhere.
 */
function matrixInPlace(
  job: FusedJob,
  threads: number,
): (InPlaceMatrix & { share: MatrixShare | null }) | null {
  const S = job.family?.matrix;
  if (!S) return null;
  const matrixAt = (S as Float32Array).byteOffset;
  const own = matrixKernel(S);
  if (own) return { kernel: own.kernel, matrixAt, base: own.work, region: 0, share: null }; // workers stage
  if (!inKernelMemory(S)) return null;
  const k = job.classes;
  const areaBytes = Math.ceil(familyLayoutBytes(k, chunkRows(k), 'in-place') / 64) * 64;
  let region: number;
  try {
    region = allocate(threads * areaBytes);
  } catch (error) {
    emitKernelEvent({
      type: 'fallback',
      reason: 'shared-memory-unavailable',
      detail: `the shared kernel memory cannot take a chunk next to S (${message(error)}); S's rows are copied per row`,
      rows: job.rows,
    });
    return null;
  }
  const { kernel, memory } = sharedKernel()!;
  return {
    kernel,
    matrixAt,
    base: region,
    region,
    share: { memory, work: region, areaBytes, areas: threads },
  };
}

const NOT_SHARED =
  'class-conditional noise in an ordinary array is not threaded: noiseMatrix(S) keeps S in shared memory';

/** Whether the job has class-conditional noise that worker threads cannot read (not in shared memory). */
function noiseUnshared(job: FusedJob): boolean {
  const S = job.family?.matrix;
  return S != null && !(ArrayBuffer.isView(S) && S.buffer instanceof SharedArrayBuffer);
}

/**
 * Whether the call can run in place in the shared kernel memory: logits in a live workspace, and the
 * gradient there too (or not wanted), not the logits themselves (the in-place mode keeps its own path:
 * declined rows must still hold their logits) and not overlapping them.
 */
function onWorkspace(plan: KernelPlan): boolean {
  if (memoryRegion(plan.logits) !== 'live') return false;
  const g = plan.grad;
  if (g === null) return true;
  if (plan.inPlace || !(g instanceof Float32Array) || memoryRegion(g) !== 'live') return false;
  const z = plan.logits as Float32Array;
  return g.byteOffset >= z.byteOffset + z.byteLength || z.byteOffset >= g.byteOffset + g.byteLength;
}

/**
 * A mid-size call on ordinary arrays (2¹⁶ to 2²⁰ logits, too small for the ring's pipelined copies to pay):
 * the logits copied into the shared kernel memory at once, run there on every thread, the gradient copied
 * back. The two copies are a few MB, cached, and reuse the same kernel memory on every call.
 */
function runStaged(plan: KernelPlan, job: FusedJob): KernelOutcome | null {
  const size = plan.rows * plan.classes;
  let zAt = 0;
  let gAt = 0;
  try {
    zAt = allocate(4 * size);
    gAt = job.grad ? allocate(4 * size) : 0;
  } catch (error) {
    if (zAt) release(zAt);
    emitKernelEvent({
      type: 'fallback',
      reason: 'shared-memory-unavailable',
      detail: `the shared kernel memory cannot take the call (${message(error)}); it takes the ordinary path`,
      rows: plan.rows,
    });
    return null;
  }
  try {
    const z = floats(zAt, size);
    z.set(job.z);
    const grad = job.grad ? floats(gAt, size) : null;
    const outcome = runOnWorkspace(plan, { ...job, z, grad }, true);
    // Declined rows are copied too: the reference overwrites them whole.
    if (outcome.ran && job.grad && grad) job.grad.set(grad);
    return outcome;
  } finally {
    releaseLater(zAt);
    if (gAt) releaseLater(gAt);
  }
}

/**
 * Run a call whose logits (and gradient) are in the shared kernel memory (a workspace, or `staged` by
 * {@link runStaged}), on every thread at once when it is large.
 */
function runOnWorkspace(plan: KernelPlan, job: FusedJob, staged: boolean): KernelOutcome {
  const shared = sharedKernel()!;
  const n = plan.rows;
  const threads = plan.threads && n >= 2 && n * plan.classes >= WORKSPACE_THREAD_MIN_SIZE;
  let laid: ReturnType<typeof layoutCall>;
  try {
    laid = layoutCall(job, threads ? MAX_THREADS : 1);
  } catch (error) {
    const why = `the shared kernel memory cannot take the call's per-row area (${message(error)})`;
    return decline(why, 'shared-memory-unavailable', n);
  }
  const { call, region } = laid;
  let path: 'wasm' | 'wasm-threads' = 'wasm';
  try {
    const pooled = threads && threadsNow(kernelModule()!) ? runWorkspaceThreaded(shared, call) : 'no-pool';
    if (pooled === 'no-pool') workChunks(shared.kernel, call, 0);
    else path = 'wasm-threads';
  } catch (error) {
    releaseLater(region);
    return decline(`the kernel threw: ${message(error)}`, 'kernel-error', n);
  }
  const sums = collectCall(job, call);
  releaseLater(region);
  recordRun(
    sums.declined,
    n,
    path,
    `${n} rows ${staged ? "staged through the kernel's shared memory" : "in place in the kernel's memory"}${path === 'wasm-threads' ? ', on every thread' : ''}`,
  );
  return { ran: true, ...sums };
}

/** Give a region of the shared kernel memory back once no retired worker thread can still write it. */
function releaseLater(at: number): void {
  afterWorkersGone(() => release(at));
}

/**
 * Record how a kernel call went: rows the float32 kernel declined (recomputed by the reference) are a
 * 'rows-declined' fallback and the 'wasm+js' path; otherwise `path` with `reason`.
 */
function recordRun(declined: number[], n: number, path: 'wasm' | 'wasm-threads', reason: string): void {
  if (declined.length === 0) {
    recordPath(path, reason);
    return;
  }
  emitKernelEvent({
    type: 'fallback',
    reason: 'rows-declined',
    detail: `the float32 kernel could not finish ${declined.length} row(s) (first: row ${declined[0]}); the float64 reference recomputed them`,
    rows: declined.length,
  });
  recordPath('wasm+js', `${declined.length} of ${n} rows on the reference`);
}

/** An exception's message, for a sentence. */
function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
