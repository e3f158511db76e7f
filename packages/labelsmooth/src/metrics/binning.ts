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
