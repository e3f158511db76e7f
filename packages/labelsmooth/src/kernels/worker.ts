// A kernel worker thread (Node worker_threads): waits on a shared flag, takes the call's parameters with
// receiveMessageOnPort, then runs the row chunks the caller publishes in its ring (see threads.ts) through
// its own kernel instance until the caller closes the ring, and wakes the caller. No messages per chunk.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type FusedJob, runRows } from './fused.js';
import {
  CLAIMED,
  CLOSED,
  COMMITTED,
  COPY_FAULT,
  EXITED,
  FAULT,
  QUEUED,
  READY,
  RING,
  slotLayout,
  type WorkerJob,
  type WorkspaceJob,
  WRITTEN,
} from './threads.js';
import { KernelInstance } from './wasm.js';
import { workChunks } from './workspace.js';

const { module, control, port } = workerData as {
  module: WebAssembly.Module;
  control: SharedArrayBuffer;
  port: MessagePort;
};
const kernel = new KernelInstance(module);
const flags = new Int32Array(control); // see PoolWorker.flags in threads.ts
let seen = 0;
/** This worker's instance on the shared kernel memory (workspace calls), made on the first one. */
let shared: KernelInstance | null = null;
// The calling side's 'exit' event sets the flag too, for deaths that run no code here (terminate(), a crash).
process.on('exit', () => Atomics.store(flags, EXITED, 1));
Atomics.store(flags, READY, 1);
Atomics.notify(flags, READY);
parentPort?.postMessage('ready');

/** A fault a test injected (threads.ts's injectWorkerFault), taken right after claiming a chunk (`at`
 * FAULT) or between a commit and the copy into a shared gradient (COPY_FAULT). */
function fault(at = FAULT): void {
  const f = Atomics.load(flags, at);
  if (f === 0) return;
  Atomics.store(flags, at, 0);
  if (f === 1) process.exit(70);
  // hang until terminated, or (f < 0) stall −f ms and go on
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, f < 0 ? -f : undefined);
}

/** Run chunk `j` of the ring into its slot (gradient rows and per-row results); false if a row is not finite. */
function runChunk(w: WorkerJob, j: number, layout: ReturnType<typeof slotLayout>): boolean {
  const k = w.classes;
  const base = (j % RING) * w.slotBytes;
  const [r0, rows] = new Int32Array(w.ring, base, 2);
  const weights = new Float64Array(w.ring, base + layout.weights, rows);
  const inSlot = w.slotArea ? new Float32Array(w.ring, base + layout.logits, rows * k) : null;
  const out = base + layout.out;
  const job: FusedJob = {
    ...w.job,
    z: w.z ? new Float32Array(w.z, w.zOffset + 4 * r0 * k, rows * k) : inSlot!,
    rows,
    labels: new Int32Array(w.ring, base + layout.labels, rows),
    grad: w.writeGrad ? inSlot : null,
    perRow: {
      nll: new Float64Array(w.ring, out, rows),
      smoothing: new Float64Array(w.ring, out + 8 * w.chunkRows, rows),
      entropy: new Float64Array(w.ring, out + 16 * w.chunkRows, rows),
    },
    rowWeight: (i) => weights[i],
    lm: w.job.lm && { ...w.job.lm, lse: new Float64Array(w.ring, out + 24 * w.chunkRows, rows) },
  };
  const m = w.matrix;
  if (!m) return runRows(kernel, job, 0, rows) !== null;
  // S read in place from the shared kernel memory (this worker's instance on it, as for workspace calls),
  // this worker's chunk area next to it
  shared ??= new KernelInstance(m.module, m.share.memory);
  const place = {
    matrixAt: (job.family!.matrix as Float32Array).byteOffset,
    base: m.share.work + m.area * m.share.areaBytes,
  };
  return runRows(shared, job, 0, rows, undefined, place) !== null;
}

/** A committed chunk's gradient rows from its slot into the shared gradient, in place. */
function writeGradient(w: WorkerJob, j: number, layout: ReturnType<typeof slotLayout>): void {
  const k = w.classes;
  const base = (j % RING) * w.slotBytes;
  const [r0, rows] = new Int32Array(w.ring, base, 2);
  const to = new Float32Array(w.grad!, w.gradOffset + 4 * r0 * k, rows * k);
  to.set(new Float32Array(w.ring, base + layout.logits, rows * k));
}

for (;;) {
  Atomics.wait(flags, 0, seen);
  seen = Atomics.load(flags, 0);
  if (seen < 0) break; // shutdown
  const msg = receiveMessageOnPort(port as unknown as import('node:worker_threads').MessagePort);
  let status = 0;
  if (msg && (msg.message as WorkspaceJob).kind === 'workspace') {
    // Chunks claimed from the call's counter, run in place in the shared memory; the count goes back in
    // the consumed slot.
    const job = msg.message as WorkspaceJob;
    let done = 0;
    try {
      if (job.module && job.memory) shared = new KernelInstance(job.module, job.memory);
      // The count of claimed chunks is this worker's heartbeat (the caller's stall bound reads it).
      done = workChunks(shared!, job.call, job.thread, (claimed) => {
        Atomics.store(flags, 4, claimed);
        fault();
      });
    } catch {
      status = 2;
    }
    Atomics.store(flags, 4, done);
    Atomics.store(flags, 2, status);
    Atomics.store(flags, 1, seen);
    Atomics.notify(flags, 1);
    continue;
  }
  const w = msg?.message as WorkerJob;
  try {
    const layout = slotLayout(w.chunkRows, w.classes, w.slotArea);
    for (let j = 0; ; ) {
      const published = Atomics.load(flags, 3);
      if (j < (published & ~CLOSED)) {
        // Every published chunk is consumed, even after an error: the caller waits for them.
        // Claim the chunk first: the caller may have taken it back to run it itself.
        const meta = new Int32Array(w.ring, (j % RING) * w.slotBytes, 4);
        if (Atomics.compareExchange(meta, 2, QUEUED, CLAIMED) === QUEUED) {
          fault();
          let chunkStatus = 0;
          try {
            if (!runChunk(w, j, layout)) chunkStatus = 1;
          } catch {
            chunkStatus = 2;
          }
          meta[3] = chunkStatus;
          // The commit publishes the slot's results; refused when the caller revoked the chunk meanwhile
          // (it took this worker for failed and ran the chunk itself): then they are discarded.
          if (Atomics.compareExchange(meta, 2, CLAIMED, COMMITTED) === CLAIMED && w.grad) {
            fault(COPY_FAULT);
            writeGradient(w, j, layout);
            Atomics.store(meta, 2, WRITTEN);
            Atomics.notify(meta, 2);
          }
        }
        j++;
        Atomics.store(flags, 4, j);
        Atomics.notify(flags, 4);
      } else if (published & CLOSED) break;
      else Atomics.wait(flags, 3, published);
    }
  } catch {
    status = 2;
  }
  Atomics.store(flags, 2, status);
  Atomics.store(flags, 1, seen);
  Atomics.notify(flags, 1);
}
