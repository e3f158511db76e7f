import { fail } from '../core/errors.js';
import type { Matrix } from '../core/types.js';
import { parsePredictions } from './inputs.js';

/** One confidence bin of a reliability diagram. `accuracy` and `confidence` are null for an empty bin. */
export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  accuracy: number | null;
  confidence: number | null;
}

/** Calibration and proper-scoring metrics of a classifier's predictions. */
export interface CalibrationReport {
  /** Fraction of rows whose argmax (first on ties) is the label. */
  accuracy: number;
  /** Mean −log q_y. */
  nll: number;
  /** Mean Σ_c (q_c − [c = y])² (multi-class Brier score, range [0, 2]). */
  brier: number;
  /** Expected calibration error: Σ_m |B_m|/n · |acc(B_m) − conf(B_m)| over equal-width bins. */
  ece: number;
  /** Maximum calibration error: max over non-empty bins of |acc − conf|. */
  mce: number;
  /** Root-mean-square calibration error: √(Σ_m |B_m|/n · (acc − conf)²). */
  rmsce: number;
  /** ECE over equal-mass bins (rows sorted by confidence, split into `bins` groups of ⌊n/M⌋ or ⌈n/M⌉). */
  adaptiveEce: number;
  /** Mean top-label confidence max_c q_c. */
  meanConfidence: number;
  /** meanConfidence − accuracy: > 0 over-confident, < 0 under-confident. */
  overconfidence: number;
  /** Mean entropy −Σ q_c log q_c of the predictions (nats). */
  meanEntropy: number;
  /** Equal-width bins for reliability diagrams. */
  bins: CalibrationBin[];
}

/** Options of {@link calibration}. */
export interface CalibrationOptions {
  /** K; required for flat typed-array input. */
  classes?: number;
  /** Whether `input` holds logits (softmax is applied) or probabilities; default `'logits'`. */
  from?: 'logits' | 'probs';
  /** Number of confidence bins M; default 15 (Guo et al. 2017, torchmetrics). */
  bins?: number;
}

/**
 * Calibration of top-label confidence, as in Guo et al. 2017 ("On Calibration of Modern Neural
 * Networks"): confidence = max_c q_c, bins ((m−1)/M, m/M], ECE = Σ_m |B_m|/n·|acc(B_m) − conf(B_m)|,
 * MCE = max_m |acc − conf|, RMSCE the l2 form; plus accuracy, NLL, Brier score, adaptive (equal-mass) ECE,
 * mean confidence, over-confidence and mean entropy. Agrees with torchmetrics' `CalibrationError`.
 */
export function calibration(
  input: Matrix,
  labels: ArrayLike<number>,
  options: CalibrationOptions = {},
): CalibrationReport {
  const fn = 'calibration';
  const m = options.bins ?? 15;
  if (!Number.isInteger(m) || m < 1) fail(fn, 'options.bins', undefined, m, 'must be an integer ≥ 1');
  const p = parsePredictions(fn, input, labels, options.classes, options.from ?? 'logits');
  const { rows: n, classes: k, probs } = p;
  if (n === 0) fail(fn, 'input', undefined, input, 'needs at least one row');

  const conf = new Float64Array(n);
  const correct = new Uint8Array(n);
  let acc = 0;
  let nll = 0;
  let brier = 0;
  let entropy = 0;
  let confSum = 0;
  for (let i = 0; i < n; i++) {
    const base = i * k;
    const best = p.pred[i];
    let h = 0;
    let b = 0;
    for (let c = 0; c < k; c++) {
      const q = probs[base + c];
      if (q > 0) h -= q * Math.log(q);
      const d = q - (c === p.labels[i] ? 1 : 0);
      b += d * d;
    }
    conf[i] = probs[base + best];
    correct[i] = best === p.labels[i] ? 1 : 0;
    acc += correct[i];
    confSum += conf[i];
    nll += p.nll[i];
    brier += b;
    entropy += h;
  }

  const bins: CalibrationBin[] = [];
  const count = new Float64Array(m);
  const accBin = new Float64Array(m);
  const confBin = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const b = binOf(conf[i], m);
    count[b]++;
    accBin[b] += correct[i];
    confBin[b] += conf[i];
  }
  let ece = 0;
  let mce = 0;
  let sq = 0;
  for (let b = 0; b < m; b++) {
    const c = count[b];
    const bin: CalibrationBin = { lo: b / m, hi: (b + 1) / m, count: c, accuracy: null, confidence: null };
    if (c > 0) {
      bin.accuracy = accBin[b] / c;
      bin.confidence = confBin[b] / c;
      const gap = Math.abs(bin.accuracy - bin.confidence);
      ece += (c / n) * gap;
      sq += (c / n) * gap * gap;
      mce = Math.max(mce, gap);
    }
    bins.push(bin);
  }

  return {
    accuracy: acc / n,
    nll: nll / n,
    brier: brier / n,
    ece,
    mce,
    rmsce: Math.sqrt(sq),
    adaptiveEce: adaptiveEce(conf, correct, m),
    meanConfidence: confSum / n,
    overconfidence: (confSum - acc) / n,
    meanEntropy: entropy / n,
    bins,
  };
}

/** Index of the bin ((b)/M, (b+1)/M] holding confidence c (c = 0 goes to the first bin). */
function binOf(c: number, m: number): number {
  let b = Math.ceil(c * m) - 1;
  // Guard the boundaries against rounding in c·M: the bin must satisfy b/M < c ≤ (b+1)/M.
  if (b >= 0 && c <= b / m) b--;
  else if (c > (b + 1) / m) b++;
  return Math.min(Math.max(b, 0), m - 1);
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
