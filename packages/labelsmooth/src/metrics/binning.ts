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

/** Bin index of every value (for metrics that are recomputed on many row weightings). */
export function binIndices(values: Float64Array, m: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = binOf(values[i], m);
  return out;
}

/**
 * Binned ECE from per-row bins and gaps d_i = f_i − y_i with row weights w (null: all 1):
 *
 *     ECE = Σ_m |B_m|/n · |mean_{B_m} y − mean_{B_m} f| = (1/W) Σ_m |Σ_{i ∈ B_m} w_i·d_i|,   W = Σ w_i.
 *
 * @param sums - scratch of length ≥ M (overwritten)
 */
export function binnedEce(
  bins: Int32Array,
  gaps: Float64Array,
  m: number,
  w: Float64Array | null,
  sums: Float64Array = new Float64Array(m),
): number {
  sums.fill(0, 0, m);
  let total = 0;
  for (let i = 0; i < bins.length; i++) {
    const wi = w === null ? 1 : w[i];
    sums[bins[i]] += wi * gaps[i];
    total += wi;
  }
  let s = 0;
  for (let b = 0; b < m; b++) s += Math.abs(sums[b]);
  return s / total;
}
