import { runKernel } from '../kernels/dispatch.js';
import { recordPath } from '../kernels/events.js';
import { fail } from './errors.js';
import { type CrossEntropyPlan, planCrossEntropy } from './plan.js';
import {
  lossScale,
  meanDenominator,
  type PartRows,
  partRows,
  reduceRows,
  reduceSums,
  zLossScale,
} from './reduce.js';
import { referenceRows } from './reference.js';
import type { CrossEntropyOptions, CrossEntropyResult, Matrix, Target } from './types.js';

/**
 * Label-smoothed softmax cross-entropy and its gradient, over typed arrays.
 *
 *     p' = (1−ε)·p + ε·u,   q = softmax(z)
 *     rowᵢ = (1−ε)·H(pᵢ, qᵢ) + ε·H(uᵢ, qᵢ),   dL/dz = Λ·q − λ  (λ_c = weighted p'_c, Λ = Σ λ_c)
 *
 * With the defaults (`noise: 'uniform'`, `weightMode: 'per-class'`, `ignoreIndex: −100`, `reduction: 'mean'`)
 * it equals PyTorch's `F.cross_entropy(z, y, weight, ignore_index, reduction, label_smoothing)`:
 * the nll term of row i is weighted by w[yᵢ], the smoothing term by w[c] per class, and `mean` divides by
 * Σ w[yᵢ] over non-ignored rows. A batch whose rows are all ignored has denominator 0 and, under `mean`,
 * returns loss 0 and a zero gradient (never NaN).
 *
 * The options are validated into a plan (src/core/plan.ts; unknown keys are errors with a suggestion);
 * the plan runs on the WASM SIMD kernel where it applies, else on the float64 reference
 * (src/core/reference.ts), which also recomputes any row the kernel declines. `kernelInfo()` tells which
 * path ran. Inputs are never modified (except the explicit in-place `grad: logits`).
 *
 * References: Szegedy et al. 2016 (label smoothing); Müller, Kornblith & Hinton 2019; PyTorch
 * `torch.nn.functional.cross_entropy`.
 */
export function crossEntropy(
  logits: Matrix,
  target: Target,
  options: CrossEntropyOptions & { reduction: 'none' },
): CrossEntropyResult<Float64Array>;
export function crossEntropy(
  logits: Matrix,
  target: Target,
  options?: CrossEntropyOptions,
): CrossEntropyResult<number>;
export function crossEntropy(
  logits: Matrix,
  target: Target,
  options?: CrossEntropyOptions,
): CrossEntropyResult<number> | CrossEntropyResult<Float64Array> {
  return computeCrossEntropy(planCrossEntropy('crossEntropy', logits, target, options));
}

/** Run a validated plan: kernel or reference, then the reduction. */
export function computeCrossEntropy(
  plan: CrossEntropyPlan,
): CrossEntropyResult<number> | CrossEntropyResult<Float64Array> {
  const denominator = meanDenominator(plan);
  const scale = lossScale(plan.reduction, plan.normalizer, denominator);
  const perRow: PartRows | null = plan.reduction === 'none' ? partRows(plan.rows, plan.zLoss !== null) : null;
  const sums = { nll: 0, smoothing: 0, entropy: 0, zLoss: 0 };
  const kernel = runKernel(plan, scale, perRow, zScale(plan));
  if (kernel.ran) {
    sums.nll = kernel.nll;
    sums.smoothing = kernel.smoothing;
    sums.entropy = kernel.entropy;
    sums.zLoss = kernel.zLoss ?? 0;
    if (kernel.declined.length > 0) referenceRows(plan, scale, sums, perRow, kernel.declined);
  } else {
    if (plan.kernel === 'wasm' && kernel.fallback !== 'float32-range' && kernel.fallback !== 'kernel-error') {
      const why = kernel.fallback === 'wasm-unavailable' ? 'WASM SIMD is not available here' : kernel.reason;
      fail(plan.fn, 'options.kernel', undefined, 'wasm', why);
    }
    referenceRows(plan, scale, sums, perRow);
    recordPath('js', kernel.reason);
  }
  const reduced = perRow
    ? reduceRows(plan.eps, plan.confidencePenalty, perRow, denominator)
    : reduceSums(plan.eps, plan.confidencePenalty, sums, scale, denominator, zScale(plan));
  const result: CrossEntropyResult = reduced;
  if (plan.lse) result.lse = plan.lse;
  if (plan.grad) result.grad = plan.grad;
  return result as CrossEntropyResult<number> | CrossEntropyResult<Float64Array>;
}

/** The z-loss's factor, or null without a z-loss. */
function zScale(plan: CrossEntropyPlan): number | null {
  return plan.zLoss === null ? null : zLossScale(plan);
}
