// The per-row terms the GPU programs write, and what TF.js ops make of them — the reduction and the row
// coefficients of the gradient — on the same backend, so nothing is read back. With r = the row's weight
// (sampleWeight × the per-example weight), z′ the soft-capped logits and v_c = w_c·u_c:
//     loss  = ((1−ε)·Σ r·nll + ε·Σ r·smoothing)·scale + ζ·Σ r·lse²·zScale
//     dL/dz′ = sᵢ·q_c − aᵢ·λ_c,   aᵢ = dy·scale·r,   sᵢ = aᵢ·Λᵢ + dy·zScale·2ζ·r·lse
// where scale = 1/Σ w[y] (`mean`), 1/normalizer or 1, and zScale the same with the count of rows that are
// not ignored in place of Σ w[y].
import * as tf from '@tensorflow/tfjs-core';
import type { GpuPlan } from '../gpu/plan.js';

/** Columns of the [N, ROW_TERM_COUNT] terms: every one 0 on ignored rows but lse, NaN on invalid labels. */
export const TERM = {
  /** lse = log Σ_c exp(z′_c) over the allowed classes (every row). */
  lse: 0,
  /** r·w_y·(lse − z′_y). */
  nll: 1,
  /** r·Σ_c v_c·(lse − z′_c) (non-target: without the target's). */
  smoothing: 2,
  /** Λ = (1−ε)·w_y + ε·Σ_c v_c, the sum of the gradient's targets λ_c (without r). */
  gammaSum: 3,
  /** The row's part of the `mean` denominator: w_y (1 without per-class weights). */
  denominator: 4,
  /** 1: the row counts (is not ignored). */
  counted: 5,
  /** r·lse². */
  zLoss: 6,
  /** r. */
  weight: 7,
} as const;

/** How many terms per row. */
export const ROW_TERM_COUNT = 8;

/** The column `j` of the terms, [N]. */
function column(terms: tf.Tensor, j: number): tf.Tensor {
  const n = terms.shape[0];
  return tf.reshape(tf.slice(terms, [0, j], [n, 1]), [n]);
}

/** scale and zScale as scalars (see the file's comment); `sums` = the terms summed over rows. */
function scales(plan: GpuPlan, sums: tf.Tensor): { scale: tf.Tensor; zScale: tf.Tensor } {
  if (plan.normalizer !== undefined) {
    const s = tf.scalar(1 / plan.normalizer);
    return { scale: s, zScale: s };
  }
  if (plan.reduction !== 'mean') return { scale: tf.scalar(1), zScale: tf.scalar(1) };
  const one = tf.scalar(1);
  // 1/0 → 0: an all-ignored batch gives loss 0 and a zero gradient (never NaN)
  return {
    scale: tf.divNoNan(one, tf.slice(sums, [TERM.denominator], [1])),
    zScale: tf.divNoNan(one, tf.slice(sums, [TERM.counted], [1])),
  };
}

/** The loss: a scalar, or [N] per row for reduction 'none'. */
export function lossFromTerms(plan: GpuPlan, terms: tf.Tensor): tf.Tensor {
  const { eps } = plan;
  const zeta = plan.zLoss ?? 0;
  if (plan.reduction === 'none') {
    const ce = tf.add(tf.mul(column(terms, TERM.nll), 1 - eps), tf.mul(column(terms, TERM.smoothing), eps));
    return zeta ? tf.add(ce, tf.mul(column(terms, TERM.zLoss), zeta)) : ce;
  }
  const sums = tf.sum(terms, 0);
  const { scale, zScale } = scales(plan, sums);
  const at = (j: number) => tf.slice(sums, [j], [1]);
  const ce = tf.mul(tf.add(tf.mul(at(TERM.nll), 1 - eps), tf.mul(at(TERM.smoothing), eps)), scale);
  const loss = zeta ? tf.add(ce, tf.mul(tf.mul(at(TERM.zLoss), zeta), zScale)) : ce;
  return tf.reshape(loss, []);
}

/** The gradient's row coefficients [N, 3] = (s, a, lse) for the upstream gradient dy (scalar or [N]). */
export function gradientCoefficients(plan: GpuPlan, terms: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  const { scale, zScale } =
    plan.reduction === 'none'
      ? { scale: tf.scalar(1), zScale: tf.scalar(1) }
      : scales(plan, tf.sum(terms, 0));
  const up = plan.reduction === 'none' ? tf.reshape(dy, [plan.rows]) : tf.reshape(dy, [1]);
  const r = column(terms, TERM.weight);
  const lse = column(terms, TERM.lse);
  const a = tf.mul(tf.mul(up, scale), r);
  let qScale = tf.mul(a, column(terms, TERM.gammaSum));
  const zeta = plan.zLoss ?? 0;
  if (zeta) qScale = tf.add(qScale, tf.mul(tf.mul(tf.mul(up, zScale), r), tf.mul(lse, 2 * zeta)));
  return tf.stack([qScale, a, lse], 1);
}
