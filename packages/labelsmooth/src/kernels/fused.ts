// The WASM path of crossEntropy: index targets with uniform / non-target / prior noise, a shared class mask,
// class weights (either mode), sample weights, ignoreIndex, every reduction — and, through the
// `familyRows` export (family.ts), the confidence penalty, focal loss and class-conditional noise. Rows
// stream through a fixed scratch area of the kernel's memory in chunks: no N×K temporary is allocated.

import { CALL_BYTES, writeCall } from './call.js';
import { emitKernelEvent } from './events.js';
import { type FamilyJob, type FamilyLayout, familyFields, familyLayout, stageNoiseRows } from './family.js';
import { expRowBytes, type LanguageModelJob, languageModelFields } from './languageModel.js';
import { align16, blockMaxBytes, chunkRows, KernelInstance, kernelModule } from './wasm.js';

/** A validated problem in the form the kernel takes (built by crossEntropy). */
export interface FusedJob {
  z: Float32Array;
  rows: number;
  classes: number;
  labels: ArrayLike<number>;
  ignoreIndex: number;
  eps: number;
  /** Noise vector β_c = w_c·u_c over the classes (null: the constant vConst). */
  v: Float32Array | null;
  vConst: number;
  vSum: number;
  nonTarget: boolean;
  allowed: number;
  mask: Float32Array | null;
  /** Per-class weights inside the row (PyTorch mode), or null. */
  classWeight: Float32Array | null;
  /** Row weight (sampleWeight × per-example class weight) for row i. */
  rowWeight: (i: number) => number;
  /** Every row's weight is 1 (no sample weights, no per-example class weights): per-row loops skip rowWeight. */
  unitRows: boolean;
  /** Gradient factor shared by all rows (1/denominator, 1/normalizer or 1; see languageModel.ts). */
  scale: number;
  grad: Float32Array | Float64Array | null;
  /** Per-row outputs (reduction 'none'), or null to sum; `entropy` is filled by family jobs. */
  perRow: { nll: Float64Array; smoothing: Float64Array; entropy?: Float64Array; zLoss?: Float64Array } | null;
  /** The family options (the `familyRows` export, family.ts), or null for the plain loss (`rows`). */
  family: FamilyJob | null;
  /** Soft-capping, the z-loss and the per-row lse (the `rows` export only), or null. */
  lm: LanguageModelJob | null;
}

/** Weighted sums of a job's parts; entropy only for family jobs with a confidence penalty (else 0). */
export interface RowSums {
  nll: number;
  smoothing: number;
  entropy: number;
}

let main: KernelInstance | null | undefined;

/** The main thread's kernel instance, or null where WASM SIMD is unavailable. */
export function mainKernel(): KernelInstance | null {
  if (main === undefined) {
    const mod = kernelModule();
    if (mod === null) return null; // not (yet) compiled: the JS path runs meanwhile
    try {
      main = new KernelInstance(mod);
    } catch (error) {
      emitKernelEvent({ type: 'compile-error', error });
      main = null;
    }
  }
  return main;
}

/** Byte offsets of the arrays runRows lays out in the kernel's memory for chunks of `chunk` rows. */
interface RowsLayout {
  v: number;
  mask: number;
  w: number;
  labels: number;
  scale: number;
  out: number;
  /** f64 per row: the lse (language-model options; not in a family layout). */
  lse?: number;
  /** A soft-capped row's exp values (not in a family layout, which has its own `e`). */
  ework?: number;
  bm: number;
  /** The call record (call.ts). */
  call: number;
  z: number;
}

function rowsLayout(k: number, chunk: number): RowsLayout {
  const v = KernelInstance.BASE;
  const mask = align16(v + 4 * k);
  const w = align16(mask + 4 * k);
  const labels = align16(w + 4 * k);
  const scale = align16(labels + 4 * chunk);
  const out = align16(scale + 8 * chunk);
  const lse = align16(out + 16 * chunk);
  const bm = align16(lse + 8 * chunk);
  const ework = align16(bm + blockMaxBytes(k));
  const call = align16(ework + expRowBytes(k));
  const z = align16(call + CALL_BYTES);
  return { v, mask, w, labels, scale, out, lse, ework, bm, call, z };
}

/**
 * The one call into the SIMD fast path: `n` rows laid out at `at` (logits at at.z, labels and per-row
 * gradient factors filled in) → (nll, smoothing[, entropy]) per row at at.out, the gradient over the
 * logits at at.z (in place). `matrixAt`: the byte address of S when it is read in place, else 0.
 */
function callRowsKernel(
  kernel: KernelInstance,
  job: FusedJob,
  at: RowsLayout,
  n: number,
  matrixAt: number,
): void {
  const k = job.classes;
  writeCall(kernel.exports.memory.buffer, at.call, {
    z: at.z,
    g: at.z, // in place: the staged logits become the gradient
    gStride: 4 * k,
    classes: k,
    labels: at.labels,
    scale: at.scale,
    out: at.out,
    bm: at.bm,
    w: job.classWeight ? at.w : 0,
    v: job.v && !job.family?.matrix ? at.v : 0,
    mask: job.mask ? at.mask : 0,
    vConst: job.vConst,
    eps: job.eps,
    nonTarget: job.nonTarget,
    allowed: job.allowed,
    vSum: job.vSum,
    writeGrad: job.grad !== null,
    family: job.family ? familyFields(job.family, at as FamilyLayout, matrixAt) : null,
    lm: languageModelFields(job.lm, at.lse ?? 0, at.ework ?? 0),
  });
  if (job.family) kernel.exports.familyRows(at.call, 0, n);
  else kernel.exports.rows(at.call, 0, n);
}

/**
 * Where a family job's class-conditional noise S lies in `kernel`'s memory, read there in place: its byte
 * address, and the byte address from which the memory has room for a chunk's layout (familyLayoutBytes).
 */
export interface MatrixPlace {
  matrixAt: number;
  base: number;
}

/** A {@link MatrixPlace} with the kernel instance on that memory, and the region to release after the call
 * (0: none). */
export interface InPlaceMatrix extends MatrixPlace {
  kernel: KernelInstance;
  region: number;
}

/**
 * Run rows [r0, r1) of `job` on `kernel` (with `place`, S is read in place there and the chunks are laid
 * out from place.base; otherwise S's rows are staged and the layout starts at the kernel's BASE); returns
 * the weighted sums of the nll and smoothing parts (and fills job.perRow for those rows). A row whose
 * result is not finite (a NaN or infinite logit, or |z_c − z_y| beyond the float32 range) is declined:
 * with a `declined` list its index is pushed there and neither its parts nor its gradient row are written
 * (the caller's logits of that row stay intact even in the in-place mode, so the reference can recompute
 * it); without one, runRows returns null at once.
 */
export function runRows(
  kernel: KernelInstance,
  job: FusedJob,
  r0: number,
  r1: number,
  declined?: number[],
  place?: MatrixPlace,
): RowSums | null {
  const k = job.classes;
  const chunk = Math.min(r1 - r0, chunkRows(k));
  const matrix = job.family?.matrix ? (place ? 'in-place' : 'staged') : null;
  const at = job.family ? familyLayout(k, chunk, matrix, place?.base) : rowsLayout(k, chunk);
  if (!place) kernel.reserve(at.z - KernelInstance.BASE + 4 * chunk * k + 16); // + the family's vector tail reads
  const buf = kernel.exports.memory.buffer;
  const f32 = new Float32Array(buf);
  const i32 = new Int32Array(buf);
  const f64 = new Float64Array(buf);
  if (job.v) f32.set(job.v, at.v >>> 2);
  if (job.mask) f32.set(job.mask, at.mask >>> 2);
  if (job.classWeight) f32.set(job.classWeight, at.w >>> 2);
  const sums = { nll: 0, smoothing: 0, entropy: 0 };
  for (let s = r0; s < r1; s += chunk) {
    const e = Math.min(r1, s + chunk);
    const n = e - s;
    f32.set(job.z.subarray(s * k, e * k), at.z >>> 2);
    fillRows(job, s, n, buf, at);
    if (matrix === 'staged') {
      const labels = i32.subarray(at.labels >>> 2, (at.labels >>> 2) + n);
      stageNoiseRows(f32, (at as ReturnType<typeof familyLayout>).vRows, job.family!.matrix!, labels, k);
    }
    callRowsKernel(kernel, job, at, n, place?.matrixAt ?? 0);
    if (job.lm) {
      const lseAt = (at as RowsLayout).lse! >>> 3;
      job.lm.lse.set(f64.subarray(lseAt, lseAt + n), s);
    }
    const weight = chunkWeight(job, i32, at.labels >>> 2, s);
    const before = declined ? declined.length : 0;
    const stride = job.family ? 3 : 2; // family rows also carry their entropy
    const chunkOut = { f64, out: at.out >>> 3, stride, n, first: s, weight };
    if (!collectRows(chunkOut, job.perRow, sums, declined)) return null;
    if (!job.grad) continue;
    const g = f32.subarray(at.z >>> 2, (at.z >>> 2) + n * k);
    if (!declined || declined.length === before) job.grad.set(g, s * k);
    else {
      // Copy the gradient rows around the declined ones.
      let from = s;
      for (let d = before; d <= declined.length; d++) {
        const to = d < declined.length ? declined[d] : e;
        job.grad.set(g.subarray((from - s) * k, (to - s) * k), from * k);
        from = to + 1;
      }
    }
  }
  return sums;
}

/**
 * The kernel's per-row inputs for rows [first, first + n) of `job`, into the kernel memory `buffer` at the
 * byte addresses `at`: the label (−1 when ignored) at at.labels, the gradient factor (the reduction's scale
 * × the row's weight, 0 when ignored) at at.scale.
 */
export function fillRows(
  job: FusedJob,
  first: number,
  n: number,
  buffer: ArrayBufferLike,
  at: { labels: number; scale: number },
): void {
  const labels = new Int32Array(buffer, at.labels, n);
  const scale = new Float64Array(buffer, at.scale, n);
  const { labels: y, ignoreIndex, scale: g, rowWeight, unitRows } = job; // read once, not per row (see checkLogits)
  for (let i = 0; i < n; i++) {
    const yi = y[first + i];
    const ignored = yi === ignoreIndex;
    labels[i] = ignored ? -1 : yi;
    scale[i] = ignored ? 0 : unitRows ? g : g * rowWeight(first + i);
  }
}

/**
 * The weight {@link collectRows} gives a chunk's row i (rows from `first`; kernel labels at labels[at + i],
 * −1 for ignored rows, which weigh 0), or null when every row weighs 1: an ignored row's parts are 0, so
 * 1·0 adds what 0·0 would.
 */
export function chunkWeight(
  job: FusedJob,
  labels: Int32Array,
  at: number,
  first: number,
): ((i: number) => number) | null {
  const { rowWeight, unitRows } = job;
  return unitRows ? null : (i) => (labels[at + i] < 0 ? 0 : rowWeight(first + i));
}

/** A chunk's kernel output: `stride` f64 per row from index `out` of `f64`, for `n` rows from row `first`. */
export interface ChunkOut {
  f64: Float64Array;
  out: number;
  stride: number;
  n: number;
  first: number;
  /** The weight of the chunk's row i, or null: 1 for every row (see chunkWeight). */
  weight: ((i: number) => number) | null;
}

/**
 * Take a chunk's per-row (nll, smoothing[, entropy with stride 3]) from the kernel's output, times each
 * row's weight, into `perRow` (rows from `first`) or the running `sums`. A row that is not finite is pushed
 * to `declined` (rows counted from `first`), or, without that list, makes the result false.
 */
export function collectRows(
  chunk: ChunkOut,
  perRow: FusedJob['perRow'],
  sums: RowSums,
  declined?: number[],
): boolean {
  const { f64, out, stride, n, first, weight } = chunk;
  // Running sums in locals (stores into `sums` on every row cost more than the row's arithmetic).
  let nll = sums.nll;
  let smoothing = sums.smoothing;
  let entropy = sums.entropy;
  for (let i = 0; i < n; i++) {
    const a = f64[out + stride * i];
    const b = f64[out + stride * i + 1];
    const h = stride > 2 ? f64[out + stride * i + 2] : 0;
    // x − x is 0 for finite x and NaN for ±Infinity and NaN: one test for the three parts.
    if (a - a + (b - b) + (h - h) !== 0) {
      if (!declined) return false;
      declined.push(first + i);
      continue;
    }
    const rw = weight === null ? 1 : weight(i);
    if (perRow) {
      perRow.nll[first + i] = rw * a;
      perRow.smoothing[first + i] = rw * b;
      if (perRow.entropy) perRow.entropy[first + i] = rw * h;
    } else {
      nll += rw * a;
      smoothing += rw * b;
      entropy += rw * h;
    }
  }
  sums.nll = nll;
  sums.smoothing = smoothing;
  sums.entropy = entropy;
  return true;
}
