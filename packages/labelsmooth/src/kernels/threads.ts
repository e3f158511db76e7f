// Splitting rows across worker_threads (Node). A persistent pool, started on first use; the caller
// blocks on Atomics.wait (allowed on Node's main thread), so crossEntropy stays synchronous. Workers are
// unref'd: they never keep the process alive.
//
// One call is a stream of row chunks (~256 KB of logits each) handed out by the calling thread, which
// also computes chunks itself: each worker has a ring of RING slots in shared memory; the caller fills a
// slot (the rows' labels and weights, and their logits unless the worker can read them in place), bumps
// the worker's "published" counter and goes on; the worker runs the slot into the slot (its gradient rows
// and per-row results), commits it and bumps its "consumed" counter; the caller copies the slot's results
// to their place and reuses it; into a gradient in shared memory a worker copies its committed rows itself.
// A worker retired in the middle of a chunk, whose chunk the caller revoked and redid, has its commit
// refused if it resumes; one stopped inside its copy after committing makes the call fail (stoppedInCopy).
// Who computes what is decided as the call runs, so a busy core takes fewer chunks; when nothing is left
// to hand out, the caller takes back queued chunks that a worker has not started (each slot is claimed by
// compare-exchange), so a worker the OS leaves unscheduled cannot hold the call up. Memory:
// the rings (RING chunks per worker), never an N×K staging copy. Logits in a SharedArrayBuffer are read in
// place by the workers; otherwise they go through the slot. Per-row results are summed in row order at the
// end, so the loss is the same to the last bit as on one thread.
import { emitKernelEvent } from './events.js';
import { type FusedJob, type InPlaceMatrix, type RowSums, runRows } from './fused.js';
import { chunkRows as chunkRowsOf, type KernelInstance, sharedKernelModule } from './wasm.js';
import { redoUnfinished, stoppedInCopy, type WorkspaceCall, workChunks } from './workspace.js';

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
  /** Logits read in place (shared), or null: they are in the slot. */
  z: SharedArrayBuffer | null;
  zOffset: number;
  /** Whether the gradient is wanted at all. */
  writeGrad: boolean;
  /** A gradient in a SharedArrayBuffer, which the worker copies its committed rows into; or null: the
   * calling thread copies them from the slot. */
  grad: SharedArrayBuffer | null;
  gradOffset: number;
  /** Whether the slots carry a logits / gradient area (see slotLayout). */
  slotArea: boolean;
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
   * chunks), [3] published chunks (| CLOSED when no more will come), [4] consumed chunks (a workspace
   * call: chunks claimed so far, its heartbeat), [5] EXITED, [6] FAULT, [7] READY, [8] COPY_FAULT. */
  flags: Int32Array;
  port: MessagePort & { postMessage(m: unknown): void };
  seq: number;
  worker: NodeWorker;
  /** This worker's ring (ordinary arrays), reused across calls; a replacement gets a new one. */
  ring: SharedArrayBuffer | null;
  /** The shared kernel memory this worker has an instance on (workspace calls). */
  memory?: WebAssembly.Memory;
}

/** The parts of a node:worker_threads Worker the pool uses. */
interface NodeWorker {
  terminate(): Promise<number>;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  unref(): void;
}

/** flags[EXITED] is 1 once the worker has exited: set by the worker's own exit handler and, for deaths that
 * run no code of the worker (terminate(), a crash), by the calling side's 'exit' event. */
export const EXITED = 5;
/** flags[FAULT]: a fault a test injects (see {@link injectWorkerFault}); 0 for none. */
export const FAULT = 6;
/** flags[READY] is 1 once the worker can take calls. */
export const READY = 7;
/** flags[COPY_FAULT]: a fault a test injects between a chunk's commit and its copy into a shared gradient. */
export const COPY_FAULT = 8;

/**
 * Bounds of every wait on a worker: `stallMs` without progress on a chunk it holds (or a call it has not
 * finished) and the worker is taken for dead — retired, terminated and replaced, its chunks redone by the
 * calling thread; `startMs` for a new worker to report ready, of which a call that starts the pool waits
 * `waitMs` (then the pool finishes starting in the background). Chunks take well under a millisecond.
 */
export const threadLimits = { stallMs: 2000, startMs: 60000, waitMs: 10000, sliceMs: 20 };

/** Threads a call runs on at most: the calling thread and up to 3 workers (one per extra core). */
export const MAX_THREADS = 4;

/** Minimum logits per call before threads pay for themselves. */
export const THREAD_MIN_SIZE = 1 << 20;
/** Slots per worker ring: the worker has this many chunks queued while the caller computes one. */
export const RING = 4;
/** Set in the published counter when the caller will publish no more chunks in this call. */
export const CLOSED = 1 << 30;

/**
 * Byte offsets inside one ring slot: [r0, rows, claim, status] i32, labels i32, row weights f64, per-row
 * results (nll, smoothing, entropy, lse: chunkRows f64 each), logits / gradient f32.
 */
export function slotLayout(chunkRows: number, classes: number, area: boolean) {
  const labels = 16;
  const weights = labels + 8 * Math.ceil((4 * chunkRows) / 8);
  const out = weights + 8 * chunkRows;
  const logits = out + 32 * chunkRows;
  const bytes = logits + (area ? 4 * chunkRows * classes : 0);
  return { labels, weights, out, logits, bytes: (bytes + 63) & ~63 };
}

/** The claim word of a ring slot (meta[2]): queued, claimed by its worker, taken back by the caller before
 * the worker started it, committed by the worker (its results are complete in the slot), revoked by the
 * caller (the worker failed holding it: its results are discarded), written (a committed chunk whose
 * gradient rows the worker has copied into a shared gradient). */
export const QUEUED = 0;
export const CLAIMED = 1;
export const TAKEN_BACK = 2;
export const COMMITTED = 3;
export const REVOKED = 4;
export const WRITTEN = 5;

/**
 * How the last threaded call was shared out: chunks per thread (the caller first), and which threads read a
 * class-conditional noise matrix in place (the others staged its rows), for benchmarks and tests.
 */
export const threadStats = { chunks: [] as number[], matrixInPlace: [] as boolean[] };

let pool: PoolWorker[] | null | undefined;
/** Workers the pool should have (one per extra core, at most 3). */
let size = 0;
/** Workers started to replace failed ones, and the most the pool starts before it is retired. */
let restarts = 0;
const MAX_RESTARTS = 8;
/** Retired workers whose exit has not been seen yet, and what waits for them all to be gone. */
const exiting = new Set<PoolWorker>();
let afterExit: (() => void)[] = [];
let startWorker: (() => Promise<PoolWorker>) | null = null;

function isNode(): boolean {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}

type WorkerThreads = typeof import('node:worker_threads');
type NodeOs = typeof import('node:os');

/** Workers the pool has on this machine: one per extra core, at most MAX_THREADS − 1. */
function poolSize(os: NodeOs): number {
  return Math.min(MAX_THREADS - 1, Math.max(0, (os.availableParallelism?.() ?? os.cpus().length) - 1));
}

/** node:worker_threads and node:os now, where the runtime can load them synchronously (Node ≥ 20.16). */
function builtinsNow(): { wt: WorkerThreads; os: NodeOs } | null {
  const get = (process as { getBuiltinModule?: (name: string) => unknown }).getBuiltinModule;
  if (typeof get !== 'function') return null;
  return { wt: get('node:worker_threads') as WorkerThreads, os: get('node:os') as NodeOs };
}

/** node:worker_threads and node:os. */
async function builtins(): Promise<{ wt: WorkerThreads; os: NodeOs }> {
  // Module names in variables: browser bundlers must not try to resolve Node built-ins.
  const [wtName, osName] = ['node:worker_threads', 'node:os'];
  return {
    wt: (await import(/* @vite-ignore */ wtName)) as WorkerThreads,
    os: (await import(/* @vite-ignore */ osName)) as NodeOs,
  };
}

/** The worker's module, beside this one. */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
}

/** Whether the worker's module is missing (e.g. a bundle that left it out): no thread can start then. */
function workerMissing(): boolean {
  const url = workerUrl();
  const get = (process as { getBuiltinModule?: (name: string) => unknown }).getBuiltinModule;
  if (url.protocol !== 'file:' || typeof get !== 'function') return false;
  const fs = get('node:fs') as typeof import('node:fs');
  const { fileURLToPath } = get('node:url') as typeof import('node:url');
  return !fs.existsSync(fileURLToPath(url));
}

/** Flags of the main program's own input (with their values where they take one): a worker has its own. */
const INPUT_FLAGS = new Set([
  '--input-type',
  '--eval',
  '-e',
  '--print',
  '-p',
  '--check',
  '-c',
  '--interactive',
  '-i',
]);
const TAKES_VALUE = new Set(['--input-type', '--eval', '-e', '--print', '-p']);

/**
 * The process's execArgv without the flags about the main program's input (`--input-type=module -e …`,
 * `--print`, `--check`…), which make a worker on a module file fail to start; loaders, conditions and
 * memory limits stay.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    if (!INPUT_FLAGS.has(flag)) kept.push(argv[i]);
    else if (inline === undefined && TAKES_VALUE.has(flag)) i++; // its value is the next argument
  }
  return kept;
}

/**
 * Make one worker on `module`: its thread starts at once, and sets its READY flag when it can take calls
 * (no event of this thread is needed to see that, so a synchronous caller can wait for it).
 */
function spawn(wt: WorkerThreads, module: WebAssembly.Module): PoolWorker {
  const self = import.meta.url;
  const url = workerUrl();
  const control = new SharedArrayBuffer(36);
  const { port1, port2 } = new wt.MessageChannel();
  const options = {
    workerData: { module, control, port: port2 },
    transferList: [port2],
    execArgv: workerExecArgv(process.execArgv),
  };
  // From TypeScript sources (tests, benchmarks) the worker first registers the caller's loader (tsx).
  const w = self.endsWith('.ts')
    ? new wt.Worker(
        `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
        { ...options, eval: true },
      )
    : new wt.Worker(url, options);
  w.unref(); // workers never keep the process alive
  port1.unref();
  const pw: PoolWorker = {
    flags: new Int32Array(control),
    port: port1 as unknown as PoolWorker['port'],
    seq: 0,
    worker: w,
    ring: null,
  };
  w.on('error', () => {}); // reported through its 'exit', below (an unheard 'error' would crash the caller)
  w.on('exit', (code) => exited(pw, code));
  return pw;
}

/** Block until worker `w` is ready (true), or until it exited or the deadline `until` passed (false). */
function readyBy(w: PoolWorker, until: number): boolean {
  while (Atomics.load(w.flags, READY) === 0) {
    const left = until - performance.now();
    if (Atomics.load(w.flags, EXITED) || left <= 0) return false;
    Atomics.wait(w.flags, READY, 0, Math.min(left, 50));
  }
  return true;
}

/** Resolves when worker `w` is ready; rejects (and terminates it) when it exits or startMs passes. */
async function ready(w: PoolWorker): Promise<PoolWorker> {
  const until = performance.now() + threadLimits.startMs;
  while (Atomics.load(w.flags, READY) === 0) {
    if (Atomics.load(w.flags, EXITED) || performance.now() > until) {
      void w.worker.terminate();
      throw new Error(`a worker thread did not start within ${threadLimits.startMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return w;
}

/** A pool worker exited: mark it (its flag is read by any later wait), and replace it if it was in use. */
function exited(w: PoolWorker, code: number): void {
  Atomics.store(w.flags, EXITED, 1);
  if (exiting.delete(w)) {
    if (exiting.size === 0) {
      const waiting = afterExit;
      afterExit = [];
      for (const f of waiting) f();
    }
    return;
  }
  if (!pool?.includes(w)) return;
  pool = pool.filter((x) => x !== w);
  emitKernelEvent({
    type: 'fallback',
    reason: 'threads-failed',
    detail: `a worker thread exited (code ${code}) between calls; ${replace()}`,
    rows: 0,
  });
}

/**
 * Take worker `w` out of the pool (it exited, or made no progress within stallMs): terminate it (its exit
 * is awaited by {@link afterWorkersGone}) and start a replacement. Returns what happens next, as a phrase.
 */
function retire(w: PoolWorker): string {
  if (pool) pool = pool.filter((x) => x !== w);
  if (!Atomics.load(w.flags, EXITED)) exiting.add(w);
  w.worker.terminate().catch(() => {});
  return replace();
}

/** Start a worker in place of a failed one, unless MAX_RESTARTS were started already (the pool is then
 * retired: calls run on the calling thread). */
function replace(): string {
  if (restarts >= MAX_RESTARTS || !startWorker) {
    if (pool && pool.length === 0) pool = null;
    return `the pool has replaced ${MAX_RESTARTS} failed workers and takes no more (${pool?.length ?? 0} left)`;
  }
  restarts++;
  startWorker().then(
    (w) => {
      if (pool && pool.length < size) pool.push(w);
      else void w.worker.terminate();
    },
    (error) => emitKernelEvent({ type: 'threads-error', error }),
  );
  return 'a new worker thread is starting in its place';
}

/**
 * Run `f` once every retired worker has exited (now, if none is pending): memory a retired worker may
 * still write is not handed out again before.
 */
export function afterWorkersGone(f: () => void): void {
  if (exiting.size === 0) f();
  else afterExit.push(f);
}

/** Start the pool in the background: one worker per extra core, at most 3. Null where threads are unavailable. */
async function startPool(module: WebAssembly.Module): Promise<PoolWorker[] | null> {
  const { wt, os } = await builtins();
  const count = poolSize(os);
  if (count === 0) return null;
  size = count;
  startWorker = () => ready(spawn(wt, module));
  return Promise.all(Array.from({ length: count }, startWorker));
}

let starting: Promise<void> | null = null;

/** Begin starting the worker pool in the background (Node only); later calls use it once it is up. */
export function warmThreads(module: WebAssembly.Module): void {
  if (pool !== undefined || starting || !isNode() || typeof SharedArrayBuffer === 'undefined') return;
  starting = startPool(module).then(
    (p) => {
      if (pool === undefined) pool = p;
      else for (const w of p ?? []) void w.worker.terminate(); // a synchronous start came first
    },
    (e) => {
      if (process.env.LABELSMOOTH_DEBUG) console.error('labelsmooth: worker pool unavailable:', e);
      emitKernelEvent({ type: 'threads-error', error: e });
      pool ??= null;
    },
  );
}

/**
 * Whether the pool runs, starting it now if it has not started yet: a call that needs the threads waits
 * (bounded by startMs) for the workers to be ready, so that a loop that never yields to the event loop gets
 * them from its first large call. Where Node cannot load its built-ins synchronously (before 20.16) the
 * pool starts in the background instead.
 */
export function threadsNow(module: WebAssembly.Module): boolean {
  if (pool !== undefined) return pool !== null && pool.length > 0;
  if (starting || !isNode() || typeof SharedArrayBuffer === 'undefined') return false;
  const b = builtinsNow();
  if (!b) {
    warmThreads(module);
    return false;
  }
  if (workerMissing()) {
    emitKernelEvent({
      type: 'threads-error',
      error: new Error(`the worker module ${workerUrl().href} is missing`),
    });
    pool = null;
    return false;
  }
  size = poolSize(b.os);
  startWorker = () => ready(spawn(b.wt, module));
  let workers: PoolWorker[];
  try {
    workers = Array.from({ length: size }, () => spawn(b.wt, module));
  } catch (error) {
    emitKernelEvent({ type: 'threads-error', error });
    pool = null;
    return false;
  }
  // One deadline for the whole pool: a synchronous start blocks at most waitMs, however many workers.
  const until = performance.now() + threadLimits.waitMs;
  const now = workers.filter((w) => readyBy(w, until));
  if (now.length === workers.length) {
    pool = now.length > 0 ? now : null;
    return pool !== null;
  }
  // Not ready within waitMs (a loaded machine) or failed: the rest finish starting in the background
  // (bounded by startMs), and calls use the pool once the event loop has seen them.
  starting = Promise.all(workers.map((w) => ready(w).catch(() => null))).then((ready) => {
    const up = ready.filter((w): w is PoolWorker => w !== null);
    if (up.length < size)
      emitKernelEvent({
        type: 'threads-error',
        error: new Error(`${size - up.length} worker thread(s) did not start`),
      });
    pool = up.length > 0 ? up : null;
  });
  return false;
}

/** Resolves when the pool is started (or known to be unavailable). */
export async function threadsReady(module: WebAssembly.Module): Promise<boolean> {
  warmThreads(module);
  await starting;
  return !!pool && pool.length > 0;
}

/**
 * The pool's worker threads (Node Worker objects), for fault-injection tests; empty before the pool runs.
 */
export function poolWorkers(): readonly unknown[] {
  return pool ? pool.map((w) => w.worker) : [];
}

/**
 * Make pool worker `p` fail right after it claims its next chunk (`at: 'copy'`: after it commits a chunk,
 * before it copies the rows into a shared gradient), for fault-injection tests: `'exit'` ends the thread
 * (process.exit), `'hang'` blocks it until it is terminated, `{ stallMs }` stops it that long and lets it go
 * on.
 */
export function injectWorkerFault(
  p: number,
  fault: 'exit' | 'hang' | { stallMs: number },
  at: 'claim' | 'copy' = 'claim',
): void {
  const code = fault === 'exit' ? 1 : fault === 'hang' ? 2 : -Math.max(1, Math.round(fault.stallMs));
  if (pool?.[p]) Atomics.store(pool[p].flags, at === 'claim' ? FAULT : COPY_FAULT, code);
}

/** Worker w's ring of at least `bytes` bytes, reused across calls. */
function ring(w: PoolWorker, bytes: number): SharedArrayBuffer {
  if (!w.ring || w.ring.byteLength < bytes) w.ring = new SharedArrayBuffer(bytes);
  return w.ring;
}

interface Ring {
  w: PoolWorker;
  /** Its chunk area next to S (0: none, it stages S's rows; see MatrixShare). */
  area: number;
  buf: SharedArrayBuffer;
  published: number;
  returned: number;
  chunkOf: Int32Array;
  stolen: Uint8Array;
  chunks: number;
  taken: number;
  /** The consumed count last seen and when it last moved (ms), for the stall bound. */
  seen: number;
  since: number;
  /** Retired during this call: its chunks were redone by the calling thread. */
  failed: boolean;
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
    if (s.failed) continue;
    for (let q = s.published - 1; q >= s.returned; q--) {
      const slot = q % RING;
      if (s.stolen[slot]) continue;
      const meta = new Int32Array(s.buf, slot * slotBytes, 4);
      if (Atomics.compareExchange(meta, 2, QUEUED, TAKEN_BACK) !== QUEUED) continue; // the worker has it
      s.stolen[slot] = 1;
      s.taken++;
      const [r0, r1] = rowsOf(s.chunkOf[slot]);
      return run(r0, r1) ? 'ok' : 'not finite';
    }
  }
  return 'none';
}

/**
 * Whether a worker holding work is alive: not exited, and its progress counter (flags[4]) moved within
 * stallMs (`track` holds the count last seen and when it moved). Waits one slice for it first.
 */
function alive(
  w: PoolWorker,
  track: { seen: number; since: number },
  index: number,
  expected: number,
): boolean {
  if (Atomics.load(w.flags, EXITED)) return false;
  Atomics.wait(w.flags, index, expected, threadLimits.sliceMs);
  const now = performance.now();
  const progress = Atomics.load(w.flags, 4);
  if (progress !== track.seen) {
    track.seen = progress;
    track.since = now;
  }
  return now - track.since <= threadLimits.stallMs && !Atomics.load(w.flags, EXITED);
}

/**
 * Block until worker `w` has finished its current call (its done sequence reaches ours): true, or false
 * when it exited or stalled first (bounded: see threadLimits).
 */
function awaitWorker(w: PoolWorker): boolean {
  const track = { seen: Atomics.load(w.flags, 4), since: performance.now() };
  for (let done = Atomics.load(w.flags, 1); done !== w.seq; done = Atomics.load(w.flags, 1))
    if (!alive(w, track, 1, done)) return false;
  return true;
}

/** Emit the 'threads-failed' fallback of a call whose failed workers' `rows` the calling thread redid. */
function reportFailed(failed: number, rows: number, next: string): void {
  emitKernelEvent({
    type: 'fallback',
    reason: 'threads-failed',
    detail: `${failed} worker thread(s) exited or made no progress for ${threadLimits.stallMs} ms; the calling thread computed their ${rows} rows (the same bits); ${next}`,
    rows,
  });
}

/**
 * Start a call on worker `w`: wait until it has finished the previous one (a call may end before a worker
 * has skipped the chunks taken back from it), reset its flags, hand it `message` and wake it. False (and
 * the worker retired) when it exited or stalled: the call goes on without it.
 */
function begin(w: PoolWorker, message: WorkerJob | WorkspaceJob): boolean {
  if (!awaitWorker(w)) {
    reportFailed(1, 0, retire(w));
    return false;
  }
  w.seq++;
  Atomics.store(w.flags, 3, 0);
  Atomics.store(w.flags, 4, 0);
  Atomics.store(w.flags, 2, 0);
  w.port.postMessage(message);
  Atomics.store(w.flags, 0, w.seq);
  Atomics.notify(w.flags, 0);
  return true;
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
 * 'no-pool' when the pool is not running. A chunk no worker finished (a worker that failed, exited or
 * stalled) is run by the calling thread afterwards, on the same kernel: the same bits.
 */
export function runWorkspaceThreaded(kernel: SharedKernelLike, call: WorkspaceCall): 'ran' | 'no-pool' {
  if (!pool || pool.length === 0) return 'no-pool';
  const members = pool.filter((w, p) => {
    const first = w.memory !== kernel.memory;
    const began = begin(w, {
      kind: 'workspace',
      call,
      thread: p + 1,
      ...(first ? { module: kernel.module, memory: kernel.memory } : {}),
    });
    if (began) w.memory = kernel.memory;
    return began;
  });
  const chunks: number[] = [];
  let failed = 0;
  let next = '';
  try {
    chunks.push(workChunks(kernel.kernel, call, 0));
  } finally {
    // Even when the calling thread's kernel threw: the call's memory is released only after every worker
    // is done with it (or retired: see afterWorkersGone).
    for (const w of members) {
      if (!awaitWorker(w)) {
        failed++;
        next = retire(w);
      }
      chunks.push(Atomics.load(w.flags, 4)); // the worker's count of chunks (see worker.ts)
    }
  }
  const rows = redoUnfinished(kernel.kernel, call, threadLimits.stallMs);
  if (rows > 0 || failed > 0) {
    reportFailed(Math.max(failed, 1), rows, failed ? next : 'the pool keeps its workers');
  }
  threadStats.chunks = chunks;
  return 'ran';
}

/** The parts of workspace.ts's shared kernel the pool needs. */
interface SharedKernelLike {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  kernel: KernelInstance;
}

/** One ring-threaded call as its helpers see it. */
interface RingCall {
  job: FusedJob;
  k: number;
  n: number;
  chunkRows: number;
  chunks: number;
  layout: ReturnType<typeof slotLayout>;
  zShared: boolean;
  /** Whether the workers copy their committed gradient rows into the (shared) gradient themselves. */
  gradShared: boolean;
  /** Whether the slots carry a logits / gradient area (see slotLayout). */
  slotArea: boolean;
  /** The calling thread's run of rows [r0, r1): false when a row is not finite. */
  runMine: (r0: number, r1: number) => boolean;
  rowsOf: (c: number) => readonly [number, number];
  /** The call's per-row results, written by the calling thread only. */
  perRow: { nll: Float64Array; smoothing: Float64Array; entropy: Float64Array };
  /** The rows' log-sum-exp (language-model options), or null. */
  lse: Float64Array | null;
  /** Whether every row so far was finite and no worker reported an error. */
  ok: boolean;
  /** Rows of failed workers' chunks redone by the calling thread, and what the pool does next. */
  redone: number;
  next: string;
}

/**
 * Run `job` with the rows split between the calling thread (on `kernel`) and the pool's workers.
 * Returns 'no-pool' when the pool is not running (the caller runs single-threaded), null when a row is
 * not finite. A worker that exits or stalls is retired and the calling thread redoes its chunks.
 */
export function runThreaded(
  kernel: KernelInstance,
  job: FusedJob,
  place: InPlaceMatrix | null = null,
  share: MatrixShare | null = null,
): RowSums | 'no-pool' | null {
  if (!pool || pool.length === 0) return 'no-pool';
  const k = job.classes;
  const n = job.rows;
  const chunkRows = Math.min(n, chunkRowsOf(k));
  const zShared = job.z.buffer instanceof SharedArrayBuffer;
  const gradShared = job.grad instanceof Float32Array && job.grad.buffer instanceof SharedArrayBuffer;
  // A worker reads its logits in place or from the slot, and writes its gradient into the slot (then, once
  // committed, into a shared gradient itself).
  const slotArea = !zShared || job.grad !== null;
  const perRow = { nll: new Float64Array(n), smoothing: new Float64Array(n), entropy: new Float64Array(n) };
  // The rows' lse: the calling thread's written here, the workers' copied from their slots.
  const lse = job.lm ? new Float64Array(n) : null;
  const mine = { ...job, perRow, lm: job.lm && { ...job.lm, lse: lse! } };
  const c: RingCall = {
    job,
    k,
    n,
    chunkRows,
    chunks: Math.ceil(n / chunkRows),
    layout: slotLayout(chunkRows, k, slotArea),
    zShared,
    gradShared,
    slotArea,
    // The calling thread's chunks: S read in place by the instance on its memory where `place` says.
    runMine: (r0, r1) =>
      (place ? runRows(place.kernel, mine, r0, r1, undefined, place) : runRows(kernel, mine, r0, r1)) !==
      null,
    rowsOf: (chunk) => [chunk * chunkRows, Math.min(n, (chunk + 1) * chunkRows)] as const,
    perRow,
    lse,
    ok: true,
    redone: 0,
    next: '',
  };
  const rings = openRings(c, share);
  let own = 0;
  try {
    own = runRings(c, rings);
  } catch (error) {
    // The calling thread's kernel threw: close the rings and wait until every worker has finished the
    // call (its chunks may write into memory the caller releases next, and an open ring would leave it
    // waiting for chunks forever).
    closeRings(rings);
    for (const s of rings) if (!s.failed && !awaitWorker(s.w)) retire(s.w);
    throw error;
  }
  // Close the rings without waiting for the workers to skip the chunks taken back from them (the next
  // call waits for that, usually long done by then).
  closeRings(rings);
  const failed = rings.filter((s) => s.failed).length;
  if (failed > 0) reportFailed(failed, c.redone, c.next);
  threadStats.chunks = [own, ...rings.map((s) => s.chunks - s.taken)];
  threadStats.matrixInPlace = [place !== null, ...rings.map((s) => s.area !== 0)];
  if (!c.ok) return null;
  if (job.lm) job.lm.lse.set(lse!);
  return rowOrderSums(job, c.perRow);
}

/** Start the call on every worker of the pool (those that fail to begin are retired and left out). */
function openRings(c: RingCall, share: MatrixShare | null): Ring[] {
  const { job, k, layout, zShared } = c;
  const { z: _z, grad: _g, perRow: _p, rowWeight: _r, labels: _l, rows: _n, ...rest } = job;
  // The slots carry labels as int32 with ignored rows as −1 (ignoreIndex may lie outside int32: 2³² would
  // become class 0 there); class labels are in [0, K), so −1 can only mean ignored.
  // (the lse goes to the shared per-row array: the job's own is not sent)
  const common = { ...rest, ignoreIndex: -1, lm: rest.lm && { ...rest.lm, lse: new Float64Array(0) } };
  const rings: Ring[] = [];
  for (const [p, w] of [...(pool ?? [])].entries()) {
    // Worker p's chunk area next to S (0: none, it stages S's rows): area 0 is the calling thread's.
    const area = share !== null && p + 1 < share.areas ? p + 1 : 0;
    const buf = ring(w, RING * layout.bytes);
    const began = begin(w, {
      job: common,
      classes: k,
      ring: buf,
      slotBytes: layout.bytes,
      chunkRows: c.chunkRows,
      z: zShared ? (job.z.buffer as SharedArrayBuffer) : null,
      zOffset: zShared ? job.z.byteOffset : 0,
      writeGrad: job.grad !== null,
      grad: c.gradShared ? (job.grad!.buffer as SharedArrayBuffer) : null,
      gradOffset: c.gradShared ? job.grad!.byteOffset : 0,
      slotArea: c.slotArea,
      matrix: area ? { share: share!, area, module: sharedKernelModule()! } : null,
    } satisfies WorkerJob);
    if (!began) continue;
    rings.push({
      w,
      area,
      buf,
      published: 0,
      returned: 0,
      chunkOf: new Int32Array(RING),
      stolen: new Uint8Array(RING),
      chunks: 0,
      taken: 0,
      seen: 0,
      since: performance.now(),
      failed: false,
    });
  }
  return rings;
}

/** Tell every worker that no more chunks come in this call. */
function closeRings(rings: Ring[]): void {
  for (const s of rings) {
    Atomics.store(s.w.flags, 3, s.published | CLOSED);
    Atomics.notify(s.w.flags, 3);
  }
}

/**
 * Hand out the call's chunks through the rings while the calling thread computes chunks itself, until
 * every chunk is done. Returns the chunks the calling thread computed.
 */
function runRings(c: RingCall, rings: Ring[]): number {
  let next = 0;
  let own = 0;
  for (;;) {
    for (const s of rings) {
      if (s.failed) continue;
      takeBack(c, s);
      // Keep its ring full.
      for (; next < c.chunks && s.published - s.returned < RING; next++) publish(c, s, next);
    }
    if (next < c.chunks) {
      // The calling thread computes the next chunk itself meanwhile.
      const [r0, r1] = c.rowsOf(next++);
      own++;
      if (!c.runMine(r0, r1)) c.ok = false;
      continue;
    }
    // Nothing left to hand out: take back a queued chunk that its worker has not started (the newest
    // first), so that a worker the OS does not schedule right now cannot hold the call up.
    const stolen = steal(rings, c.layout.bytes, c.runMine, c.rowsOf);
    if (stolen !== 'none') {
      own++;
      if (stolen === 'not finite') c.ok = false;
      continue;
    }
    // Wait only for chunks a worker has started: the ones taken back are done already.
    const waiting = rings.find((s) => !s.failed && lastClaimed(s) >= s.returned);
    if (!waiting) return own;
    const consumed = Atomics.load(waiting.w.flags, 4);
    if (consumed !== waiting.returned) continue;
    if (Atomics.load(waiting.w.flags, 1) === waiting.w.seq) {
      // The worker stopped early (an internal error): its remaining chunks are not computed.
      c.ok = false;
      waiting.returned = waiting.published;
      continue;
    }
    if (!alive(waiting.w, waiting, 4, consumed)) abandon(c, waiting);
  }
}

/** Take back the chunks worker s finished: their results, copied from the slot to their place. */
function takeBack(c: RingCall, s: Ring): void {
  const consumed = Atomics.load(s.w.flags, 4);
  for (; s.returned < consumed; s.returned++) {
    const slot = s.returned % RING;
    if (s.stolen[slot])
      s.stolen[slot] = 0; // computed by the calling thread, in place
    else copyResults(c, s, slot);
  }
}

/** A committed slot's results to their place: its status, per-row parts and gradient rows. */
function copyResults(c: RingCall, s: Ring, slot: number): void {
  const { job, k, layout } = c;
  const base = slot * layout.bytes;
  const meta = new Int32Array(s.buf, base, 4);
  let state = Atomics.load(meta, 2);
  if (state !== COMMITTED && state !== WRITTEN) return; // revoked: the calling thread ran it
  // The worker may be copying the rows into the shared gradient: wait for it (bounded). A worker stopped
  // inside that copy may finish it whenever it runs again, even after this call returned: the call fails
  // rather than return a gradient that can still change.
  if (state === COMMITTED && c.gradShared) {
    if (Atomics.wait(meta, 2, COMMITTED, threadLimits.stallMs) === 'timed-out') {
      const [r0, r1] = c.rowsOf(s.chunkOf[slot]);
      if (!s.failed) retire(s.w);
      s.failed = true;
      throw stoppedInCopy(r0, r1, threadLimits.stallMs);
    }
    state = WRITTEN;
  }
  if (meta[3] !== 0) c.ok = false; // the chunk's status
  const [r0, r1] = c.rowsOf(s.chunkOf[slot]);
  const rows = r1 - r0;
  const out = base + layout.out;
  c.perRow.nll.set(new Float64Array(s.buf, out, rows), r0);
  c.perRow.smoothing.set(new Float64Array(s.buf, out + 8 * c.chunkRows, rows), r0);
  c.perRow.entropy.set(new Float64Array(s.buf, out + 16 * c.chunkRows, rows), r0);
  c.lse?.set(new Float64Array(s.buf, out + 24 * c.chunkRows, rows), r0);
  if (job.grad && state !== WRITTEN)
    job.grad.set(new Float32Array(s.buf, base + layout.logits, rows * k), r0 * k);
}

/** Queue chunk `chunk` in worker s's ring: its labels and row weights, and its logits where they go. */
function publish(c: RingCall, s: Ring, chunk: number): void {
  const { job, k, layout } = c;
  const slot = s.published % RING;
  const base = slot * layout.bytes;
  const [r0, r1] = c.rowsOf(chunk);
  const meta = new Int32Array(s.buf, base, 4);
  meta[0] = r0;
  meta[1] = r1 - r0;
  Atomics.store(meta, 2, QUEUED); // [2]: the claim word (see QUEUED)
  meta[3] = 0; // [3]: the worker's status for the chunk (0 ok, 1 not finite, 2 error)
  const labels = new Int32Array(s.buf, base + layout.labels, r1 - r0);
  const weights = new Float64Array(s.buf, base + layout.weights, r1 - r0);
  const { labels: y, rowWeight, ignoreIndex } = job; // read once, not per row (see checkLogits)
  for (let i = r0; i < r1; i++) {
    labels[i - r0] = y[i] === ignoreIndex ? -1 : y[i];
    weights[i - r0] = rowWeight(i);
  }
  if (!c.zShared)
    new Float32Array(s.buf, base + layout.logits, (r1 - r0) * k).set(job.z.subarray(r0 * k, r1 * k));
  s.chunkOf[slot] = chunk;
  s.published++;
  s.chunks++;
  Atomics.store(s.w.flags, 3, s.published);
  Atomics.notify(s.w.flags, 3);
}

/**
 * Worker s exited or stalled holding chunks: retire it and compute on the calling thread every chunk of
 * its ring it had not returned (the same kernel: the same bits), each revoked first so that the worker's
 * results are discarded should it resume; a chunk it committed is complete in its slot and taken back.
 */
function abandon(c: RingCall, s: Ring): void {
  s.failed = true;
  c.next = retire(s.w);
  for (let q = s.returned; q < s.published; q++) {
    const slot = q % RING;
    if (s.stolen[slot]) continue; // computed by the calling thread already
    if (!revoke(new Int32Array(s.buf, slot * c.layout.bytes, 4))) {
      copyResults(c, s, slot);
      continue;
    }
    const [r0, r1] = c.rowsOf(s.chunkOf[slot]);
    c.redone += r1 - r0;
    s.taken++;
    if (!c.runMine(r0, r1)) c.ok = false;
  }
  s.returned = s.published;
}

/** Revoke a queued or claimed slot (true), unless its worker committed it first (false). */
function revoke(meta: Int32Array): boolean {
  for (;;) {
    const state = Atomics.load(meta, 2);
    if (state === COMMITTED || state === WRITTEN) return false;
    if (Atomics.compareExchange(meta, 2, state, REVOKED) === state) return true;
  }
}

/** The per-row parts into job.perRow, or summed in row order, as on one thread: the same to the last bit. */
function rowOrderSums(
  job: FusedJob,
  perRow: { nll: Float64Array; smoothing: Float64Array; entropy: Float64Array },
): RowSums {
  if (job.perRow) {
    job.perRow.nll.set(perRow.nll);
    job.perRow.smoothing.set(perRow.smoothing);
    job.perRow.entropy?.set(perRow.entropy);
    return { nll: 0, smoothing: 0, entropy: 0 };
  }
  let nll = 0;
  let smoothing = 0;
  let entropy = 0;
  for (let i = 0; i < job.rows; i++) {
    nll += perRow.nll[i];
    smoothing += perRow.smoothing[i];
    entropy += perRow.entropy[i];
  }
  return { nll, smoothing, entropy };
}
