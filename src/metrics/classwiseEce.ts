// Classwise ECE (Kull et al. 2019, "Beyond temperature scaling: Obtaining well-calibrated multiclass
// probabilities with Dirichlet calibration", NeurIPS): every class's probability, binned, against the
// indicator of that class — calibration of the whole vector, not only of the top label.
import { binOf } from './binning.js';

/**
 * Per (row, class) bins and gaps q_ic − [y_i = c], computed once and reused for every row weighting. Most
 * probabilities of a row are small and fall in the first bin, whose sums per class come from the column
 * sums Σ_i w_i·q_ic − Σ_{y_i = c} w_i minus the few entries in the other bins, kept in a sparse list.
 */
export interface ClasswiseRows {
  rows: number;
  classes: number;
  bins: number;
  /** q_ic, N×K row-major (not copied). */
  probs: Float64Array;
  labels: Int32Array;
  /** Entries of row i outside the first bin: positions first[i] .. first[i + 1] − 1 of `cell` and `gap`. */
  first: Int32Array;
  /** c·M + bin of the entry. */
  cell: Int32Array;
  /** q_ic − [y_i = c] of the entry. */
  gap: Float64Array;
}

/** Precompute the bins and gaps of N×K probabilities `probs` against `labels`. */
export function classwiseRows(
  probs: Float64Array,
  labels: Int32Array,
  rows: number,
  classes: number,
  bins: number,
): ClasswiseRows {
  const first = new Int32Array(rows + 1);
  const cells: number[] = [];
  const gaps: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++) {
      const q = probs[i * classes + c];
      const b = binOf(q, bins);
      if (b === 0) continue;
      cells.push(c * bins + b);
      gaps.push(q - (labels[i] === c ? 1 : 0));
    }
    first[i + 1] = cells.length;
  }
  return {
    rows,
    classes,
    bins,
    probs,
    labels,
    first,
    cell: Int32Array.from(cells),
    gap: Float64Array.from(gaps),
  };
}

/**
 * classwise-ECE = (1/K) Σ_c Σ_m |B_cm|/n · |mean_{B_cm} [y = c] − mean_{B_cm} q_c|
 *              = (1/(K·W)) Σ_c Σ_m |Σ_{i ∈ B_cm} w_i (q_ic − [y_i = c])|,
 * with B_cm the rows whose q_ic falls in bin m ((m−1)/M, m/M], 0 in the first), and row weights w (null:
 * all 1, W = N).
 *
 * @param scratch - optional buffer of length ≥ K·M + K
 */
export function classwiseEce(r: ClasswiseRows, w: Float64Array | null, scratch?: Float64Array): number {
  const { rows, classes: k, bins: m, probs, labels, first, cell, gap } = r;
  const sums = scratch ?? new Float64Array(k * m + k);
  sums.fill(0, 0, k * m + k);
  const col = k * m; // sums[col + c] = Σ_i w_i (q_ic − [y_i = c]) over every row
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const wi = w === null ? 1 : w[i];
    if (wi === 0) continue;
    total += wi;
    const base = i * k;
    for (let c = 0; c < k; c++) sums[col + c] += wi * probs[base + c];
    sums[col + labels[i]] -= wi;
    for (let p = first[i]; p < first[i + 1]; p++) sums[cell[p]] += wi * gap[p];
  }
  let s = 0;
  for (let c = 0; c < k; c++) {
    // First bin = everything − the other bins.
    let rest = 0;
    for (let b = 1; b < m; b++) {
      rest += sums[c * m + b];
      s += Math.abs(sums[c * m + b]);
    }
    s += Math.abs(sums[col + c] - rest);
  }
  return s / (k * total);
}
