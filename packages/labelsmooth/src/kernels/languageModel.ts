// The language-model options on the SIMD kernel (assembly/rows.ts, assembly/softcap.ts): logit soft-capping
// z′ = c·tanh(z/c), the z-loss ζ·lse² and the per-row log-sum-exp. The kernel writes each row's lse and the
// gradient with both options in it; the z-loss's part of the loss, ζ·lseᵢ² × the row's weight, is formed
// here from the lse, in row order: the same bits whatever the number of threads.

import type { LanguageModelFields } from './call.js';
import type { KernelPlan } from './plan.js';

/** A call's language-model options in the kernel's form. */
export interface LanguageModelJob {
  /** The soft cap c, or 0 for none. */
  softcap: number;
  /** ζ, or null without a z-loss. */
  zLoss: number | null;
  /** Every row's lse goes here (N): the plan's output array, or one of the job's own for the z-loss. */
  lse: Float64Array;
  /** Whether ignored rows get their lse too (it was asked for); else only the rows the z-loss reads. */
  lseIgnored: boolean;
  /** The z-loss's gradient factor per unit of a row's kernel scale (see {@link languageModelJob}). */
  zFactor: number;
  /** The cross-entropy's gradient factor on a row's kernel scale: 1, or 0 (see {@link languageModelJob}). */
  ceFactor: number;
}

/**
 * The language-model part of a kernel job, or null without these options, and the factor the rows' kernel
 * scale is made of (`scale`). A row's kernel scale is g·rᵢ (g the reduction's factor, rᵢ the row's weight),
 * and the z-loss's gradient h·q_c needs h = 2ζ·lse·rᵢ·zScale = g·rᵢ × (2ζ·zScale/g) × lse. When g is 0 (a
 * mean over rows whose target classes all weigh 0) while zScale is not, the rows' kernel scale is rᵢ
 * instead (`scale` 1), the z-loss factor 2ζ·zScale and the cross-entropy's 0.
 *
 * @param scale the reduction's factor g
 * @param zScale the z-loss's factor (`mean`: 1/the count of rows not ignored), or null without a z-loss
 */
export function languageModelJob(
  plan: KernelPlan,
  scale: number,
  zScale: number | null,
): { lm: LanguageModelJob | null; scale: number } {
  const { softcap, zLoss, lse } = plan;
  if (softcap === null && zLoss === null && lse === null) return { lm: null, scale };
  const twoZeta = zLoss === null ? 0 : 2 * zLoss * (zScale ?? 0);
  const apart = twoZeta !== 0 && scale === 0;
  const lm: LanguageModelJob = {
    softcap: softcap ?? 0,
    zLoss,
    lse: lse ?? new Float64Array(plan.rows),
    lseIgnored: lse !== null,
    zFactor: apart ? twoZeta : twoZeta === 0 ? 0 : twoZeta / scale,
    ceFactor: apart ? 0 : 1,
  };
  return { lm, scale: apart ? 1 : scale };
}

/**
 * The kernel's fields of a job's language-model options: its lse output at byte `lseAt` (row 0's), the
 * exp row of a soft-capped row at `eworkAt` (K + 4 floats, see {@link expRowBytes}).
 */
export function languageModelFields(
  lm: LanguageModelJob | null,
  lseAt: number,
  eworkAt: number,
): LanguageModelFields | null {
  if (!lm) return null;
  const { softcap, zFactor, ceFactor, lseIgnored } = lm;
  return { softcap, zFactor, ceFactor, lse: lseAt, lseIgnored, ework: softcap ? eworkAt : 0 };
}

/** Bytes of a soft-capped row's exp row (K floats and the 16 a vector read may pass its end by). */
export function expRowBytes(k: number): number {
  return 4 * k + 16;
}

/** What {@link kernelZLoss} reads of a kernel job. */
export interface ZLossRows {
  rows: number;
  labels: ArrayLike<number>;
  ignoreIndex: number;
  rowWeight: (i: number) => number;
  unitRows: boolean;
  lm: LanguageModelJob | null;
}

/**
 * The z-loss of the rows the kernel finished (neither ignored nor `declined`, which is ascending):
 * ζ·lseᵢ² × the row's weight into `perRow` (reduction 'none'), else summed in row order and returned.
 * 0 without a z-loss.
 */
export function kernelZLoss(
  job: ZLossRows,
  declined: readonly number[],
  perRow: Float64Array | null,
): number {
  const zeta = job.lm?.zLoss ?? null;
  if (zeta === null) return 0;
  const { rows: n, labels, ignoreIndex, rowWeight, unitRows } = job;
  const lse = job.lm!.lse;
  let d = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (d < declined.length && declined[d] === i) {
      d++;
      continue;
    }
    if (labels[i] === ignoreIndex) continue;
    const part = (unitRows ? 1 : rowWeight(i)) * zeta * lse[i] * lse[i];
    if (perRow) perRow[i] = part;
    else sum += part;
  }
  return sum;
}
