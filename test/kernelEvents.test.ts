// Observable fallbacks: kernelInfo() and onKernelEvent() say which path ran and why a faster one did not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import {
  crossEntropy,
  initKernels,
  type KernelEvent,
  kernelInfo,
  onKernelEvent,
  resetKernelInfo,
} from '../packages/labelsmooth/src/index.js';

/** Events emitted while `f` runs. */
function eventsOf(f: () => void): KernelEvent[] {
  const seen: KernelEvent[] = [];
  const off = onKernelEvent((e) => seen.push(e));
  try {
    f();
  } finally {
    off();
  }
  return seen;
}

/** Run a module in a child process from the repository root; returns its stdout. */
function child(code: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url).pathname,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const K = 10;
const N = 1000;
const z = Float32Array.from({ length: N * K }, (_, j) => Math.sin(j * 0.3) * 3);
const y = Int32Array.from({ length: N }, (_, i) => i % K);

describe('kernelInfo and onKernelEvent', () => {
  before(async () => {
    await initKernels();
    resetKernelInfo();
  });

  it('the kernel path, the reference path and why', () => {
    assert.deepEqual(
      eventsOf(() => crossEntropy(z, y, { classes: K })),
      [],
    );
    assert.equal(kernelInfo().last?.path, 'wasm');
    crossEntropy(z.subarray(0, 100), y.subarray(0, 10), { classes: K });
    assert.deepEqual(kernelInfo().last, {
      path: 'js',
      reason: 'fewer than 2048 logits: the reference is as fast',
    });
    crossEntropy(Float64Array.from(z), y, { classes: K });
    assert.equal(kernelInfo().last?.reason, 'the kernel takes float32 logits');
    crossEntropy(z, y, { classes: K, kernel: 'js' });
    assert.equal(kernelInfo().last?.reason, "options.kernel is 'js'");
    assert.equal(
      Object.values(kernelInfo().fallbacks).reduce((a, b) => a + b, 0),
      0,
      'choices are not fallbacks',
    );
  });

  it('rows the kernel declines: an event with the count, the path wasm+js, the counters', () => {
    const bad = z.slice();
    bad[17 * K + 7] = 3e38; // row 17 (label 7): z_c − z_y overflows float32
    bad[17 * K + 2] = -3e38;
    bad[404 * K + 4] = 2e38; // row 404 (label 4)
    bad[404 * K + 5] = -2e38;
    const before = kernelInfo();
    const seen = eventsOf(() => crossEntropy(bad, y, { classes: K, labelSmoothing: 0.1 }));
    assert.equal(seen.length, 1);
    const e = seen[0];
    assert.ok(e.type === 'fallback' && e.reason === 'rows-declined' && e.rows === 2, JSON.stringify(e));
    assert.match(e.detail, /could not finish 2 row\(s\) \(first: row 17\)/);
    const after = kernelInfo();
    assert.equal(after.last?.path, 'wasm+js');
    assert.equal(after.fallbacks['rows-declined'], before.fallbacks['rows-declined'] + 1);
    assert.equal(after.declinedRows, before.declinedRows + 2);
  });

  it('weights beyond the float32 kernel: a float32-range fallback, the whole call on the reference', () => {
    const seen = eventsOf(() => crossEntropy(z, y, { classes: K, weight: new Array(K).fill(1e-46) }));
    assert.equal(seen.length, 1);
    assert.ok(seen[0].type === 'fallback' && seen[0].reason === 'float32-range' && seen[0].rows === N);
    assert.equal(kernelInfo().last?.path, 'js');
  });

  it('large batches run on the worker threads and say so', () => {
    const n = 1100;
    const k = 1000;
    const big = Float32Array.from({ length: n * k }, (_, j) => Math.cos(j));
    crossEntropy(
      big,
      Int32Array.from({ length: n }, (_, i) => i % k),
      { classes: k },
    );
    assert.equal(kernelInfo().last?.path, 'wasm-threads');
  });

  it('a listener that throws does not change the loss; unsubscribing stops the events', () => {
    const bad = z.slice();
    bad[3 * K + 3] = 3e38; // row 3 (label 3)
    bad[3 * K + 1] = -3e38;
    const expected = crossEntropy(bad, y, { classes: K, kernel: 'js' }).loss;
    let calls = 0;
    const off = onKernelEvent(() => {
      calls++;
      throw new Error('listener bug');
    });
    assert.ok(Math.abs(crossEntropy(bad, y, { classes: K }).loss - expected) <= 1e-6 * expected);
    off();
    crossEntropy(bad, y, { classes: K });
    assert.equal(calls, 1);
  });

  it('a kernel that fails to compile: compile-error and wasm-unavailable, results from the reference', () => {
    const out = child(`
      const { crossEntropy, initKernels, kernelInfo, onKernelEvent } = await import('./packages/labelsmooth/src/index.ts');
      // After the import (tsx compiles WASM of its own); the kernel compiles lazily, on first use.
      WebAssembly.Module = function () { throw new Error('no synchronous compile'); };
      WebAssembly.compile = () => Promise.reject(new Error('simulated compile failure'));
      const events = [];
      onKernelEvent((e) => events.push({ type: e.type, reason: e.reason, error: e.error && String(e.error.message) }));
      const z = Float32Array.from({ length: 4096 }, (_, j) => Math.sin(j));
      const y = new Int32Array(512);
      const a = crossEntropy(z, y, { classes: 8 }).loss;
      const status = await initKernels();
      const b = crossEntropy(z, y, { classes: 8 }).loss;
      const ref = crossEntropy(z, y, { classes: 8, kernel: 'js' }).loss;
      console.log(JSON.stringify({ a, b, ref, status, events, info: kernelInfo() }));`);
    const r = JSON.parse(out);
    assert.equal(r.a, r.ref);
    assert.equal(r.b, r.ref);
    assert.deepEqual(r.status, { wasm: false, threads: false });
    assert.deepEqual(r.events, [
      { type: 'fallback', reason: 'wasm-unavailable' },
      { type: 'compile-error', error: 'simulated compile failure' },
      { type: 'fallback', reason: 'wasm-unavailable' },
    ]);
    assert.equal(r.info.compileError, 'simulated compile failure');
    assert.equal(r.info.fallbacks['wasm-unavailable'], 2);
  });

  it('a worker pool that cannot start: threads-error, large batches on the calling thread', () => {
    const out = child(`
      import wt from 'node:worker_threads';
      import { syncBuiltinESMExports } from 'node:module';
      wt.Worker = class { constructor() { throw new Error('simulated worker load failure'); } };
      syncBuiltinESMExports();
      const { crossEntropy, initKernels, kernelInfo, onKernelEvent } = await import('./packages/labelsmooth/src/index.ts');
      const events = [];
      onKernelEvent((e) => events.push({ type: e.type, error: e.error && String(e.error.message) }));
      const status = await initKernels();
      const z = Float32Array.from({ length: 1100 * 1000 }, (_, j) => Math.cos(j));
      crossEntropy(z, new Int32Array(1100), { classes: 1000 });
      console.log(JSON.stringify({ status, events, info: kernelInfo() }));`);
    const r = JSON.parse(out);
    assert.deepEqual(r.status, { wasm: true, threads: false });
    assert.deepEqual(r.events, [{ type: 'threads-error', error: 'simulated worker load failure' }]);
    assert.equal(r.info.threadsError, 'simulated worker load failure');
    assert.equal(r.info.last.path, 'wasm');
  });
});
