// The worker-thread pool (Node): persistent workers, started when a call first needs them, each with an
// instance of the kernel on the shared kernel memory. The executor (executor.ts) runs a call on the caller
// and the pool at once: beginCall hands every worker the call's layout, the caller claims chunks itself,
// endCall waits for the workers. The caller blocks on Atomics.wait (allowed on Node's main thread), so
// crossEntropy stays synchronous. Workers are unref'd: they never keep the process alive.
//
// Every wait on a worker is bounded: one that exits or makes no progress for stallMs is retired
// (terminated, replaced, at most MAX_RESTARTS times) and the caller finishes its chunks; memory a retired
// worker may still write is not handed out again before its exit is seen (afterWorkersGone).
import { emitKernelEvent } from './events.js';

interface PoolWorker {
  /** [0] job sequence, [1] done sequence, [2] status of the call (2: an error outside the chunks, read by
   * endCall), [4] chunks claimed so far in this call (its heartbeat), [5] EXITED, [6] FAULT, [7] READY,
   * [8] COPY_FAULT. */
  flags: Int32Array;
  port: MessagePort & { postMessage(m: unknown): void };
  seq: number;
  worker: NodeWorker;
  /** The shared kernel memory this worker has an instance on. */
  memory?: WebAssembly.Memory;
  /** Its thread index in the current call (its scratch area; the calling thread is 0). */
  thread?: number;
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

/** Minimum logits per call before the worker threads take part (below, waking them costs more). */
export const THREAD_MIN_SIZE = 1 << 16;

/**
 * How the last call on the threads was shared out: chunks per thread (the caller first), and which threads
 * read a class-conditional noise matrix in place (the others staged its rows), for benchmarks and tests.
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
 * Make one worker: its thread starts at once, and sets its READY flag when it can take calls
 * (no event of this thread is needed to see that, so a synchronous caller can wait for it).
 */
function spawn(wt: WorkerThreads): PoolWorker {
  const self = import.meta.url;
  const url = workerUrl();
  const control = new SharedArrayBuffer(36);
  const { port1, port2 } = new wt.MessageChannel();
  const options = {
    workerData: { control, port: port2 },
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
async function startPool(): Promise<PoolWorker[] | null> {
  const { wt, os } = await builtins();
  const count = poolSize(os);
  if (count === 0) return null;
  size = count;
  startWorker = () => ready(spawn(wt));
  return Promise.all(Array.from({ length: count }, startWorker));
}

let starting: Promise<void> | null = null;

/** Begin starting the worker pool in the background (Node only); later calls use it once it is up. */
export function warmThreads(): void {
  if (pool !== undefined || starting || !isNode() || typeof SharedArrayBuffer === 'undefined') return;
  starting = startPool().then(
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
 * (bounded by waitMs) for the workers to be ready, so that a loop that never yields to the event loop gets
 * them from its first large call. Where Node cannot load its built-ins synchronously (before 20.16) the
 * pool starts in the background instead.
 */
export function threadsNow(): boolean {
  if (pool !== undefined) return pool !== null && pool.length > 0;
  if (starting || !isNode() || typeof SharedArrayBuffer === 'undefined') return false;
  const b = builtinsNow();
  if (!b) {
    warmThreads();
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
  startWorker = () => ready(spawn(b.wt));
  let workers: PoolWorker[];
  try {
    workers = Array.from({ length: size }, () => spawn(b.wt));
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
export async function threadsReady(): Promise<boolean> {
  warmThreads();
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

/**
 * Whether a worker that has not finished its call is alive: not exited, and its progress counter
 * (flags[4]) moved within stallMs (`track` holds the count last seen and when it moved). Waits one slice for
 * its done sequence (flags[1]) to move from `done` first.
 */
function alive(w: PoolWorker, track: { seen: number; since: number }, done: number): boolean {
  if (Atomics.load(w.flags, EXITED)) return false;
  Atomics.wait(w.flags, 1, done, threadLimits.sliceMs);
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
    if (!alive(w, track, done)) return false;
  return true;
}

/**
 * Start a call on worker `w`: wait until it has finished the previous one, reset its flags, hand it
 * `message` and wake it. False (and the worker retired) when it exited or stalled: the call goes on without it.
 */
function begin(w: PoolWorker, message: WorkerCall): boolean {
  if (!awaitWorker(w)) {
    reportFailed(1, 0, retire(w));
    return false;
  }
  Atomics.store(w.flags, 4, 0);
  Atomics.store(w.flags, 2, 0);
  w.port.postMessage(message); // before the sequence moves: a message that cannot be sent starts nothing
  w.seq++;
  Atomics.store(w.flags, 0, w.seq);
  Atomics.notify(w.flags, 0);
  return true;
}

/** What a worker gets for a call (see executor.ts). */
export interface WorkerCall {
  /** The call's layout (layout.ts), passed through to the worker's executor. */
  call: unknown;
  /** The worker's thread index (its scratch area); the calling thread is 0. */
  thread: number;
  /** The shared kernel and its memory, sent with a worker's first call only. */
  module?: WebAssembly.Module;
  memory?: WebAssembly.Memory;
}

/** The threads a call would run on now (the caller and the pool's workers), starting the pool if needed. */
export function threadCount(): number {
  return threadsNow() && pool ? 1 + pool.length : 1;
}

/** The workers a call runs on (see beginCall). */
export type CallMembers = readonly PoolWorker[];

/**
 * Start `call` (laid out in the shared memory `m`) on every worker of the pool, starting the pool now if it
 * has not started yet: the workers taking part (those that fail to begin are retired and left out), or null
 * when no pool runs here.
 */
export function beginCall(
  m: { memory: WebAssembly.Memory; module: WebAssembly.Module },
  call: unknown,
): CallMembers | null {
  if (!threadsNow() || !pool || pool.length === 0) return null;
  return pool.filter((w, p) => {
    const first = w.memory !== m.memory;
    let began = false;
    try {
      began = begin(w, { call, thread: p + 1, ...(first ? { module: m.module, memory: m.memory } : {}) });
    } catch (error) {
      emitKernelEvent({ type: 'threads-error', error }); // the call could not be sent: it runs without w
    }
    if (began) Object.assign(w, { memory: m.memory, thread: p + 1 });
    return began;
  });
}

/**
 * Wait (bounded) until every member has finished the call, retiring those that exited, stalled or failed
 * (an error outside their chunks: say, their kernel instance could not be made); returns the chunks each
 * ran, how many failed and what the pool does next (a phrase).
 */
export function endCall(members: CallMembers): {
  chunks: number[];
  failed: number;
  next: string;
  /** Whether the member with thread index `thread` has exited (it can write nothing any more). */
  exited: (thread: number) => boolean;
} {
  const chunks: number[] = [];
  const retired: PoolWorker[] = [];
  let next = 'the pool keeps its workers';
  for (const w of members) {
    if (!awaitWorker(w) || Atomics.load(w.flags, 2) === 2) {
      retired.push(w);
      next = retire(w);
    }
    chunks.push(Atomics.load(w.flags, 4)); // the worker's count of chunks (see worker.ts)
  }
  const exited = (thread: number) =>
    members.some((w) => w.thread === thread && Atomics.load(w.flags, EXITED) !== 0);
  return { chunks, failed: retired.length, next, exited };
}

/**
 * Emit the 'threads-failed' fallback of a call in which `failed` workers failed (exited, stalled, or an
 * error outside their chunks); the calling thread computed their `rows` rows.
 */
export function reportFailed(failed: number, rows: number, next: string): void {
  const who = `${failed} worker thread(s) exited, failed or made no progress for ${threadLimits.stallMs} ms`;
  emitKernelEvent({
    type: 'fallback',
    reason: 'threads-failed',
    detail: `${who}; ${rows > 0 ? `the calling thread computed their ${rows} rows (the same bits); ` : ''}${next}`,
    rows,
  });
}
