// Equal-width confidence bins ((m−1)/M, m/M], shared by every binned calibration error.

/**
 * Index b of the bin (b/M, (b+1)/M] holding confidence c, with c = 0 in the first bin (Guo et al. 2017's
 * rule; torchmetrics uses [b/M, (b+1)/M) instead, see the README).
 */
export function binOf(c: number, m: number): number {
  let b = Math.ceil(c * m) - 1;
  // Guard the boundaries against rounding in c·M: the bin must satisfy b/M < c ≤ (b+1)/M.
  if (b >= 0 && c <= b / m) b--;
  else if (c > (b + 1) / m) b++;
  return Math.min(Math.max(b, 0), m - 1);
}

/**
 * Where the bins change in values ordered by bin (confidences sorted either way): run r of equal bins is
 * [runs[r], runs[r + 1]), and the last entry is the length. Only non-empty bins have a run.
 */
export function binRuns(sorted: Float64Array, m: number): Int32Array {
  const runs = [0];
  for (let p = 1; p < sorted.length; p++) if (binOf(sorted[p], m) !== binOf(sorted[p - 1], m)) runs.push(p);
  runs.push(sorted.length);
  return Int32Array.from(runs);
}

/**
 * Binned ECE of rows ordered by confidence, from the runs of {@link binRuns}, gaps d_p = f_p − y_p and row
 * weights w (a resample's multiplicities, or all 1):
 *
 *     ECE = Σ_m |B_m|/n · |mean_{B_m} y − mean_{B_m} f| = (1/W) Σ_m |Σ_{p ∈ B_m} w_p·d_p|,   W = Σ w_p.
 */
export function binnedEce(runs: Int32Array, gaps: Float64Array, w: Float64Array, total: number): number {
  let s = 0;
  for (let r = 0; r + 1 < runs.length; r++) {
    let sum = 0;
    for (let p = runs[r]; p < runs[r + 1]; p++) sum += w[p] * gaps[p];
    s += Math.abs(sum);
  }
  return s / total;
}
