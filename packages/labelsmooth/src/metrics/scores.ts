// Per-row quantities of a multi-class prediction set, computed once: every aggregate metric (and every
// bootstrap resample of it) is a weighted sum over these, so the softmax is never recomputed.
import { fail, LabelSmoothingError } from '../core/errors.js';
import { parseIgnoreIndex } from '../core/inputs.js';
import type { Matrix } from '../core/types.js';
import { parsePredictions } from './inputs.js';

/** The rows that count (label ≠ ignoreIndex), with their per-row scores. */
export interface RowScores {
  /** N: rows kept. */
  rows: number;
  /** Rows dropped because their label is `ignoreIndex`. */
  ignored: number;
  classes: number;
  /** q = softmax(z) or the given probabilities of the kept rows, N×K row-major. */
  probs: Float64Array;
  labels: Int32Array;
  /** Top-label confidence max_c q_c. */
  confidence: Float64Array;
  /** 1 when the argmax (first on ties; on the logits when given) is the label. */
  correct: Uint8Array;
  /** −log q_y (exact from logits; from probabilities floored at 1e−15). */
  nll: Float64Array;
  /** Σ_c (q_c − [c = y])². */
  brier: Float64Array;
  /** −Σ_c q_c log q_c. */
  entropy: Float64Array;
}

/** Options shared by the multi-class metrics for reading predictions. */
export interface PredictionOptions {
  classes?: number;
  from?: 'logits' | 'probs';
  ignoreIndex?: number;
}

/**
 * Parse N×K logits or probabilities and labels (rows labelled `ignoreIndex`, default −100, are dropped after
 * their predictions are validated) and compute the per-row scores.
 */
export function scoreRows(
  fn: string,
  input: Matrix,
  labels: ArrayLike<number>,
  o: PredictionOptions,
): RowScores {
  const ignoreIndex = parseIgnoreIndex(fn, o.ignoreIndex);
  if (!(ArrayBuffer.isView(labels) || Array.isArray(labels)))
    fail(fn, 'labels', undefined, labels, 'expected an array of class indices');
  // Ignored rows get label 0 for the parse, which still checks their predictions (finite, sums to 1).
  const keep = new Uint8Array(labels.length);
  const parsedLabels = Array.from(labels, (y, i) => {
    keep[i] = y === ignoreIndex ? 0 : 1;
    return keep[i] ? y : 0;
  });
  let p: ReturnType<typeof parsePredictions>;
  try {
    p = parsePredictions(fn, input, parsedLabels, o.classes, o.from ?? 'logits');
  } catch (e) {
    if (e instanceof LabelSmoothingError && e.argument === 'labels') {
      if (e.index !== undefined)
        fail(fn, 'labels', e.index, e.value, `${e.problem} and not ignoreIndex (${ignoreIndex})`);
      fail(fn, 'labels', undefined, labels, e.problem); // the caller's array, not our copy
    }
    throw e;
  }
  const { classes: k } = p;
  let n = 0;
  for (let i = 0; i < p.rows; i++) n += keep[i];
  if (p.rows === 0) fail(fn, 'input', undefined, input, 'needs at least one row');
  if (n === 0)
    fail(
      fn,
      'labels',
      undefined,
      labels,
      `every row is labelled ignoreIndex (${ignoreIndex}): no row to score`,
    );
  const s: RowScores = {
    rows: n,
    ignored: p.rows - n,
    classes: k,
    probs: new Float64Array(n * k),
    labels: new Int32Array(n),
    confidence: new Float64Array(n),
    correct: new Uint8Array(n),
    nll: new Float64Array(n),
    brier: new Float64Array(n),
    entropy: new Float64Array(n),
  };
  for (let i = 0, j = 0; i < p.rows; i++) {
    if (!keep[i]) continue;
    const y = parsedLabels[i];
    let h = 0;
    let b = 0;
    for (let c = 0; c < k; c++) {
      const q = p.probs[i * k + c];
      s.probs[j * k + c] = q;
      if (q > 0) h -= q * Math.log(q);
      const d = q - (c === y ? 1 : 0);
      b += d * d;
    }
    s.labels[j] = y;
    s.confidence[j] = p.probs[i * k + p.pred[i]];
    s.correct[j] = p.pred[i] === y ? 1 : 0;
    s.nll[j] = p.nll[i];
    s.brier[j] = b;
    s.entropy[j] = h;
    j++;
  }
  return s;
}
