// The calibration metrics of the library (smooth ECE, risk–coverage, bootstrap intervals, paired
// bootstrap differences) as the experiments' Analyzer: what a run's results carry beyond point estimates.
import { BOOTSTRAP_METRICS, calibration, compareCalibration } from 'labelsmooth';
import type { Analyzer, ModelAnalysis, PairedAnalysis } from './analysis.js';

/** Resamples of every bootstrap (the library's default) and its seed: runs stay deterministic. */
export const ANALYSIS_RESAMPLES = 1000;
const SEED = 0;

/**
 * One model: smooth ECE with its reliability curve and density, the risk–coverage curve and AURC, and 95 %
 * percentile-bootstrap intervals of accuracy, NLL, Brier, ECE, smooth ECE, classwise ECE and AURC.
 */
export function analyzeModel(logits: Float32Array, labels: Int32Array, classes: number): ModelAnalysis {
  const r = calibration(logits, labels, {
    classes,
    curves: true,
    intervals: true,
    resamples: ANALYSIS_RESAMPLES,
    seed: SEED,
  });
  const s = r.smoothReliability!;
  const rc = r.riskCoverage!;
  return {
    smoothEce: {
      value: r.smoothEce,
      curve: s.mesh.map((t, j) => ({ t, accuracy: s.curve[j], density: s.density[j] })),
    },
    aurc: r.aurc,
    riskCoverage: rc.coverage.map((coverage, j) => ({ coverage, risk: rc.risk[j] })),
    intervals: r.intervals,
  };
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

/** The analyzer every command uses. */
export const METRICS_ANALYZER: Analyzer = { model: analyzeModel, paired: pairedDifferences };
