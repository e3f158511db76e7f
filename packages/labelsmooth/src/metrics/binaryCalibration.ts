// Calibration of sigmoid outputs (binary and multi-label classifiers, `binaryCrossEntropy` users): the
// positive-class probability p against the 0/1 target, as torchmetrics' `CalibrationError(task="binary")`
// — not the top-label confidence max(p, 1 − p) of the multi-class ECE.
import { fail } from '../core/errors.js';
import { parseIgnoreIndex } from '../core/inputs.js';
import { checkOptions } from '../core/options.js';
import { sigmoid } from '../math/sigmoid.js';
import { binOf } from './binning.js';
import type { CalibrationBin } from './calibration.js';
import { parseBins } from './calibration.js';
import { PROB_FLOOR } from './inputs.js';
import { SmoothEceEstimator, type SmoothReliability } from './smoothEce.js';

/** Result of {@link binaryCalibration}. */
export interface BinaryCalibrationReport {
  /** Predictions scored (targets equal to `ignoreIndex` are left out). */
  count: number;
  /** Predictions left out because their target is `ignoreIndex`. */
  ignored: number;
  /** Fraction with (p > ½) = target. */
  accuracy: number;
  /** Mean binary cross-entropy −[t·log p + (1 − t)·log(1 − p)] (exact from logits). */
  nll: number;
  /** Mean (p − t)². */
  brier: number;
  /** Positive-class ECE: Σ_m |B_m|/n · |mean_{B_m} t − mean_{B_m} p|, bins ((m−1)/M, m/M] of p. */
  ece: number;
  /** Largest |mean t − mean p| over non-empty bins. */
  mce: number;
  /** Smooth ECE of p against t (Błasiok & Nakkiran 2024; = `relplot.smECE(p, t)`). */
  smoothEce: number;
  /** Its bandwidth σ. */
  smoothEceBandwidth: number;
  /** Mean p. */
  meanProbability: number;
  /** Mean t. */
  positiveRate: number;
  /** Reliability bins of p (`accuracy` = fraction of positives in the bin). */
  bins: CalibrationBin[];
  /** With `curves: true`: the smoothed reliability diagram (200 points). */
  smoothReliability?: SmoothReliability;
}

/** Options of {@link binaryCalibration}. */
export interface BinaryCalibrationOptions {
  /** Whether `input` holds logits (sigmoid is applied) or probabilities; default `'logits'`. */
  from?: 'logits' | 'probs';
  /** Number of bins M; default 15. */
  bins?: number;
  /** Targets equal to this are left out; default −100 (as the losses). */
  ignoreIndex?: number;
  /** Add the smoothed reliability diagram; default false. */
  curves?: boolean;
}

/** Flatten N or N×L values (typed array, number[] or number[][]) into one array. */
function flatten(fn: string, name: string, x: unknown): ArrayLike<number> {
  if (ArrayBuffer.isView(x)) return x as unknown as ArrayLike<number>;
  if (!Array.isArray(x)) fail(fn, name, undefined, x, 'expected an array (N or N×L)');
  if (x.length > 0 && Array.isArray(x[0])) {
    const width = (x[0] as unknown[]).length;
    const out: number[] = [];
    x.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== width)
        fail(fn, name, i, row, `row ${i} must be an array of length ${width}`);
      for (const v of row) out.push(v as number);
    });
    return out;
  }
  return x as number[];
}

/**
 * Calibration of binary or multi-label predictions (every output its own binary event): the positive-class
 * probability p = σ(z) (or the given p) against the target t ∈ {0, 1}, binned in ((m−1)/M, m/M] with p = 0
 * in the first bin (torchmetrics' "binary" task, which bins [(m−1)/M, m/M) instead); plus smooth ECE,
 * accuracy at ½, binary cross-entropy and Brier score. Multi-label N×L input is scored as N·L predictions.
 *
 * @param input - logits or probabilities, N or N×L
 * @param target - 0/1 targets of the same shape (or `ignoreIndex`)
 */
export function binaryCalibration(
  input: ArrayLike<number> | readonly (readonly number[])[],
  target: ArrayLike<number> | readonly (readonly number[])[],
  options?: BinaryCalibrationOptions,
): BinaryCalibrationReport {
  const fn = 'binaryCalibration';
  const o = checkOptions<BinaryCalibrationOptions>(fn, options, ['from', 'bins', 'ignoreIndex', 'curves']);
  const from = o.from ?? 'logits';
  if (from !== 'logits' && from !== 'probs')
    fail(fn, 'options.from', undefined, from, "must be 'logits' or 'probs'");
  const m = parseBins(fn, o.bins);
  if (o.curves !== undefined && typeof o.curves !== 'boolean')
    fail(fn, 'options.curves', undefined, o.curves, 'must be true or false');
  const ignoreIndex = parseIgnoreIndex(fn, o.ignoreIndex);
  const x = flatten(fn, 'input', input);
  const t = flatten(fn, 'target', target);
  if (t.length !== x.length)
    fail(fn, 'target', undefined, target, `${t.length} targets for ${x.length} predictions`);
  const { p, y, nll, ignored } = scorePredictions(fn, x, t, from, ignoreIndex);
  const n = p.length;
  if (n === 0) fail(fn, 'target', undefined, target, 'no prediction to score (empty, or all ignoreIndex)');
  const { hits, brier, pSum, tSum, bins, ece, mce } = binaryBins(p, y, m);
  const f = Float64Array.from(p);
  const r = Float64Array.from(p, (pi, i) => pi - y[i]);
  const est = new SmoothEceEstimator(f, r);
  const smooth = est.search();
  const report: BinaryCalibrationReport = {
    count: n,
    ignored,
    accuracy: hits / n,
    nll: nll / n,
    brier: brier / n,
    ece,
    mce,
    smoothEce: smooth.smoothEce,
    smoothEceBandwidth: smooth.bandwidth,
    meanProbability: pSum / n,
    positiveRate: tSum / n,
    bins,
  };
  if (o.curves) report.smoothReliability = est.reliability(smooth.bandwidth, 200);
  return report;
}

/**
 * The scored predictions (ignoreIndex targets left out): p = σ(z) or the given probability, the 0/1
 * targets, the summed binary cross-entropy, and how many were ignored.
 */
function scorePredictions(
  fn: string,
  x: ArrayLike<number>,
  t: ArrayLike<number>,
  from: 'logits' | 'probs',
  ignoreIndex: number,
): { p: number[]; y: number[]; nll: number; ignored: number } {
  const p: number[] = [];
  const y: number[] = [];
  let nll = 0;
  let ignored = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const ti = t[i];
    if (from === 'logits' && !(typeof v === 'number' && Number.isFinite(v)))
      fail(fn, 'input', i, v, 'logit must be finite');
    if (from === 'probs' && !(typeof v === 'number' && v >= 0 && v <= 1))
      fail(fn, 'input', i, v, 'probability must be in [0, 1]');
    if (ti === ignoreIndex) {
      ignored++;
      continue;
    }
    if (ti !== 0 && ti !== 1) fail(fn, 'target', i, ti, `must be 0 or 1 (or ignoreIndex ${ignoreIndex})`);
    if (from === 'logits') {
      p.push(sigmoid(v));
      // softplus(z) − t·z, stably.
      nll += Math.max(v, 0) - ti * v + Math.log1p(Math.exp(-Math.abs(v)));
    } else {
      p.push(v);
      nll -= Math.log(Math.max(ti === 1 ? v : 1 - v, PROB_FLOOR));
    }
    y.push(ti);
  }
  return { p, y, nll, ignored };
}

/** Sums over the predictions (hits at ½, Brier, Σp, Σy) and the M equal-width bins with ECE and MCE. */
function binaryBins(p: number[], y: number[], m: number) {
  const n = p.length;
  const count = new Float64Array(m);
  const posBin = new Float64Array(m);
  const probBin = new Float64Array(m);
  let hits = 0;
  let brier = 0;
  let pSum = 0;
  let tSum = 0;
  for (let i = 0; i < n; i++) {
    const b = binOf(p[i], m);
    count[b]++;
    posBin[b] += y[i];
    probBin[b] += p[i];
    hits += (p[i] > 0.5 ? 1 : 0) === y[i] ? 1 : 0;
    brier += (p[i] - y[i]) ** 2;
    pSum += p[i];
    tSum += y[i];
  }
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < m; b++) {
    const c = count[b];
    const bin: CalibrationBin = { lo: b / m, hi: (b + 1) / m, count: c, accuracy: null, confidence: null };
    if (c > 0) {
      bin.accuracy = posBin[b] / c;
      bin.confidence = probBin[b] / c;
      const gap = Math.abs(bin.accuracy - bin.confidence);
      ece += (c / n) * gap;
      mce = Math.max(mce, gap);
    }
    bins.push(bin);
  }
  return { hits, brier, pSum, tSum, bins, ece, mce };
}
