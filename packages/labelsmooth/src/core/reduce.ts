// The reduction shared by the losses (the role of TF.js' computeWeightedLoss): per-row parts in, the
// reported numbers out. Kept apart so that every path — reference, kernel, shards — reduces the same way.
import type { CrossEntropyPlan } from './plan.js';
import type { Reduction } from './types.js';

/** Weighted sums of the parts of the loss over rows: L = (1−ε)·nll + ε·smoothing − β·entropy. */
export interface PartSums {
  nll: number;
  smoothing: number;
  /** H_w(q), summed only with a confidence penalty (else 0). */
  entropy: number;
  /** ζ·lse² of the rows, times their weights, summed only with a z-loss (by the kernel or the reference). */
  zLoss?: number;
}

/** Per-row parts (reduction 'none'). */
export interface PartRows {
  nll: Float64Array;
  smoothing: Float64Array;
  entropy: Float64Array;
  /** ζ·lseᵢ² times the row's weight, with a z-loss. */
  zLoss?: Float64Array;
}

/** The reported numbers: scalars, or per-row arrays for reduction 'none'. */
export interface Reduced<T extends number | Float64Array> {
  loss: T;
  nll: T;
  smoothing: T;
  denominator: number;
  /** Present with a confidence penalty. */
  entropy?: T;
  /** Present with a z-loss; included in `loss`. */
  zLoss?: T;
}

/** Empty per-row parts for N rows (reduction 'none'); with `zLoss`, a row for the z-loss too. */
export function partRows(n: number, zLoss = false): PartRows {
  const rows: PartRows = {
    nll: new Float64Array(n),
    smoothing: new Float64Array(n),
    entropy: new Float64Array(n),
  };
  if (zLoss) rows.zLoss = new Float64Array(n);
  return rows;
}

/**
 * The factor of the z-loss: like {@link lossScale}, but `mean` divides by the count of rows that are not
 * ignored (Liger, flash-attn), whatever the weights.
 */
export function zLossScale(plan: CrossEntropyPlan): number {
  return lossScale(plan.reduction, plan.normalizer, plan.rows - plan.ignoredRows);
}

/**
 * The `mean` denominator of crossEntropy: Σᵢ w[yᵢ] over non-ignored rows (per-class weights, PyTorch), the
 * count of non-ignored rows (class indices otherwise), or N (probability targets).
 */
export function meanDenominator(plan: CrossEntropyPlan): number {
  if (plan.target.kind !== 'index') return plan.rows;
  const { labels } = plan.target;
  const { classWeight: w, rows, ignoreIndex } = plan; // read once, not per row (see checkLogits)
  if (w === null) return rows - plan.ignoredRows;
  let d = 0;
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    if (y !== ignoreIndex) d += w ? w[y] : 1;
  }
  return d;
}

/**
 * The factor applied to the summed loss and to every gradient entry: 1/normalizer when given, 1/denominator
 * for 'mean' (0 when the denominator is 0: an all-ignored batch gives loss 0 and a zero gradient, not NaN),
 * else 1.
 */
export function lossScale(reduction: Reduction, normalizer: number | undefined, denominator: number): number {
  if (normalizer !== undefined) return 1 / normalizer;
  if (reduction !== 'mean') return 1;
  return denominator > 0 ? 1 / denominator : 0;
}

/**
 * (1−ε)·nll + ε·smoothing − β·entropy of summed parts, times `scale`; `beta` null: no confidence penalty
 * (and no `entropy` in the result). With `zScale` (a z-loss), the summed z-loss times zScale is added.
 */
export function reduceSums(
  eps: number,
  beta: number | null,
  sums: PartSums,
  scale: number,
  denominator: number,
  zScale: number | null = null,
): Reduced<number> {
  const out: Reduced<number> = {
    loss: ((1 - eps) * sums.nll + eps * sums.smoothing - (beta ?? 0) * sums.entropy) * scale,
    nll: sums.nll * scale,
    smoothing: sums.smoothing * scale,
    denominator,
  };
  if (beta !== null) out.entropy = sums.entropy * scale;
  if (zScale !== null) {
    out.zLoss = (sums.zLoss ?? 0) * zScale;
    out.loss += out.zLoss;
  }
  return out;
}

/** Per-row (1−ε)·nll + ε·smoothing − β·entropy (+ the z-loss when `rows.zLoss`), unscaled (reduction 'none'). */
export function reduceRows(
  eps: number,
  beta: number | null,
  rows: PartRows,
  denominator: number,
): Reduced<Float64Array> {
  const loss = new Float64Array(rows.nll.length);
  const b = beta ?? 0;
  for (let i = 0; i < loss.length; i++)
    loss[i] =
      (1 - eps) * rows.nll[i] + eps * rows.smoothing[i] - b * rows.entropy[i] + (rows.zLoss?.[i] ?? 0);
  const out: Reduced<Float64Array> = { loss, nll: rows.nll, smoothing: rows.smoothing, denominator };
  if (beta !== null) out.entropy = rows.entropy;
  if (rows.zLoss) out.zLoss = rows.zLoss;
  return out;
}
