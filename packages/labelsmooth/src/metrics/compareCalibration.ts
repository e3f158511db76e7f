// Paired bootstrap comparison of two prediction sets on the same test rows: the same resampled rows for
// both, so the interval of the difference reflects the models' difference, not the test set's sampling
// noise twice (Efron & Tibshirani 1993; e.g. ε = 0 vs ε = 0.1 on one test set).
import { fail, LabelSmoothingError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { Matrix } from '../core/types.js';
import {
  BOOTSTRAP_METRICS,
  type BootstrapMetric,
  type BootstrapOptions,
  type BootstrapSettings,
  bootstrapReplicates,
  type Interval,
  MetricRows,
  parseBootstrap,
  percentileInterval,
} from './bootstrap.js';
import { parseBins } from './calibration.js';
import { type PredictionOptions, scoreRows } from './scores.js';

/** One metric of a comparison: both values, their difference a − b and its paired bootstrap interval. */
export interface MetricDifference {
  /** The metric of prediction set a. */
  a: number;
  /** The metric of prediction set b. */
  b: number;
  /** a − b. */
  difference: number;
  /** Percentile interval of a − b over the paired resamples. */
  interval: Interval;
  /** True when the interval lies entirely above 0 or entirely below 0. */
  excludesZero: boolean;
}

/** Result of {@link compareCalibration}. */
export interface CalibrationComparison {
  /** Rows compared (rows labelled `ignoreIndex` are left out of both). */
  rows: number;
  /** The bootstrap's resamples, seed and level. */
  bootstrap: BootstrapSettings;
  /** accuracy, nll, brier, ece, smoothEce, classwiseEce, aurc: `metrics.ece.difference` etc. */
  metrics: Record<BootstrapMetric, MetricDifference>;
}

/** Options of {@link compareCalibration}. */
export interface CompareOptions extends PredictionOptions, BootstrapOptions {
  /** K; required for flat typed-array input. */
  classes?: number;
  /** What both `a` and `b` hold; default `'logits'`. */
  from?: 'logits' | 'probs';
  /** Confidence bins M of the binned metrics; default 15. */
  bins?: number;
  /** Rows with this label are left out of both sets; default −100. */
  ignoreIndex?: number;
  /** B; default 1000. */
  resamples?: number;
  /** Default 0. */
  seed?: number;
  /** Default 0.95. */
  level?: number;
}

const KNOWN = ['classes', 'from', 'bins', 'ignoreIndex', 'resamples', 'seed', 'level'];

/**
 * Paired percentile bootstrap of the difference between two prediction sets on the same labels: every
 * resample draws N row indices with replacement and evaluates both sets on those same rows; the interval of
 * metric(a) − metric(b) is the (1 ± level)/2 percentiles of the B differences. `excludesZero` says whether
 * the difference is distinguishable from 0 at that level.
 *
 * @param a - N×K logits or probabilities (e.g. the ε = 0 model)
 * @param b - N×K logits or probabilities of the same rows (e.g. the ε = 0.1 model)
 * @param labels - N class indices
 */
export function compareCalibration(
  a: Matrix,
  b: Matrix,
  labels: ArrayLike<number>,
  options?: CompareOptions,
): CalibrationComparison {
  const fn = 'compareCalibration';
  const o = checkOptions<CompareOptions>(fn, options, KNOWN);
  const m = parseBins(fn, o.bins);
  const settings = parseBootstrap(fn, o);
  // Problems in a prediction set are reported under its own name (`a` or `b`), not scoreRows' `input`.
  const score = (name: 'a' | 'b', input: Matrix) => {
    try {
      return scoreRows(fn, input, labels, o);
    } catch (e) {
      if (e instanceof LabelSmoothingError && e.argument === 'input')
        fail(fn, name, e.index, e.value, e.problem);
      throw e;
    }
  };
  const sa = score('a', a);
  const sb = score('b', b);
  if (sb.classes !== sa.classes)
    fail(fn, 'b', undefined, b, `has ${sb.classes} classes but a has ${sa.classes}`);
  const ra = new MetricRows(sa, m);
  const rb = new MetricRows(sb, m);
  const reps = bootstrapReplicates(fn, sa.rows, settings, (w) => {
    const va = ra.evaluate(w);
    const vb = rb.evaluate(w);
    const d = {} as Record<BootstrapMetric, number>;
    for (const k of BOOTSTRAP_METRICS) d[k] = va[k] - vb[k];
    return d;
  });
  const pa = ra.evaluate(null);
  const pb = rb.evaluate(null);
  const metrics = {} as Record<BootstrapMetric, MetricDifference>;
  for (const k of BOOTSTRAP_METRICS) {
    const interval = percentileInterval(reps[k], settings.level);
    metrics[k] = {
      a: pa[k],
      b: pb[k],
      difference: pa[k] - pb[k],
      interval,
      excludesZero: interval[0] > 0 || interval[1] < 0,
    };
  }
  return { rows: sa.rows, bootstrap: settings, metrics };
}
