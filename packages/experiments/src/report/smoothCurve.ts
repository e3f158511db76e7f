// Which part of a smooth-ECE reliability curve (Błasiok & Nakkiran 2024) a chart draws, and how faded.
import type { SmoothCurvePoint } from '../train/analysis.js';

/** The curve is drawn where its kernel average rests on at least this many examples (see below). */
export const MIN_EFFECTIVE_EXAMPLES = 10;

/** relplot's smallest bandwidth: σ is never taken below it. */
const MIN_BANDWIDTH = 0.001;

/** One drawn piece of the curve, from t to t2, with its band and opacity. */
export interface CurveSegment {
  t: number;
  t2: number;
  accuracy: number;
  accuracy2: number;
  lo: number;
  hi: number;
  /** 0.12 + 0.88·√(p/p_max), the reliability bars' fading by count. */
  alpha: number;
}

/** What the drawing needs to know besides the curve. */
export interface CurveContext {
  /** K. */
  classes?: number;
  /** N, the test examples the curve was estimated from. */
  examples?: number;
  /** σ, the kernel bandwidth (the smECE fixed point: smECE_σ = σ). */
  bandwidth?: number;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/**
 * Effective number of examples behind the curve at a point of density p: the curve is a Nadaraya–Watson
 * average of correctness with Gaussian weights K_σ(t − f_i), whose effective sample size (Σ K)²/Σ K² is
 * ≈ N·p(t)·2σ√π when the density p is about flat over ±σ. Infinity when N or σ is unknown.
 */
export function effectiveExamples(p: number, c: CurveContext): number {
  if (c.examples === undefined || c.bandwidth === undefined) return Number.POSITIVE_INFINITY;
  return c.examples * p * 2 * Math.max(c.bandwidth, MIN_BANDWIDTH) * Math.sqrt(Math.PI);
}

/**
 * The segments of the curve worth drawing. Two cuts, each because the curve means nothing there:
 * - below 1/K: the top-label confidence max_c q_c is at least 1/K for every prediction, so no example
 *   lies there; what the estimator returns is the kernel's tail from examples above 1/K, not an accuracy;
 * - where fewer than {@link MIN_EFFECTIVE_EXAMPLES} examples carry the kernel average (see
 *   {@link effectiveExamples}): the 95 % half-width of a mean of ten 0/1 outcomes is already ≈ 0.3, and in
 *   emptier stretches the estimate swings between any values (0.05 ↔ 0.85 on real runs).
 * What is drawn is faded by density like the bars by count. A curve without densities (results.json of
 * older versions) is drawn above 1/K unfaded.
 */
export function smoothSegments(curve: SmoothCurvePoint[], c: CurveContext): CurveSegment[] {
  const floor = c.classes ? 1 / c.classes : 0;
  const shown = curve.map(
    (q) =>
      q.t >= floor - 1e-12 &&
      (q.density === undefined || effectiveExamples(q.density, c) >= MIN_EFFECTIVE_EXAMPLES),
  );
  const pMax = Math.max(0, ...curve.filter((_, j) => shown[j]).map((q) => q.density ?? 0));
  const out: CurveSegment[] = [];
  for (let j = 0; j + 1 < curve.length; j++) {
    if (!shown[j] || !shown[j + 1]) continue;
    const a = curve[j];
    const b = curve[j + 1];
    const p = ((a.density ?? 0) + (b.density ?? 0)) / 2;
    out.push({
      t: a.t,
      t2: b.t,
      accuracy: clamp01(a.accuracy),
      accuracy2: clamp01(b.accuracy),
      lo: clamp01(Math.min(a.lo ?? a.accuracy, b.lo ?? b.accuracy)),
      hi: clamp01(Math.max(a.hi ?? a.accuracy, b.hi ?? b.accuracy)),
      alpha: pMax > 0 ? 0.12 + 0.88 * Math.sqrt(Math.min(1, p / pMax)) : 1,
    });
  }
  return out;
}
