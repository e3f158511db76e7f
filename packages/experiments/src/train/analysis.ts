// The shapes of the calibration results that the experiments and the report consume. Only
// types live here: the numbers come from src/metrics (smoothEce, riskCoverage, bootstrap,
// compareCalibration), plugged in through `Analyzer` (analyzer.ts).
import { BOOTSTRAP_METRICS, type BootstrapMetric } from 'labelsmooth';

/** A 95 % interval [lo, hi] (percentile bootstrap over test rows). */
export type Interval = [number, number];

/** Metrics that carry a bootstrap interval: the library's bootstrap metrics. */
export const INTERVAL_METRICS = BOOTSTRAP_METRICS;
/** One of {@link INTERVAL_METRICS}. */
export type IntervalMetric = BootstrapMetric;

/** One point of the smooth-ECE reliability curve (Błasiok & Nakkiran 2024): at confidence t, the
 * kernel-smoothed accuracy E[y | f = t], its band, and the kernel density of the confidences. */
export interface SmoothCurvePoint {
  t: number;
  accuracy: number;
  lo?: number;
  hi?: number;
  density?: number;
}

/** Risk of the k most confident predictions against coverage k/N (Geifman & El-Yaniv 2017). */
export interface RiskCoveragePoint {
  coverage: number;
  risk: number;
}

/** What the calibration metrics add to one model's test predictions. */
export interface ModelAnalysis {
  /** Smooth ECE and its reliability curve. */
  smoothEce?: { value: number; curve: SmoothCurvePoint[] };
  /** Area under the risk–coverage curve, and the curve. */
  aurc?: number;
  riskCoverage?: RiskCoveragePoint[];
  /** 95 % intervals of the metrics (whichever were computed). */
  intervals?: Partial<Record<IntervalMetric, Interval>>;
}

/** A paired bootstrap difference b − a on the same test rows: its point value and 95 % interval. */
export interface Difference {
  difference: number;
  interval: Interval;
}

/** Paired differences of two models (b − a) on the same test set, one seed. */
export interface PairedAnalysis {
  a: string;
  b: string;
  seed: number;
  differences: Partial<Record<IntervalMetric, Difference>>;
}

/** Where the metrics plug in: one model's analysis, and the paired comparison of two models. */
export interface Analyzer {
  model(logits: Float32Array, labels: Int32Array, classes: number): ModelAnalysis;
  paired(
    a: Float32Array,
    b: Float32Array,
    labels: Int32Array,
    classes: number,
  ): PairedAnalysis['differences'];
}
