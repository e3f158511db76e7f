// Splitting rows across worker_threads (Node). A persistent pool, started on first use; the caller
// blocks on Atomics.wait (allowed on Node's main thread), so crossEntropy stays synchronous. Workers are
// unref'd: they never keep the process alive.
//
// One call is a stream of row chunks (~256 KB of logits each) handed out by the calling thread, which
// also computes chunks itself: each worker has a ring of RING slots in shared memory; the caller fills a
// slot (the rows' labels and weights, and their logits unless the worker can read them in place), bumps
// the worker's "published" counter and goes on; the worker runs the slot and bumps its "consumed"
// counter; the caller copies the slot's gradient back (unless the worker wrote it in place) and reuses
// it. Who computes what is decided as the call runs, so a busy core takes fewer chunks; when nothing is
// left to hand out, the caller takes back queued chunks that a worker has not started (each slot is
// claimed by compare-exchange), so a worker the OS leaves unscheduled cannot hold the call up. Memory:
// the rings (RING chunks per worker), never an N×K staging copy.
//   - logits in a SharedArrayBuffer: workers read them in place;
//   - gradient buffer in a SharedArrayBuffer: workers write it in place (and logits that are not shared
//     are staged straight into their place in the gradient buffer: the kernel works in place);
//   - otherwise both go through the slot.
// Per-row results land in one shared array and are summed in row order at the end, so the loss is the
// same to the last bit as on one thread.
import { emitKernelEvent } from './events.js';
import { type FusedJob, type InPlaceMatrix, type RowSums, runRows } from './fused.js';
import { chunkRows as chunkRowsOf, type KernelInstance, sharedKernelModule } from './wasm.js';
import { type WorkspaceCall, workChunks } from './workspace.js';

/**
 * A noise matrix S in the shared kernel memory and `areas` chunk areas of `areaBytes` next to it from
 * `work`, allocated for a call (area 0 the calling thread's, area t worker t's).
 */
export interface MatrixShare {
  memory: WebAssembly.Memory;
  work: number;
  areaBytes: number;
  areas: number;
}

/** What a worker gets at the start of a call (the chunks then come through its ring). */
export interface WorkerJob {
  job: Omit<FusedJob, 'z' | 'grad' | 'perRow' | 'rowWeight' | 'labels' | 'rows'>;
  classes: number;
  /** The ring: RING slots of `slotBytes` (see slotLayout). */
  ring: SharedArrayBuffer;
  slotBytes: number;
  chunkRows: number;
  /** Logits read in place (shared), or null: they are in the slot (or staged in `grad`). */
  z: SharedArrayBuffer | null;
  zOffset: number;
  /** Gradient written in place (shared), or null: it goes into the slot. */
  grad: SharedArrayBuffer | null;
  gradOffset: number;
  /** Whether the gradient is wanted at all. */
  writeGrad: boolean;
  /** Whether the slots carry a logits / gradient area (see slotLayout). */
  slotArea: boolean;
  /** Per-row weighted nll, smoothing and entropy (N f64 each, in that order) for the whole call. */
  perRow: SharedArrayBuffer;
  rows: number;
  /**
   * Class-conditional noise S in the shared kernel memory with a chunk area there for this worker (`area`):
   * the worker runs its chunks on its instance of `module` (the shared-memory build) on that memory, as
   * for workspace calls, S read in place; null: S's rows are staged. (S in a memory of its own,
   * matrixMemory.ts, is staged: an instance on it would keep that memory alive in an idle worker, which
   * collects no garbage, long after the caller let the matrix go — gigabytes per epoch.)
   */
  matrix: { share: MatrixShare; area: number; module: WebAssembly.Module } | null;
}

interface PoolWorker {
  /** [0] job sequence, [1] done sequence, [2] status of the whole call (2: an error outside the
   * chunks), [3] published chunks (| CLOSED when no more will come), [4] consumed chunks. */
  flags: Int32Array;
  port: MessagePort & { postMessage(m: unknown): void };
  seq: number;
  /** The shared kernel memory this worker has an instance on (workspace calls). */
  memory?: WebAssembly.Memory;
}

/** Threads a call runs on at most: the calling thread and up to 3 workers (one per extra core). */
export const MAX_THREADS = 4;

/** Minimum logits per call before threads pay for themselves. */
export const THREAD_MIN_SIZE = 1 << 20;
/** Slots per worker ring: the worker has this many chunks queued while the caller computes one. */
export const RING = 4;
/** Set in the published counter when the caller will publish no more chunks in this call. */
export const CLOSED = 1 << 30;

/**
 * Byte offsets inside one ring slot: [r0, rows, claim, status] i32, labels i32, row weights f64, logits /
 * gradient f32.
 */
export function slotLayout(chunkRows: number, classes: number, area: boolean) {
  const labels = 16;
  const weights = labels + 8 * Math.ceil((4 * chunkRows) / 8);
  const logits = weights + 8 * chunkRows;
  const bytes = logits + (area ? 4 * chunkRows * classes : 0);
  return { labels, weights, logits, bytes: (bytes + 63) & ~63 };
}

/**
 * How the last threaded call was shared out: chunks per thread (the caller first), and which threads read a
 * class-conditional noise matrix in place (the others staged its rows), for benchmarks and tests.
 */
export const threadStats = { chunks: [] as number[], matrixInPlace: [] as boolean[] };

let pool: PoolWorker[] | null | undefined;
const rings: SharedArrayBuffer[] = [];

function isNode(): boolean {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}

/** Start the pool (once): one worker per extra core, at most 3. Null where threads are unavailable. */
async function startPool(module: WebAssembly.Module): Promise<PoolWorker[] | null> {
  // Module names in variables: browser bundlers must not try to resolve Node built-ins.
  const [wtName, osName] = ['node:worker_threads', 'node:os'];
  const wt = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
  const os = (await import(/* @vite-ignore */ osName)) as typeof import('node:os');
  const count = Math.min(MAX_THREADS - 1, Math.max(0, (os.availableParallelism?.() ?? os.cpus().length) - 1));
  if (count === 0) return null;
  const self = import.meta.url;
  const url = new URL(self.endsWith('.ts') ? './worker.ts' : './worker.js', self);
  const workers = await Promise.all(
    Array.from({ length: count }, async () => {
      const control = new SharedArrayBuffer(32);
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

/** Worker p's ring of at least `bytes` bytes, reused across calls. */
function ring(p: number, bytes: number): SharedArrayBuffer {
  if (!rings[p] || rings[p].byteLength < bytes) rings[p] = new SharedArrayBuffer(bytes);
  return rings[p];
}

interface Ring {
  buf: SharedArrayBuffer;
  published: number;
  returned: number;
  chunkOf: Int32Array;
  stolen: Uint8Array;
  taken: number;
}

/** The newest chunk of the ring that its worker took (not taken back), or returned − 1 if none. */
function lastClaimed(s: Ring): number {
  for (let q = s.published - 1; q >= s.returned; q--) if (!s.stolen[q % RING]) return q;
  return s.returned - 1;
}

/**
 * Take back one queued, unstarted chunk from some worker's ring and run it with `run` (on the calling
 * thread, reading the caller's logits and writing its gradient directly): 'none' if there is none, else
 * whether its rows were finite.
 */
function steal(
  rings: Ring[],
  slotBytes: number,
  run: (r0: number, r1: number) => boolean,
  rowsOf: (c: number) => readonly [number, number],
): 'none' | 'ok' | 'not finite' {
  for (const s of rings) {
    for (let q = s.published - 1; q >= s.returned; q--) {
      const slot = q % RING;
      if (s.stolen[slot]) continue;
      const meta = new Int32Array(s.buf, slot * slotBytes, 4);
      if (Atomics.compareExchange(meta, 2, 0, 2) !== 0) continue; // the worker has it
      s.stolen[slot] = 1;
      s.taken++;
      const [r0, r1] = rowsOf(s.chunkOf[slot]);
      return run(r0, r1) ? 'ok' : 'not finite';
    }
  }
  return 'none';
}

/** Block until worker `w` has finished its current call (its done sequence reaches ours). */
function awaitWorker(w: PoolWorker): void {
  for (let done = Atomics.load(w.flags, 1); done !== w.seq; done = Atomics.load(w.flags, 1))
    Atomics.wait(w.flags, 1, done);
}

/**
 * Start a call on worker `w`: wait until it has finished the previous one (a call may end before a worker
 * has skipped the chunks taken back from it), reset its flags, hand it `message` and wake it.
 */
function begin(w: PoolWorker, message: WorkerJob | WorkspaceJob): void {
  awaitWorker(w);
  w.seq++;
  Atomics.store(w.flags, 3, 0);
  Atomics.store(w.flags, 4, 0);
  Atomics.store(w.flags, 2, 0);
  w.port.postMessage(message);
  Atomics.store(w.flags, 0, w.seq);
  Atomics.notify(w.flags, 0);
}

/** What a worker gets for a call on workspace memory (see workspace.ts). */
export interface WorkspaceJob {
  kind: 'workspace';
  call: WorkspaceCall;
  /** The worker's thread index (its scratch area); the calling thread is 0. */
  thread: number;
  /** The shared kernel and its memory, sent with a worker's first workspace call only. */
  module?: WebAssembly.Module;
  memory?: WebAssembly.Memory;
}

/**
 * Run a workspace call on the calling thread and every worker at once: each claims chunks of rows from
 * the call's shared counter and works in place in the shared memory (no ring, no copies). Returns
 * 'no-pool' when the pool is not running, else whether every worker finished without an error (rows a
 * failed worker had claimed are in chunks not flagged finished, and are recomputed by the caller's reference).
 */
export function runWorkspaceThreaded(kernel: SharedKernelLike, call: WorkspaceCall): boolean | 'no-pool' {
  if (!pool) return 'no-pool';
  pool.forEach((w, p) => {
    const first = w.memory !== kernel.memory;
    w.memory = kernel.memory;
    begin(w, {
      kind: 'workspace',
      call,
      thread: p + 1,
      ...(first ? { module: kernel.module, memory: kernel.memory } : {}),
    });
  });
  const chunks: number[] = [];
  let ok = true;
  try {
    chunks.push(workChunks(kernel.kernel, call, 0));
  } finally {
    // Even when the calling thread's kernel threw: the call's memory is released only after every worker
    // is done with it.
    for (const w of pool) {
      awaitWorker(w);
      if (Atomics.load(w.flags, 2) !== 0) ok = false;
      chunks.push(Atomics.load(w.flags, 4)); // the worker's count of chunks (see worker.ts)
    }
  }
  threadStats.chunks = chunks;
  return ok;
}

/** The parts of workspace.ts's shared kernel the pool needs. */
interface SharedKernelLike {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  kernel: KernelInstance;
}

/**
 * Run `job` with the rows split between the calling thread (on `kernel`) and the pool's workers.
 * Returns 'no-pool' when the pool is not running (the caller runs single-threaded), null when a row is
 * not finite.
 */
export function runThreaded(
  kernel: KernelInstance,
  job: FusedJob,
  place: InPlaceMatrix | null = null,
  share: MatrixShare | null = null,
): RowSums | 'no-pool' | null {
  if (!pool) return 'no-pool';
  const k = job.classes;
  const n = job.rows;
  const chunkRows = Math.min(n, chunkRowsOf(k));
  const chunks = Math.ceil(n / chunkRows);
  const zShared = job.z.buffer instanceof SharedArrayBuffer;
  const gradShared = job.grad instanceof Float32Array && job.grad.buffer instanceof SharedArrayBuffer;
  // A worker's logits come from: in place, staged into the shared gradient, or through the slot; its
  // gradient goes in place or through the slot.
  const slotLogits = !zShared && !gradShared;
  const slotArea = slotLogits || (job.grad !== null && !gradShared);
  const layout = slotLayout(chunkRows, k, slotArea);
  const perRowBuf = new SharedArrayBuffer(24 * n);
  const perRow = {
    nll: new Float64Array(perRowBuf, 0, n),
    smoothing: new Float64Array(perRowBuf, 8 * n, n),
    entropy: new Float64Array(perRowBuf, 16 * n, n),
  };
  const { z: _z, grad: _g, perRow: _p, rowWeight: _r, labels: _l, rows: _n, ...rest } = job;
  // The slots carry labels as int32 with ignored rows as −1 (ignoreIndex may lie outside int32: 2³² would
  // become class 0 there); class labels are in [0, K), so −1 can only mean ignored.
  const common = { ...rest, ignoreIndex: -1 };
  // Worker p's chunk area next to S (0: none, it stages S's rows): area 0 is the calling thread's.
  const areaOf = (p: number) => (share !== null && p + 1 < share.areas ? p + 1 : 0);
  const workers = pool.map((w, p) => {
    const buf = ring(p, RING * layout.bytes);
    begin(w, {
      job: common,
      classes: k,
      ring: buf,
      slotBytes: layout.bytes,
      chunkRows,
      z: zShared
        ? (job.z.buffer as SharedArrayBuffer)
        : gradShared
          ? (job.grad!.buffer as SharedArrayBuffer)
          : null,
      zOffset: zShared ? job.z.byteOffset : gradShared ? job.grad!.byteOffset : 0,
      grad: gradShared ? (job.grad!.buffer as SharedArrayBuffer) : null,
      gradOffset: gradShared ? job.grad!.byteOffset : 0,
      writeGrad: job.grad !== null,
      slotArea,
      perRow: perRowBuf,
      rows: n,
      matrix: areaOf(p) ? { share: share!, area: areaOf(p), module: sharedKernelModule()! } : null,
    } satisfies WorkerJob);
    return {
      w,
      buf,
      published: 0,
      returned: 0,
      chunkOf: new Int32Array(RING),
      stolen: new Uint8Array(RING),
      chunks: 0,
      taken: 0,
    };
  });
  const mine = { ...job, perRow };
  // The calling thread's chunks: S read in place by the instance on its memory where `place` says.
  const runMine = (r0: number, r1: number) =>
    place ? runRows(place.kernel, mine, r0, r1, undefined, place) : runRows(kernel, mine, r0, r1);
  let next = 0;
  let own = 0;
  let ok = true;
  const rowsOf = (c: number) => [c * chunkRows, Math.min(n, (c + 1) * chunkRows)] as const;
  try {
    for (;;) {
      for (const s of workers) {
        // Take back the chunks the worker finished (their gradient, if it is not written in place).
        const consumed = Atomics.load(s.w.flags, 4);
        for (; s.returned < consumed; s.returned++) {
          const slot = s.returned % RING;
          if (s.stolen[slot]) {
            s.stolen[slot] = 0; // computed by the calling thread, in place
            continue;
          }
          if (new Int32Array(s.buf, slot * layout.bytes, 4)[3] !== 0) ok = false; // the chunk's status
          if (job.grad && !gradShared) {
            const [r0, r1] = rowsOf(s.chunkOf[s.returned % RING]);
            const at = (s.returned % RING) * layout.bytes + layout.logits;
            job.grad.set(new Float32Array(s.buf, at, (r1 - r0) * k), r0 * k);
          }
        }
        // Keep its ring full.
        for (; next < chunks && s.published - s.returned < RING; next++) {
          const slot = s.published % RING;
          const base = slot * layout.bytes;
          const [r0, r1] = rowsOf(next);
          const meta = new Int32Array(s.buf, base, 4);
          meta[0] = r0;
          meta[1] = r1 - r0;
          Atomics.store(meta, 2, 0); // [2]: 0 queued, 1 taken by the worker, 2 taken back by the caller
          meta[3] = 0; // [3]: the worker's status for the chunk (0 ok, 1 not finite, 2 error)
          const labels = new Int32Array(s.buf, base + layout.labels, r1 - r0);
          const weights = new Float64Array(s.buf, base + layout.weights, r1 - r0);
          const { labels: y, rowWeight, ignoreIndex } = job; // read once, not per row (see checkLogits)
          for (let i = r0; i < r1; i++) {
            labels[i - r0] = y[i] === ignoreIndex ? -1 : y[i];
            weights[i - r0] = rowWeight(i);
          }
          const z = job.z.subarray(r0 * k, r1 * k);
          if (slotLogits) new Float32Array(s.buf, base + layout.logits, (r1 - r0) * k).set(z);
          else if (!zShared) (job.grad as Float32Array).set(z, r0 * k); // staged in place in the shared gradient
          s.chunkOf[slot] = next;
          s.published++;
          s.chunks++;
          Atomics.store(s.w.flags, 3, s.published);
          Atomics.notify(s.w.flags, 3);
        }
      }
      if (next < chunks) {
        // The calling thread computes the next chunk itself meanwhile.
        const [r0, r1] = rowsOf(next++);
        own++;
        if (runMine(r0, r1) === null) ok = false;
        continue;
      }
      // Nothing left to hand out: take back a queued chunk that its worker has not started (the newest
      // first), so that a worker the OS does not schedule right now cannot hold the call up.
      const stolen = steal(workers, layout.bytes, (r0, r1) => runMine(r0, r1) !== null, rowsOf);
      if (stolen !== 'none') {
        own++;
        if (stolen === 'not finite') ok = false;
        continue;
      }
      // Wait only for chunks a worker has started: the ones taken back are done already.
      const waiting = workers.find((s) => lastClaimed(s) >= s.returned);
      if (!waiting) break;
      const consumed = Atomics.load(waiting.w.flags, 4);
      if (consumed !== waiting.returned) continue;
      if (Atomics.load(waiting.w.flags, 1) === waiting.w.seq) {
        // The worker stopped early (an internal error): its remaining chunks are not computed.
        ok = false;
        waiting.returned = waiting.published;
        continue;
      }
      Atomics.wait(waiting.w.flags, 4, consumed, 100);
    }
  } catch (error) {
    // The calling thread's kernel threw: close the rings and wait until every worker has finished the
    // call (its chunks may write into memory the caller releases next, and an open ring would leave it
    // waiting for chunks forever).
    for (const s of workers) {
      Atomics.store(s.w.flags, 3, s.published | CLOSED);
      Atomics.notify(s.w.flags, 3);
    }
    for (const s of workers) awaitWorker(s.w);
    throw error;
  }
  // Close the rings without waiting for the workers to skip the chunks taken back from them (the next
  // call waits for that, usually long done by then).
  for (const s of workers) {
    Atomics.store(s.w.flags, 3, s.published | CLOSED);
    Atomics.notify(s.w.flags, 3);
  }
  threadStats.chunks = [own, ...workers.map((s) => s.chunks - s.taken)];
  threadStats.matrixInPlace = [place !== null, ...pool.map((_, p) => areaOf(p) !== 0)];
  if (!ok) return null;
  // Row order, as on one thread: the same sums to the last bit.
  if (job.perRow) {
    job.perRow.nll.set(perRow.nll);
    job.perRow.smoothing.set(perRow.smoothing);
    job.perRow.entropy?.set(perRow.entropy);
    return { nll: 0, smoothing: 0, entropy: 0 };
  }
  let nll = 0;
  let smoothing = 0;
  let entropy = 0;
  for (let i = 0; i < n; i++) {
    nll += perRow.nll[i];
    smoothing += perRow.smoothing[i];
    entropy += perRow.entropy[i];
  }
  return { nll, smoothing, entropy };
}
