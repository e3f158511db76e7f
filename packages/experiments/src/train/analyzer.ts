// The calibration metrics of the library (smooth ECE, risk–coverage, bootstrap intervals, paired
// bootstrap differences) as the experiments' Analyzer: what a run's results carry beyond point estimates.
import {
  BOOTSTRAP_METRICS,
  calibration,
  compareCalibration,
  mulberry32,
  smoothReliability,
  sumExp,
} from 'labelsmooth';
import type { Analyzer, ModelAnalysis, PairedAnalysis } from './analysis.js';

/** Resamples of every bootstrap (the library's default) and its seed: runs stay deterministic. */
export const ANALYSIS_RESAMPLES = 1000;
const SEED = 0;
/** Resamples of the smooth reliability curve's band (each costs one smoothing of N points). */
export const BAND_RESAMPLES = 200;

/** Top-label confidence max_c q_c and correctness [argmax = y] of each row of N×K logits. */
export function topLabel(logits: Float32Array, labels: Int32Array, classes: number) {
  const n = labels.length;
  const confidence = new Float64Array(n);
  const correct = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let best = 0;
    for (let c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
    confidence[i] = 1 / sumExp(row, 0, classes, row[best]); // max_c q_c = exp(0)/s
    correct[i] = best === labels[i] ? 1 : 0;
  }
  return { confidence, correct };
}

/**
 * The 95 % band of the smooth reliability curve: percentiles 2.5 and 97.5, at each mesh point, of the curve
 * recomputed on {@link BAND_RESAMPLES} bootstrap resamples of the rows at the full sample's bandwidth σ
 * (seeded, so runs stay deterministic).
 */
export function reliabilityBand(
  confidence: Float64Array,
  correct: Float64Array,
  bandwidth: number,
  points: number,
): { lo: number[]; hi: number[] } {
  const n = confidence.length;
  const random = mulberry32(SEED + 1);
  const curves: number[][] = [];
  const f = new Float64Array(n);
  const y = new Float64Array(n);
  for (let b = 0; b < BAND_RESAMPLES; b++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      f[i] = confidence[j];
      y[i] = correct[j];
    }
    curves.push(smoothReliability(f, y, { bandwidth, points }).curve);
  }
  const lo: number[] = [];
  const hi: number[] = [];
  for (let t = 0; t < points; t++) {
    const at = curves.map((c) => c[t]).sort((a, b) => a - b);
    lo.push(at[Math.floor(0.025 * (at.length - 1))]);
    hi.push(at[Math.ceil(0.975 * (at.length - 1))]);
  }
  return { lo, hi };
}

/**
 * One model: smooth ECE with its reliability curve, the curve's 95 % bootstrap band and the density, the
 * risk–coverage curve and AURC, and (with `intervals`) 95 % percentile-bootstrap intervals over test rows
 * of accuracy, NLL, Brier, ECE, smooth ECE, classwise ECE and AURC.
 */
export function analyzeModel(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
  intervals = true,
): ModelAnalysis {
  const r = calibration(logits, labels, {
    classes,
    curves: true,
    ...(intervals ? { intervals: true, resamples: ANALYSIS_RESAMPLES, seed: SEED } : {}),
  });
  const s = r.smoothReliability!;
  const rc = r.riskCoverage!;
  const { confidence, correct } = topLabel(logits, labels, classes);
  const band = reliabilityBand(confidence, correct, s.bandwidth, s.mesh.length);
  const out: ModelAnalysis = {
    smoothEce: {
      value: r.smoothEce,
      curve: s.mesh.map((t, j) => ({
        t,
        accuracy: s.curve[j],
        lo: band.lo[j],
        hi: band.hi[j],
        density: s.density[j],
      })),
    },
    aurc: r.aurc,
    riskCoverage: rc.coverage.map((coverage, j) => ({ coverage, risk: rc.risk[j] })),
  };
  if (r.intervals) out.intervals = r.intervals;
  return out;
}

/**
 * Paired bootstrap of b − a on the same test rows (the same resampled indices for both), per metric. The
 * library reports a − b; the report reads "b changed the metric by …", so the sign is turned here.
 */
export function pairedDifferences(
  a: Float32Array,
  b: Float32Array,
  labels: Int32Array,
  classes: number,
): PairedAnalysis['differences'] {
  const c = compareCalibration(a, b, labels, { classes, resamples: ANALYSIS_RESAMPLES, seed: SEED });
  const out: PairedAnalysis['differences'] = {};
  for (const m of BOOTSTRAP_METRICS) {
    const d = c.metrics[m];
    out[m] = { difference: -d.difference, interval: [-d.interval[1], -d.interval[0]] };
  }
  return out;
}

/**
 * The analyzer of the training commands. A model's test-row intervals are left out: the reports' intervals
 * are over seeds (each seed its own split), and the paired test-row bootstrap of every comparison stays.
 */
export const METRICS_ANALYZER: Analyzer = {
  model: (logits, labels, classes) => analyzeModel(logits, labels, classes, false),
  paired: pairedDifferences,
};
