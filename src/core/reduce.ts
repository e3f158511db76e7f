// The reduction shared by the losses (the role of TF.js' computeWeightedLoss): per-row parts in, the
// reported numbers out. Kept apart so that every path — reference, kernel, shards — reduces the same way.
import type { CrossEntropyPlan } from './plan.js';
import type { Reduction } from './types.js';

/** Weighted sums of the two parts of the loss over rows: L = (1−ε)·nll + ε·smoothing. */
export interface PartSums {
  nll: number;
  smoothing: number;
}

/** Per-row parts (reduction 'none'). */
export interface PartRows {
  nll: Float64Array;
  smoothing: Float64Array;
}

/** The reported numbers: scalars, or per-row arrays for reduction 'none'. */
export interface Reduced<T extends number | Float64Array> {
  loss: T;
  nll: T;
  smoothing: T;
  denominator: number;
}

/**
 * The `mean` denominator of crossEntropy: Σᵢ w[yᵢ] over non-ignored rows (per-class weights, PyTorch), the
 * count of non-ignored rows (class indices otherwise), or N (probability targets).
 */
export function meanDenominator(plan: CrossEntropyPlan): number {
  if (plan.target.kind !== 'index') return plan.rows;
  const { labels } = plan.target;
  const w = plan.classWeight;
  let d = 0;
  for (let i = 0; i < plan.rows; i++) {
    const y = labels[i];
    if (y !== plan.ignoreIndex) d += w ? w[y] : 1;
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

/** (1−ε)·nll + ε·smoothing of summed parts, times `scale`. */
export function reduceSums(eps: number, sums: PartSums, scale: number, denominator: number): Reduced<number> {
  return {
    loss: ((1 - eps) * sums.nll + eps * sums.smoothing) * scale,
    nll: sums.nll * scale,
    smoothing: sums.smoothing * scale,
    denominator,
  };
}

/** Per-row (1−ε)·nll + ε·smoothing, unscaled (reduction 'none'). */
export function reduceRows(eps: number, rows: PartRows, denominator: number): Reduced<Float64Array> {
  const loss = new Float64Array(rows.nll.length);
  for (let i = 0; i < loss.length; i++) loss[i] = (1 - eps) * rows.nll[i] + eps * rows.smoothing[i];
  return { loss, nll: rows.nll, smoothing: rows.smoothing, denominator };
}
