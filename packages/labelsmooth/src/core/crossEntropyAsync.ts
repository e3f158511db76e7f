import { initKernels } from '../kernels/index.js';
import { THREAD_MIN_SIZE } from '../kernels/threads.js';
import { crossEntropy } from './crossEntropy.js';
import { isFloatArray } from './inputs.js';
import type { CrossEntropyOptions, CrossEntropyResult, FloatArray, Matrix, Target } from './types.js';

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

function ask(w: Worker, shard: unknown, transfer: Transferable[]): Promise<CrossEntropyResult> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ result?: CrossEntropyResult; error?: string }>) =>
      e.data.error !== undefined ? reject(new Error(e.data.error)) : resolve(e.data.result!);
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(shard, transfer);
  });
}

type Sliceable = { length: number; slice(start: number, end: number): unknown };

/** The options of rows [r0, r1): per-row options are sliced (sampleWeight; per-sample noise and
 * per-row masks, N×K), the others pass through. */
function shardOptions(
  o: CrossEntropyOptions,
  n: number,
  k: number,
  r0: number,
  r1: number,
): CrossEntropyOptions {
  const rows = (v: unknown, width: number) => {
    const a = v as Sliceable | undefined;
    return a && typeof a === 'object' && a.length === n * width ? a.slice(r0 * width, r1 * width) : v;
  };
  return {
    ...o,
    sampleWeight: rows(o.sampleWeight, 1) as ArrayLike<number> | undefined,
    noise: typeof o.noise === 'string' ? o.noise : (rows(o.noise, k) as ArrayLike<number> | undefined),
    classMask: rows(o.classMask, k) as ArrayLike<number> | undefined,
  };
}

/**
 * {@link crossEntropy} for browser main threads, where blocking and synchronous WASM compilation are not
 * allowed. Large batches (≥ 2²⁰ logits of a flat float array) are split by rows across Web Workers, each
 * running the kernel on its shard (shards add up exactly: `reduction: 'sum'`, then one division by the
 * total denominator); smaller ones compile the kernel asynchronously and run here. In Node it is
 * `crossEntropy` (with its worker_threads), wrapped in a promise.
 */
export async function crossEntropyAsync(
  logits: Matrix,
  target: Target,
  options: CrossEntropyOptions = {},
): Promise<CrossEntropyResult> {
  const k = options.classes;
  const flat = isFloatArray(logits) && typeof k === 'number' && k > 0 && logits.length % k === 0;
  const n = flat ? logits.length / k : 0;
  const big = flat && n >= 2 && n * k! >= THREAD_MIN_SIZE && options.threads !== false;
  if (
    !browserMainThread() ||
    !big ||
    options.grad instanceof Float32Array ||
    options.grad instanceof Float64Array
  ) {
    await initKernels({ threads: !browserMainThread() });
    return crossEntropy(logits, target, options);
  }
  const z = logits as FloatArray;
  const ws = pool();
  const per = Math.ceil(n / ws.length);
  const reduction = options.reduction ?? 'mean';
  const common: CrossEntropyOptions = {
    ...options,
    reduction: reduction === 'none' ? 'none' : 'sum',
    grad: options.grad === true,
  };
  const targetLength = (target as ArrayLike<number>).length;
  let parts: CrossEntropyResult[];
  const mine = turn.then(() =>
    Promise.all(
      ws.map((w, p) => {
        const r0 = Math.min(n, p * per);
        const r1 = Math.min(n, r0 + per);
        const o = shardOptions(common, n, k!, r0, r1);
        const shardLogits = z.slice(r0 * k!, r1 * k!);
        const shardTarget =
          Array.isArray(target) && Array.isArray(target[0])
            ? (target as number[][]).slice(r0, r1)
            : targetLength === n * k! && n * k! !== n
              ? (target as FloatArray).slice(r0 * k!, r1 * k!)
              : (target as { slice(s: number, e: number): Target }).slice(r0, r1);
        return ask(w, { logits: shardLogits, target: shardTarget, options: o }, [
          shardLogits.buffer as ArrayBuffer,
        ]);
      }),
    ),
  );
  turn = mine.catch(() => undefined);
  try {
    parts = await mine;
  } catch {
    // A validation error in a shard names shard-local positions: report it from the whole batch instead.
    return crossEntropy(logits, target, options);
  }
  const denominator = parts.reduce((a, r) => a + r.denominator, 0);
  // Shards summed: 'mean' divides by the total denominator; 'sum', 'none' and a normalizer (applied in the
  // shards already) do not.
  const divide =
    reduction === 'mean' && options.normalizer === undefined ? (denominator > 0 ? 1 / denominator : 0) : 1;
  let grad: FloatArray | undefined;
  if (options.grad === true) {
    grad = z instanceof Float32Array ? new Float32Array(n * k!) : new Float64Array(n * k!);
    let at = 0;
    for (const r of parts) {
      const g = r.grad!;
      for (let j = 0; j < g.length; j++) grad[at + j] = g[j] * divide;
      at += g.length;
    }
  }
  const withGrad = grad ? { grad } : {};
  if (reduction === 'none') {
    const cat = (key: 'loss' | 'nll' | 'smoothing') => {
      const out = new Float64Array(n);
      let at = 0;
      for (const r of parts) {
        out.set(r[key] as Float64Array, at);
        at += (r[key] as Float64Array).length;
      }
      return out;
    };
    return { loss: cat('loss'), nll: cat('nll'), smoothing: cat('smoothing'), denominator, ...withGrad };
  }
  const sum = (key: 'loss' | 'nll' | 'smoothing') =>
    parts.reduce((a, r) => a + (r[key] as number), 0) * divide;
  return { loss: sum('loss'), nll: sum('nll'), smoothing: sum('smoothing'), denominator, ...withGrad };
}
