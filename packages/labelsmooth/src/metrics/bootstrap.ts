// Percentile bootstrap (Efron & Tibshirani 1993, ch. 13) of the calibration metrics. A resample draws N
// rows with replacement; it is represented by the multiplicity w_i of every row, so each metric is a
// weighted sum over per-row quantities computed once (softmax, bins, sort order, smECE grids), never a
// recomputation from the predictions.
import { fail } from '../core/errors.js';
import { mulberry32 } from '../random/mulberry32.js';
import { binIndices, binnedEce } from './binning.js';
import { type ClasswiseRows, classwiseEce, classwiseRows } from './classwiseEce.js';
import { aurc, confidenceOrder, harmonicNumbers } from './riskCoverage.js';
import type { RowScores } from './scores.js';
import { type SmoothEce, SmoothEceEstimator } from './smoothEce.js';

/** The metrics that get bootstrap intervals, in the order of the report. */
export const BOOTSTRAP_METRICS = [
  'accuracy',
  'nll',
  'brier',
  'ece',
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

/** Per-row quantities of one prediction set and the metrics as functions of row weights. */
export class MetricRows {
  readonly rows: number;
  private readonly s: RowScores;
  private readonly bins: number;
  private readonly topBin: Int32Array;
  private readonly topGap: Float64Array;
  private readonly classwise: ClasswiseRows;
  private readonly order: Int32Array;
  private readonly harmonic: Float64Array;
  /** relplot's smECE machinery on (confidence, confidence − correct), shared by all weightings. */
  readonly smooth: SmoothEceEstimator;
  private readonly scratch: Float64Array;
  private point: SmoothEce | undefined;

  constructor(s: RowScores, bins: number) {
    this.s = s;
    this.rows = s.rows;
    this.bins = bins;
    this.topBin = binIndices(s.confidence, bins);
    this.topGap = new Float64Array(s.rows);
    for (let i = 0; i < s.rows; i++) this.topGap[i] = s.confidence[i] - s.correct[i];
    this.classwise = classwiseRows(s.probs, s.labels, s.rows, s.classes, bins);
    this.order = confidenceOrder(s.confidence);
    this.harmonic = harmonicNumbers(s.rows);
    this.smooth = new SmoothEceEstimator(s.confidence, this.topGap);
    this.scratch = new Float64Array(s.classes * bins + s.classes);
  }

  /** smECE and its bandwidth on the rows as given (computed once). */
  smoothEce(): SmoothEce {
    this.point ??= this.smooth.search(null);
    return this.point;
  }

  /** Every bootstrap metric for row weights w (null: each row once, the point estimate). */
  evaluate(w: Float64Array | null): Record<BootstrapMetric, number> {
    const { correct, nll, brier } = this.s;
    const n = this.rows;
    let total = 0;
    let hits = 0;
    let logLoss = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const wi = w === null ? 1 : w[i];
      total += wi;
      hits += wi * correct[i];
      logLoss += wi * nll[i];
      squares += wi * brier[i];
    }
    return {
      accuracy: hits / total,
      nll: logLoss / total,
      brier: squares / total,
      ece: binnedEce(this.topBin, this.topGap, this.bins, w, this.scratch),
      smoothEce: (w === null ? this.smoothEce() : this.smooth.searchNear(this.smoothEce().bandwidth, w))
        .smoothEce,
      classwiseEce: classwiseEce(this.classwise, w, this.scratch),
      aurc: aurc(this.order, correct, w, this.harmonic),
    };
  }
}

/** Draw one resample of n rows with replacement as multiplicities (w is overwritten). */
export function resample(next: () => number, w: Float64Array): void {
  const n = w.length;
  w.fill(0);
  for (let j = 0; j < n; j++) w[Math.floor(next() * n)]++;
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
  const next = mulberry32(settings.seed);
  const w = new Float64Array(rows);
  const out = {} as Record<BootstrapMetric, Float64Array>;
  for (const m of BOOTSTRAP_METRICS) out[m] = new Float64Array(settings.resamples);
  for (let b = 0; b < settings.resamples; b++) {
    resample(next, w);
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
