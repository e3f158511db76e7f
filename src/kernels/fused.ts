// The WASM path of crossEntropy: index targets with uniform / non-target / prior noise, a shared class mask,
// class weights (either mode), sample weights, ignoreIndex, every reduction. Rows stream through a fixed
// scratch area of the kernel's memory in chunks: no N×K temporary is allocated.
import { KernelInstance, kernelModule } from './wasm.js';

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
  /** Gradient factor shared by all rows (1/denominator, 1/normalizer or 1). */
  scale: number;
  grad: Float32Array | Float64Array | null;
  /** Per-row outputs (reduction 'none'), or null to sum. */
  perRow: { nll: Float64Array; smoothing: Float64Array } | null;
}

/** Bytes of logits processed per kernel call: a few rows that stay in the L2 cache. */
const CHUNK_BYTES = 1 << 18;

const align = (x: number) => (x + 15) & ~15;

let main: KernelInstance | null | undefined;

/** The main thread's kernel instance, or null where WASM SIMD is unavailable. */
export function mainKernel(): KernelInstance | null {
  if (main === undefined) {
    const mod = kernelModule();
    if (mod === null) return null; // not (yet) compiled: the JS path runs meanwhile
    try {
      main = new KernelInstance(mod);
    } catch {
      main = null;
    }
  }
  return main;
}

/**
 * Run rows [r0, r1) of `job` on `kernel`; returns the weighted sums of the nll and smoothing parts
 * (and fills job.perRow for those rows). Returns null if some row's result is not finite (a NaN or an
 * infinite logit): the caller then lets the reference path name the bad element.
 */
export function runRows(
  kernel: KernelInstance,
  job: FusedJob,
  r0: number,
  r1: number,
): { nll: number; smoothing: number } | null {
  const k = job.classes;
  const chunk = Math.max(1, Math.min(r1 - r0, Math.floor(CHUNK_BYTES / (4 * k))));
  const B = KernelInstance.BASE;
  const vOff = B;
  const maskOff = align(vOff + 4 * k);
  const wOff = align(maskOff + 4 * k);
  const labelsOff = align(wOff + 4 * k);
  const scaleOff = align(labelsOff + 4 * chunk);
  const outOff = align(scaleOff + 8 * chunk);
  const bmOff = align(outOff + 16 * chunk);
  const zOff = align(bmOff + 4 * Math.ceil(k / 2048) + 16);
  kernel.reserve(zOff - B + 4 * chunk * k);
  const buf = kernel.exports.memory.buffer;
  const f32 = new Float32Array(buf);
  const i32 = new Int32Array(buf);
  const f64 = new Float64Array(buf);
  if (job.v) f32.set(job.v, vOff >> 2);
  if (job.mask) f32.set(job.mask, maskOff >> 2);
  if (job.classWeight) f32.set(job.classWeight, wOff >> 2);
  let nll = 0;
  let smoothing = 0;
  for (let s = r0; s < r1; s += chunk) {
    const e = Math.min(r1, s + chunk);
    const n = e - s;
    f32.set(job.z.subarray(s * k, e * k), zOff >> 2);
    for (let i = 0; i < n; i++) {
      const y = job.labels[s + i];
      const ignored = y === job.ignoreIndex;
      i32[(labelsOff >> 2) + i] = ignored ? -1 : y;
      f64[(scaleOff >> 3) + i] = ignored ? 0 : job.scale * job.rowWeight(s + i);
    }
    kernel.exports.rows(
      zOff,
      n,
      k,
      labelsOff,
      scaleOff,
      job.classWeight ? wOff : 0,
      job.v ? vOff : 0,
      job.vConst,
      job.mask ? maskOff : 0,
      job.eps,
      job.nonTarget ? 1 : 0,
      job.allowed,
      job.vSum,
      outOff,
      bmOff,
      job.grad ? 1 : 0,
    );
    for (let i = 0; i < n; i++) {
      const a = f64[(outOff >> 3) + 2 * i];
      const b = f64[(outOff >> 3) + 2 * i + 1];
      if (!(Number.isFinite(a) && Number.isFinite(b))) return null;
      const rw = i32[(labelsOff >> 2) + i] < 0 ? 0 : job.rowWeight(s + i);
      if (job.perRow) {
        job.perRow.nll[s + i] = rw * a;
        job.perRow.smoothing[s + i] = rw * b;
      } else {
        nll += rw * a;
        smoothing += rw * b;
      }
    }
    if (job.grad) job.grad.set(f32.subarray(zOff >> 2, (zOff >> 2) + n * k), s * k);
  }
  return { nll, smoothing };
}
