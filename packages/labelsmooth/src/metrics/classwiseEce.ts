// Classwise ECE (Kull et al. 2019, "Beyond temperature scaling: Obtaining well-calibrated multiclass
// probabilities with Dirichlet calibration", NeurIPS): every class's probability, binned, against the
// indicator of that class — calibration of the whole vector, not only of the top label.
import { binOf } from './binning.js';
import { dot } from './dot.js';

/**
 * Per (row, class) bins and gaps q_ic − [y_i = c], computed once and reused for every row weighting. Most
 * probabilities of a class fall in one bin (the first, unless the model is very unsure), whose sum is the
 * column sum Σ_i w_i·(q_ic − [y_i = c]) minus the sums of the class's other bins; the entries in the other
 * bins are kept in a sparse list grouped by (class, bin), so that each of those sums is one run.
 */
export interface ClasswiseRows {
  rows: number;
  classes: number;
  bins: number;
  /** q_ic − [y_i = c] column by column (K×N): the column sums are K contiguous dot products. */
  columns: Float64Array;
  /** Class of each run of sparse entries. */
  runClass: Int32Array;
  /** Run r holds sparse entries [runStart[r], runStart[r + 1]). */
  runStart: Int32Array;
  /** Row of each sparse entry, grouped by (class, bin), rows ascending within a run. */
  row: Int32Array;
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
  const columns = new Float64Array(rows * classes);
  const cellOf = new Int32Array(rows * classes);
  const count = new Int32Array(classes * bins);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++) {
      const q = probs[i * classes + c];
      columns[c * rows + i] = q - (labels[i] === c ? 1 : 0);
      const cell = c * bins + binOf(q, bins);
      cellOf[i * classes + c] = cell;
      count[cell]++;
    }
  }
  // The fullest bin of each class is left implicit; the others are counting-sorted by cell c·M + b.
  const implicit = new Int32Array(classes);
  for (let c = 0; c < classes; c++) {
    implicit[c] = c * bins;
    for (let b = 1; b < bins; b++) if (count[c * bins + b] > count[implicit[c]]) implicit[c] = c * bins + b;
  }
  const start = new Int32Array(classes * bins + 1);
  for (let cell = 0; cell < classes * bins; cell++)
    start[cell + 1] = start[cell] + (implicit[(cell / bins) | 0] === cell ? 0 : count[cell]);
  const entries = start[classes * bins];
  const row = new Int32Array(entries);
  const gap = new Float64Array(entries);
  const next = start.slice(0, classes * bins);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++) {
      const cell = cellOf[i * classes + c];
      if (implicit[c] === cell) continue;
      const e = next[cell]++;
      row[e] = i;
      gap[e] = columns[c * rows + i];
    }
  }
  const runClass: number[] = [];
  const runStart: number[] = [];
  for (let cell = 0; cell < classes * bins; cell++) {
    if (start[cell + 1] === start[cell]) continue;
    runClass.push((cell / bins) | 0);
    runStart.push(start[cell]);
  }
  runStart.push(entries);
  return {
    rows,
    classes,
    bins,
    columns,
    runClass: Int32Array.from(runClass),
    runStart: Int32Array.from(runStart),
    row,
    gap,
  };
}

/**
 * classwise-ECE = (1/K) Σ_c Σ_m |B_cm|/n · |mean_{B_cm} [y = c] − mean_{B_cm} q_c|
 *              = (1/(K·W)) Σ_c Σ_m |Σ_{i ∈ B_cm} w_i (q_ic − [y_i = c])|,
 * with B_cm the rows whose q_ic falls in bin m ((m−1)/M, m/M], 0 in the first), row weights w (a resample's
 * multiplicities, or all 1) and W = Σ_i w_i.
 *
 * @param scratch - optional buffer of length ≥ K
 */
export function classwiseEce(
  r: ClasswiseRows,
  w: Float64Array,
  total: number,
  scratch?: Float64Array,
): number {
  const { rows, classes: k, columns, runClass, runStart, row, gap } = r;
  const rest = scratch ?? new Float64Array(k); // Σ over the explicit bins of class c
  rest.fill(0, 0, k);
  // Straight loops without a test on w_i = 0: a third of a resample's weights are 0, at random, and the
  // mispredicted branches would cost more than the multiplications they save.
  let s = 0;
  for (let run = 0; run < runClass.length; run++) {
    let sum = 0;
    for (let e = runStart[run]; e < runStart[run + 1]; e++) sum += w[row[e]] * gap[e];
    s += Math.abs(sum);
    rest[runClass[run]] += sum;
  }
  // The implicit bin = everything − the other bins.
  for (let c = 0; c < k; c++) s += Math.abs(dot(w, 0, columns, c * rows, rows) - rest[c]);
  return s / (k * total);
}
