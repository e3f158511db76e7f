// The worker pool starts when a call first needs it, synchronously: a loop that never yields to the event
// loop (and never calls initKernels) gets every core from its first large call, in a fresh process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { workerExecArgv } from '../packages/labelsmooth/src/kernels/threads.js';

/** Run `body` (after the library's imports) in a fresh Node process; its stdout. */
function fresh(body: string): string {
  const code = `
    import { crossEntropy, kernelInfo, kernelWorkspace } from './packages/labelsmooth/src/index.ts';
    import { threadStats } from './packages/labelsmooth/src/kernels/threads.ts';
    ${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url).pathname,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('the worker pool starts on first need', () => {
  it('the first large call of a synchronous loop runs on every thread (ordinary arrays)', () => {
    const out = fresh(`
      const N = 96, K = 12000;
      const z = Float32Array.from({ length: N * K }, (_, j) => Math.sin(j));
      const y = Int32Array.from({ length: N }, (_, i) => (i * 131) % K);
      const grad = new Float32Array(N * K);
      for (let it = 0; it < 3; it++) {
        crossEntropy(z, y, { classes: K, labelSmoothing: 0.1, grad });
        console.log(kernelInfo().last.path, threadStats.chunks.length >= 2);
      }`);
    assert.deepEqual(out.trim().split('\n'), ['wasm-threads true', 'wasm-threads true', 'wasm-threads true']);
  });

  it('the first call on a workspace runs on every thread', () => {
    const out = fresh(`
      const ws = kernelWorkspace(96, 12000);
      ws.logits.fill(0.5);
      crossEntropy(ws.logits, new Int32Array(96), { classes: 12000, grad: ws.grad });
      console.log(kernelInfo().last.path, threadStats.chunks.length >= 2);`);
    assert.equal(out.trim(), 'wasm-threads true');
  });

  it('a first call on shared logits and a shared gradient runs on every thread, no worker failing', () => {
    const out = fresh(`
      import { onKernelEvent } from './packages/labelsmooth/src/index.ts';
      const failed = [];
      onKernelEvent((e) => failed.push(e.type === 'fallback' ? e.reason : e.type));
      const N = 96, K = 12000;
      const shared = () => new Float32Array(new SharedArrayBuffer(4 * N * K));
      const z = shared();
      for (let j = 0; j < z.length; j++) z[j] = Math.sin(j);
      crossEntropy(z, new Int32Array(N), { classes: K, labelSmoothing: 0.1, grad: shared() });
      console.log(kernelInfo().last.path, JSON.stringify(failed));`);
    assert.equal(out.trim(), 'wasm-threads []');
  });

  it('workers start under `node --input-type=module -e` (the built package; no flag of the main input reaches them)', () => {
    // A worker inheriting --input-type=module refuses to load its module file: no thread, after a 10 s wait.
    const code = `
      import { crossEntropy, kernelInfo } from './packages/labelsmooth/dist/index.js';
      const N = 96, K = 12000;
      const z = Float32Array.from({ length: N * K }, (_, j) => Math.sin(j));
      crossEntropy(z, new Int32Array(N), { classes: K, labelSmoothing: 0.1 });
      console.log(kernelInfo().last.path, kernelInfo().threadsError);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'wasm-threads null');
  });

  it('workerExecArgv drops the flags of the main input and keeps the rest', () => {
    const argv = ['--import', 'tsx', '--input-type=module', '-e', 'code()', '--max-old-space-size=512'];
    assert.deepEqual(workerExecArgv(argv), ['--import', 'tsx', '--max-old-space-size=512']);
    assert.deepEqual(workerExecArgv(['--input-type', 'module', '-p', '1+1', '--conditions=dev']), [
      '--conditions=dev',
    ]);
    assert.deepEqual(workerExecArgv(['--check', '--eval=x', '--expose-gc']), ['--expose-gc']);
  });
});
