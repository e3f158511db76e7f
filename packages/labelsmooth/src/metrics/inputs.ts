// Validation shared by the calibration functions: predictions as an N×K matrix and class labels.
import { fail } from '../core/errors.js';
import { parseClasses, parseMatrix, SUM_TOLERANCE } from '../core/inputs.js';
import { softmaxRow } from '../core/softmax.js';
import type { Matrix } from '../core/types.js';

/** Parsed predictions: row-major probabilities (float64), the logits when given, and labels. */
export interface Predictions {
  rows: number;
  classes: number;
  /** softmax(z) or the given probabilities, N×K. */
  probs: Float64Array;
  /** −log q_y per row: exact from logits (lse − z_y), from probabilities −log max(q_y, 1e−15). */
  nll: Float64Array;
  labels: ArrayLike<number>;
  /** argmax of the input row (first on ties), taken on the logits when given: exact where softmax rounds. */
  pred: Int32Array;
}

/** Smallest probability used in −log q_y when predictions are probabilities (a 0 would give +∞). */
export const PROB_FLOOR = 1e-15;

/** Class indices: `rows` integers in [0, classes). */
export function parseLabels(fn: string, labels: unknown, rows: number, classes: number): ArrayLike<number> {
  if (!(ArrayBuffer.isView(labels) || Array.isArray(labels)))
    fail(fn, 'labels', undefined, labels, 'expected an array of class indices');
  const a = labels as ArrayLike<number>;
  if (a.length !== rows)
    fail(
      fn,
      'labels',
      undefined,
      labels,
      `length ${a.length} does not match the ${rows} rows of the predictions`,
    );
  for (let i = 0; i < rows; i++) {
    const y = a[i];
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= classes) {
      fail(fn, 'labels', i, y, `must be an integer class index in [0, ${classes})`);
    }
  }
  return a;
}

/** Read logits (softmax, stably) or probabilities (checked: finite, ≥ 0, rows sum to 1 ± 1e−4). */
export function parsePredictions(
  fn: string,
  input: Matrix,
  labels: ArrayLike<number>,
  classes: number | undefined,
  from: 'logits' | 'probs',
): Predictions {
  if (from !== 'logits' && from !== 'probs')
    fail(fn, 'options.from', undefined, from, "must be 'logits' or 'probs'");
  const flat = parseMatrix(fn, 'input', input, parseClasses(fn, classes));
  const { rows, classes: k, data } = flat;
  const y = parseLabels(fn, labels, rows, k);
  const probs = new Float64Array(rows * k);
  const nll = new Float64Array(rows);
  const pred = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const base = i * k;
    if (from === 'logits') {
      let m = -Infinity;
      for (let c = 0; c < k; c++) {
        const v = data[base + c];
        if (!(v > -Infinity && v < Infinity))
          fail(fn, 'input', base + c, v, `logit must be finite (row ${i}, class ${c})`);
        if (v > m) {
          m = v;
          pred[i] = c;
        }
      }
      const s = softmaxRow(data, base, k, probs.subarray(base, base + k));
      nll[i] = Math.log(s) - (data[base + y[i]] - m);
    } else {
      let s = 0;
      for (let c = 0; c < k; c++) {
        const v = data[base + c];
        if (!(v >= 0 && v <= 1))
          fail(fn, 'input', base + c, v, `probability must be in [0, 1] (row ${i}, class ${c})`);
        probs[base + c] = v;
        if (v > probs[base + pred[i]]) pred[i] = c;
        s += v;
      }
      if (Math.abs(s - 1) > SUM_TOLERANCE)
        fail(fn, 'input', i, s, `row ${i} of probabilities must sum to 1 (±${SUM_TOLERANCE})`);
      nll[i] = -Math.log(Math.max(probs[base + y[i]], PROB_FLOOR));
    }
  }
  return { rows, classes: k, probs, nll, labels: y, pred };
}
