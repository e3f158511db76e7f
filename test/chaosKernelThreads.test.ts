// Chaos: kernel worker threads (real worker_threads) that die or hang between calls and in the middle of a
// call. Every call must return within a bound, with the results of an undisturbed one-thread run to the
// last bit; the failure must be a 'threads-failed' event, and the pool must be rebuilt.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { crossEntropy, kernelInfo, kernelWorkspace } from '../packages/labelsmooth/src/index.js';
import { injectWorkerFault, poolWorkers, threadLimits } from '../packages/labelsmooth/src/kernels/threads.js';
import { chaosPool, K, labels, logits, N, options, reference } from './helpers/kernelChaos.js';

/** The call on a workspace (in place on every thread) or on ordinary arrays (the rings). */
function call(where: 'workspace' | 'arrays') {
  if (where === 'arrays') return crossEntropy(logits(), labels, { ...options, grad: true });
  const ws = kernelWorkspace(N, K);
  try {
    ws.logits.set(logits());
    const r = crossEntropy(ws.logits, labels, { ...options, grad: ws.grad });
    return { ...r, grad: ws.grad.slice() };
  } finally {
    ws.dispose();
  }
}

function assertUndisturbed(r: ReturnType<typeof call>): void {
  assert.deepEqual(r.loss, reference.loss, 'per-row losses of one undisturbed thread, to the last bit');
  assert.deepEqual(r.grad, reference.grad, 'the gradient of one undisturbed thread, to the last bit');
}

describe('chaos: kernel worker threads that die or hang', () => {
  const pool = chaosPool();

  for (const where of ['workspace', 'arrays'] as const) {
    it(`${where}: a worker terminated between calls — the next call is undisturbed, the pool rebuilt`, async () => {
      await pool.rebuilt();
      const before = pool.failures().length;
      const w = poolWorkers()[0] as Worker;
      const exit = once(w, 'exit');
      await w.terminate();
      await exit;
      assert.ok(pool.failures().length > before, "the worker's exit is a 'threads-failed' event");
      assert.match((pool.failures().at(-1) as { detail: string }).detail, /exited .* between calls/);
      assertUndisturbed(call(where));
      await pool.rebuilt();
      assertUndisturbed(call(where));
    });

    it(`${where}: a worker terminated as the call starts — bounded, undisturbed, noticed`, async () => {
      await pool.rebuilt();
      const before = pool.failures().length;
      const w = poolWorkers()[0] as Worker;
      const t0 = performance.now();
      void w.terminate(); // its 'exit' event cannot run before the synchronous call has returned
      const r = call(where);
      const first = performance.now() - t0;
      assertUndisturbed(r);
      // The ring path may finish without the dead worker (it takes back the chunks queued for it): the
      // next call notices it.
      assertUndisturbed(call(where));
      const took = performance.now() - t0;
      assert.ok(took < 10 * threadLimits.stallMs + 5000, `two calls took ${took} ms (first ${first} ms)`);
      assert.ok(pool.failures().length > before, "a 'threads-failed' event");
      await pool.rebuilt();
    });

    for (const fault of ['exit', 'hang'] as const) {
      it(`${where}: a worker that ${fault === 'exit' ? 'exits' : 'hangs'} holding a chunk — bounded, undisturbed, replaced`, async () => {
        await pool.rebuilt();
        const w = poolWorkers()[0] as Worker;
        const exit = once(w, 'exit');
        // The fault fires when the worker claims a chunk; on a loaded machine the calling thread may take
        // every chunk of a call itself, so a few calls may pass before it does.
        injectWorkerFault(0, fault);
        pool.untilFailed(() => assertUndisturbed(call(where)));
        const e = pool.failures().at(-1) as { detail: string; rows: number };
        assert.match(e.detail, /the calling thread computed their \d+ rows/);
        await exit; // the failed worker is gone (a hung one is terminated)
        assert.ok(!poolWorkers().includes(w), 'the failed worker left the pool');
        await pool.rebuilt();
        assertUndisturbed(call(where));
        assert.equal(kernelInfo().last!.path, 'wasm-threads');
      });
    }
  }
});
