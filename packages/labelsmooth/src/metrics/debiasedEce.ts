// Debiased calibration error (Kumar, Liang & Ma 2019, "Verified Uncertainty Calibration", NeurIPS, §5).
// The plug-in binned error is biased upward: each bin's gap |mean confidence − accuracy| carries the
// sampling noise of its accuracy, and noise only ever widens a gap. For the squared (ℓ2) error that bias
// has a closed form per bin, so it can be subtracted; the ℓ1 ECE has none.
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { binOf } from './binning.js';

/** The debiased ℓ2 calibration error of {@link debiasedEce}. */
export interface DebiasedEce {
  /** √max(0, `squared`): on the scale of the ECE. */
  debiasedEce: number;
  /** The debiased estimate of the squared ℓ2 error (it can be < 0 when the error is small). */
  squared: number;
  /** The plug-in squared ℓ2 error Σ_m |B_m|/n · (conf_m − acc_m)² (RMSCE²), for comparison. */
  plugIn: number;
}

/** Options of {@link debiasedEce}. */
export interface DebiasedEceOptions {
  /** Number of equal-width confidence bins M; default 15 (the bins of `calibration()`'s ECE). */
  bins?: number;
}

/** Per-bin sums of a (weighted) sample: Σw, Σw·(f − y), Σw·y. */
export interface BinSums {
  count: number;
  gap: number;
  hits: number;
}

/**
 * One bin's term n_m·[(conf_m − acc_m)² − acc_m(1 − acc_m)/(n_m − 1)] of n·ĉ² (0 for n_m < 2, as in the
 * authors' `unbiased_square_ce`): acc_m(1 − acc_m)/(n_m − 1) is the unbiased estimate of Var(acc_m), by
 * which E(conf_m − acc_m)² exceeds the true squared gap. Takes the bin's sums: Σw, Σw·(f − y), Σw·y.
 */
export function debiasedBinTerm(count: number, gap: number, hits: number): number {
  if (count < 2) return 0;
  const acc = hits / count;
  return count * ((gap / count) ** 2 - (acc * (1 - acc)) / (count - 1));
}

/** The debiased squared error ĉ² from per-bin sums over a sample of total weight n. */
export function debiasedSquare(bins: readonly BinSums[], n: number): number {
  let sum = 0;
  for (const { count, gap, hits } of bins) sum += debiasedBinTerm(count, gap, hits);
  return sum / n;
}

/**
 * Debiased ℓ2 calibration error of top-label (or binary) predictions, Kumar, Liang & Ma 2019 ("Verified
 * Uncertainty Calibration", NeurIPS; `calibration.get_calibration_error(..., debias=True)` of their
 * library, here on equal-width bins ((m−1)/M, m/M]):
 *
 *   ĉ² = Σ_m (n_m/n) · [ (conf_m − acc_m)² − acc_m(1 − acc_m)/(n_m − 1) ],  reported as √max(0, ĉ²),
 *
 * with conf_m, acc_m the mean confidence and outcome of bin m and n_m its rows (bins with fewer than 2 rows
 * contribute 0). The subtracted term removes the upward bias of the plug-in estimate (RMSCE²), which is
 * largest where the error is small: the estimate stays near the true error when the plug-in ECE does not.
 * It is an ℓ2 error, ≥ the ℓ1 ECE's population value by Jensen's inequality, not the same quantity.
 *
 * @param confidence - f_i in [0, 1] (for multi-class predictions: max_c q_c)
 * @param outcome - y_i ∈ {0, 1} (1 = correct / positive)
 * @param options - `bins` (default 15)
 */
export function debiasedEce(
  confidence: ArrayLike<number>,
  outcome: ArrayLike<number>,
  options?: DebiasedEceOptions,
): DebiasedEce {
  const fn = 'debiasedEce';
  const o = checkOptions<DebiasedEceOptions>(fn, options, ['bins']);
  const m = o.bins ?? 15;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1)
    fail(fn, 'options.bins', undefined, m, 'must be an integer ≥ 1');
  const n = checkPairs(fn, confidence, outcome);
  const bins: BinSums[] = Array.from({ length: m }, () => ({ count: 0, gap: 0, hits: 0 }));
  let plugIn = 0;
  for (let i = 0; i < n; i++) {
    const b = bins[binOf(confidence[i], m)];
    b.count++;
    b.gap += confidence[i] - outcome[i];
    b.hits += outcome[i];
  }
  for (const b of bins) if (b.count > 0) plugIn += (b.count / n) * (b.gap / b.count) ** 2;
  const squared = debiasedSquare(bins, n);
  return { debiasedEce: Math.sqrt(Math.max(0, squared)), squared, plugIn };
}

/** Equal lengths, at least one row, confidences in [0, 1], outcomes 0 or 1; returns the length. */
function checkPairs(fn: string, f: ArrayLike<number>, y: ArrayLike<number>): number {
  if (!(ArrayBuffer.isView(f) || Array.isArray(f)))
    fail(fn, 'confidence', undefined, f, 'expected an array of numbers in [0, 1]');
  if (!(ArrayBuffer.isView(y) || Array.isArray(y)))
    fail(fn, 'outcome', undefined, y, 'expected an array of 0s and 1s');
  if (f.length === 0) fail(fn, 'confidence', undefined, f, 'needs at least one value');
  if (y.length !== f.length)
    fail(fn, 'outcome', undefined, y, `length ${y.length} does not match the ${f.length} confidences`);
  for (let i = 0; i < f.length; i++) {
    const fi = f[i];
    if (!(typeof fi === 'number' && fi >= 0 && fi <= 1)) fail(fn, 'confidence', i, fi, 'must be in [0, 1]');
    if (y[i] !== 0 && y[i] !== 1) fail(fn, 'outcome', i, y[i], 'must be 0 or 1');
  }
  return f.length;
}
