// A kernel worker thread (Node worker_threads): waits on a shared flag, takes the job with
// receiveMessageOnPort, runs its rows through its own kernel instance, writes the results into shared
// memory and wakes the caller. No messages are exchanged per row.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type FusedJob, runRows } from './fused.js';
import type { WorkerJob } from './threads.js';
import { KernelInstance } from './wasm.js';

const { module, control, port } = workerData as {
  module: WebAssembly.Module;
  control: SharedArrayBuffer;
  port: MessagePort;
};
const kernel = new KernelInstance(module);
const flags = new Int32Array(control); // [0]: job sequence, [1]: done sequence, [2]: status (0 ok, 1 non-finite, 2 error)
let seen = 0;
parentPort?.postMessage('ready');

for (;;) {
  Atomics.wait(flags, 0, seen);
  seen = Atomics.load(flags, 0);
  if (seen < 0) break; // shutdown
  const msg = receiveMessageOnPort(port as unknown as import('node:worker_threads').MessagePort);
  const w = msg?.message as WorkerJob;
  let status = 0;
  try {
    const z = new Float32Array(w.z, w.zOffset, w.rows * w.classes);
    const grad = w.grad ? new Float32Array(w.grad, w.gradOffset, w.rows * w.classes) : null;
    const sums = new Float64Array(w.sums);
    const perRow = w.perRow
      ? {
          nll: new Float64Array(w.perRow, 0, w.rows),
          smoothing: new Float64Array(w.perRow, 8 * w.rows, w.rows),
        }
      : null;
    const job: FusedJob = {
      ...w.job,
      z,
      rows: w.rows,
      labels: w.labels,
      grad,
      perRow,
      rowWeight: (i) => (w.rowWeights ? w.rowWeights[i] : 1),
    };
    const r = runRows(kernel, job, 0, w.rows);
    if (r) {
      sums[0] = r.nll;
      sums[1] = r.smoothing;
    } else status = 1;
  } catch {
    status = 2;
  }
  Atomics.store(flags, 2, status);
  Atomics.store(flags, 1, seen);
  Atomics.notify(flags, 1);
}
