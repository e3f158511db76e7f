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
  /** q_ic column by column (K×N): Σ_i w_i·q_ic is then K contiguous dot products. */
  columns: Float64Array;
  labels: Int32Array;
  /** Row of each entry outside the first bin. */
  row: Int32Array;
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
  const row: number[] = [];
  const cells: number[] = [];
  const gaps: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++) {
      const q = probs[i * classes + c];
      const b = binOf(q, bins);
      if (b === 0) continue;
      row.push(i);
      cells.push(c * bins + b);
      gaps.push(q - (labels[i] === c ? 1 : 0));
    }
  }
  const columns = new Float64Array(rows * classes);
  for (let i = 0; i < rows; i++)
    for (let c = 0; c < classes; c++) columns[c * rows + i] = probs[i * classes + c];
  return {
    rows,
    classes,
    bins,
    columns,
    labels,
    row: Int32Array.from(row),
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
  const { rows, classes: k, bins: m, columns, labels, row, cell, gap } = r;
  const sums = scratch ?? new Float64Array(k * m + k);
  sums.fill(0, 0, k * m + k);
  const col = k * m; // sums[col + c] = Σ_i w_i (q_ic − [y_i = c]) over every row
  // Straight loops without a test on w_i = 0: a third of a resample's weights are 0, at random, and the
  // mispredicted branches would cost more than the multiplications they save.
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const wi = w === null ? 1 : w[i];
    total += wi;
    sums[col + labels[i]] -= wi;
  }
  for (let p = 0; p < cell.length; p++) sums[cell[p]] += (w === null ? 1 : w[row[p]]) * gap[p];
  for (let c = 0; c < k; c++) sums[col + c] += weightedSum(columns, c * rows, rows, w);
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

/** Σ_i w_i·x[offset + i] (w null: all 1), with four partial sums to break the dependency chain. */
function weightedSum(x: Float64Array, offset: number, n: number, w: Float64Array | null): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  if (w === null) {
    for (; i < n; i++) s0 += x[offset + i];
    return s0;
  }
  for (; i + 3 < n; i += 4) {
    s0 += w[i] * x[offset + i];
    s1 += w[i + 1] * x[offset + i + 1];
    s2 += w[i + 2] * x[offset + i + 2];
    s3 += w[i + 3] * x[offset + i + 3];
  }
  for (; i < n; i++) s0 += w[i] * x[offset + i];
  return s0 + s1 + (s2 + s3);
}
