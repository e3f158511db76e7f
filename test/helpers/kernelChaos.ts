// The kernel worker pool of a chaos test: a short stall bound for the block, its 'threads-failed' events,
// and a bounded wait until failed workers have been replaced; and the problem the chaos tests call.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  type CrossEntropyOptions,
  crossEntropy,
  initKernels,
  type KernelEvent,
  onKernelEvent,
} from '../../packages/labelsmooth/src/index.js';
import { poolWorkers, threadLimits } from '../../packages/labelsmooth/src/kernels/threads.js';

/** The pool as a chaos test sees it (see {@link chaosPool}). */
export interface ChaosPool {
  /** The 'threads-failed' fallback events since the block started. */
  failures(): KernelEvent[];
  /** Until the pool has its starting count of workers again (a replacement starts in the background). */
  rebuilt(): Promise<void>;
  /**
   * Run `call` until a fault injected on a worker is taken (a new 'threads-failed' event), each call bounded
   * (5 stall bounds and 5 s); a worker that wakes late may take no chunk, so a few calls may pass first.
   */
  untilFailed(call: () => void): void;
}

/**
 * Call inside a `describe`: starts the pool before the block with a stall bound of 400 ms (short, for the
 * test) and records kernel events; restores the bound after it.
 */
export function chaosPool(): ChaosPool {
  const events: KernelEvent[] = [];
  const stall = threadLimits.stallMs;
  let size = 0;
  let stop = () => {};
  before(async () => {
    assert.equal((await initKernels()).threads, true, 'the worker pool runs on this machine');
    size = poolWorkers().length;
    threadLimits.stallMs = 400;
    stop = onKernelEvent((e) => events.push(e));
  });
  after(() => {
    stop();
    threadLimits.stallMs = stall;
  });
  return {
    failures: () => events.filter((e) => e.type === 'fallback' && e.reason === 'threads-failed'),
    untilFailed(call) {
      const before = events.filter((e) => e.type === 'fallback' && e.reason === 'threads-failed').length;
      for (let attempt = 0; this.failures().length === before; attempt++) {
        assert.ok(attempt < 50, 'the worker never claimed a chunk in 50 calls');
        const t0 = performance.now();
        call();
        const took = performance.now() - t0;
        assert.ok(took < 5 * threadLimits.stallMs + 5000, `the call took ${took} ms`);
      }
    },
    async rebuilt() {
      const until = Date.now() + 60000;
      while (poolWorkers().length < size) {
        assert.ok(Date.now() < until, `the pool was not rebuilt to ${size} workers within 60 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Rows of the chaos problem. */
export const N = 96;
/** Classes of the chaos problem: N·K = 1.15M logits, so every path that uses the pool takes it. */
export const K = 12000;
/** Its labels, every ninth row ignored. */
export const labels = Int32Array.from({ length: N }, (_, i) => (i % 9 === 4 ? -100 : (i * 131) % K));
/** Fresh logits of the chaos problem (a new array each call: calls may work in place). */
export function logits(): Float32Array {
  const z = new Float32Array(N * K);
  for (let j = 0; j < z.length; j++) z[j] = Math.sin(j * 0.37) * 8;
  return z;
}
/** Its options (per-row losses: a wrong row shows). */
export const options: CrossEntropyOptions = {
  classes: K,
  labelSmoothing: 0.1,
  noise: 'non-target',
  reduction: 'none',
};
/** The undisturbed one-thread result, loss and gradient, that every disturbed call must give to the bit. */
export const reference = crossEntropy(logits(), labels, { ...options, grad: true, threads: false });
