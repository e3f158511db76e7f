// The one entry from the core into the WASM kernels: given a validated plan, is the kernel eligible? →
// its job → the executor (on one thread, or on all of them for large calls in Node) → the sums, with the
// rows it declined listed for the caller's reference to recompute; or decline and say why. Every decision
// is recorded (kernelInfo) and every fallback is an event (onKernelEvent).

import { emitKernelEvent, type FallbackReason, recordPath } from './events.js';
import { collectCall, type Execution, execute, StoppedInCopy } from './executor.js';
import type { FusedJob } from './fused.js';
import { fusedJob, unsupportedShape } from './job.js';
import { kernelZLoss } from './languageModel.js';
import { type CallLayout, layoutCall } from './layout.js';
import {
  callMemory,
  inKernelMemory,
  isShared,
  type KernelMemory,
  memoryRegion,
  ownMemory,
  release,
  sharedKernel,
} from './memory.js';
import type { KernelPlan } from './plan.js';
import { THREAD_MIN_SIZE, threadCount } from './threads.js';

/** Below this many logits (`kernel: 'auto'`) the reference is as fast as a kernel call. */
export const KERNEL_MIN_SIZE = 2048;

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
 * ≥ 2¹⁶ logits are split across the worker-thread pool (Node), which starts when a call first needs it.
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
  if (!callMemory()) return decline('the WASM kernel is not compiled here (yet)', 'wasm-unavailable', n);
  const job = fusedJob(plan, scale, perRow, zScale);
  if (job === 'float32-range')
    return decline(
      'a class weight, noise value, soft cap or z-loss weight is outside the float32 kernel’s range',
      'float32-range',
      n,
    );
  const outcome = runJob(plan, job);
  if (outcome.ran) outcome.zLoss = kernelZLoss(job, outcome.declined, perRow?.zLoss ?? null);
  return outcome;
}

/**
 * Run a job on the executor: in place when its logits (and gradient) are in a live workspace, else staged
 * through the call's window; on every thread when it is large, its noise readable by the workers and the
 * pool has workers; in the shared memory when threads or a workspace or a noiseMatrix there need it, else
 * in the calling thread's own memory (plain copies).
 */
function runJob(plan: KernelPlan, job: FusedJob): KernelOutcome {
  const n = plan.rows;
  const inPlace = onWorkspace(plan);
  const large = sharedKernel() !== null && plan.threads && n >= 2 && n * plan.classes >= THREAD_MIN_SIZE;
  const unshared = large && noiseUnshared(job);
  if (unshared)
    emitKernelEvent({ type: 'fallback', reason: 'noise-not-shared', detail: NOT_SHARED, rows: n });
  // The calling thread and the pool's workers (one thread where there are none: one core, or none left).
  const threads = large && !unshared ? threadCount() : 1;
  const S = job.family?.matrix;
  const shared = inPlace || threads > 1 || (S != null && inKernelMemory(S));
  const m = shared ? sharedKernel()! : (ownMemory() ?? sharedKernel()!);
  const outcome = runOn(plan, job, m, { inPlace, threads, note: unshared ? ` (${NOT_SHARED})` : '' });
  if (outcome !== 'no room') return outcome;
  // The shared memory cannot take the call (4 GB): ordinary arrays run on the calling thread, in its own.
  const own = ownMemory()!;
  const outcomeOwn = runOn(plan, job, own, { inPlace: false, threads: 1, note: '' });
  return outcomeOwn === 'no room' ? decline(noRoom(own, n), 'shared-memory-unavailable', n) : outcomeOwn;
}

/** Why a memory could not take a call of n rows. */
function noRoom(m: KernelMemory, n: number): string {
  return `the ${m.shared ? 'shared ' : ''}kernel memory cannot take the call's per-row area and window (${n} rows)`;
}

/**
 * Lay out and run the job in memory `m`, collect its sums and record the path; 'no room' when the shared
 * memory cannot take it and the calling thread's own memory can (ordinary arrays), reported as a fallback.
 */
function runOn(
  plan: KernelPlan,
  job: FusedJob,
  m: KernelMemory,
  h: { inPlace: boolean; threads: number; note: string },
): KernelOutcome | 'no room' {
  const n = plan.rows;
  let laid: { call: CallLayout; region: number };
  try {
    laid = layoutCall(job, m, h);
  } catch (error) {
    const why = `${noRoom(m, n)}: ${message(error)}`;
    if (h.inPlace || !m.shared || !ownMemory()) return decline(why, 'shared-memory-unavailable', n);
    const detail = `${why}; it is tried on the calling thread, in its own memory`;
    emitKernelEvent({ type: 'fallback', reason: 'shared-memory-unavailable', detail, rows: n });
    return 'no room';
  }
  const { call, region } = laid;
  let ran: Execution;
  let sums: ReturnType<typeof collectCall>;
  try {
    ran = execute(job, m, call, h.threads > 1);
    sums = collectCall(job, m, call);
  } catch (error) {
    // A worker stopped inside its copy into place may still write: no result, and no reference either.
    // A kernel abort in the in-place mode: rows written before it cannot be recomputed.
    if (error instanceof StoppedInCopy || plan.inPlace) throw error;
    return decline(`the kernel threw: ${message(error)}`, 'kernel-error', n);
  } finally {
    release(region, m); // a region a retired worker may still write is tainted: given back once it exited
  }
  const matrix = call.family !== null && call.family.matrix !== 0 ? ', S read in place' : '';
  const where = h.inPlace
    ? `in place in the kernel's memory${ran.threaded ? ', on every thread' : ''}${matrix}`
    : ran.threaded
      ? `staged through the kernel's shared memory, on every thread${matrix}`
      : `on the calling thread${matrix}${h.note}`;
  recordRun(sums.declined, n, ran.threaded ? 'wasm-threads' : 'wasm', `${n} rows ${where}`);
  return { ran: true, ...sums };
}

const NOT_SHARED =
  'class-conditional noise in an ordinary array is not threaded: noiseMatrix(S) keeps S in shared memory';

/** Whether the job has class-conditional noise that worker threads cannot read (not in shared memory). */
function noiseUnshared(job: FusedJob): boolean {
  const S = job.family?.matrix;
  return S != null && !(ArrayBuffer.isView(S) && isShared(S.buffer));
}

/**
 * Whether the call can run in place in the shared kernel memory: logits in a live workspace, and the
 * gradient there too (or not wanted), not the logits themselves (the in-place mode's declined rows must
 * still hold their logits) and not overlapping them.
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
