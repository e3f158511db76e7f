import type { ShardReply, ShardRequest } from '../kernels/browserWorker.js';
import { emitKernelEvent, recordPath } from '../kernels/events.js';
import { initKernels } from '../kernels/index.js';
import { unsupportedShape } from '../kernels/job.js';
import { computeCrossEntropy } from './crossEntropy.js';
import { type CrossEntropyPlan, planCrossEntropy } from './plan.js';
import { lossScale, meanDenominator, type PartRows, partRows, reduceRows, reduceSums } from './reduce.js';
import { referenceRows } from './reference.js';
import { snapshotPlan } from './snapshot.js';
import type { CrossEntropyOptions, CrossEntropyResult, Matrix, Target } from './types.js';

/** Web Workers of this page, made on first use (browsers only). */
let workers: Worker[] | null = null;
/** Calls take the pool one at a time (each worker answers one shard at a time). */
let turn: Promise<unknown> = Promise.resolve();

function browserMainThread(): boolean {
  return typeof window === 'object' && typeof Worker === 'function' && typeof document === 'object';
}

function pool(): Worker[] {
  if (!workers) {
    const count = Math.max(1, Math.min(4, (globalThis.navigator?.hardwareConcurrency ?? 2) - 1));
    const url = new URL('../kernels/browserWorker.js', import.meta.url);
    workers = Array.from({ length: count }, () => new Worker(url, { type: 'module' }));
  }
  return workers;
}

function ask(w: Worker, request: ShardRequest, transfer: Transferable[]): Promise<ShardReply> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<ShardReply | { error: string }>) =>
      'error' in e.data ? reject(new Error(e.data.error)) : resolve(e.data);
    w.onerror = (e) => reject(new Error(e.message || 'the worker failed to load'));
    w.postMessage(request, transfer);
  });
}

/** Rows [r0, r1) of a kernel-shaped plan (class indices, shared noise and mask, float32 logits), with its
 * own gradient buffer, for a worker. */
function shardPlan(plan: CrossEntropyPlan, r0: number, r1: number): CrossEntropyPlan {
  const k = plan.classes;
  const labels = (plan.target as { labels: ArrayLike<number> }).labels;
  // int32 labels with ignored rows as −1 (ignoreIndex may lie outside int32; class labels are in [0, K))
  const shard = Int32Array.from({ length: r1 - r0 }, (_, i) =>
    labels[r0 + i] === plan.ignoreIndex ? -1 : labels[r0 + i],
  );
  return {
    ...plan,
    rows: r1 - r0,
    logits: (plan.logits as Float32Array).slice(r0 * k, r1 * k),
    target: { kind: 'index', labels: shard },
    ignoreIndex: -1,
    ignoredRows: shard.filter((y) => y === -1).length,
    sampleWeight:
      plan.sampleWeight && Float64Array.from({ length: r1 - r0 }, (_, i) => plan.sampleWeight![r0 + i]),
    grad: plan.grad ? new Float32Array((r1 - r0) * k) : null,
    inPlace: false,
    kernel: 'wasm',
    threads: false,
  };
}

/**
 * {@link crossEntropy} for browser main threads, where blocking and synchronous WASM compilation are not
 * allowed. Large batches (≥ 2²⁰ float32 logits with class-index targets and a shared noise and mask; not
 * with class-conditional noise, `softcap`, `zLoss` or `lse`, nor with a gradient buffer of the caller's:
 * those run here) are split by rows across Web Workers, each running the WASM kernel on its shard
 * with the whole batch's reduction factor; rows a worker declines are recomputed here by the reference, and if the workers fail
 * the batch runs here (a `'workers-failed'` kernel event). Smaller batches compile the kernel
 * asynchronously and run here. In Node it is `crossEntropy` (with its worker_threads), computed when it is
 * called, in a promise. Options are validated exactly as by `crossEntropy`, when it is called; on a page
 * the arrays it reads (logits, targets, weights, noise) are copied then too, so the result is always that
 * of the inputs at call time, even if the caller changes them while the promise is pending (the copy costs
 * one pass over the logits; a `noiseMatrix(S)` is not copied: nothing can change it). The gradient goes to
 * `options.grad` as usual.
 */
export async function crossEntropyAsync(
  logits: Matrix,
  target: Target,
  options?: CrossEntropyOptions,
): Promise<CrossEntropyResult> {
  const plan = planCrossEntropy('crossEntropyAsync', logits, target, options);
  // Off a browser's main thread nothing needs waiting for: computed now, at call time, as by crossEntropy.
  if (!browserMainThread()) return computeCrossEntropy(plan);
  // A page waits (an asynchronous compile, Web Workers) and may change its arrays meanwhile: copy them now.
  const frozen = snapshotPlan(plan);
  return frozen.restore(await runAsync(frozen.plan, options));
}

/** Minimum logits before a page's call is shared out to Web Workers (below, the messages cost more). */
const WORKERS_MIN_SIZE = 1 << 20;

/** Run a plan off the browser's main thread where it is large enough (see {@link crossEntropyAsync}). */
async function runAsync(
  plan: CrossEntropyPlan,
  options: CrossEntropyOptions | undefined,
): Promise<CrossEntropyResult> {
  const n = plan.rows;
  const k = plan.classes;
  const big = n >= 2 && n * k >= WORKERS_MIN_SIZE && plan.threads && plan.kernel !== 'js';
  const callerBuffer = plan.grad !== null && (options as CrossEntropyOptions).grad !== true;
  // Class-conditional noise is not sharded across Web Workers: each would get a copy of S (K×K) unless it
  // is in shared memory (a cross-origin-isolated page); it runs here instead.
  const matrix = plan.noise.kind === 'class-conditional';
  // The language-model options are not sharded either: the z-loss's mean and the lse span the whole batch.
  const lm = plan.softcap !== null || plan.zLoss !== null || plan.lse !== null;
  if (!browserMainThread() || !big || callerBuffer || matrix || lm || unsupportedShape(plan) !== null) {
    await initKernels({ threads: !browserMainThread() });
    return computeCrossEntropy(plan);
  }
  const denominator = meanDenominator(plan);
  const scale = lossScale(plan.reduction, plan.normalizer, denominator);
  const ws = pool();
  const per = Math.ceil(n / ws.length);
  const shards = ws.map((_, p) => [Math.min(n, p * per), Math.min(n, (p + 1) * per)] as const);
  const mine = turn.then(() =>
    Promise.all(
      ws.map((w, p) => {
        const [r0, r1] = shards[p];
        const shard = shardPlan(plan, r0, r1);
        const transfer = [shard.logits.buffer as ArrayBuffer];
        if (shard.grad) transfer.push(shard.grad.buffer as ArrayBuffer);
        return ask(w, { plan: shard, scale }, transfer);
      }),
    ),
  );
  turn = mine.catch(() => undefined);
  let replies: ShardReply[];
  try {
    replies = await mine;
  } catch (error) {
    emitKernelEvent({
      type: 'fallback',
      reason: 'workers-failed',
      detail: `Web Workers failed (${error instanceof Error ? error.message : error}); the batch ran on the page's thread`,
      rows: n,
    });
    await initKernels({ threads: false });
    return computeCrossEntropy(plan);
  }
  const perRow: PartRows | null = plan.reduction === 'none' ? partRows(n) : null;
  const sums = { nll: 0, smoothing: 0, entropy: 0 };
  const declined = mergeReplies(plan, shards, replies, { sums, perRow });
  if (declined.length > 0) {
    // Rows the workers' kernels did not finish: the reference recomputes them from the caller's logits.
    referenceRows(plan, scale, sums, perRow, declined);
    emitKernelEvent({
      type: 'fallback',
      reason: 'rows-declined',
      detail: `${declined.length} row(s) declined by the workers' kernels were recomputed by the reference`,
      rows: declined.length,
    });
  }
  recordPath('workers', `${n} rows split across ${ws.length} Web Worker(s)`);
  const reduced = perRow
    ? reduceRows(plan.eps, plan.confidencePenalty, perRow, denominator)
    : reduceSums(plan.eps, plan.confidencePenalty, sums, scale, denominator);
  return plan.grad ? { ...reduced, grad: plan.grad } : reduced;
}

/**
 * Add the workers' shard sums into `into.sums`, place their per-row parts and gradient rows, and return the
 * rows they declined (whole shards whose kernel did not run, and single rows), in the batch's numbering.
 */
function mergeReplies(
  plan: CrossEntropyPlan,
  shards: readonly (readonly [number, number])[],
  replies: ShardReply[],
  into: { sums: { nll: number; smoothing: number; entropy: number }; perRow: PartRows | null },
): number[] {
  const { sums, perRow } = into;
  const declined: number[] = [];
  replies.forEach((reply, p) => {
    const [r0, r1] = shards[p];
    const o = reply.outcome;
    if (!o.ran) {
      for (let i = r0; i < r1; i++) declined.push(i);
      return;
    }
    sums.nll += o.nll;
    sums.smoothing += o.smoothing;
    sums.entropy += o.entropy;
    for (const d of o.declined) declined.push(r0 + d);
    if (perRow && reply.perRow) {
      perRow.nll.set(reply.perRow.nll, r0);
      perRow.smoothing.set(reply.perRow.smoothing, r0);
      if (reply.perRow.entropy) perRow.entropy.set(reply.perRow.entropy, r0);
    }
    if (plan.grad && reply.grad) plan.grad.set(reply.grad, r0 * plan.classes);
  });
  return declined;
}
