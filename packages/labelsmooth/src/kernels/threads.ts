// Splitting rows across worker_threads (Node). A persistent pool, started on first use; the caller
// blocks on Atomics.wait (allowed on Node's main thread), so crossEntropy stays synchronous. Workers are
// unref'd: they never keep the process alive.
import { emitKernelEvent } from './events.js';
import type { FusedJob } from './fused.js';
import { runRows } from './fused.js';
import type { KernelInstance } from './wasm.js';

/** What a worker gets for its rows (all views on shared memory, or small copied arrays). */
export interface WorkerJob {
  job: Omit<FusedJob, 'z' | 'grad' | 'perRow' | 'rowWeight' | 'labels' | 'rows'>;
  rows: number;
  classes: number;
  z: SharedArrayBuffer;
  zOffset: number;
  grad: SharedArrayBuffer | null;
  gradOffset: number;
  labels: Int32Array;
  rowWeights: Float64Array | null;
  sums: SharedArrayBuffer;
  perRow: SharedArrayBuffer | null;
}

interface PoolWorker {
  flags: Int32Array;
  port: MessagePort & { postMessage(m: unknown): void };
  seq: number;
}

/** Minimum logits per call before threads pay for themselves. */
export const THREAD_MIN_SIZE = 1 << 20;

let pool: PoolWorker[] | null | undefined;
let staging: SharedArrayBuffer | null = null;

function isNode(): boolean {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}

/** Start the pool (once): one worker per extra core, at most 3. Null where threads are unavailable. */
async function startPool(module: WebAssembly.Module): Promise<PoolWorker[] | null> {
  // Module names in variables: browser bundlers must not try to resolve Node built-ins.
  const [wtName, osName] = ['node:worker_threads', 'node:os'];
  const wt = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
  const os = (await import(/* @vite-ignore */ osName)) as typeof import('node:os');
  const count = Math.min(3, Math.max(0, (os.availableParallelism?.() ?? os.cpus().length) - 1));
  if (count === 0) return null;
  const self = import.meta.url;
  const url = new URL(self.endsWith('.ts') ? './worker.ts' : './worker.js', self);
  const workers = await Promise.all(
    Array.from({ length: count }, async () => {
      const control = new SharedArrayBuffer(16);
      const { port1, port2 } = new wt.MessageChannel();
      const options = { workerData: { module, control, port: port2 }, transferList: [port2] };
      // From TypeScript sources (tests, benchmarks) the worker first registers the caller's loader (tsx).
      const w = self.endsWith('.ts')
        ? new wt.Worker(
            `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
            {
              ...options,
              eval: true,
            },
          )
        : new wt.Worker(url, options);
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      w.unref();
      port1.unref();
      return { flags: new Int32Array(control), port: port1 as unknown as PoolWorker['port'], seq: 0 };
    }),
  );
  return workers;
}

let starting: Promise<void> | null = null;

/** Begin starting the worker pool in the background (Node only); later calls use it once it is up. */
export function warmThreads(module: WebAssembly.Module): void {
  if (pool !== undefined || starting || !isNode() || typeof SharedArrayBuffer === 'undefined') return;
  starting = startPool(module).then(
    (p) => {
      pool = p;
    },
    (e) => {
      if (process.env.LABELSMOOTH_DEBUG) console.error('labelsmooth: worker pool unavailable:', e);
      emitKernelEvent({ type: 'threads-error', error: e });
      pool = null;
    },
  );
}

/** Resolves when the pool is started (or known to be unavailable). */
export async function threadsReady(module: WebAssembly.Module): Promise<boolean> {
  warmThreads(module);
  await starting;
  return !!pool;
}

function shared(bytes: number): SharedArrayBuffer {
  if (!staging || staging.byteLength < bytes) staging = new SharedArrayBuffer(Math.max(bytes, 1 << 20));
  return staging;
}

/**
 * Run `job` with the rows split between the calling thread (on `kernel`) and the pool's workers.
 * Returns null when the pool is not running (the caller runs single-threaded) or a row is not finite.
 * Logits in a SharedArrayBuffer are read in place; otherwise the workers' rows are staged into one
 * reusable shared buffer (and their gradient copied back).
 */
export function runThreaded(
  kernel: KernelInstance,
  job: FusedJob,
): { nll: number; smoothing: number } | 'no-pool' | null {
  if (!pool) return 'no-pool';
  const k = job.classes;
  const parts = pool.length + 1;
  const per = Math.ceil(job.rows / parts);
  const zShared = job.z.buffer instanceof SharedArrayBuffer;
  const gradShared = job.grad instanceof Float32Array && job.grad.buffer instanceof SharedArrayBuffer;
  const workerRows = Math.max(0, job.rows - per);
  // The workers' rows are staged one after another in a reusable shared buffer, unless the logits are
  // shared already; their gradient goes to a shared output buffer, else into the staging area.
  const needStage = !zShared || (job.grad !== null && !gradShared);
  const stage = needStage ? shared(4 * workerRows * k) : null;
  const started: {
    w: PoolWorker;
    r0: number;
    r1: number;
    stageOffset: number;
    sums: Float64Array;
    perRow: SharedArrayBuffer | null;
  }[] = [];
  const { z: _z, grad: _g, perRow: _p, rowWeight: _r, labels: _l, rows: _n, ...common } = job;
  let off = 0;
  for (let p = 0; p < pool.length; p++) {
    const r0 = per * (p + 1);
    const r1 = Math.min(job.rows, r0 + per);
    if (r1 <= r0) break;
    const n = r1 - r0;
    const zBuf = zShared ? (job.z.buffer as SharedArrayBuffer) : stage!;
    const zOffset = zShared ? job.z.byteOffset + 4 * r0 * k : off;
    if (!zShared) new Float32Array(stage!, off, n * k).set(job.z.subarray(r0 * k, r1 * k));
    const gradBuf = job.grad ? (gradShared ? (job.grad.buffer as SharedArrayBuffer) : stage!) : null;
    const gradOffset = job.grad ? (gradShared ? job.grad.byteOffset + 4 * r0 * k : off) : 0;
    const sums = new SharedArrayBuffer(16);
    const perRow = job.perRow ? new SharedArrayBuffer(16 * n) : null;
    const w = pool[p];
    w.port.postMessage({
      job: common,
      rows: n,
      classes: k,
      z: zBuf,
      zOffset,
      grad: gradBuf,
      gradOffset,
      labels: Int32Array.from({ length: n }, (_, i) => job.labels[r0 + i]),
      rowWeights: Float64Array.from({ length: n }, (_, i) => job.rowWeight(r0 + i)),
      sums,
      perRow,
    } satisfies WorkerJob);
    w.seq++;
    Atomics.store(w.flags, 0, w.seq);
    Atomics.notify(w.flags, 0);
    started.push({ w, r0, r1, stageOffset: off, sums: new Float64Array(sums), perRow });
    off += 4 * n * k;
  }
  // The calling thread takes the first block of rows meanwhile.
  const mine = runRows(kernel, job, 0, Math.min(per, job.rows));
  let nll = mine?.nll ?? 0;
  let smoothing = mine?.smoothing ?? 0;
  let ok = mine !== null;
  for (const s of started) {
    for (let done = Atomics.load(s.w.flags, 1); done !== s.w.seq; done = Atomics.load(s.w.flags, 1))
      Atomics.wait(s.w.flags, 1, done);
    if (Atomics.load(s.w.flags, 2) !== 0) {
      ok = false;
      continue;
    }
    nll += s.sums[0];
    smoothing += s.sums[1];
    const n = s.r1 - s.r0;
    if (job.perRow && s.perRow) {
      job.perRow.nll.set(new Float64Array(s.perRow, 0, n), s.r0);
      job.perRow.smoothing.set(new Float64Array(s.perRow, 8 * n, n), s.r0);
    }
    if (job.grad && !gradShared) job.grad.set(new Float32Array(stage!, s.stageOffset, n * k), s.r0 * k);
  }
  return ok ? { nll, smoothing } : null;
}
