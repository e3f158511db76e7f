// The executor with three worker threads, whatever the machine's cores: the pool's size is taken from
// os.availableParallelism(), made 4 here before the pool starts (this file runs in a process of its own).
// On a machine of two cores the four threads then take turns on them, so chunks are claimed, committed and
// copied in many interleavings; workers fail, stall and resume. Each call must give one thread's bits.
import assert from 'node:assert/strict';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { before, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { crossEntropy, initKernels, kernelWorkspace } from '../packages/labelsmooth/src/index.js';
import {
  injectWorkerFault,
  poolWorkers,
  threadLimits,
  threadStats,
} from '../packages/labelsmooth/src/kernels/threads.js';
import { type Grad, shape, threadsAsOneThread } from './helpers/executorCases.js';
import { chaosPool, K, labels, logits, N, options, reference } from './helpers/kernelChaos.js';

// Read by the pool when it starts (threads.ts's poolSize), through node:os and its ES module alike.
(os as { availableParallelism: () => number }).availableParallelism = () => 4;
syncBuiltinESMExports();

describe('executor with three workers', () => {
  before(async () => {
    assert.equal((await initKernels()).threads, true, 'the worker pool runs on this machine');
  });

  it('the pool has three workers', () => assert.equal(poolWorkers().length, 3));

  it('ordinary arrays: every option and kind of gradient, on four threads as on one', () => {
    fc.assert(
      fc.property(shape, fc.constantFrom<Grad>('f32', 'f64', 'true', 'in place', 'none'), (p, g) =>
        threadsAsOneThread(p, g, 4),
      ),
      { numRuns: 80, seed: 3 },
    );
  });

  it('workspace calls on four threads: the one-thread bits, call after call', () => {
    const ws = kernelWorkspace(N, K);
    try {
      let workers = 0;
      for (let call = 0; call < 20; call++) {
        ws.logits.set(logits());
        ws.grad.fill(0);
        const r = crossEntropy(ws.logits, labels, { ...options, grad: ws.grad });
        assert.deepEqual(r.loss, reference.loss);
        assert.deepEqual(ws.grad, reference.grad);
        workers += threadStats.chunks.slice(1).filter((c) => c > 0).length;
      }
      // (a worker that wakes late on a loaded machine may take no chunk of a call)
      assert.ok(workers > 0, 'no worker took a chunk in 20 calls');
    } finally {
      ws.dispose();
    }
  });
});

describe('executor with three workers, some of them failing', () => {
  const pool = chaosPool(); // a stall bound of 400 ms here (the default of 2 s above)

  for (const where of ['workspace', 'arrays'] as const) {
    it(`${where}: two of three workers fail (one exits, one hangs) — every call bounded with the one-thread bits, both replaced`, async () => {
      await pool.rebuilt();
      const before = pool.failures().length;
      const [a, b] = poolWorkers();
      injectWorkerFault(0, 'exit');
      injectWorkerFault(1, 'hang');
      const ws = where === 'workspace' ? kernelWorkspace(N, K) : null;
      try {
        // each fault is taken when its worker claims a chunk: a few calls may pass before both are
        for (let attempt = 0; poolWorkers().includes(a) || poolWorkers().includes(b); attempt++) {
          assert.ok(attempt < 50, 'the faulty workers never claimed chunks in 50 calls');
          const t0 = performance.now();
          const grad = ws ? ws.grad : new Float32Array(N * K);
          if (ws) ws.logits.set(logits());
          const r = crossEntropy(ws ? ws.logits : logits(), labels, { ...options, grad });
          const took = performance.now() - t0;
          assert.ok(took < 5 * threadLimits.stallMs + 5000, `the call took ${took} ms`);
          assert.deepEqual(r.loss, reference.loss);
          assert.deepEqual(grad, reference.grad);
        }
        assert.ok(pool.failures().length > before, "a 'threads-failed' event");
      } finally {
        ws?.dispose();
        injectWorkerFault(0, { stallMs: 1 }); // a fault not taken (its worker left) is not left armed
        injectWorkerFault(1, { stallMs: 1 });
      }
      await pool.rebuilt();
      const r = crossEntropy(logits(), labels, { ...options, grad: true });
      assert.deepEqual(r.grad, reference.grad);
    });
  }

  // A worker stopped past the bound while its slot's neighbours keep turning over (copied out in any
  // order), retired but not yet terminated, resumes after the call: its commit is refused, and neither the
  // caller's gradient nor the calls after it (whose memory must not include its slot) see its writes.
  it('staged: a worker that stalls past the bound among healthy ones and resumes writes nothing anyone reads', async () => {
    await pool.rebuilt();
    const w = poolWorkers()[0] as Worker;
    const terminate = w.terminate.bind(w);
    w.terminate = async () => 0; // its termination has not taken effect yet
    const stallMs = 3 * threadLimits.stallMs;
    try {
      const sharedF32 = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
      const z = sharedF32(N * K);
      z.set(logits());
      const grad = sharedF32(N * K);
      injectWorkerFault(0, { stallMs });
      let stalledAt = 0;
      pool.untilFailed(() => {
        stalledAt = performance.now();
        const r = crossEntropy(z, labels, { ...options, grad });
        assert.deepEqual(r.loss, reference.loss);
        assert.deepEqual(grad, reference.grad);
      });
      grad.fill(7); // the caller's own use of its buffer after the call
      // Calls while the worker is stopped and after it resumed, each checked.
      const until = stalledAt + stallMs + 1000;
      for (let call = 0; performance.now() < until; call++) {
        const r = crossEntropy(logits(), labels, { ...options, grad: true });
        assert.deepEqual(r.loss, reference.loss, `call ${call} after the retirement`);
        assert.deepEqual(r.grad, reference.grad, `call ${call} after the retirement`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const overwritten = grad.findIndex((g) => g !== 7);
      assert.equal(overwritten, -1, `the resumed worker wrote gradient element ${overwritten}`);
    } finally {
      await terminate();
    }
  });
});
