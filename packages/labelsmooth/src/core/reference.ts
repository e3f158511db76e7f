// The clean reference of label-smoothed cross-entropy: one row at a time, float64, written like the formulas
// (Szegedy et al. 2016; Müller, Kornblith & Hinton 2019; PyTorch F.cross_entropy for the weights):
//
//     q = softmax(z)                         over the allowed classes of the row
//     p′ = (1−ε)·p + ε·u                     p = the target (one-hot or soft), u = the noise distribution
//     L  = (1−ε)·H(p,q) + ε·H(u,q)  = H(p′,q),   H_w(a,q) = −Σ_c w_c·a_c·log q_c
//     dL/dz_c = Λ·q_c − λ_c,   λ_c = w_c·p′_c,   Λ = Σ_c λ_c
//
// and the family: focal loss −α·Σ_c w_c·p′_c·(1 − q_c)^γ·log q_c (Lin et al. 2017; FLSD-53,
// Mukhoti et al. 2020), whose gradient has the same form with other λ_c; the confidence penalty −β·H_w(q)
// (Pereyra et al. 2017); class-conditional noise u(·|y) = S[y] (online label smoothing, Zhang et al. 2021);
// for language models the z-loss ζ·lse² (PaLM), whose gradient is 2ζ·lse·q_c, on logits soft-capped to
// c·tanh(z/c) (Gemma 2; src/core/softcap.ts).
//
// Every compute path is checked against this file. The fast version — the same row loss and gradient,
// fused in one pass over float32 logits with WASM SIMD — lives in src/kernels/assembly/crossEntropy.ts.
// Shapes: z, p, u, grad are (N, K) row-major; one call handles row i, columns [i·K, (i+1)·K).

import { noiseVector } from '../math/noiseVector.js';
import {
  badLogit,
  type CrossEntropyPlan,
  classConditionalMass,
  isIgnored,
  type SmoothingPlan,
} from './plan.js';
import { type PartRows, type PartSums, zLossScale } from './reduce.js';
import { softcapGradientRow, softcapPlan } from './softcap.js';
import { sumExp } from './softmax.js';

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
  out.max = m;
  out.logSumExp = Math.log(sumExp(z, base, k, m, 1, ok));
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
 * - class-conditional S (K×K):          u_c = n_c / Σ_allowed n,  n_c = Σ_y p_y·S[y, c]  (= S[yᵢ, c])
 */
export function noiseRow(plan: SmoothingPlan, i: number, p: Float64Array, u: Float64Array): Float64Array {
  const { classes: k, noise } = plan;
  const ok = maskRow(plan, i);
  if (noise.kind === 'uniform' || noise.kind === 'non-target') return noiseVector(noise.kind, p, 0, ok, u);
  if (noise.kind !== 'class-conditional')
    return noiseVector('mass', noise.data, noise.perRow ? i * k : 0, ok, u);
  // n_c = Σ_y p_y·S[y, c] on the allowed classes, then renormalized in place
  for (let c = 0; c < k; c++) u[c] = ok && !ok[c] ? 0 : classConditionalMass(plan, i, c);
  return noiseVector('mass', u, 0, ok, u);
}

/** p′ = (1−ε)·p + ε·u, elementwise over one row (K). */
export function smoothRow(p: Float64Array, u: Float64Array, eps: number, out: Float64Array): Float64Array {
  for (let c = 0; c < p.length; c++) out[c] = (1 - eps) * p[c] + eps * u[c];
  return out;
}

/** log q_c of row i, class c: (z_c − m) − log Σ exp(z − m). */
export function logQ(plan: CrossEntropyPlan, i: number, stats: RowStatistics, c: number): number {
  return plan.logits[i * plan.classes + c] - stats.max - stats.logSumExp;
}

/**
 * H_w(a, q) = −Σ_c w_c·a_c·f_c·log q_c for row i, with log q_c from `stats`; a is a distribution over the
 * row's classes (K), w the per-class weights (or 1), f the focal modulation α·(1 − q_c)^γ (or 1).
 */
export function rowCrossEntropy(
  plan: CrossEntropyPlan,
  i: number,
  stats: RowStatistics,
  a: Float64Array,
  focal: Float64Array | null = null,
): number {
  const { classes: k, classWeight: w } = plan;
  let h = 0;
  for (let c = 0; c < k; c++) {
    if (a[c] === 0) continue; // masked classes (a_c = 0) may hold −∞
    h -= (w ? w[c] : 1) * a[c] * (focal ? focal[c] : 1) * logQ(plan, i, stats, c);
  }
  return h;
}

/** γ of row i: the option's number, or FLSD-53's 5 when q_y < 0.2 else 3 (q_y = Σ_c p_c·q_c for soft p). */
export function focalGamma(plan: CrossEntropyPlan, i: number, stats: RowStatistics, p: Float64Array): number {
  const gamma = plan.focal!.gamma;
  if (gamma !== 'flsd-53') return gamma;
  let qy = 0;
  for (let c = 0; c < plan.classes; c++) if (p[c] > 0) qy += p[c] * Math.exp(logQ(plan, i, stats, c));
  return qy < 0.2 ? 5 : 3;
}

/**
 * The focal loss of row i, with F(a) = −α·Σ_c w_c·a_c·(1 − q_c)^γ·log q_c (linear in the target a; γ from
 * {@link focalGamma}, p the row's target): `out.focal` gets the modulation f_c = α·(1 − q_c)^γ, and
 * `out.targets` the λ_c of its gradient dF(p′)/dz_j = Λ·q_j − λ_j,
 *     λ_c = α·w_c·p′_c·[(1 − q_c)^γ − γ·q_c·(1 − q_c)^(γ−1)·log q_c],   Λ = Σ_c λ_c
 * (γ = 0 gives cross-entropy's λ_c = w_c·p′_c). 1 − q_c is taken as −expm1(log q_c), exact near q_c = 1,
 * where the second term's limit is 0.
 */
export function focalRow(
  plan: CrossEntropyPlan,
  i: number,
  stats: RowStatistics,
  p: Float64Array,
  pSmooth: Float64Array,
  out: { focal: Float64Array; targets: Float64Array },
): void {
  const { classes: k, classWeight: w } = plan;
  const gamma = focalGamma(plan, i, stats, p);
  const { focal: modulation, targets } = out;
  const alpha = plan.focal!.alpha;
  const ok = maskRow(plan, i);
  for (let c = 0; c < k; c++) {
    if (ok && !ok[c]) {
      modulation[c] = 0;
      targets[c] = 0;
      continue;
    }
    const lq = logQ(plan, i, stats, c);
    const rest = -Math.expm1(lq); // 1 − q_c
    const decay = gamma === 0 || rest === 0 ? 0 : gamma * Math.exp(lq) * rest ** (gamma - 1) * lq;
    modulation[c] = alpha * rest ** gamma;
    targets[c] = alpha * (w ? w[c] : 1) * pSmooth[c] * (rest ** gamma - decay);
  }
}

/** λ_c = w_c·p′_c: the targets of the cross-entropy's gradient Λ·q_c − λ_c. */
export function crossEntropyTargets(
  plan: CrossEntropyPlan,
  pSmooth: Float64Array,
  out: Float64Array,
): Float64Array {
  const w = plan.classWeight;
  for (let c = 0; c < plan.classes; c++) out[c] = (w ? w[c] : 1) * pSmooth[c];
  return out;
}

/** H_w(q) = −Σ_c w_c·q_c·log q_c over the allowed classes of row i (the confidence penalty's entropy). */
export function rowEntropy(
  plan: CrossEntropyPlan,
  i: number,
  stats: RowStatistics,
  ok: Uint8Array | null,
): number {
  const w = plan.classWeight;
  let h = 0;
  for (let c = 0; c < plan.classes; c++) {
    if (ok && !ok[c]) continue;
    const lq = logQ(plan, i, stats, c);
    h -= (w ? w[c] : 1) * Math.exp(lq) * lq;
  }
  return h;
}

/** The row factors of {@link rowGradient}. */
export interface GradientFactors {
  /** g: the row's weight × the reduction's scale. */
  scale: number;
  /** β of the confidence penalty (0 without one). */
  penalty: number;
  /** h = 2ζ·lse × the row's weight × the z-loss's scale: the z-loss's h·q_c (0 without one). */
  lse: number;
}

/**
 * Row i's gradient, written to grad (N,K) at row i:
 *     dL/dz_c = g·(Λ·q_c − λ_c) + g·β·q_c·(w_c·(log q_c + 1) − Σ_j w_j·q_j·(log q_j + 1)) + h·q_c
 * with Λ = Σ_c λ_c, λ_c = w_c·p′_c for cross-entropy ({@link crossEntropyTargets}; focal: {@link focalRow}),
 * g = the row's weight × the reduction's scale, the second term the confidence penalty's: the
 * derivative of −β·H_w(q) = β·Σ_c w_c·q_c·log q_c (unweighted: β·q_c·(log q_c + H(q)), Pereyra et al.
 * 2017; β = 0 without one), and the last the z-loss's (d lse/dz_c = q_c). Every z_c is read before grad_c
 * is written, so grad may be the logits array itself (the in-place mode).
 */
export function rowGradient(
  plan: CrossEntropyPlan,
  i: number,
  stats: RowStatistics,
  targets: Float64Array,
  factors: GradientFactors,
  grad: ArrayLike<number> & { [j: number]: number },
): void {
  const { classes: k, classWeight: w } = plan;
  const { scale: g, penalty: beta, lse: h } = factors;
  const ok = maskRow(plan, i);
  let lambda = 0; // Λ = Σ_c target_c (the glossary's name)
  for (let c = 0; c < k; c++) lambda += targets[c];
  let penaltyMean = 0; // Σ_j w_j·q_j·(log q_j + 1)
  if (beta)
    for (let c = 0; c < k; c++) {
      if (ok && !ok[c]) continue;
      const lq = logQ(plan, i, stats, c);
      penaltyMean += (w ? w[c] : 1) * Math.exp(lq) * (lq + 1);
    }
  for (let c = 0; c < k; c++) {
    const j = i * k + c;
    if (ok && !ok[c]) {
      grad[j] = 0;
      continue;
    }
    const lq = logQ(plan, i, stats, c);
    const q = Math.exp(lq);
    let d = lambda * q - targets[c];
    if (beta) d += beta * q * ((w ? w[c] : 1) * (lq + 1) - penaltyMean);
    grad[j] = g * d + h * q;
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
  /** λ_c of the gradient. */
  targets: Float64Array;
  /** The focal modulation α·(1 − q_c)^γ. */
  focal: Float64Array;
  factors: GradientFactors;
}

/** Scratch buffers for rows of K classes. */
export function scratch(k: number): Scratch {
  return {
    stats: { max: 0, logSumExp: 0 },
    p: new Float64Array(k),
    u: new Float64Array(k),
    pSmooth: new Float64Array(k),
    targets: new Float64Array(k),
    focal: new Float64Array(k),
    factors: { scale: 0, penalty: 0, lse: 0 },
  };
}

/** The parts of one row's loss, each already multiplied by the row's weight. */
export interface RowParts {
  /** H(p, q), or the focal F(p). */
  nll: number;
  /** H(u, q), or the focal F(u). */
  smoothing: number;
  /** H_w(q) when the plan has a confidence penalty, else 0. */
  entropy: number;
  /** ζ·lse² when the plan has a z-loss, else 0. */
  zLoss: number;
}

/**
 * Row i: the weighted H(p,q) and H(u,q) — so that L = (1−ε)·nll + ε·smoothing − β·entropy + zLoss — (focal:
 * F(p) and F(u)), H_w(q) and ζ·lse², and, when the plan asks for it, the gradient row scaled by `scale` (the
 * reduction's factor) and the row's lse. Ignored rows give 0 and a zero gradient (and their lse). With a
 * soft cap, `plan` is the capped plan of {@link softcapPlan}.
 */
export function referenceRow(
  plan: CrossEntropyPlan,
  i: number,
  scale: number,
  s: Scratch,
  out: RowParts,
): RowParts {
  const { grad, classes: k, eps, focal, confidencePenalty: beta } = plan;
  out.nll = 0;
  out.smoothing = 0;
  out.entropy = 0;
  out.zLoss = 0;
  if (isIgnored(plan, i)) {
    if (grad) grad.fill(0, i * k, (i + 1) * k);
    if (plan.lse) plan.lse[i] = rowLse(rowStatistics(plan, i, s.stats));
    return out;
  }
  const stats = rowStatistics(plan, i, s.stats);
  const lse = rowLse(stats);
  if (plan.lse) plan.lse[i] = lse;
  const p = targetRow(plan, i, s.p);
  const u = noiseRow(plan, i, p, s.u);
  const pSmooth = smoothRow(p, u, eps, s.pSmooth); // p′ = (1−ε)·p + ε·u
  const weight = rowWeight(plan, i, p);
  let targets: Float64Array;
  if (focal) {
    focalRow(plan, i, stats, p, pSmooth, s);
    targets = s.targets;
  } else targets = grad ? crossEntropyTargets(plan, pSmooth, s.targets) : s.targets;
  const modulation = focal ? s.focal : null;
  out.nll = weight * rowCrossEntropy(plan, i, stats, p, modulation); // H(p, q)
  out.smoothing = weight * rowCrossEntropy(plan, i, stats, u, modulation); // H(u, q)
  if (beta !== null) out.entropy = weight * rowEntropy(plan, i, stats, maskRow(plan, i)); // H(q)
  const zBeta = plan.zLoss ?? 0;
  out.zLoss = weight * zBeta * lse * lse;
  if (grad) {
    const f = s.factors;
    f.scale = scale * weight;
    f.penalty = beta ?? 0;
    f.lse = zBeta === 0 ? 0 : 2 * zBeta * lse * weight * zLossScale(plan);
    rowGradient(plan, i, stats, targets, f, grad);
    softcapGradientRow(plan, i);
  }
  return out;
}

/** lse = m + log Σ_c exp(z_c − m) of a row's statistics. */
function rowLse(stats: RowStatistics): number {
  return stats.max + stats.logSumExp;
}

/**
 * Rows `rows` (all when omitted) through the reference: their weighted parts are added to `sums`, or stored
 * in `perRow` (reduction 'none'); the gradient rows are written when the plan has a gradient.
 */
export function referenceRows(
  plan: CrossEntropyPlan,
  scale: number,
  sums: PartSums,
  perRow: PartRows | null,
  rows?: ArrayLike<number>,
): PartSums {
  const s = scratch(plan.classes);
  const part: RowParts = { nll: 0, smoothing: 0, entropy: 0, zLoss: 0 };
  const count = rows ? rows.length : plan.rows;
  const capped = softcapPlan(plan, rows);
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r] : r;
    referenceRow(capped, i, scale, s, part);
    if (perRow) {
      perRow.nll[i] = part.nll;
      perRow.smoothing[i] = part.smoothing;
      perRow.entropy[i] = part.entropy;
      if (perRow.zLoss) perRow.zLoss[i] = part.zLoss;
    } else {
      sums.nll += part.nll;
      sums.smoothing += part.smoothing;
      sums.entropy += part.entropy;
      if (plan.zLoss !== null) sums.zLoss = (sums.zLoss ?? 0) + part.zLoss;
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
