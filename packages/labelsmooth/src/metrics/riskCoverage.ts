// Selective classification: the risk–coverage curve and its area (Geifman & El-Yaniv 2017, "Selective
// Classification for Deep Neural Networks"; AURC as in Geifman et al. 2019, "Bias-Reduced Uncertainty
// Estimation for Deep Neural Classifiers"). Label smoothing can hurt it at equal accuracy (Xia et al.,
// ICLR 2025), which ECE does not show.
import { fail } from '../core/errors.js';

/** The risk–coverage curve of {@link riskCoverage}. */
export interface RiskCoverage {
  /** k/N for k = 1..N. */
  coverage: Float64Array;
  /** Error rate among the k most confident rows. */
  risk: Float64Array;
  /** Area under the curve: mean of `risk` (0 = perfect; the error rate if confidence is uninformative). */
  aurc: number;
}

/** Rows by confidence, descending; equal confidences keep their order (a stable sort). */
export function confidenceOrder(confidence: Float64Array): Int32Array {
  const order = Array.from({ length: confidence.length }, (_, i) => i);
  order.sort((a, b) => confidence[b] - confidence[a] || a - b);
  return Int32Array.from(order);
}

/** H_k = Σ_{j=1..k} 1/j for k = 0..n. */
export function harmonicNumbers(n: number): Float64Array {
  const h = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) h[k] = h[k - 1] + 1 / k;
  return h;
}

/**
 * The risk–coverage curve of a selective classifier that abstains on its least confident rows: sort by
 * confidence, descending (stable for ties), risk at coverage k/N = errors among the first k divided by k,
 * AURC = mean risk over k = 1..N (Geifman & El-Yaniv 2017).
 *
 * @param confidence - N confidences (any real scores; higher = keep first)
 * @param correct - N outcomes, 1 = correct, 0 = error
 */
export function riskCoverage(confidence: ArrayLike<number>, correct: ArrayLike<number>): RiskCoverage {
  const fn = 'riskCoverage';
  const n = confidence.length;
  if (n === 0) fail(fn, 'confidence', undefined, confidence, 'needs at least one value');
  if (correct.length !== n)
    fail(fn, 'correct', undefined, correct, `length ${correct.length} does not match the ${n} confidences`);
  const conf = new Float64Array(n);
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = confidence[i];
    if (!(typeof c === 'number' && Number.isFinite(c))) fail(fn, 'confidence', i, c, 'must be finite');
    if (correct[i] !== 0 && correct[i] !== 1) fail(fn, 'correct', i, correct[i], 'must be 0 or 1');
    conf[i] = c;
    ok[i] = correct[i];
  }
  const order = confidenceOrder(conf);
  const coverage = new Float64Array(n);
  const risk = new Float64Array(n);
  let errors = 0;
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    errors += 1 - ok[order[k - 1]];
    coverage[k - 1] = k / n;
    risk[k - 1] = errors / k;
    sum += risk[k - 1];
  }
  return { coverage, risk, aurc: sum / n };
}
