import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { Matrix } from '../core/types.js';
import { binOf } from './binning.js';
import {
  type BootstrapOptions,
  type BootstrapSettings,
  bootstrapIntervals,
  type CalibrationIntervals,
  MetricRows,
  parseBootstrap,
} from './bootstrap.js';
import { riskCoverage } from './riskCoverage.js';
import { type PredictionOptions, scoreRows } from './scores.js';
import type { SmoothReliability } from './smoothEce.js';

/** One confidence bin of a reliability diagram. `accuracy` and `confidence` are null for an empty bin. */
export interface CalibrationBin {
  /** Lower edge of the bin (m−1)/M, excluded (except 0 in the first bin). */
  lo: number;
  /** Upper edge m/M, included. */
  hi: number;
  /** Rows whose confidence falls in the bin. */
  count: number;
  /** Fraction of those rows predicted correctly; null for an empty bin. */
  accuracy: number | null;
  /** Their mean confidence; null for an empty bin. */
  confidence: number | null;
}

/** The risk–coverage curve at (at most) 200 coverages, for plots; `riskCoverage()` gives every point. */
export interface RiskCoverageCurve {
  /** k/N at k = ⌈j·N/200⌉, j = 1..200 (every k when N ≤ 200). */
  coverage: number[];
  /** Error rate among the k most confident rows. */
  risk: number[];
}

/** Calibration and proper-scoring metrics of a classifier's predictions. */
export interface CalibrationReport {
  /** Rows scored (labels equal to `ignoreIndex` are left out). */
  rows: number;
  /** Rows left out because their label is `ignoreIndex`. */
  ignored: number;
  /** Fraction of rows whose argmax (first on ties) is the label. */
  accuracy: number;
  /** Mean −log q_y. */
  nll: number;
  /** Mean Σ_c (q_c − [c = y])² (multi-class Brier score, range [0, 2]). */
  brier: number;
  /** Expected calibration error: Σ_m |B_m|/n · |acc(B_m) − conf(B_m)| over equal-width bins. */
  ece: number;
  /**
   * Debiased ℓ2 calibration error over the same bins (Kumar, Liang & Ma 2019; see `debiasedEce()`):
   * √max(0, Σ_m |B_m|/n · [(acc − conf)² − acc(1 − acc)/(|B_m| − 1)]). Unlike the plug-in ECE it is not
   * biased upward where the error is small.
   */
  debiasedEce: number;
  /** Maximum calibration error: max over non-empty bins of |acc − conf|. */
  mce: number;
  /** Root-mean-square calibration error: √(Σ_m |B_m|/n · (acc − conf)²). */
  rmsce: number;
  /** ECE over equal-mass bins (rows sorted by confidence, split into `bins` groups of ⌊n/M⌋ or ⌈n/M⌉). */
  adaptiveEce: number;
  /** Smooth ECE of top-label confidence vs correctness (Błasiok & Nakkiran 2024; = `relplot.smECE`). */
  smoothEce: number;
  /** Its bandwidth σ, the fixed point smECE_σ = σ (a multiple of 1/1024). */
  smoothEceBandwidth: number;
  /** Mean over classes of the binned ECE of q_c against [y = c] (Kull et al. 2019). */
  classwiseEce: number;
  /** Area under the risk–coverage curve (Geifman & El-Yaniv 2017): lower is better. */
  aurc: number;
  /** Mean top-label confidence max_c q_c. */
  meanConfidence: number;
  /** meanConfidence − accuracy: > 0 over-confident, < 0 under-confident. */
  overconfidence: number;
  /** Mean entropy −Σ q_c log q_c of the predictions (nats). */
  meanEntropy: number;
  /** Equal-width bins for reliability diagrams. */
  bins: CalibrationBin[];
  /** With `curves: true`: the smoothed reliability diagram at σ = smoothEceBandwidth (200 points). */
  smoothReliability?: SmoothReliability;
  /** With `curves: true`: the risk–coverage curve (≤ 200 points). */
  riskCoverage?: RiskCoverageCurve;
  /** With `intervals: true`: percentile bootstrap intervals, `intervals.ece = [lo, hi]`. */
  intervals?: CalibrationIntervals;
  /** With `intervals: true`: the bootstrap's resamples, seed and level. */
  bootstrap?: BootstrapSettings;
}

/** Options of {@link calibration}. */
export interface CalibrationOptions extends PredictionOptions, BootstrapOptions {
  /** K; required for flat typed-array input. */
  classes?: number;
  /** Whether `input` holds logits (softmax is applied) or probabilities; default `'logits'`. */
  from?: 'logits' | 'probs';
  /** Number of confidence bins M (ECE, MCE, RMSCE, adaptive and classwise ECE); default 15. */
  bins?: number;
  /** Rows with this label are left out (after their predictions are checked); default −100, as the losses. */
  ignoreIndex?: number;
  /** Add 95 % (see `level`) percentile bootstrap intervals; default false. */
  intervals?: boolean;
  /** Add the smoothed reliability diagram and the risk–coverage curve; default false. */
  curves?: boolean;
}

const KNOWN = ['classes', 'from', 'bins', 'ignoreIndex', 'intervals', 'resamples', 'seed', 'level', 'curves'];

/** Check `options.bins`: an integer ≥ 1. */
export function parseBins(fn: string, bins: unknown): number {
  const m = bins ?? 15;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1)
    fail(fn, 'options.bins', undefined, m, 'must be an integer ≥ 1');
  return m;
}

/**
 * Calibration of top-label confidence, as in Guo et al. 2017 ("On Calibration of Modern Neural
 * Networks"): confidence = max_c q_c, bins ((m−1)/M, m/M], ECE = Σ_m |B_m|/n·|acc(B_m) − conf(B_m)|,
 * MCE = max_m |acc − conf|, RMSCE the l2 form; plus accuracy, NLL, Brier score, adaptive (equal-mass) ECE,
 * smooth ECE (Błasiok & Nakkiran 2024, relplot's algorithm), classwise ECE (Kull et al. 2019), AURC
 * (Geifman & El-Yaniv 2017), mean confidence, over-confidence and mean entropy; optionally percentile
 * bootstrap intervals and the curves for plots. The README's "Calibration" section gives every definition.
 */
export function calibration(
  input: Matrix,
  labels: ArrayLike<number>,
  options?: CalibrationOptions,
): CalibrationReport {
  const fn = 'calibration';
  const o = checkOptions<CalibrationOptions>(fn, options, KNOWN);
  const m = parseBins(fn, o.bins);
  const settings = parseReportOptions(fn, o);
  const s = scoreRows(fn, input, labels, o);
  const n = s.rows;
  if (settings && n < 2) fail(fn, 'input', undefined, n, 'a bootstrap needs at least 2 scored rows');
  const { acc, confSum, entropy, bins, mce, sq } = binStatistics(s, m);

  const rows = new MetricRows(s, m);
  const point = rows.evaluate(null);
  const smooth = rows.smoothEce();
  const report: CalibrationReport = {
    rows: n,
    ignored: s.ignored,
    accuracy: point.accuracy,
    nll: point.nll,
    brier: point.brier,
    ece: point.ece,
    debiasedEce: point.debiasedEce,
    mce,
    rmsce: Math.sqrt(sq),
    adaptiveEce: adaptiveEce(s.confidence, s.correct, m),
    smoothEce: smooth.smoothEce,
    smoothEceBandwidth: smooth.bandwidth,
    classwiseEce: point.classwiseEce,
    aurc: point.aurc,
    meanConfidence: confSum / n,
    overconfidence: (confSum - acc) / n,
    meanEntropy: entropy / n,
    bins,
  };
  if (o.curves) {
    report.smoothReliability = rows.smooth.reliability(smooth.bandwidth, 200);
    report.riskCoverage = sampleCurve(riskCoverage(s.confidence, s.correct), 200);
  }
  if (settings) {
    report.intervals = bootstrapIntervals(fn, rows, settings);
    report.bootstrap = settings;
  }
  return report;
}

/** `intervals` and `curves` are booleans; the bootstrap's settings only with `intervals` (then parsed). */
function parseReportOptions(fn: string, o: Partial<CalibrationOptions>): BootstrapSettings | undefined {
  for (const key of ['intervals', 'curves'] as const)
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      fail(fn, `options.${key}`, undefined, o[key], 'must be true or false');
  if (!o.intervals)
    for (const key of ['resamples', 'seed', 'level'] as const)
      if (o[key] !== undefined)
        fail(fn, `options.${key}`, undefined, o[key], 'applies to the bootstrap: set intervals: true');
  return o.intervals ? parseBootstrap(fn, o) : undefined;
}

/**
 * The sums over the scored rows (correct, confidence, entropy) and the M equal-width bins: each bin's
 * count, accuracy and confidence, MCE = max |acc − conf| and Σ_m |B_m|/n·(acc − conf)² (RMSCE's square).
 */
function binStatistics(s: ReturnType<typeof scoreRows>, m: number) {
  const n = s.rows;
  let acc = 0;
  let confSum = 0;
  let entropy = 0;
  const count = new Float64Array(m);
  const accBin = new Float64Array(m);
  const confBin = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    acc += s.correct[i];
    confSum += s.confidence[i];
    entropy += s.entropy[i];
    const b = binOf(s.confidence[i], m);
    count[b]++;
    accBin[b] += s.correct[i];
    confBin[b] += s.confidence[i];
  }
  const bins: CalibrationBin[] = [];
  let mce = 0;
  let sq = 0;
  for (let b = 0; b < m; b++) {
    const c = count[b];
    const bin: CalibrationBin = { lo: b / m, hi: (b + 1) / m, count: c, accuracy: null, confidence: null };
    if (c > 0) {
      bin.accuracy = accBin[b] / c;
      bin.confidence = confBin[b] / c;
      const gap = Math.abs(bin.accuracy - bin.confidence);
      sq += (c / n) * gap * gap;
      mce = Math.max(mce, gap);
    }
    bins.push(bin);
  }
  return { acc, confSum, entropy, bins, mce, sq };
}

/** The points k = ⌈j·N/P⌉, j = 1..P, of a curve of N points (all of them when N ≤ P). */
function sampleCurve(c: { coverage: Float64Array; risk: Float64Array }, points: number): RiskCoverageCurve {
  const n = c.coverage.length;
  const coverage: number[] = [];
  const risk: number[] = [];
  const p = Math.min(points, n);
  for (let j = 1; j <= p; j++) {
    const k = Math.ceil((j * n) / p);
    coverage.push(c.coverage[k - 1]);
    risk.push(c.risk[k - 1]);
  }
  return { coverage, risk };
}

/** ECE over M equal-mass bins of the rows sorted by confidence (Nixon et al. 2019, "adaptive ECE"). */
function adaptiveEce(conf: Float64Array, correct: Uint8Array, m: number): number {
  const n = conf.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => conf[a] - conf[b] || a - b);
  let ece = 0;
  for (let b = 0; b < m; b++) {
    const lo = Math.floor((b * n) / m);
    const hi = Math.floor(((b + 1) * n) / m);
    if (hi <= lo) continue;
    let a = 0;
    let c = 0;
    for (let j = lo; j < hi; j++) {
      a += correct[order[j]];
      c += conf[order[j]];
    }
    ece += Math.abs(a - c) / n;
  }
  return ece;
}
