// Worker-thread splitting: same results as one thread, shared and plain buffers, and no hanging process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { crossEntropy, initKernels } from '../packages/labelsmooth/src/index.js';
import { threadStats } from '../packages/labelsmooth/src/kernels/threads.js';

const N = 96;
const K = 12000; // 1.15M logits: above the threading threshold

function problem(shared: boolean) {
  const z = new Float32Array(shared ? new SharedArrayBuffer(4 * N * K) : new ArrayBuffer(4 * N * K));
  for (let j = 0; j < z.length; j++) z[j] = Math.sin(j * 0.37) * 8;
  const y = Int32Array.from({ length: N }, (_, i) => (i % 9 === 4 ? -100 : (i * 131) % K));
  return { z, y };
}

describe('threads', () => {
  let threads = false;
  before(async () => {
    threads = (await initKernels()).threads;
  });

  it('the pool starts on this machine (2 cores)', () => assert.equal(threads, true));

  for (const shared of [false, true]) {
    for (const reduction of ['mean', 'none'] as const) {
      it(`${shared ? 'SharedArrayBuffer' : 'plain'} logits, reduction ${reduction}: identical to one thread`, () => {
        const { z, y } = problem(shared);
        const copy = z.slice();
        const o = {
          classes: K,
          labelSmoothing: 0.1,
          noise: 'non-target' as const,
          weight: Array.from({ length: K }, (_, c) => 1 + (c % 3)),
          reduction,
          grad: true,
        };
        const one = crossEntropy(z, y, { ...o, threads: false });
        const many = crossEntropy(z, y, { ...o, threads: true });
        assert.deepEqual(z, copy, 'logits unchanged');
        // Rows are computed by the same kernel either way, so the results agree to the last bit per row.
        assert.deepEqual(many.grad, one.grad);
        if (reduction === 'none') assert.deepEqual(many.loss, one.loss);
        else
          assert.ok(Math.abs((many.loss as number) - (one.loss as number)) <= 1e-12 * (one.loss as number));
      });
    }
  }

  it('a shared gradient buffer is written in place by the workers', () => {
    const { z, y } = problem(true);
    const grad = new Float32Array(new SharedArrayBuffer(4 * N * K));
    const one = crossEntropy(z, y, { classes: K, labelSmoothing: 0.2, grad: true, threads: false });
    crossEntropy(z, y, { classes: K, labelSmoothing: 0.2, grad });
    assert.deepEqual(grad, one.grad);
  });

  const sharedF32 = (len: number) => new Float32Array(new SharedArrayBuffer(4 * len));

  for (const [name, zShared, gradShared] of [
    ['plain logits, shared gradient (staged in place)', false, true],
    ['shared logits, plain gradient', true, false],
  ] as const) {
    it(`${name}: identical to one thread, logits unchanged`, () => {
      const { z, y } = problem(zShared);
      const copy = z.slice();
      const o = { classes: K, labelSmoothing: 0.1, noise: 'uniform' as const };
      const one = crossEntropy(z, y, { ...o, grad: true, threads: false });
      const grad = gradShared ? sharedF32(N * K) : new Float32Array(N * K);
      // Until the worker has computed some chunks (the caller takes back those a worker has not started:
      // on a loaded machine a call may end before the worker wakes up).
      for (let attempt = 0; attempt < 20; attempt++) {
        grad.fill(0);
        const many = crossEntropy(z, y, { ...o, grad });
        assert.deepEqual(z, copy);
        assert.deepEqual(grad, one.grad);
        assert.equal(many.loss, one.loss, 'row-order sums: the same to the last bit');
        assert.equal(threadStats.chunks.length, 2);
        // chunks of ≤ 256 KB of logits, at least 8 per thread
        const chunkRows = Math.min(Math.floor(2 ** 18 / (4 * K)), Math.ceil(N / (8 * 2)));
        assert.equal(threadStats.chunks[0] + threadStats.chunks[1], Math.ceil(N / chunkRows));
        if (threadStats.chunks[1] > 0) return;
      }
      assert.fail('the worker never took a chunk in 20 calls');
    });
  }

  for (const shared of [false, true]) {
    it(`${shared ? 'shared' : 'plain'} logits: forward only and in place (grad = logits) through the threads`, () => {
      const { z, y } = problem(shared);
      const o = { classes: K, labelSmoothing: 0.3, noise: 'non-target' as const };
      const one = crossEntropy(z, y, { ...o, grad: true, threads: false });
      const fwd = crossEntropy(z, y, o);
      assert.equal(fwd.loss, one.loss);
      assert.equal(fwd.grad, undefined);
      const inPlace = z.slice();
      crossEntropy(inPlace, y, { ...o, grad: inPlace });
      assert.deepEqual(inPlace, one.grad);
    });
  }

  it('a prior with a class mask, and rows longer than a chunk (K = 70 000): identical to one thread', () => {
    const k = 70000;
    const n = 16;
    const z = Float32Array.from({ length: n * k }, (_, j) => Math.cos(j * 0.11) * 5);
    const y = Int32Array.from({ length: n }, (_, i) => ((i * 4099) % 1000) * 5);
    const raw = Array.from({ length: k }, (_, c) => 1 + (c % 7));
    const total = raw.reduce((a, b) => a + b, 0);
    const prior = raw.map((p) => p / total);
    const classMask = Array.from({ length: k }, (_, c) => c % 5 !== 3);
    const o = { classes: k, labelSmoothing: 0.2, noise: prior, classMask, reduction: 'none' as const };
    const one = crossEntropy(z, y, { ...o, grad: true, threads: false });
    const many = crossEntropy(z, y, { ...o, grad: true });
    assert.deepEqual(many.grad, one.grad);
    assert.deepEqual(many.loss, one.loss);
    assert.equal(
      threadStats.chunks.reduce((a, b) => a + b, 0),
      n,
      'one row per chunk',
    );
  });

  it('an ignoreIndex outside int32 (2³²) ignores the same rows on the workers as on one thread', () => {
    const { z } = problem(false);
    const y = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 2 ** 32 : (i * 131) % K));
    const o = {
      classes: K,
      labelSmoothing: 0.1,
      ignoreIndex: 2 ** 32,
      reduction: 'sum' as const,
      grad: true,
    };
    const one = crossEntropy(z, y, { ...o, threads: false });
    const reference = crossEntropy(z, y, { ...o, kernel: 'js' });
    let workerChunks = 0;
    let many = one;
    // A worker that wakes late may take no chunk: a few calls until one does (each compared).
    for (let call = 0; call < 5 && workerChunks === 0; call++) {
      many = crossEntropy(z, y, { ...o, threads: true });
      workerChunks = threadStats.chunks.slice(1).reduce((a, b) => a + b, 0);
      assert.equal(many.loss, one.loss);
      assert.deepEqual(many.grad, one.grad);
    }
    assert.ok(workerChunks > 0, 'a worker took chunks');
    assert.ok(Math.abs(one.loss - reference.loss) <= 1e-5 * reference.loss);
    assert.ok(
      many.grad!.subarray(0, K).every((g) => g === 0),
      'row 0 (ignored) has no gradient',
    );
  });

  it('a NaN in a worker’s rows is reported like everywhere else', () => {
    const { z, y } = problem(false);
    z[(N - 3) * K + 17] = Number.NaN;
    assert.throws(
      () => crossEntropy(z, y, { classes: K }),
      new RegExp(`logits\\[${(N - 3) * K + 17}\\] = NaN: must be finite \\(row ${N - 3}, class 17\\)`),
    );
  });

  it('a process that used the pool exits by itself', () => {
    const code = `
      import { crossEntropy, initKernels } from './packages/labelsmooth/src/index.ts';
      await initKernels();
      const z = new Float32Array(2048 * 1000).fill(0.5);
      crossEntropy(z, new Int32Array(2048), { classes: 1000 });
      console.log('done');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done/);
  });
});
