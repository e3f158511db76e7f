import { fail } from '../core/errors.js';
import { parseClasses, parseMatrix } from '../core/inputs.js';
import { checkOptions } from '../core/options.js';
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
 * on held-out logits. Accuracy is unchanged. In β = 1/T the NLL is convex,
 *
 *     NLL(β) = mean_i [ log Σ_c exp(β·z_ic) − β·z_iy ],   NLL'(β) = mean_i (E_q[z_i] − z_iy),
 *     NLL''(β) = mean_i Var_q(z_i) ≥ 0,
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

  // NLL and its first two derivatives at β, one pass over the logits.
  const evaluate = (beta: number) => {
    let f = 0;
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const base = i * k;
      let m = -Infinity;
      for (let c = 0; c < k; c++) m = Math.max(m, data[base + c]);
      let s = 0;
      let ez = 0;
      let ez2 = 0;
      for (let c = 0; c < k; c++) {
        const d = data[base + c] - m;
        const e = Math.exp(beta * d);
        s += e;
        ez += e * d;
        ez2 += e * d * d;
      }
      const mean = ez / s;
      const dy = data[base + y[i]] - m;
      f += Math.log(s) - beta * dy;
      g += mean - dy;
      h += ez2 / s - mean * mean;
    }
    return { f: f / n, g: g / n, h: h / n };
  };

  let lo = 1 / tMax;
  let hi = 1 / tMin;
  let beta: number;
  if (evaluate(lo).g >= 0) beta = lo;
  else if (evaluate(hi).g <= 0) beta = hi;
  else {
    beta = Math.min(Math.max(1, lo), hi);
    for (let iter = 0; iter < 200 && hi - lo > 1e-12 * hi; iter++) {
      const { g, h } = evaluate(beta);
      if (g > 0) hi = beta;
      else lo = beta;
      if (g === 0) break;
      const newton = beta - g / h;
      beta = h > 0 && newton > lo && newton < hi ? newton : (lo + hi) / 2;
    }
  }
  return { temperature: 1 / beta, nllBefore: evaluate(1).f, nllAfter: evaluate(beta).f };
}
