// The executor: every kernel call runs here, on one thread or on all of them, the same way. A call is laid
// out once in the kernel memory (layout.ts): per-row labels, gradient factors and results for all N rows,
// the shared vectors, each thread's scratch. Its rows are cut into chunks, and every thread — the caller
// and the pool's workers (threads.ts) — claims chunks from one atomic counter until none is left.
//
//   in place  the logits (and gradient) are in the kernel memory (a workspace): every thread reads them
//             there; the caller writes its gradient rows in place, a worker into a private area first,
//             copied into place once its commit holds.
//   staged    ordinary arrays: the caller copies chunks of logits into a window of slots in the kernel
//             memory ahead of the threads, and copies each finished slot's gradient rows and results out
//             to their place, in whatever order they finish, freeing the slot for the next chunk.
//
// A chunk is OPEN until a thread finishes it. A worker COMMITs it by compare-exchange; the caller takes a
// chunk from a failed worker by REVOKING it the same way, so a stalled worker that resumes later finds its
// commit refused and its results are discarded. Whatever no thread finished is run by the caller at the
// end, on the same kernel: the same bits. Per-row results are summed in row order (collectCall), so the
// loss is the same to the last bit on any number of threads.
import { CALL_BYTES, writeCall } from './call.js';
import { familyAreas, familyFields } from './family.js';
import { chunkWeight, collectRows, type FusedJob, type RowSums } from './fused.js';
import {
  type CallLayout,
  type ChunkPlace,
  CLOSED,
  COMMITTED,
  DONE,
  OPEN,
  outStride,
  placeOf,
  REVOKED,
} from './layout.js';
import { align64, buffer, type KernelMemory, taint } from './memory.js';
import { beginCall, type CallMembers, endCall, reportFailed, threadLimits, threadStats } from './threads.js';
import { blockMaxBytes, type KernelInstance } from './wasm.js';

/**
 * Run chunk `chunk` of the call on `kernel` with thread `t`'s scratch, into `place`. The family kernel's
 * vector loops also load and store back the 3 floats past a row's end when K is not a multiple of 4: in
 * place those belong to the next chunk, another thread's, so a family chunk's last row is then copied to
 * this thread's scratch, run there and copied back.
 */
function computeChunk(
  kernel: KernelInstance,
  c: CallLayout,
  t: number,
  chunk: number,
  place: ChunkPlace,
): void {
  const k = c.classes;
  const scratch = c.scratch + t * c.scratchBytes;
  const record = scratch + c.scratchBytes - CALL_BYTES;
  const r0 = chunk * c.chunkRows;
  const n = Math.min(c.rows - r0, c.chunkRows);
  const g = place.g || scratchRow(c, scratch); // no gradient kept: one scratch row takes every row's values
  const gStride = place.g ? 4 * k : 0;
  const split = c.family !== null && k % 4 !== 0;
  const body = split ? n - 1 : n;
  const { z, out, lse } = place;
  if (body > 0) runRows(kernel, c, { z, g, gStride, out, lse, r0, n: body, scratch, record });
  if (!split) return;
  const tail = scratchRow(c, scratch, true);
  const last = 4 * (n - 1) * k;
  kernel.exports.copy(tail, z + last, 4 * k);
  const lastOut = out + outStride(c) * (n - 1);
  runRows(kernel, c, {
    z: tail,
    g: tail,
    gStride: 4 * k,
    out: lastOut,
    lse: 0,
    r0: r0 + n - 1,
    n: 1,
    scratch,
    record,
  });
  if (place.g) kernel.exports.copy(place.g + last, tail, 4 * k);
}

/** A row of thread scratch that takes every row's values when no gradient is kept (`tail`: the family's
 * row for a chunk's last row). */
function scratchRow(c: CallLayout, scratch: number, tail = false): number {
  const row = scratch + align64(blockMaxBytes(c.classes)); // see layoutCall
  return c.family && (tail || !c.writeGrad)
    ? row + familyAreas(c.classes, c.chunkRows, c.family.staged !== null).tail
    : row;
}

/**
 * Rows [r0, r0 + n) of the call on `kernel`: their logits at z, gradient rows at g, gStride bytes apart,
 * results at out (and lse at lse); the block maxima and rows of the thread's scratch at `scratch`, its call
 * record at `record`. The one writer of a chunk's call record, for both exports.
 */
function runRows(
  kernel: KernelInstance,
  c: CallLayout,
  h: ChunkPlace & { gStride: number; r0: number; n: number; scratch: number; record: number },
): void {
  const k = c.classes;
  const { r0, n, scratch } = h;
  const buf = kernel.exports.memory.buffer;
  const row = scratch + align64(blockMaxBytes(k));
  const family = c.family && familyFields(buf, c, c.family, { r0, n, scratch: row });
  writeCall(buf, h.record, {
    z: h.z,
    g: h.g,
    gStride: h.gStride,
    classes: k,
    labels: c.labels + 4 * r0,
    scale: c.scale + 8 * r0,
    out: h.out,
    bm: scratch,
    w: c.w,
    v: family?.vRows ? 0 : c.v,
    mask: c.mask,
    vConst: c.vConst,
    eps: c.eps,
    nonTarget: c.nonTarget !== 0,
    allowed: c.allowed,
    vSum: c.vSum,
    writeGrad: c.writeGrad,
    family,
    lm: c.lm && { ...c.lm, lse: h.lse, ework: c.lm.softcap ? row + (c.writeGrad ? 0 : align64(4 * k)) : 0 },
  });
  if (family) kernel.exports.familyRows(h.record, 0, n);
  else kernel.exports.rows(h.record, 0, n);
}

/** A thread's views of a call's words (see CallLayout.counter), chunk states and chunks' slots. */
export interface CallWords {
  words: Int32Array;
  state: Int32Array;
  slotOf: Int32Array;
  owner: Int32Array;
}

/** The views of the call's words in `buffer` (the kernel memory). */
export function callWords(buffer: ArrayBufferLike, c: CallLayout): CallWords {
  return {
    words: new Int32Array(buffer, c.counter, 3),
    state: new Int32Array(buffer, c.finished, c.chunks),
    slotOf: new Int32Array(buffer, c.slotOf, c.chunks),
    owner: new Int32Array(buffer, c.owner, c.chunks),
  };
}

/**
 * Thread `t` runs chunk `chunk` it claimed and finishes it: the caller's in-place chunk is DONE; a
 * worker's is COMMITTED by compare-exchange (refused: revoked, its results discarded) and then, in place,
 * copied from its private area into place and DONE; a staged chunk stays COMMITTED until the caller has
 * copied it out (a worker's commit is counted in words[2], which the caller waits on).
 */
export function runClaimed(
  kernel: KernelInstance,
  c: CallLayout,
  t: number,
  chunk: number,
  w: CallWords,
  onCommit?: () => void,
): void {
  const place = placeOf(c, t, chunk, c.window ? w.slotOf[chunk] : 0);
  computeChunk(kernel, c, t, chunk, place);
  const { state } = w;
  if (t === 0) {
    Atomics.store(state, chunk, c.window ? COMMITTED : DONE);
    return;
  }
  w.owner[chunk] = t; // read by finishCall if this worker stops between its commit and its copy
  if (Atomics.compareExchange(state, chunk, OPEN, COMMITTED) !== OPEN) return;
  if (c.window) {
    Atomics.add(w.words, 2, 1);
    Atomics.notify(w.words, 2); // the caller may be waiting to copy it out
    return;
  }
  onCommit?.();
  const r0 = chunk * c.chunkRows;
  const n = Math.min(c.rows - r0, c.chunkRows);
  const { copyForward } = kernel.exports;
  if (c.writeGrad) copyForward(c.grad + 4 * r0 * c.classes, place.g, 4 * n * c.classes);
  copyForward(c.out + outStride(c) * r0, place.out, outStride(c) * n);
  if (c.lm) copyForward(c.lm.lse + 8 * r0, place.lse, 8 * n);
  Atomics.store(state, chunk, DONE);
  Atomics.notify(state, chunk);
}

/** The next claimable chunk, claimed; NONE_NOW when none is claimable yet, NONE when none will be. */
export function claim(words: Int32Array): number {
  for (;;) {
    const claimable = Atomics.load(words, 1);
    const next = Atomics.load(words, 0);
    if (next >= (claimable & ~CLOSED)) return claimable & CLOSED ? NONE : NONE_NOW;
    if (Atomics.compareExchange(words, 0, next, next + 1) === next) return next;
  }
}
export const NONE_NOW = -1;
export const NONE = -2;

/**
 * Claim and run chunks until the caller closes the call and none is left: every worker's loop (and the
 * caller's, in place). `onClaim` is told the count of chunks claimed before each runs (a worker's
 * heartbeat), `onCommit` runs between a worker's commit and its copy into place (fault injection). Waits
 * for chunks to become claimable in slices (the caller notifies on each). Returns the chunks this thread ran.
 */
export function workChunks(
  kernel: KernelInstance,
  c: CallLayout,
  t: number,
  hooks: { onClaim?: (claimed: number) => void; onCommit?: () => void } = {},
): number {
  const w = callWords(kernel.exports.memory.buffer, c);
  for (let done = 0; ; ) {
    const seen = Atomics.load(w.words, 1); // before the claim: a change after it ends the wait at once
    const chunk = claim(w.words);
    if (chunk >= 0) {
      hooks.onClaim?.(++done);
      runClaimed(kernel, c, t, chunk, w, hooks.onCommit);
    } else if (chunk === NONE) return done;
    else Atomics.wait(w.words, 1, seen, 20);
  }
}

/** Views of a kernel memory for the caller's copies, made once a call (no memory grows meanwhile). */
export interface MemoryViews {
  f32: Float32Array;
  f64: Float64Array;
}

/** The views of `m`'s memory now. */
export function viewsOf(m: KernelMemory): MemoryViews {
  const b = buffer(m);
  return { f32: new Float32Array(b), f64: new Float64Array(b) };
}

/** Copy chunk `chunk`'s logits into staging slot `slot` (the caller: it alone reads ordinary arrays). */
export function stage(job: FusedJob, v: MemoryViews, c: CallLayout, chunk: number, slot: number): void {
  const k = c.classes;
  const r0 = chunk * c.chunkRows;
  const r1 = Math.min(c.rows, r0 + c.chunkRows);
  v.f32.set(job.z.subarray(r0 * k, r1 * k), (c.window + slot * c.slotBytes) >>> 2);
}

/**
 * Copy a finished staged chunk out of slot `slot`: its results and lse to the call's per-row arrays, its
 * gradient rows to job.grad (in the in-place mode around rows that are not finite: they keep their logits
 * for the reference).
 */
export function unstage(job: FusedJob, v: MemoryViews, c: CallLayout, chunk: number, slot: number): void {
  const k = c.classes;
  const r0 = chunk * c.chunkRows;
  const n = Math.min(c.rows - r0, c.chunkRows);
  const s = c.window + slot * c.slotBytes;
  const stride = outStride(c) / 8;
  const results = (s + c.slotOut) >>> 3;
  v.f64.copyWithin((c.out >>> 3) + stride * r0, results, results + n * stride);
  if (c.lm) v.f64.copyWithin((c.lm.lse >>> 3) + r0, (s + c.slotLse) >>> 3, ((s + c.slotLse) >>> 3) + n);
  if (!job.grad) return;
  const g = s >>> 2;
  if (!job.inPlace) {
    job.grad.set(v.f32.subarray(g, g + n * k), r0 * k);
    return;
  }
  for (let i = 0; i < n; i++) {
    const row = v.f64.subarray(results + i * stride, results + (i + 1) * stride);
    if (row.every(Number.isFinite)) job.grad.set(v.f32.subarray(g + i * k, g + (i + 1) * k), (r0 + i) * k);
  }
}

/**
 * After every thread has run out of chunks: the weighted per-row parts into job.perRow or summed in row
 * order (the same sums to the last bit whatever the number of threads), the lse to job.lm.lse, and the
 * declined rows: those not finite (the reference recomputes them; their logits are intact).
 */
export function collectCall(
  job: FusedJob,
  m: KernelMemory,
  call: CallLayout,
): RowSums & { declined: number[] } {
  const mem = buffer(m);
  const labels = new Int32Array(mem);
  const f64 = new Float64Array(mem);
  const sums = { nll: 0, smoothing: 0, entropy: 0 };
  const declined: number[] = [];
  const stride = outStride(call) / 8;
  for (let r0 = 0; r0 < call.rows; r0 += call.chunkRows) {
    const n = Math.min(call.rows - r0, call.chunkRows);
    const weight = chunkWeight(job, labels, (call.labels >>> 2) + r0, r0);
    collectRows(
      { f64, out: (call.out >>> 3) + stride * r0, stride, n, first: r0, weight },
      job.perRow,
      sums,
      declined,
    );
  }
  if (job.lm && call.lm) job.lm.lse.set(f64.subarray(call.lm.lse >>> 3, (call.lm.lse >>> 3) + call.rows));
  return { ...sums, declined };
}

/**
 * The error of a call whose worker stopped for longer than the stall bound while copying rows r0…r1 of a
 * chunk it had committed into the caller's gradient (a workspace): it may still write them later.
 */
export class StoppedInCopy extends Error {
  constructor(r0: number, r1: number, stallMs: number) {
    super(
      `crossEntropy: a kernel worker thread made no progress for ${stallMs} ms while copying gradient rows ${r0}…${r1 - 1} into the caller's shared gradient; it was terminated, but a thread stopped inside a copy may still finish it after this call, so no result is returned: compute this step again into a fresh gradient`,
    );
  }
}

/**
 * After the workers are done or retired: finish on the calling thread every chunk no thread finished, each
 * revoked first so that a failed worker which resumes cannot commit it: staged chunks in the caller's own
 * slot, in-place ones in place. A staged chunk a worker committed is copied out. An in-place one is being
 * copied into place by its worker: waited for up to `waitMs`; the caller computes it itself when that copy
 * cannot change anything of the caller's any more (no gradient kept: the copy writes only the call's own
 * region; or the worker that committed it has exited: `exited`), and otherwise the call fails
 * (StoppedInCopy: a worker stopped inside that copy may finish it after the call). Returns the rows the
 * caller ran here.
 */
export function finishCall(
  job: FusedJob,
  m: KernelMemory,
  c: CallLayout,
  h: { waitMs: number; exited: (thread: number) => boolean },
): number {
  const { state, slotOf, owner } = callWords(buffer(m), c);
  const v = viewsOf(m);
  let rows = 0;
  for (let chunk = 0; chunk < c.chunks; chunk++) {
    const s = Atomics.compareExchange(state, chunk, OPEN, REVOKED);
    const r0 = chunk * c.chunkRows;
    const n = Math.min(c.rows - r0, c.chunkRows);
    if (s === DONE) continue;
    if (s === COMMITTED && c.window) unstage(job, v, c, chunk, slotOf[chunk]);
    else if (s === COMMITTED && copied(state, chunk, c.writeGrad ? h : null, owner[chunk])) continue;
    else if (s === COMMITTED && c.writeGrad && !h.exited(owner[chunk]))
      throw new StoppedInCopy(r0, r0 + n, h.waitMs);
    else {
      // never claimed, revoked from a failed worker, or committed by one whose copy cannot matter any more
      if (c.window) stage(job, v, c, chunk, c.slots);
      computeChunk(m.kernel, c, 0, chunk, placeOf(c, 0, chunk, c.slots));
      if (c.window) unstage(job, v, c, chunk, c.slots);
      rows += n;
    }
    Atomics.store(state, chunk, DONE);
  }
  return rows;
}

/**
 * Whether a committed in-place chunk's copy into place finished (its state became DONE), waiting for it in
 * slices up to h.waitMs unless the worker that committed it (`thread`) has exited; without `h` (no
 * gradient kept) it is not waited for.
 */
function copied(
  state: Int32Array,
  chunk: number,
  h: { waitMs: number; exited: (thread: number) => boolean } | null,
  thread: number,
): boolean {
  const until = performance.now() + (h ? h.waitMs : 0);
  while (Atomics.load(state, chunk) === COMMITTED) {
    const left = until - performance.now();
    if (!h || left <= 0 || h.exited(thread)) return false;
    Atomics.wait(state, chunk, COMMITTED, Math.min(left, 20));
  }
  return true;
}

/** How a call ran: on the workers too (`threaded`) or on the calling thread alone. */
export interface Execution {
  threaded: boolean;
}

/**
 * Run the call laid out at `call`: with `threads`, the pool's workers claim chunks while the caller does
 * too (and, staged, keeps the window filled and emptied); then the caller waits for them (bounded) and
 * finishes whatever no thread finished. Memory a worker retired during the call may still write (the call's
 * region, and a workspace it was copying into) is tainted: given back only once its exit is seen.
 */
export function execute(job: FusedJob, m: KernelMemory, call: CallLayout, threads: boolean): Execution {
  let members: CallMembers | null = null;
  let own = 0;
  let end: ReturnType<typeof endCall> | null = null;
  try {
    members = threads ? beginCall(m, call) : null;
    own = call.window ? runStaged(job, m, call) : workInPlace(m, call);
  } finally {
    // Even when the caller's kernel threw: the workers stop and are waited for (or retired).
    close(m, call);
    if (members) end = endCall(members);
    if (end?.failed) taint(call.counter);
  }
  let redone: number;
  try {
    redone = finishCall(job, m, call, {
      waitMs: threadLimits.stallMs,
      exited: end?.exited ?? (() => true),
    });
  } catch (error) {
    if (error instanceof StoppedInCopy) {
      taint(call.counter);
      taint(call.grad);
      const why = 'the call fails: a worker stopped inside its copy into the gradient may still finish it';
      reportFailed(Math.max(1, end?.failed ?? 0), 0, `${why}; ${end?.next ?? ''}`);
    }
    throw error;
  }
  if (end && end.failed > 0) reportFailed(end.failed, redone, end.next);
  threadStats.chunks = [own, ...(end?.chunks ?? [])];
  threadStats.matrixInPlace = threadStats.chunks.map(() => call.family !== null && call.family.matrix !== 0);
  return { threaded: members !== null && members.length > 0 };
}

/** The caller's share of an in-place call: chunks claimed until none is left. */
function workInPlace(m: KernelMemory, call: CallLayout): number {
  const w = callWords(buffer(m), call);
  let own = 0;
  for (let c = claim(w.words); c >= 0; c = claim(w.words), own++) runClaimed(m.kernel, call, 0, c, w);
  return own;
}

/**
 * The caller's part of a staged call: keep the window's free slots filled with the next chunks' logits
 * (each chunk claimable once staged), run chunks itself, and copy out every finished one, freeing its slot,
 * in whatever order they finish (a worker that stalls or dies holds one slot, not the window; its chunk is
 * finished by finishCall). A worker holds at most one chunk it has not committed and the window has more
 * slots than there are workers, so a scan always frees a slot or finds a chunk to claim; should it not for
 * stallMs, the caller leaves the rest to finishCall. Returns the chunks the caller ran.
 */
function runStaged(job: FusedJob, m: KernelMemory, c: CallLayout): number {
  const w = callWords(buffer(m), c);
  const v = viewsOf(m);
  const free = Array.from({ length: c.slots }, (_, s) => c.slots - 1 - s);
  const held: number[] = []; // chunks staged and not copied out yet
  let staged = 0;
  let own = 0;
  let since = performance.now();
  for (;;) {
    const commits = Atomics.load(w.words, 2); // before looking: a commit after it ends the wait at once
    for (let i = held.length - 1; i >= 0; i--) {
      const chunk = held[i];
      if (Atomics.load(w.state, chunk) !== COMMITTED) continue;
      unstage(job, v, c, chunk, w.slotOf[chunk]);
      Atomics.store(w.state, chunk, DONE);
      free.push(w.slotOf[chunk]);
      held.splice(i, 1);
      since = performance.now();
    }
    const before = staged;
    for (; staged < c.chunks && free.length > 0; staged++) {
      w.slotOf[staged] = free.pop()!;
      stage(job, v, c, staged, w.slotOf[staged]);
      held.push(staged);
      if (staged === before) publish(w.words, staged + 1); // the workers start on it while the rest is copied
    }
    if (staged !== before) publish(w.words, staged);
    const chunk = claim(w.words);
    if (chunk >= 0) {
      runClaimed(m.kernel, c, 0, chunk, w);
      own++;
      continue;
    }
    if (staged === c.chunks || performance.now() - since > threadLimits.stallMs) return own;
    Atomics.wait(w.words, 2, commits, threadLimits.sliceMs);
  }
}

/** Make chunks [0, staged) claimable and wake the workers waiting for one. */
function publish(words: Int32Array, staged: number): void {
  Atomics.store(words, 1, staged);
  Atomics.notify(words, 1);
}

/** Make no more chunks claimable: the workers return once the chunks they hold are done. */
function close(m: KernelMemory, call: CallLayout): void {
  const words = new Int32Array(buffer(m), call.counter, 2);
  Atomics.or(words, 1, CLOSED);
  Atomics.notify(words, 1);
}
