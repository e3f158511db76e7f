// The executor off its happy path: the shared kernel memory full, a synchronous loop after a worker was
// retired, a worker stalled in the middle of a staged call. Each call must give one thread's bits, say
// what happened, and leave the memory and the pool as they were.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crossEntropy,
  type KernelEvent,
  kernelInfo,
  onKernelEvent,
} from '../packages/labelsmooth/src/index.js';
import { allocate, ownMemory, release, sharedKernel } from '../packages/labelsmooth/src/kernels/memory.js';
import { injectWorkerFault, threadStats } from '../packages/labelsmooth/src/kernels/threads.js';
import { chaosPool } from './helpers/kernelChaos.js';

const N = 1024;
const K = 512;
const labels = Int32Array.from({ length: N }, (_, i) => (i * 37) % K);
const logits = Float32Array.from({ length: N * K }, (_, j) => Math.sin(j * 0.61) * 5);
const options = { classes: K, labelSmoothing: 0.1, noise: 'non-target' as const };
const one = crossEntropy(logits, labels, { ...options, grad: true, threads: false });

/** The events `f` emits. */
function eventsOf(f: () => void): KernelEvent[] {
  const events: KernelEvent[] = [];
  const stop = onKernelEvent((e) => events.push(e));
  try {
    f();
  } finally {
    stop();
  }
  return events;
}

describe('executor: off the happy path', () => {
  const pool = chaosPool();

  it('a full shared memory: ordinary arrays run on the calling thread in its own memory, the same bits', async () => {
    await pool.rebuilt();
    const m = sharedKernel()!;
    const hog = allocate(4 * 2 ** 30 - m.top - (256 << 10), m); // all but 256 KB: no room for the call
    try {
      for (let call = 0; call < 3; call++) {
        const grad = new Float32Array(N * K);
        let r = one;
        const events = eventsOf(() => {
          r = crossEntropy(logits, labels, { ...options, grad });
        });
        assert.deepEqual(
          events.map((e) => (e.type === 'fallback' ? e.reason : e.type)),
          ['shared-memory-unavailable'],
          'one fallback, no kernel error and no worker taken for failed',
        );
        assert.match(
          (events[0] as { detail: string }).detail,
          /it is tried on the calling thread, in its own memory/,
        );
        assert.deepEqual(kernelInfo().last, { path: 'wasm', reason: `${N} rows on the calling thread` });
        assert.equal(r.loss, one.loss);
        assert.deepEqual(grad, one.grad);
      }
      assert.equal(ownMemory()!.live.size, 0, "the calling thread's memory is given back after each call");
    } finally {
      release(hog, m);
    }
    const r = crossEntropy(logits, labels, { ...options, grad: true });
    assert.equal(kernelInfo().last!.path, 'wasm-threads', 'the pool is intact');
    assert.equal(r.loss, one.loss);
  });

  it('after a worker was retired, a loop that never yields gets each call’s memory back', async () => {
    await pool.rebuilt();
    const m = sharedKernel()!;
    const grad = new Float32Array(N * K);
    crossEntropy(logits, labels, { ...options, grad }); // the regions a call takes, laid out once
    const before = pool.failures().length;
    injectWorkerFault(0, 'hang');
    // (with its only worker retired and the replacement unseen by a loop that never yields, the calls run
    // on one thread, in the calling thread's own memory)
    const own = () => ownMemory()?.top ?? 0;
    let taken = [-1, -1];
    for (let call = 0; call < 60; call++) {
      const r = crossEntropy(logits, labels, { ...options, grad });
      assert.equal(r.loss, one.loss);
      if (call === 5) taken = [m.top, own()];
      if (call > 5) assert.deepEqual([m.top, own()], taken, `call ${call}: a kernel memory grew`);
    }
    assert.equal(ownMemory()?.live.size ?? 0, 0);
    assert.ok(pool.failures().length > before, 'the hung worker was retired');
    assert.deepEqual(grad, one.grad);
  });

  it('a worker stalled in a staged call holds one slot, not the window: the caller runs the rest', async () => {
    await pool.rebuilt();
    // Rows of 32000: chunks of 2 rows, 256 chunks; the stall (below the 400 ms bound) outlasts the call.
    const n = 512;
    const k = 32000;
    const y = Int32Array.from({ length: n }, (_, i) => (i * 131) % k);
    const z = Float32Array.from({ length: n * k }, (_, j) => Math.cos(j * 0.37) * 4);
    const alone = crossEntropy(z, y, { ...options, classes: k, grad: true, threads: false });
    const grad = new Float32Array(n * k);
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < 20, 'the worker never took a chunk in 20 calls');
      injectWorkerFault(0, { stallMs: 350 });
      const r = crossEntropy(z, y, { ...options, classes: k, grad });
      assert.equal(r.loss, alone.loss);
      assert.deepEqual(grad, alone.grad);
      const [caller, worker] = threadStats.chunks;
      if (worker === 0) continue; // the worker woke after the caller had claimed every chunk
      assert.equal(worker, 1, 'the stalled worker ran its one chunk; the caller went on with the others');
      assert.ok(caller > 1);
      break;
    }
  });
});
