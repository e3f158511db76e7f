// Chaos: a kernel worker thread (real worker_threads) that stalls past the stall bound in the middle of a
// call and then resumes. The calling thread has redone its chunk by then; whatever the worker computes
// afterwards must be discarded (its commit is refused), never written over the caller's results.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { crossEntropy, kernelWorkspace } from '../packages/labelsmooth/src/index.js';
import { injectWorkerFault, poolWorkers, threadLimits } from '../packages/labelsmooth/src/kernels/threads.js';
import { chaosPool, K, labels, logits, N, options, reference } from './helpers/kernelChaos.js';

describe('chaos: a kernel worker thread that stalls and resumes', () => {
  const pool = chaosPool();

  // A worker the OS stops for longer than the stall bound is retired and its chunk redone by the calling
  // thread; its termination takes effect only when it runs again, so it may resume first. Its results must
  // then be discarded: after the call the caller's gradient is the caller's. (terminate() is held back here
  // to make that window last.)
  for (const where of ['workspace', 'shared arrays'] as const) {
    it(`${where}: a worker that stalls past the bound and resumes writes nothing into the caller's gradient`, async () => {
      await pool.rebuilt();
      const w = poolWorkers()[0] as Worker;
      const terminate = w.terminate.bind(w);
      w.terminate = async () => 0; // its termination has not taken effect yet
      const stallMs = 3 * threadLimits.stallMs;
      try {
        const sharedF32 = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
        const ws = where === 'workspace' ? kernelWorkspace(N, K) : null;
        const z = ws ? ws.logits : sharedF32(N * K);
        const grad = ws ? ws.grad : sharedF32(N * K);
        z.set(logits());
        injectWorkerFault(0, { stallMs });
        let stalledAt = 0;
        pool.untilFailed(() => {
          stalledAt = performance.now();
          const r = crossEntropy(z, labels, { ...options, grad });
          assert.deepEqual(r.loss, reference.loss);
          assert.deepEqual(grad, reference.grad);
        });
        grad.fill(7); // the caller's own use of its buffer after the call
        // Until well after the worker resumed and finished its chunk.
        await new Promise((r) => setTimeout(r, Math.max(0, stalledAt + stallMs + 1000 - performance.now())));
        const overwritten = grad.findIndex((g) => g !== 7);
        assert.equal(overwritten, -1, `the resumed worker wrote gradient element ${overwritten}`);
        ws?.dispose();
      } finally {
        await terminate();
      }
    });
  }

  // A worker stopped after committing its chunk, inside its copy into a workspace's gradient, may finish
  // that copy whenever it runs again: the call must fail, never return a gradient that can still change.
  it('a worker stopped inside its copy into a workspace gradient: the call fails, saying so', async () => {
    await pool.rebuilt();
    const w = poolWorkers()[0] as Worker;
    const terminate = w.terminate.bind(w);
    w.terminate = async () => 0; // its termination has not taken effect yet
    try {
      const ws = kernelWorkspace(N, K);
      const z = ws.logits;
      const grad = ws.grad;
      z.set(logits());
      injectWorkerFault(0, { stallMs: 3 * threadLimits.stallMs }, 'copy');
      let error: unknown = null;
      for (let attempt = 0; error === null; attempt++) {
        assert.ok(attempt < 50, 'the worker never committed a chunk in 50 calls');
        try {
          const r = crossEntropy(z, labels, { ...options, grad });
          assert.deepEqual(r.loss, reference.loss); // the fault is taken only after a commit
          assert.deepEqual(grad, reference.grad);
        } catch (e) {
          error = e;
        }
      }
      assert.match(
        String(error),
        /crossEntropy: a kernel worker thread made no progress for \d+ ms while copying gradient rows \d+…\d+/,
      );
      await pool.rebuilt();
      grad.fill(0);
      const again = crossEntropy(z, labels, { ...options, grad });
      assert.deepEqual(again.loss, reference.loss, 'the next call, on the rebuilt pool');
      assert.deepEqual(grad, reference.grad);
      ws.dispose();
    } finally {
      await terminate();
    }
  });
});
