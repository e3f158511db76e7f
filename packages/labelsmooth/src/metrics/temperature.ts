import { fail } from '../core/errors.js';
import { parseClasses, parseMatrix } from '../core/inputs.js';
import { checkOptions } from '../core/options.js';
import { rowMax, softmaxRow } from '../core/softmax.js';
import type { Matrix } from '../core/types.js';
import { parseLabels } from './inputs.js';

/** Result of {@link fitTemperature}. */
export interface TemperatureFit {
  /** T > 0 minimizing the mean NLL of softmax(z/T). */
  temperature: number;
  /** Mean NLL at T = 1. */
  nllBefore: number;
  /** Mean NLL at the fitted T. */
  nllAfter: number;
}

/** Options of {@link fitTemperature}. */
export interface TemperatureOptions {
  /** K; required for flat typed-array logits. */
  classes?: number;
  /** Search range of T; default [1e−3, 1e3]. The optimum is clamped into it (e.g. separable data → min). */
  range?: [number, number];
}

/**
 * Post-hoc temperature scaling (Guo et al. 2017): the T > 0 that minimizes the mean NLL of softmax(z/T)
 * on held-out logits. Accuracy is unchanged. In θ = 1/T (the inverse temperature) the NLL is convex,
 *
 *     NLL(θ) = mean_i [ log Σ_c exp(θ·z_ic) − θ·z_iy ],   NLL'(θ) = mean_i (E_q[z_i] − z_iy),
 *     NLL''(θ) = mean_i Var_q(z_i) ≥ 0,   q = softmax(θ·z_i),
 *
 * so the root of NLL' is found by Newton steps safeguarded by bisection: deterministic, no learning rate.
 */
export function fitTemperature(
  logits: Matrix,
  labels: ArrayLike<number>,
  options?: TemperatureOptions,
): TemperatureFit {
  const fn = 'fitTemperature';
  const o = checkOptions<TemperatureOptions>(fn, options, ['classes', 'range']);
  const { data, rows: n, classes: k } = parseMatrix(fn, 'logits', logits, parseClasses(fn, o.classes));
  if (n === 0) fail(fn, 'logits', undefined, logits, 'needs at least one row');
  const y = parseLabels(fn, labels, n, k);
  for (let j = 0; j < data.length; j++) {
    const v = data[j];
    if (!(v > -Infinity && v < Infinity))
      fail(fn, 'logits', j, v, `must be finite (row ${Math.floor(j / k)}, class ${j % k})`);
  }
  const range: unknown = o.range ?? [1e-3, 1e3];
  if (!Array.isArray(range) || range.length !== 2)
    fail(fn, 'options.range', undefined, range, 'must be [min, max] with 0 < min < max < Infinity');
  const [tMin, tMax] = range as [unknown, unknown];
  if (typeof tMin !== 'number' || typeof tMax !== 'number' || !(tMin > 0 && tMax > tMin && tMax < Infinity))
    fail(fn, 'options.range', undefined, range, 'must be [min, max] with 0 < min < max < Infinity');

  // NLL and its first two derivatives at θ = 1/T, one softmax per row: with d_c = z_c − m and
  // q = softmax(θ·z), NLL = log Σ_c exp(θ·d_c) − θ·d_y, NLL' = E_q[d] − d_y, NLL'' = E_q[d²] − E_q[d]².
  const q = new Float64Array(k);
  const evaluate = (theta: number) => {
    let f = 0;
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const base = i * k;
      const m = rowMax(data, base, k);
      const s = softmaxRow(data, base, k, q, 1 / theta);
      let mean = 0;
      let square = 0;
      for (let c = 0; c < k; c++) {
        const d = data[base + c] - m;
        mean += q[c] * d;
        square += q[c] * d * d;
      }
      const dy = data[base + y[i]] - m;
      f += Math.log(s) - theta * dy;
      g += mean - dy;
      h += square - mean * mean;
    }
    return { f: f / n, g: g / n, h: h / n };
  };

  let lo = 1 / tMax;
  let hi = 1 / tMin;
  let theta: number;
  if (evaluate(lo).g >= 0) theta = lo;
  else if (evaluate(hi).g <= 0) theta = hi;
  else {
    theta = Math.min(Math.max(1, lo), hi);
    for (let iter = 0; iter < 200 && hi - lo > 1e-12 * hi; iter++) {
      const { g, h } = evaluate(theta);
      if (g > 0) hi = theta;
      else lo = theta;
      if (g === 0) break;
      const newton = theta - g / h;
      theta = h > 0 && newton > lo && newton < hi ? newton : (lo + hi) / 2;
    }
  }
  return { temperature: 1 / theta, nllBefore: evaluate(1).f, nllAfter: evaluate(theta).f };
}
