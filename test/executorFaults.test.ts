// Chaos on the executor's paths the other chaos tests leave out: real worker threads that exit, hang or
// stall in the in-place mode (grad = the logits array) with rows the float32 kernel declines, in staged
// calls with the language-model options and a float64 gradient, between a workspace chunk's commit and its
// copy into place, and in a loop of calls that never yields to the event loop. Every call is bounded and
// gives the bits of an undisturbed one-thread run, or throws the documented error; a worker's failure is a
// 'threads-failed' event, and the pool is rebuilt; only memory a retired worker may still write is held.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CrossEntropyOptions,
  crossEntropy,
  kernelInfo,
  kernelWorkspace,
} from '../packages/labelsmooth/src/index.js';
import { sharedKernel } from '../packages/labelsmooth/src/kernels/memory.js';
import { injectWorkerFault } from '../packages/labelsmooth/src/kernels/threads.js';
import { chaosPool, K, labels, logits, N, options, reference } from './helpers/kernelChaos.js';

/** The chaos problem's logits with rows the float32 kernel declines (z_c − z_y overflows float32). */
function declinedLogits(): Float32Array {
  const z = logits();
  for (let i = 3; i < N; i += 10) {
    z[i * K + 5] = 3e38;
    z[i * K + 6] = -3e38;
  }
  return z;
}

describe('executor under faults: the in-place mode, declined rows, the language-model options', () => {
  const pool = chaosPool();
  const penalty: CrossEntropyOptions = { ...options, confidencePenalty: 0.2 };
  const oneThreadInPlace = (() => {
    const z = declinedLogits();
    const r = crossEntropy(z, labels, { ...penalty, grad: z, threads: false });
    return { z, loss: r.loss, entropy: r.entropy };
  })();

  for (const fault of ['exit', 'hang'] as const) {
    it(`in-place mode with declined rows: a worker that ${fault === 'exit' ? 'exits' : 'hangs'} holding a chunk — the one-thread bits`, async () => {
      await pool.rebuilt();
      injectWorkerFault(0, fault);
      pool.untilFailed(() => {
        const z = declinedLogits();
        const r = crossEntropy(z, labels, { ...penalty, grad: z });
        assert.equal(kernelInfo().last!.path, 'wasm+js', 'rows declined and recomputed');
        assert.deepEqual(r.loss, oneThreadInPlace.loss);
        assert.deepEqual(r.entropy, oneThreadInPlace.entropy);
        assert.deepEqual(z, oneThreadInPlace.z, 'every row of the array holds its one-thread gradient');
      });
      const e = pool.failures().at(-1) as { detail: string };
      assert.match(e.detail, /the calling thread computed their \d+ rows/);
      await pool.rebuilt();
    });
  }

  it('softcap, zLoss and lse staged into a float64 gradient: a worker that exits holding a chunk — the one-thread bits', async () => {
    await pool.rebuilt();
    const lm: CrossEntropyOptions = { ...options, softcap: 12, zLoss: 1e-3, lse: true };
    const one = crossEntropy(logits(), labels, { ...lm, grad: new Float64Array(N * K), threads: false });
    injectWorkerFault(0, 'exit');
    pool.untilFailed(() => {
      const z = logits();
      const grad = new Float64Array(N * K);
      const r = crossEntropy(z, labels, { ...lm, grad });
      assert.deepEqual(r.loss, one.loss);
      assert.deepEqual(r.zLoss, one.zLoss);
      assert.deepEqual(r.lse, one.lse);
      assert.deepEqual(grad, one.grad);
      assert.deepEqual(z, logits(), 'the logits are intact');
    });
    await pool.rebuilt();
  });

  // A worker that exited (process.exit, a crash, terminate()) cannot run again: a chunk it committed but did
  // not copy into place can be computed by the calling thread, as for any chunk a failed worker held. Only
  // a worker that may still run (stalled, its termination not yet effective) forces the error.
  it('a worker that exits between a workspace chunk’s commit and its copy: the call gives the one-thread bits', async () => {
    await pool.rebuilt();
    const ws = kernelWorkspace(N, K);
    try {
      ws.logits.set(logits());
      injectWorkerFault(0, 'exit', 'copy');
      pool.untilFailed(() => {
        const r = crossEntropy(ws.logits, labels, { ...options, grad: ws.grad });
        assert.deepEqual(r.loss, reference.loss);
        assert.deepEqual(ws.grad, reference.grad);
      });
    } finally {
      ws.dispose();
      await pool.rebuilt();
    }
  });

  // Without a gradient a worker's copy after its commit writes only the call's own results (its region,
  // held while the worker may still run): nothing of the caller's can change after the call, so there is
  // no reason to fail it, and no gradient the error could speak of.
  it('a forward-only workspace call whose worker hangs between a commit and its copy: the one-thread loss', async () => {
    await pool.rebuilt();
    const ws = kernelWorkspace(N, K);
    const one = crossEntropy(logits(), labels, { ...options, lse: true, threads: false });
    try {
      ws.logits.set(logits());
      injectWorkerFault(0, 'hang', 'copy');
      pool.untilFailed(() => {
        const r = crossEntropy(ws.logits, labels, { ...options, lse: true });
        assert.deepEqual(r.loss, one.loss);
        assert.deepEqual(r.lse, one.lse);
      });
    } finally {
      ws.dispose();
      await pool.rebuilt();
    }
  });

  // The documented error of a worker stopped inside its copy; the worker is retired and replaced all the
  // same, which every other retirement reports as a 'threads-failed' event. The gradient it may still write
  // is not handed out again before its exit: after dispose() a new workspace does not get that memory.
  it('a worker that hangs inside its copy into a workspace: the call throws, one threads-failed event, the gradient’s memory held until the worker is gone', async () => {
    await pool.rebuilt();
    const m = sharedKernel()!;
    const ws = kernelWorkspace(N, K);
    let error: unknown = null;
    try {
      ws.logits.set(logits());
      const before = pool.failures().length;
      injectWorkerFault(0, 'hang', 'copy');
      for (let attempt = 0; error === null; attempt++) {
        assert.ok(attempt < 50, 'the worker never committed a chunk in 50 calls');
        try {
          crossEntropy(ws.logits, labels, { ...options, grad: ws.grad });
          assert.deepEqual(ws.grad, reference.grad);
        } catch (e) {
          error = e;
        }
      }
      assert.match(String(error), /while copying gradient rows/);
      assert.equal(pool.failures().length, before + 1, "one 'threads-failed' event");
    } finally {
      ws.dispose();
    }
    // Synchronously, before the hung worker's exit can be seen: its gradient's memory is not handed out.
    const next = kernelWorkspace(N, K);
    const [a, b] = [ws.grad.byteOffset, ws.grad.byteOffset + ws.grad.byteLength];
    for (const x of [next.logits, next.grad])
      assert.ok(
        x.byteOffset >= b || x.byteOffset + x.byteLength <= a,
        'a new workspace over the held gradient',
      );
    assert.ok(m.live.has(a), 'the gradient region is held');
    next.dispose();
    for (const until = Date.now() + 60000; m.live.has(a); await new Promise((r) => setTimeout(r, 20)))
      assert.ok(Date.now() < until, 'the gradient region was not given back within 60 s of the retirement');
    await pool.rebuilt();
  });

  // A retired worker may still write the memory of the call it held, and no later call's: a loop of calls
  // that never yields to the event loop (which is when the worker's exit is seen) must not hold every later
  // call's memory, nor the workspaces it disposes.
  it('after a worker hangs, workspace calls and workspaces in a loop that never yields give their memory back', async () => {
    await pool.rebuilt();
    const m = sharedKernel()!;
    const z = logits();
    injectWorkerFault(0, 'hang');
    let ws = kernelWorkspace(N, K);
    pool.untilFailed(() => {
      ws.logits.set(z);
      crossEntropy(ws.logits, labels, { ...options, grad: ws.grad });
    });
    const live = m.live.size; // the hung worker's call region among them
    const top = m.top;
    for (let call = 0; call < 30; call++) {
      ws.dispose();
      ws = kernelWorkspace(N, K);
      ws.logits.set(z);
      const r = crossEntropy(ws.logits, labels, { ...options, grad: ws.grad });
      assert.deepEqual(r.loss, reference.loss);
      assert.deepEqual(ws.grad, reference.grad);
    }
    ws.dispose();
    assert.ok(
      m.live.size < live,
      `${m.live.size - live + 1} more regions of the kernel memory held after 30 calls`,
    );
    assert.ok(m.top <= top, `the kernel memory's regions grew from ${top} to ${m.top} bytes`);
    await pool.rebuilt();
  });
});
