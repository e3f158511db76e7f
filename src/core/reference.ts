// The clean reference of label-smoothed cross-entropy: one row at a time, float64, written like the formulas
// (Szegedy et al. 2016; Müller, Kornblith & Hinton 2019; PyTorch F.cross_entropy for the weights):
//
//     q = softmax(z)                         over the allowed classes of the row
//     p′ = (1−ε)·p + ε·u                     p = the target (one-hot or soft), u = the noise distribution
//     L  = (1−ε)·H(p,q) + ε·H(u,q)  = H(p′,q),   H_w(a,q) = −Σ_c w_c·a_c·log q_c
//     dL/dz_c = Γ·q_c − γ_c,   γ_c = w_c·p′_c,   Γ = Σ_c γ_c
//
// Every compute path is checked against this file. The fast version — the same row loss and gradient,
// fused in one pass over float32 logits with WASM SIMD — lives in src/kernels/assembly/crossEntropy.ts.
// Shapes: z, p, u, grad are (N, K) row-major; one call handles row i, columns [i·K, (i+1)·K).
import { badLogit, type CrossEntropyPlan, isIgnored, type SmoothingPlan } from './plan.js';

/** The class mask of row i (K bytes, 1 = allowed), or null when every class is allowed. */
function maskRow(plan: SmoothingPlan, i: number): Uint8Array | null {
  const m = plan.mask;
  if (m === null) return null;
  return m.perRow ? m.data.subarray(i * plan.classes, (i + 1) * plan.classes) : m.data;
}

/** Statistics of one row of logits over its allowed classes. */
export interface RowStatistics {
  /** m = max_c z_c. */
  max: number;
  /** log Σ_c exp(z_c − m), so that log q_c = (z_c − m) − logSumExp. */
  logSumExp: number;
}

/**
 * m = max_c z_c and log Σ_c exp(z_c − m) over the allowed classes of row i (z: (N,K)). Centring on the
 * maximum makes every exponent ≤ 0 (no overflow) and every log q_c a difference of nearby numbers, so the
 * result does not depend on the order of the classes. A non-finite allowed logit is an error naming it.
 */
export function rowStatistics(plan: CrossEntropyPlan, i: number, out: RowStatistics): RowStatistics {
  const { logits: z, classes: k } = plan;
  const ok = maskRow(plan, i);
  const base = i * k;
  let m = -Infinity;
  for (let c = 0; c < k; c++) {
    if (ok && !ok[c]) continue;
    const v = z[base + c];
    if (!(v > -Infinity && v < Infinity)) badLogit(plan.fn, i, c, k, v, ok !== null);
    if (v > m) m = v;
  }
  let s = 0;
  for (let c = 0; c < k; c++) if (!ok || ok[c]) s += Math.exp(z[base + c] - m);
  out.max = m;
  out.logSumExp = Math.log(s);
  return out;
}

/** p of row i (K): one-hot at yᵢ for class indices, the given probabilities otherwise. */
export function targetRow(plan: SmoothingPlan, i: number, p: Float64Array): Float64Array {
  const k = plan.classes;
  if (plan.target.kind === 'index') {
    p.fill(0);
    p[plan.target.labels[i]] = 1;
  } else for (let c = 0; c < k; c++) p[c] = plan.target.probs[i * k + c];
  return p;
}

/**
 * The noise u of row i (K), a distribution over the allowed classes (0 on masked ones), Kₐ = their count:
 * - uniform:        u_c = 1/Kₐ
 * - non-target:     u_c = (1 − p_c)/(Kₐ − 1)      (ε/(K−1) on the other classes for one-hot p)
 * - prior (K) or per-sample (N×K) n:   u_c = n_c / Σ_allowed n
 */
export function noiseRow(plan: SmoothingPlan, i: number, p: Float64Array, u: Float64Array): Float64Array {
  const { classes: k, noise } = plan;
  const ok = maskRow(plan, i);
  let count = 0;
  let mass = 0;
  const n = noise.data;
  const at = noise.perRow ? i * k : 0;
  for (let c = 0; c < k; c++) {
    if (ok && !ok[c]) continue;
    count++;
    if (n) mass += n[at + c];
  }
  for (let c = 0; c < k; c++) {
    if (ok && !ok[c]) u[c] = 0;
    else if (noise.kind === 'uniform') u[c] = 1 / count;
    else if (noise.kind === 'non-target') u[c] = (1 - p[c]) / (count - 1);
    else u[c] = n![at + c] / mass;
  }
  return u;
}

/** p′ = (1−ε)·p + ε·u, elementwise over one row (K). */
export function smoothRow(p: Float64Array, u: Float64Array, eps: number, out: Float64Array): Float64Array {
  for (let c = 0; c < p.length; c++) out[c] = (1 - eps) * p[c] + eps * u[c];
  return out;
}

/**
 * H_w(a, q) = −Σ_c w_c·a_c·log q_c for row i, with log q_c = (z_c − m) − log Σ exp(z − m) from `stats`;
 * a is a distribution over the row's classes (K), w the per-class weights (or 1).
 */
export function rowCrossEntropy(
  plan: CrossEntropyPlan,
  i: number,
  stats: RowStatistics,
  a: Float64Array,
): number {
  const { logits: z, classes: k, classWeight: w } = plan;
  let h = 0;
  for (let c = 0; c < k; c++) {
    if (a[c] === 0) continue; // masked classes (a_c = 0) may hold −∞
    h -= (w ? w[c] : 1) * a[c] * (z[i * k + c] - stats.max - stats.logSumExp);
  }
  return h;
}

/**
 * Row i's gradient, written to grad (N,K) at row i:
 *     dL/dz_c = g·(Γ·q_c − γ_c),   γ_c = w_c·p′_c,   Γ = Σ_c γ_c,   q_c = exp(z_c − m − log Σ exp(z − m))
 * with g = the row's weight × the reduction's scale. Each z_c is read before grad_c is written, so
 * grad may be the logits array itself (the in-place mode).
 */
export function rowGradient(
  plan: CrossEntropyPlan,
  i: number,
  stats: RowStatistics,
  pSmooth: Float64Array,
  g: number,
  grad: ArrayLike<number> & { [j: number]: number },
): void {
  const { logits: z, classes: k, classWeight: w } = plan;
  const ok = maskRow(plan, i);
  let gammaSum = 0;
  for (let c = 0; c < k; c++) gammaSum += (w ? w[c] : 1) * pSmooth[c];
  for (let c = 0; c < k; c++) {
    const j = i * k + c;
    if (ok && !ok[c]) {
      grad[j] = 0;
      continue;
    }
    const q = Math.exp(z[j] - stats.max - stats.logSumExp);
    grad[j] = g * (gammaSum * q - (w ? w[c] : 1) * pSmooth[c]);
  }
}

/**
 * The weight of row i as a whole: sampleWeightᵢ × (with `weightMode: 'per-example'`) Σ_c w_c·p_c, which is
 * w[yᵢ] for class indices (Keras `class_weight`).
 */
export function rowWeight(plan: CrossEntropyPlan, i: number, p: Float64Array): number {
  let r = plan.sampleWeight ? plan.sampleWeight[i] : 1;
  const ew = plan.exampleWeight;
  if (ew) {
    let f = 0;
    for (let c = 0; c < plan.classes; c++) f += ew[c] * p[c];
    r *= f;
  }
  return r;
}

/** Per-row scratch of the reference (K floats each), allocated once per call. */
export interface Scratch {
  stats: RowStatistics;
  p: Float64Array;
  u: Float64Array;
  pSmooth: Float64Array;
}

/** Scratch buffers for rows of K classes. */
export function scratch(k: number): Scratch {
  return {
    stats: { max: 0, logSumExp: 0 },
    p: new Float64Array(k),
    u: new Float64Array(k),
    pSmooth: new Float64Array(k),
  };
}

/** The two parts of one row's loss, each already multiplied by the row's weight. */
export interface RowParts {
  nll: number;
  smoothing: number;
}

/**
 * Row i: the weighted H(p,q) and H(u,q) — so that L = (1−ε)·nll + ε·smoothing — and, when the plan asks
 * for it, the gradient row scaled by `scale` (the reduction's factor). Ignored rows give 0 and a zero
 * gradient.
 */
export function referenceRow(
  plan: CrossEntropyPlan,
  i: number,
  scale: number,
  s: Scratch,
  out: RowParts,
): RowParts {
  const { grad, classes: k } = plan;
  if (isIgnored(plan, i)) {
    if (grad) grad.fill(0, i * k, (i + 1) * k);
    out.nll = 0;
    out.smoothing = 0;
    return out;
  }
  rowStatistics(plan, i, s.stats);
  const p = targetRow(plan, i, s.p);
  const u = noiseRow(plan, i, p, s.u);
  const weight = rowWeight(plan, i, p);
  out.nll = weight * rowCrossEntropy(plan, i, s.stats, p); // H(p, q)
  out.smoothing = weight * rowCrossEntropy(plan, i, s.stats, u); // H(u, q)
  if (grad) rowGradient(plan, i, s.stats, smoothRow(p, u, plan.eps, s.pSmooth), scale * weight, grad);
  return out;
}

/**
 * Rows `rows` (all when omitted) through the reference: their weighted parts are added to `sums`, or stored
 * in `perRow` (reduction 'none'); the gradient rows are written when the plan has a gradient.
 */
export function referenceRows(
  plan: CrossEntropyPlan,
  scale: number,
  sums: RowParts,
  perRow: { nll: Float64Array; smoothing: Float64Array } | null,
  rows?: ArrayLike<number>,
): RowParts {
  const s = scratch(plan.classes);
  const part: RowParts = { nll: 0, smoothing: 0 };
  const count = rows ? rows.length : plan.rows;
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r] : r;
    referenceRow(plan, i, scale, s, part);
    if (perRow) {
      perRow.nll[i] = part.nll;
      perRow.smoothing[i] = part.smoothing;
    } else {
      sums.nll += part.nll;
      sums.smoothing += part.smoothing;
    }
  }
  return sums;
}

/**
 * Dense p′ = (1−ε)·p + ε·u for every row of a smoothing plan (N×K); ignored rows are all zeros and masked
 * classes get 0.
 */
export function smoothedTargets(plan: SmoothingPlan): Float64Array {
  const k = plan.classes;
  const out = new Float64Array(plan.rows * k);
  const p = new Float64Array(k);
  const u = new Float64Array(k);
  for (let i = 0; i < plan.rows; i++) {
    if (isIgnored(plan, i)) continue;
    targetRow(plan, i, p);
    smoothRow(p, noiseRow(plan, i, p, u), plan.eps, out.subarray(i * k, (i + 1) * k));
  }
  return out;
}
