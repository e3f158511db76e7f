// Kernel-owned memory (`kernelWorkspace`). The logits and the gradient buffer of a workspace live inside one
// WebAssembly.Memory that is shared by the calling thread's kernel instance and every worker's: the caller
// writes its logits there, and the kernel reads them and writes the gradient there, on all threads at
// once (a worker through a private chunk area, copied into place when its commit holds: see runChunk). No
// staging copy in, none out, no N×K allocation per call. The ordinary path copies each chunk into a thread's private
// memory and the gradient back out, and the calling thread does that for the workers' chunks too (they
// cannot read an ordinary ArrayBuffer): serial work that capped two threads at ~1.1–1.5× one.
//
// Memory: [0, 64 KB) is the kernel's static data; above, workspaces and the per-call area are regions
// handed out first-fit from a free list (64-byte aligned); the memory grows on demand (up to 4 GB, the
// WASM32 limit) and never shrinks.
import { CALL_BYTES, type LanguageModelFields, writeCall } from './call.js';
import { runSharedFamily, type SharedFamily, sharedFamily, sharedFamilyAreas } from './family.js';
import { chunkWeight, collectRows, type FusedJob, fillRows, type RowSums } from './fused.js';
import { expRowBytes, languageModelFields } from './languageModel.js';
import { blockMaxBytes, chunkRows as chunkRowsOf, KernelInstance, sharedKernelModule } from './wasm.js';

const PAGE = 65536;
/** The WASM32 limit: 65536 pages of 64 KB. */
const MAX_BYTES = 65536 * PAGE;

interface SharedKernel {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** The calling thread's instance on the shared memory. */
  kernel: KernelInstance;
}

let shared: SharedKernel | null | undefined;
/** Every SharedArrayBuffer of the memory that views were made on (a grow makes a new one). */
const buffers = new WeakSet<ArrayBufferLike>();
/** Free regions, sorted by address; `top` is the end of the regions handed out. */
const free: { at: number; size: number }[] = [];
let top = PAGE;
/** Live regions (start → size): workspaces and the running call's area. */
const live = new Map<number, number>();
/** The arrays of disposed workspaces: refused even after their memory is handed out again. */
const disposed = new WeakSet<object>();

/** Mark a disposed workspace's array (see {@link memoryRegion}). */
export function markDisposed(a: Float32Array): void {
  disposed.add(a);
}

/** The shared kernel memory and instance, created on first use; null where shared WASM memory is unavailable. */
export function sharedKernel(): SharedKernel | null {
  if (shared !== undefined) return shared;
  shared = null;
  const module = sharedKernelModule();
  if (module === null || typeof SharedArrayBuffer === 'undefined') return null;
  try {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_BYTES / PAGE, shared: true });
    shared = { memory, module, kernel: new KernelInstance(module, memory) };
  } catch {
    shared = null; // e.g. a browser page that is not cross-origin isolated
  }
  return shared;
}

/** The memory's current buffer, remembered as one of ours. */
function buffer(memory: WebAssembly.Memory): ArrayBufferLike {
  const b = memory.buffer;
  buffers.add(b);
  return b;
}

/** Hand out a region of at least `bytes` bytes (64-byte aligned); throws a RangeError beyond 4 GB. */
export function allocate(bytes: number): number {
  const s = sharedKernel()!;
  const size = align64(Math.max(bytes, 1));
  let at = -1;
  const j = free.findIndex((r) => r.size >= size);
  if (j >= 0) {
    at = free[j].at;
    free[j].at += size;
    free[j].size -= size;
    if (free[j].size === 0) free.splice(j, 1);
  } else {
    if (top + size > MAX_BYTES)
      throw new RangeError(`${top + size} bytes exceed the 4 GB a WASM32 memory can hold`);
    const have = s.memory.buffer.byteLength;
    if (top + size > have) s.memory.grow(Math.ceil((top + size - have) / PAGE)); // may throw: top unchanged
    at = top;
    top += size;
  }
  live.set(at, size);
  return at;
}

/** Give a region back (merged with free neighbours). */
export function release(at: number): void {
  const size = live.get(at);
  if (size === undefined) return;
  live.delete(at);
  let j = free.findIndex((r) => r.at > at);
  if (j < 0) j = free.length;
  free.splice(j, 0, { at, size });
  // merge with the next, then with the previous region
  if (j + 1 < free.length && free[j].at + free[j].size === free[j + 1].at) {
    free[j].size += free[j + 1].size;
    free.splice(j + 1, 1);
  }
  if (j > 0 && free[j - 1].at + free[j - 1].size === free[j].at) {
    free[j - 1].size += free[j].size;
    free.splice(j, 1);
    j--;
  }
  if (free[j].at + free[j].size === top) {
    top = free[j].at;
    free.splice(j, 1);
  }
}

/** A Float32Array of `length` floats at byte `at` of the shared memory. */
export function floats(at: number, length: number): Float32Array {
  return new Float32Array(buffer(sharedKernel()!.memory), at, length);
}

/** Where an array lies relative to the shared kernel memory: outside it, inside a live region, or in freed memory. */
export function memoryRegion(a: ArrayLike<number>): 'outside' | 'live' | 'freed' {
  if (!ArrayBuffer.isView(a) || !buffers.has(a.buffer)) return 'outside';
  if (disposed.has(a)) return 'freed';
  const start = a.byteOffset;
  const end = start + a.byteLength;
  for (const [at, size] of live) if (start >= at && end <= at + size) return 'live';
  return 'freed';
}

const align64 = (x: number) => Math.ceil(x / 64) * 64;

/** One call's layout in the shared memory (byte addresses) and its scalar parameters, as the threads see it. */
export interface WorkspaceCall {
  z: number;
  /** The gradient (stride 4K per row), or 0: each thread then writes its exp values into its scratch row. */
  grad: number;
  rows: number;
  classes: number;
  chunkRows: number;
  chunks: number;
  labels: number;
  scale: number;
  out: number;
  w: number;
  v: number;
  mask: number;
  /** Per thread: block maxima, then (without a gradient) one scratch row. */
  scratch: number;
  scratchBytes: number;
  /** An i32 counter of the chunks claimed so far. */
  counter: number;
  /** One i32 per chunk, set to 1 by the thread that finished it. */
  finished: number;
  vConst: number;
  eps: number;
  nonTarget: number;
  allowed: number;
  vSum: number;
  /** The family options (`familyRows`: out holds 3 f64 per row), or null for the plain loss (`rows`). */
  family: SharedFamily | null;
  /** The language-model options (`rows`), their lse output for every row of the call; or null. */
  lm: LanguageModelFields | null;
}

/**
 * Claim chunks of rows from the call's shared counter and run them on `kernel` until none is left: the
 * same loop on the calling thread and on every worker (thread index `t` picks its scratch). The rows of
 * a chunk are contiguous, so each thread reads its logits in place and its gradient lands there. `onClaim` is
 * told the count of chunks claimed, before each is run (a worker's heartbeat). Returns the number of
 * chunks this thread ran.
 */
export function workChunks(
  kernel: KernelInstance,
  c: WorkspaceCall,
  t: number,
  onClaim?: (claimed: number) => void,
): number {
  const counter = new Int32Array(kernel.exports.memory.buffer, c.counter, 1);
  for (let done = 0; ; done++) {
    const chunk = Atomics.add(counter, 0, 1);
    if (chunk >= c.chunks) return done;
    onClaim?.(done + 1);
    runChunk(kernel, c, t, chunk);
  }
}

/** States of a chunk in the call's `finished` array. A worker's chunk is computed into the worker's private
 * area and COMMITTED (compare-exchange from OPEN) before it is copied to its place; the calling thread takes
 * a chunk from a failed worker by REVOKING it (compare-exchange from OPEN): a revoked worker that resumes
 * later finds its commit refused and writes nothing where the caller's results are. */
const OPEN = 0;
const DONE = 1;
const COMMITTED = 2;
const REVOKED = 3;

/**
 * Run chunk `chunk` of the call on `kernel` with thread `t`'s scratch and flag it done. The calling thread
 * (t = 0) writes in place; a worker writes into its private area and copies only if its commit holds.
 */
export function runChunk(kernel: KernelInstance, c: WorkspaceCall, t: number, chunk: number): void {
  const k = c.classes;
  const scratch = c.scratch + t * c.scratchBytes;
  const record = scratch + c.scratchBytes - CALL_BYTES;
  const r0 = chunk * c.chunkRows;
  const n = Math.min(c.rows - r0, c.chunkRows);
  const buf = kernel.exports.memory.buffer;
  const stride = c.family ? 24 : 16;
  // A worker's private gradient rows and per-row results (see privateBytes), before its call record.
  const own = t > 0 ? record - privateBytes(c) : 0;
  const g = own && c.grad ? own : c.grad ? c.grad + 4 * r0 * k : 0;
  const out = own ? own + (c.grad ? align64(4 * c.chunkRows * k + 32) : 0) : c.out + stride * r0;
  const lseAt = own ? out + align64(stride * c.chunkRows) : c.lm ? c.lm.lse + 8 * r0 : 0;
  if (c.family) familyChunk(kernel, c, c.family, { r0, n, scratch, record, g, out });
  else {
    const row = scratch + align64(blockMaxBytes(k)); // the scratch row, then the exp row (layoutCall)
    writeCall(buf, record, {
      z: c.z + 4 * r0 * k,
      g: g || row,
      gStride: c.grad ? 4 * k : 0,
      classes: k,
      labels: c.labels + 4 * r0,
      scale: c.scale + 8 * r0,
      out,
      bm: scratch,
      w: c.w,
      v: c.v,
      mask: c.mask,
      vConst: c.vConst,
      eps: c.eps,
      nonTarget: c.nonTarget !== 0,
      allowed: c.allowed,
      vSum: c.vSum,
      writeGrad: c.grad !== 0,
      family: null,
      lm: c.lm && { ...c.lm, lse: lseAt, ework: c.lm.softcap ? row + (c.grad ? 0 : align64(4 * k)) : 0 },
    });
    kernel.exports.rows(record, 0, n);
  }
  const state = new Int32Array(buf, c.finished, c.chunks);
  if (own) {
    if (Atomics.compareExchange(state, chunk, OPEN, COMMITTED) !== OPEN) return; // revoked: discarded
    const { copyForward } = kernel.exports;
    if (c.grad) copyForward(c.grad + 4 * r0 * k, own, 4 * n * k);
    copyForward(c.out + stride * r0, out, stride * n);
    if (c.lm) copyForward(c.lm.lse + 8 * r0, lseAt, 8 * n);
  }
  Atomics.store(state, chunk, DONE);
  Atomics.notify(state, chunk);
}

/** Bytes of a worker's private area: a chunk's gradient rows (if kept), its per-row results and lse. */
function privateBytes(c: {
  grad: number;
  chunkRows: number;
  classes: number;
  family: unknown;
  lm: unknown;
}): number {
  const grad = c.grad ? align64(4 * c.chunkRows * c.classes + 32) : 0;
  return grad + align64((c.family ? 24 : 16) * c.chunkRows) + (c.lm ? align64(8 * c.chunkRows) : 0);
}

/**
 * The error of a call whose worker stopped for longer than the stall bound while copying rows r0…r1 of a
 * chunk it had committed into the caller's gradient (shared memory): it may still write them later.
 */
export function stoppedInCopy(r0: number, r1: number, stallMs: number): Error {
  return new Error(
    `crossEntropy: a kernel worker thread made no progress for ${stallMs} ms while copying gradient rows ${r0}…${r1 - 1} into the caller's shared gradient; it was terminated, but a thread stopped inside a copy may still finish it after this call, so no result is returned: compute this step again into a fresh gradient`,
  );
}

/**
 * After the workers are done or retired: run on the calling thread every chunk no thread finished, each
 * revoked first so that a failed worker which resumes cannot overwrite it. A chunk a worker committed is
 * being copied to its place: waited for up to `waitMs`; a worker stopped inside that copy may finish it after
 * the call, so the call then fails (stoppedInCopy). Returns the rows redone.
 */
export function redoUnfinished(kernel: KernelInstance, c: WorkspaceCall, waitMs: number): number {
  const state = new Int32Array(buffer(sharedKernel()!.memory), c.finished, c.chunks);
  let rows = 0;
  for (let chunk = 0; chunk < c.chunks; chunk++) {
    let s = Atomics.compareExchange(state, chunk, OPEN, REVOKED);
    if (s === COMMITTED) {
      if (Atomics.wait(state, chunk, COMMITTED, waitMs) === 'timed-out') {
        const r0 = chunk * c.chunkRows;
        throw stoppedInCopy(r0, Math.min(c.rows, r0 + c.chunkRows), waitMs);
      }
      s = DONE;
    }
    if (s === DONE) continue;
    runChunk(kernel, c, 0, chunk);
    rows += Math.min(c.chunkRows, c.rows - chunk * c.chunkRows);
  }
  return rows;
}

/**
 * One chunk of a family call: `familyRows` reads the logits and writes the gradient rows at `g` (without a
 * gradient, 0: one scratch row takes every row's values) and the per-row results at `out`. Its vector loops
 * also load and store back the 3 floats past a row's end when K is not a multiple of 4: in shared rows those
 * belong to the next chunk, another thread's, so the chunk's last row is copied to this thread's scratch,
 * run there in place and copied back.
 */
function familyChunk(
  kernel: KernelInstance,
  c: WorkspaceCall,
  f: SharedFamily,
  h: { r0: number; n: number; scratch: number; record: number; g: number; out: number },
): void {
  const { r0, n, scratch, out } = h;
  const k = c.classes;
  const rowScratch = scratch + align64(blockMaxBytes(k));
  const tail = rowScratch + sharedFamilyAreas(k, c.chunkRows, f.staged !== null).tail;
  const z = c.z + 4 * r0 * k;
  const writeGrad = c.grad !== 0;
  const g = writeGrad ? h.g : tail;
  const split = k % 4 !== 0;
  const body = split ? n - 1 : n;
  const chunk = { bm: scratch, scratch: rowScratch, record: h.record, writeGrad };
  if (body > 0)
    runSharedFamily(kernel, c, f, { ...chunk, zin: z, g, gStride: writeGrad ? 4 * k : 0, r0, n: body, out });
  if (!split) return;
  const last = 4 * (n - 1) * k;
  const lastOut = out + 24 * (n - 1);
  kernel.exports.copy(tail, z + last, 4 * k);
  runSharedFamily(kernel, c, f, {
    ...chunk,
    zin: tail,
    g: tail,
    gStride: 4 * k,
    r0: r0 + n - 1,
    n: 1,
    out: lastOut,
  });
  if (writeGrad) kernel.exports.copy(g + last, tail, 4 * k);
}

/**
 * Whether `S` (a noise matrix) is a float32 array in the shared kernel memory, with the 16 bytes past its
 * end that the kernel's vector loops read (masked) inside the memory: the kernel then reads it in place.
 */
export function inKernelMemory(S: ArrayLike<number>): boolean {
  const memory = shared?.memory;
  return (
    S instanceof Float32Array &&
    memory !== undefined &&
    memoryRegion(S) === 'live' &&
    S.byteOffset + S.byteLength + 16 <= memory.buffer.byteLength
  );
}

/**
 * Lay out a call of `job` (its logits, and gradient if any, in live workspace memory) for `threads`
 * threads: the per-row labels and gradient factors, the noise / mask / class weights, the outputs and
 * every thread's scratch go into one region of the shared memory. Returns the call and its region.
 */
export function layoutCall(job: FusedJob, threads: number): { call: WorkspaceCall; region: number } {
  const s = sharedKernel()!;
  const n = job.rows;
  const k = job.classes;
  // Chunks of at most CHUNK_BYTES of logits, and at least 8 per thread so that a thread that starts late
  // or runs slower takes fewer (8192×10 was two uneven chunks, of 6553 and 1639 rows).
  const chunkRows = Math.min(chunkRowsOf(k), Math.max(1, Math.ceil(n / (8 * threads))));
  const chunks = Math.ceil(n / chunkRows);
  const family = job.family !== null;
  const S = job.family?.matrix;
  const matrix = S != null && inKernelMemory(S) ? (S as Float32Array).byteOffset : 0;
  // Per thread after the block maxima: the family's areas; or the scratch row (without a gradient) and a
  // soft-capped row’s exp row (see runChunk).
  const perThread = family
    ? sharedFamilyAreas(k, chunkRows, S != null && !matrix).bytes
    : (job.grad ? 0 : align64(4 * k)) + (job.lm?.softcap ? align64(expRowBytes(k)) : 0);
  // + a worker's private area (runChunk) and the thread's call record (call.ts), last
  const own =
    threads > 1 ? privateBytes({ grad: job.grad ? 1 : 0, chunkRows, classes: k, family, lm: job.lm }) : 0;
  const scratchBytes = align64(align64(blockMaxBytes(k)) + perThread) + own + CALL_BYTES;
  const outBytes = (family ? 24 : 16) * n;
  const lseBytes = job.lm ? 8 * n : 0;
  const sizes = [
    64,
    4 * chunks,
    4 * n,
    8 * n,
    outBytes,
    4 * k,
    4 * k,
    4 * k,
    threads * scratchBytes,
    lseBytes,
  ];
  for (let j = 0; j < sizes.length; j++) sizes[j] = align64(sizes[j]);
  const region = allocate(sizes.reduce((a, b) => a + b, 0));
  const starts: number[] = [];
  let at = region;
  for (const size of sizes) {
    starts.push(at);
    at += size;
  }
  const [counter, finished, labels, scale, out, v, mask, w, scratch, lse] = starts;
  const mem = buffer(s.memory);
  new Int32Array(mem, counter, 1)[0] = 0;
  // Rows of a chunk no thread finished (a failed worker's) are declined, never taken from an earlier call's
  // outputs. (Flags per chunk, not NaN outputs per row: a fill of a shared buffer costs ~1.5 ns an element.)
  new Int32Array(mem, finished, chunks).fill(0);
  fillRows(job, 0, n, mem, { labels, scale });
  const f32 = new Float32Array(mem);
  if (job.v) f32.set(job.v, v >>> 2);
  if (job.mask) f32.set(job.mask, mask >>> 2);
  if (job.classWeight) f32.set(job.classWeight, w >>> 2);
  const call: WorkspaceCall = {
    z: job.z.byteOffset,
    grad: job.grad ? job.grad.byteOffset : 0,
    rows: n,
    classes: k,
    chunkRows,
    chunks,
    labels,
    scale,
    out,
    w: job.classWeight ? w : 0,
    v: job.v ? v : 0,
    mask: job.mask ? mask : 0,
    scratch,
    scratchBytes,
    counter,
    finished,
    vConst: job.vConst,
    eps: job.eps,
    nonTarget: job.nonTarget ? 1 : 0,
    allowed: job.allowed,
    vSum: job.vSum,
    family: family ? sharedFamily(job, matrix) : null,
    lm: languageModelFields(job.lm, lse, 0), // each thread's exp row: runChunk
  };
  return { call, region };
}

/**
 * After every thread has run out of chunks: the weighted per-row parts into job.perRow or summed in row
 * order (the same sums to the last bit whatever the number of threads), and the declined rows: those not
 * finite and every row of a chunk no thread flagged finished (the reference recomputes them; the logits are
 * intact, the kernel only wrote the gradient).
 */
export function collectCall(job: FusedJob, call: WorkspaceCall): RowSums & { declined: number[] } {
  const mem = buffer(sharedKernel()!.memory);
  const labels = new Int32Array(mem);
  const sums = { nll: 0, smoothing: 0, entropy: 0 };
  const declined: number[] = [];
  const stride = call.family ? 3 : 2; // family rows also carry their entropy
  const finished = new Int32Array(mem, call.finished, call.chunks);
  const f64 = new Float64Array(mem);
  for (let chunk = 0; chunk < call.chunks; chunk++) {
    const r0 = chunk * call.chunkRows;
    const n = Math.min(call.rows - r0, call.chunkRows);
    if (finished[chunk] === 1) {
      const weight = chunkWeight(job, labels, (call.labels >>> 2) + r0, r0);
      const out = { f64, out: (call.out >>> 3) + stride * r0, stride, n, first: r0, weight };
      collectRows(out, job.perRow, sums, declined);
      if (job.lm && call.lm)
        job.lm.lse.set(f64.subarray((call.lm.lse >>> 3) + r0, (call.lm.lse >>> 3) + r0 + n), r0);
    } else for (let i = r0; i < r0 + n; i++) declined.push(i);
  }
  return { ...sums, declined };
}
