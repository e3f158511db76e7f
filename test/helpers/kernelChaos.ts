// The kernel worker pool of a chaos test: a short stall bound for the block, its 'threads-failed' events,
// and a bounded wait until failed workers have been replaced.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { initKernels, type KernelEvent, onKernelEvent } from '../../packages/labelsmooth/src/index.js';
import { poolWorkers, threadLimits } from '../../packages/labelsmooth/src/kernels/threads.js';

/** The pool as a chaos test sees it (see {@link chaosPool}). */
export interface ChaosPool {
  /** The 'threads-failed' fallback events since the block started. */
  failures(): KernelEvent[];
  /** Until the pool has its starting count of workers again (a replacement starts in the background). */
  rebuilt(): Promise<void>;
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
    async rebuilt() {
      const until = Date.now() + 60000;
      while (poolWorkers().length < size) {
        assert.ok(Date.now() < until, `the pool was not rebuilt to ${size} workers within 60 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
