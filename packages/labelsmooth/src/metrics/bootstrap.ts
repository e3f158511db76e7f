// Percentile bootstrap (Efron & Tibshirani 1993, ch. 13) of the calibration metrics. A resample draws N
// rows with replacement; it is represented by the multiplicity w_i of every row, so each metric is a
// weighted sum over per-row quantities computed once (softmax, bins, sort order, smECE grids), never a
// recomputation from the predictions.
import { fail } from '../core/errors.js';
import { binRuns } from './binning.js';
import { type ClasswiseRows, classwiseEce, classwiseRows } from './classwiseEce.js';
import { debiasedBinTerm } from './debiasedEce.js';
import { confidenceOrder, harmonicNumbers } from './riskCoverage.js';
import type { RowScores } from './scores.js';
import { type SmoothEce, SmoothEceEstimator } from './smoothEce.js';

/** The metrics that get bootstrap intervals, in the order of the report. */
export const BOOTSTRAP_METRICS = [
  'accuracy',
  'nll',
  'brier',
  'ece',
  'debiasedEce',
  'smoothEce',
  'classwiseEce',
  'aurc',
] as const;

/** A metric with a bootstrap interval. */
export type BootstrapMetric = (typeof BOOTSTRAP_METRICS)[number];

/** [lower, upper] percentile bounds. */
export type Interval = [number, number];

/** One interval per metric: `intervals.ece = [lo, hi]`. */
export type CalibrationIntervals = Record<BootstrapMetric, Interval>;

/** How the intervals were made (so that a run can be repeated). */
export interface BootstrapSettings {
  /** B, the number of resamples. */
  resamples: number;
  /** Seed of the mulberry32 generator that draws the rows. */
  seed: number;
  /** Coverage of the interval, e.g. 0.95 → the 2.5th and 97.5th percentiles. */
  level: number;
}

/** Options of the bootstrap, shared by `calibration` and `compareCalibration`. */
export interface BootstrapOptions {
  /** B; default 1000. */
  resamples?: number;
  /** Default 0. */
  seed?: number;
  /** Default 0.95. */
  level?: number;
}

/** Validate the bootstrap options. */
export function parseBootstrap(fn: string, o: BootstrapOptions): BootstrapSettings {
  const resamples = o.resamples ?? 1000;
  const seed = o.seed ?? 0;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1)
    fail(fn, 'options.resamples', undefined, resamples, 'must be an integer ≥ 1');
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    fail(fn, 'options.seed', undefined, seed, 'must be an integer in [0, 2³²)');
  if (!(typeof level === 'number' && level > 0 && level < 1))
    fail(fn, 'options.level', undefined, level, 'must be a number in (0, 1)');
  return { resamples, seed, level };
}

/**
 * Per-row quantities of one prediction set, computed once, and the bootstrap metrics as functions of row
 * weights. The rows are kept in confidence order (descending, stable: the AURC order), so that every metric
 * is a pass over consecutive memory: AURC walks the rows as stored, each ECE bin and each smECE grid cell is a
 * run of consecutive rows.
 */
export class MetricRows {
  readonly rows: number;
  /** The input row at each position. */
  private readonly order: Int32Array;
  private readonly correct: Uint8Array;
  private readonly nll: Float64Array;
  private readonly brier: Float64Array;
  /** Top-label confidence minus correctness. */
  private readonly topGap: Float64Array;
  /** The top-label ECE bins as runs of positions. */
  private readonly topRuns: Int32Array;
  private readonly classwise: ClasswiseRows;
  private readonly harmonic: Float64Array;
  /** relplot's smECE machinery on (confidence, confidence − correct), shared by all weightings. */
  readonly smooth: SmoothEceEstimator;
  /** The weights of the current evaluation, in confidence order. */
  private readonly weights: Float64Array;
  private readonly scratch: Float64Array;
  private point: SmoothEce | undefined;
  /** smECE and σ of the last {@link evaluate} (for tests and diagnostics). */
  lastSmoothEce: SmoothEce | undefined;

  constructor(s: RowScores, bins: number) {
    const n = s.rows;
    const k = s.classes;
    this.rows = n;
    this.order = confidenceOrder(s.confidence);
    const confidence = new Float64Array(n);
    this.correct = new Uint8Array(n);
    this.nll = new Float64Array(n);
    this.brier = new Float64Array(n);
    this.topGap = new Float64Array(n);
    const probs = new Float64Array(n * k);
    const labels = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      const i = this.order[p];
      confidence[p] = s.confidence[i];
      this.correct[p] = s.correct[i];
      this.nll[p] = s.nll[i];
      this.brier[p] = s.brier[i];
      this.topGap[p] = s.confidence[i] - s.correct[i];
      probs.set(s.probs.subarray(i * k, (i + 1) * k), p * k);
      labels[p] = s.labels[i];
    }
    this.topRuns = binRuns(confidence, bins);
    this.classwise = classwiseRows(probs, labels, n, k, bins);
    this.harmonic = harmonicNumbers(n);
    this.smooth = new SmoothEceEstimator(confidence, this.topGap);
    this.weights = new Float64Array(n);
    this.scratch = new Float64Array(k);
  }

  /** smECE and its bandwidth on the rows as given (computed once). */
  smoothEce(): SmoothEce {
    this.point ??= this.smooth.search(null);
    return this.point;
  }

  /**
   * Every bootstrap metric for row weights w, indexed like the input rows: a resample's multiplicities
   * (non-negative integers summing to N, as AURC's copies need), or null for each row once (the point
   * estimate).
   */
  evaluate(w: Float64Array | null): Record<BootstrapMetric, number> {
    const { correct, nll, brier, order, topGap, topRuns, harmonic } = this;
    const v = this.weights;
    // One pass over the rows in confidence order: gather the weights, then accuracy, NLL, Brier, the ECE of
    // each bin (a run of rows) and AURC. AURC = (1/N) Σ_{k=1..N} risk(k) with integer weights: a row of
    // weight c stands for c consecutive copies; with E errors among the first k rows, c copies of a row with
    // error e ∈ {0, 1} add Σ_{j=1..c} (E + e·j)/(k + j) = E·(H_{k+c} − H_k) + e·(c − k·(H_{k+c} − H_k)),
    // H the harmonic numbers. Equal confidences keep the input order, as in riskCoverage().
    let total = 0;
    let hits = 0;
    let logLoss = 0;
    let squares = 0;
    let ece = 0;
    let debiased = 0;
    let errors = 0;
    let area = 0;
    for (let run = 0; run + 1 < topRuns.length; run++) {
      let bin = 0;
      let binRows = 0;
      let binHits = 0;
      for (let p = topRuns[run]; p < topRuns[run + 1]; p++) {
        const copies = w === null ? 1 : w[order[p]];
        v[p] = copies;
        const e = 1 - correct[p];
        const dh = harmonic[total + copies] - harmonic[total];
        area += errors * dh + e * (copies - total * dh);
        errors += e * copies;
        total += copies;
        hits += copies * correct[p];
        logLoss += copies * nll[p];
        squares += copies * brier[p];
        bin += copies * topGap[p];
        binRows += copies;
        binHits += copies * correct[p];
      }
      ece += Math.abs(bin);
      debiased += debiasedBinTerm(binRows, bin, binHits);
    }
    const smooth = w === null ? this.smoothEce() : this.smooth.searchNear(this.smoothEce().bandwidth, v);
    this.lastSmoothEce = smooth;
    return {
      accuracy: hits / total,
      nll: logLoss / total,
      brier: squares / total,
      // Binned ECE = Σ_m |B_m|/n · |mean_{B_m} y − mean_{B_m} f| = (1/W) Σ_m |Σ_{i ∈ B_m} w_i·(f_i − y_i)|.
      ece: ece / total,
      // Kumar et al. 2019's debiased ℓ2 error (debiasedEce.ts); a resample's duplicated rows count as rows.
      debiasedEce: Math.sqrt(Math.max(0, debiased / total)),
      smoothEce: smooth.smoothEce,
      classwiseEce: classwiseEce(this.classwise, v, total, this.scratch),
      aurc: area / total,
    };
  }
}

/**
 * The bootstrap's row draws: mulberry32's stream (the same numbers as `mulberry32(seed)`), drawn in bulk.
 * A resample draws N rows, row ⌊u·N⌋ for each of N uniforms u = x/2³², and keeps their multiplicities.
 * The generator is inlined (same operations, same numbers) because a closure call per draw took two thirds
 * of the time.
 */
export class Resampler {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Overwrite w (length N) with the multiplicities of the next resample of N rows. */
  draw(w: Float64Array): void {
    const n = w.length;
    w.fill(0);
    let a = this.state;
    for (let j = 0; j < n; j++) {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      w[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)]++;
    }
    this.state = a >>> 0;
  }
}

/** numpy's default (linear) percentile of sorted values at p in [0, 1]. */
function percentile(sorted: Float64Array, p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** The percentile interval [q_{(1−level)/2}, q_{(1+level)/2}] of bootstrap replicates. */
export function percentileInterval(values: Float64Array, level: number): Interval {
  const sorted = Float64Array.from(values).sort();
  return [percentile(sorted, (1 - level) / 2), percentile(sorted, (1 + level) / 2)];
}

/**
 * Bootstrap replicates of `statistic`, a function of the resample's row multiplicities that returns one
 * number per metric. All sets share the same drawn rows (paired), which is what makes a difference between
 * two prediction sets on one test set meaningful.
 */
export function bootstrapReplicates(
  fn: string,
  rows: number,
  settings: BootstrapSettings,
  statistic: (w: Float64Array) => Record<BootstrapMetric, number>,
): Record<BootstrapMetric, Float64Array> {
  if (rows < 2) fail(fn, 'input', undefined, rows, 'a bootstrap needs at least 2 rows');
  const draws = new Resampler(settings.seed);
  const w = new Float64Array(rows);
  const out = {} as Record<BootstrapMetric, Float64Array>;
  for (const m of BOOTSTRAP_METRICS) out[m] = new Float64Array(settings.resamples);
  for (let b = 0; b < settings.resamples; b++) {
    draws.draw(w);
    const v = statistic(w);
    for (const m of BOOTSTRAP_METRICS) out[m][b] = v[m];
  }
  return out;
}

/** Percentile intervals of every metric of one prediction set. */
export function bootstrapIntervals(
  fn: string,
  rows: MetricRows,
  settings: BootstrapSettings,
): CalibrationIntervals {
  const reps = bootstrapReplicates(fn, rows.rows, settings, (w) => rows.evaluate(w));
  const out = {} as CalibrationIntervals;
  for (const m of BOOTSTRAP_METRICS) out[m] = percentileInterval(reps[m], settings.level);
  return out;
}
