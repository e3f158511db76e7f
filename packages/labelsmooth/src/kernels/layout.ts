// The layout of one kernel call in the kernel memory (memory.ts), written once by layoutCall before any
// thread runs: per-row labels, gradient factors and results for all N rows, the shared vectors, each
// thread's scratch (block maxima, the family's or soft cap's rows, a worker's private area, its call
// record), the chunk counter and states, and the staging window; and where each thread runs each chunk.
import { CALL_BYTES, type LanguageModelFields } from './call.js';
import { type CallFamily, callFamily, familyAreas } from './family.js';
import { type FusedJob, fillRows } from './fused.js';
import { expRowBytes, languageModelFields } from './languageModel.js';
import { align64, allocate, buffer, inKernelMemory, type KernelMemory } from './memory.js';
import { blockMaxBytes, chunkRows as chunkRowsOf } from './wasm.js';

/** One call's layout in the kernel memory (byte addresses) and its scalars, as every thread sees it. */
export interface CallLayout {
  /** Row 0's logits in the kernel memory (in place), or 0: staged through the window. */
  z: number;
  /** Row 0's gradient in place (stride 4K), or 0: none kept, or staged through the window. */
  grad: number;
  /** Whether the gradient is wanted. */
  writeGrad: boolean;
  rows: number;
  classes: number;
  chunkRows: number;
  chunks: number;
  /** Per row: i32 label (−1 ignored), f64 gradient factor, (nll, smoothing[, entropy]) f64. */
  labels: number;
  scale: number;
  out: number;
  w: number;
  v: number;
  mask: number;
  /** Per thread: block maxima, the family's or soft cap's rows, a worker's private area, the call record. */
  scratch: number;
  scratchBytes: number;
  /**
   * Three i32 (the call's region starts here): the next chunk to claim, the chunks that may be claimed
   * (| CLOSED when no more come), and the count of chunks workers have committed (the caller waits on it).
   */
  counter: number;
  /** One i32 per chunk: OPEN, DONE, COMMITTED or REVOKED. */
  finished: number;
  /** One i32 per chunk: its staging slot (written by the caller before the chunk becomes claimable). */
  slotOf: number;
  /** One i32 per chunk: the worker that committed it (its thread index), written before the commit. */
  owner: number;
  /** The staging window: `slots` slots of `slotBytes` from `window` and one more, the caller's own; or 0. */
  window: number;
  slots: number;
  slotBytes: number;
  /** Offsets in a slot of the chunk's results and lse (after its logits / gradient rows). */
  slotOut: number;
  slotLse: number;
  vConst: number;
  eps: number;
  nonTarget: number;
  allowed: number;
  vSum: number;
  /** The family options (`familyRows`: out holds 3 f64 per row), or null for the plain loss (`rows`). */
  family: CallFamily | null;
  /** The language-model options (`rows`), their lse output for every row of the call; or null. */
  lm: LanguageModelFields | null;
}

/** Chunk states (the `finished` array). */
export const OPEN = 0;
export const DONE = 1;
export const COMMITTED = 2;
export const REVOKED = 3;
/** Set in the claimable count when the caller will make no more chunks claimable. */
export const CLOSED = 1 << 30;

/** Bytes of the staging window the threads share, at most (a few slots more where one chunk is larger). */
const WINDOW_BYTES = 1 << 23;

/** Bytes of one row's results: (nll, smoothing) f64, and the entropy with the family options. */
export const outStride = (c: { family: unknown }) => (c.family ? 24 : 16);

/**
 * Offsets in the area a thread computes a chunk into before it reaches its place: the chunk's rows (`rows`:
 * a staging slot, whose logits become the gradient, or a worker's private area when the gradient is kept;
 * + the 32 bytes the vector loops read past them), its results and its lse; `bytes` in all.
 */
function chunkArea(c: { chunkRows: number; classes: number; family: unknown; lm: unknown }, rows: boolean) {
  const out = rows ? align64(4 * c.chunkRows * c.classes + 32) : 0;
  const lse = out + align64(outStride(c) * c.chunkRows);
  return { out, lse, bytes: lse + (c.lm ? align64(8 * c.chunkRows) : 0) };
}

/**
 * Lay out a call of `job` in `m` for `threads` threads: in place when `inPlace` (its logits, and gradient
 * if any, live in m), else with a staging window. Returns the call and its region (to release).
 */
export function layoutCall(
  job: FusedJob,
  m: KernelMemory,
  h: { threads: number; inPlace: boolean },
): { call: CallLayout; region: number } {
  const { threads, inPlace } = h;
  const n = job.rows;
  const k = job.classes;
  // At least 8 chunks per thread, so that a thread that starts late or runs slower takes fewer.
  const chunkRows = Math.min(chunkRowsOf(k), Math.max(1, Math.ceil(n / (8 * threads))));
  const chunks = Math.ceil(n / chunkRows);
  const S = job.family?.matrix;
  const matrix = m.shared && S != null && inKernelMemory(S) ? (S as Float32Array).byteOffset : 0;
  const shape = { writeGrad: job.grad !== null, chunkRows, classes: k, family: job.family, lm: job.lm };
  // Per thread after the block maxima: the family's rows; or the scratch row (no gradient kept) and a
  // soft-capped row's exp row; a worker's private area (in place); the thread's call record, last.
  const perThread = job.family
    ? familyAreas(k, chunkRows, S != null && !matrix).bytes
    : (job.grad ? 0 : align64(4 * k)) + (job.lm?.softcap ? align64(expRowBytes(k)) : 0);
  const own = inPlace && threads > 1 ? chunkArea(shape, shape.writeGrad).bytes : 0;
  const scratchBytes = align64(align64(blockMaxBytes(k)) + perThread) + own + CALL_BYTES;
  // With threads: at least two slots a thread, more up to WINDOW_BYTES, so that a small call is staged at
  // once and the workers do not wait on the caller's copies between rounds; one slot on one thread.
  const slot = chunkArea(shape, true);
  const threadedSlots = Math.max(2 * threads, Math.floor(WINDOW_BYTES / slot.bytes));
  const slots = inPlace ? 0 : Math.min(chunks, threads > 1 ? threadedSlots : 1);
  const sizes = [12, 4 * chunks, 4 * chunks, 4 * chunks, 4 * n, 8 * n, outStride(shape) * n, 4 * k, 4 * k];
  sizes.push(4 * k, threads * scratchBytes, job.lm ? 8 * n : 0, inPlace ? 0 : (slots + 1) * slot.bytes);
  const region = allocate(
    sizes.reduce((a, b) => a + align64(b), 0),
    m,
  );
  const at: number[] = [];
  for (let j = 0, p = region; j < sizes.length; p += align64(sizes[j++])) at.push(p);
  const [counter, finished, slotOf, owner, labels, scale, out, v, mask, w, scratch, lse, window] = at;
  const mem = buffer(m);
  new Int32Array(mem, counter, 3).set([0, inPlace ? chunks | CLOSED : 0, 0]);
  new Int32Array(mem, finished, chunks).fill(OPEN);
  fillRows(job, 0, n, mem, { labels, scale });
  const f32 = new Float32Array(mem);
  const noise = job.noise;
  if (noise.kind === 'vector') f32.set(noise.v, v >>> 2);
  if (job.mask) f32.set(job.mask, mask >>> 2);
  if (job.classWeight) f32.set(job.classWeight, w >>> 2);
  const call: CallLayout = {
    z: inPlace ? job.z.byteOffset : 0,
    grad: inPlace && job.grad ? job.grad.byteOffset : 0,
    writeGrad: job.grad !== null,
    rows: n,
    classes: k,
    chunkRows,
    chunks,
    labels,
    scale,
    out,
    w: job.classWeight ? w : 0,
    v: noise.kind === 'vector' ? v : 0,
    mask: job.mask ? mask : 0,
    scratch,
    scratchBytes,
    counter,
    finished,
    slotOf,
    owner,
    window: inPlace ? 0 : window,
    slots,
    slotBytes: inPlace ? 0 : slot.bytes,
    slotOut: slot.out,
    slotLse: slot.lse,
    vConst: noise.kind === 'constant' ? noise.u : 0,
    eps: job.eps,
    nonTarget: job.nonTarget ? 1 : 0,
    allowed: job.allowed,
    vSum: noise.kind === 'rows' ? 0 : noise.sum,
    family: job.family ? callFamily(job.family, matrix) : null,
    lm: languageModelFields(job.lm, lse, 0), // each thread's exp row: computeChunk
  };
  return { call, region };
}

/** Where one chunk's rows are read and written: logits, gradient (0: none kept), results and lse. */
export interface ChunkPlace {
  z: number;
  g: number;
  out: number;
  lse: number;
}

/**
 * Where thread `t` runs chunk `chunk`: staged, in slot `slot` (the logits become the gradient there); in
 * place, the caller's rows in place and a worker's gradient, results and lse in its private area.
 */
export function placeOf(c: CallLayout, t: number, chunk: number, slot: number): ChunkPlace {
  const k = c.classes;
  const r0 = chunk * c.chunkRows;
  if (c.window) {
    const s = c.window + slot * c.slotBytes;
    return { z: s, g: c.writeGrad ? s : 0, out: s + c.slotOut, lse: c.lm ? s + c.slotLse : 0 };
  }
  const z = c.z + 4 * r0 * k;
  if (t === 0)
    return {
      z,
      g: c.grad && c.grad + 4 * r0 * k,
      out: c.out + outStride(c) * r0,
      lse: c.lm ? c.lm.lse + 8 * r0 : 0,
    };
  const area = chunkArea(c, c.writeGrad); // the worker's private area, before its call record
  const own = c.scratch + (t + 1) * c.scratchBytes - CALL_BYTES - area.bytes;
  return { z, g: c.writeGrad ? own : 0, out: own + area.out, lse: c.lm ? own + area.lse : 0 };
}
