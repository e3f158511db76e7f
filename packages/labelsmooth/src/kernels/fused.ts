// The kernel's job: a validated crossEntropy problem in the form the kernel takes (index targets with
// uniform / non-target / prior noise, a shared class mask, class weights (either mode), sample weights,
// ignoreIndex, every reduction; the family options, family.ts; the language-model options,
// languageModel.ts), and the per-row inputs and results the executor (executor.ts) moves in and out.

import type { FamilyJob } from './family.js';
import type { LanguageModelJob } from './languageModel.js';

/**
 * The noise the rows of a kernel job share, with V = Σ_c v_c over the allowed classes (`sum`): one constant
 * u for every allowed class (uniform or non-target noise without class weights), a vector v_c = w_c·u_c,
 * or none (class-conditional noise: rows S[yᵢ], the family's matrix).
 */
export type SharedNoise =
  | { kind: 'constant'; u: number; sum: number }
  | { kind: 'vector'; v: Float32Array; sum: number }
  | { kind: 'rows' };

/** A validated problem in the form the kernel takes (built by crossEntropy). */
export interface FusedJob {
  z: Float32Array;
  rows: number;
  classes: number;
  labels: ArrayLike<number>;
  ignoreIndex: number;
  eps: number;
  /** The noise the rows share (see {@link SharedNoise}). */
  noise: SharedNoise;
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
  /** The gradient is the logits array itself: rows the kernel declines must keep their logits. */
  inPlace: boolean;
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
