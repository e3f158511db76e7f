// A kernel worker thread (Node worker_threads): waits on a shared flag, takes the call's layout with
// receiveMessageOnPort, then claims and runs the call's chunks on its instance of the kernel on the shared
// memory (executor.ts's workChunks) until the caller closes the call, and wakes the caller. No messages per
// chunk.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { workChunks } from './executor.js';
import type { CallLayout } from './layout.js';
import { COPY_FAULT, EXITED, FAULT, READY, type WorkerCall } from './threads.js';
import { KernelInstance } from './wasm.js';

const { control, port } = workerData as { control: SharedArrayBuffer; port: MessagePort };
const flags = new Int32Array(control); // see PoolWorker.flags in threads.ts
let seen = 0;
/** This worker's instance on the shared kernel memory, made on its first call. */
let kernel: KernelInstance | null = null;
// The calling side's 'exit' event sets the flag too, for deaths that run no code here (terminate(), a crash).
process.on('exit', () => Atomics.store(flags, EXITED, 1));
Atomics.store(flags, READY, 1);
Atomics.notify(flags, READY);
parentPort?.postMessage('ready');

/** A fault a test injected (threads.ts's injectWorkerFault), taken right after claiming a chunk (`at`
 * FAULT) or between a commit and the copy into place (COPY_FAULT). */
function fault(at = FAULT): void {
  const f = Atomics.load(flags, at);
  if (f === 0) return;
  Atomics.store(flags, at, 0);
  if (f === 1) process.exit(70);
  // hang until terminated, or (f < 0) stall −f ms and go on
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, f < 0 ? -f : undefined);
}

for (;;) {
  Atomics.wait(flags, 0, seen);
  seen = Atomics.load(flags, 0);
  if (seen < 0) break; // shutdown
  const msg = receiveMessageOnPort(port as unknown as import('node:worker_threads').MessagePort);
  let status = 0;
  let done = 0;
  try {
    const job = msg!.message as WorkerCall;
    if (job.module && job.memory) kernel = new KernelInstance(job.module, job.memory);
    // The count of claimed chunks is this worker's heartbeat (the caller's stall bound reads it).
    done = workChunks(kernel!, job.call as CallLayout, job.thread, {
      onClaim: (claimed) => {
        Atomics.store(flags, 4, claimed);
        fault();
      },
      onCommit: () => fault(COPY_FAULT),
    });
  } catch {
    status = 2;
  }
  Atomics.store(flags, 4, done);
  Atomics.store(flags, 2, status);
  Atomics.store(flags, 1, seen);
  Atomics.notify(flags, 1);
}
