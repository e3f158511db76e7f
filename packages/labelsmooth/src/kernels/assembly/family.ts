// The label-smoothing family on the SIMD kernel: confidence penalty, focal loss (FLSD-53
// included) and class-conditional noise, fused with label smoothing, class weights and a shared class
// mask, for class-index targets. The same row loss and gradient as the float64 reference
// (src/core/reference.ts); the plain loss stays on `rows` (rows.ts).
//
// Per row i with label y, q = softmax(z) over the allowed classes, lq_c = log q_c = (z_c − m) − log s,
// v_c = w_c·u_c the weighted noise (0 on masked classes; the row's S[y]·w/mass for class-conditional
// noise), V = Σ v_c minus v_y for non-target noise (u_y = 0 there), ℓ = −lq_y:
//   cross-entropy: nll = w_y·ℓ,  smooth = V·ℓ − Σ_c v_c·(z_c − z_y),  Γ = (1−ε)·w_y + ε·V
//                  grad_c = g·(Γ·q_c − ε·v_c)   (c ≠ y)
//   focal:         with r_c = 1 − q_c, h_c = r_c^γ − γ·q_c·r_c^(γ−1)·lq_c,
//                  nll = α·w_y·r_y^γ·ℓ,  smooth = −α·Σ_c v_c·r_c^γ·lq_c,
//                  Γ = α·((1−ε)·w_y·h_y + ε·Σ_c v_c·h_c),  grad_c = g·(Γ·q_c − α·ε·v_c·h_c)   (c ≠ y)
//   penalty:       entropy H = −Σ_c w_c·q_c·lq_c = log s·W/s − A/s  (A = Σ w_c·e_c·(z_c − m),
//                  W = Σ w_c·e_c, e_c = exp(z_c − m)), P = Σ w_c·q_c·(lq_c + 1) = W/s − H,
//                  grad_c += g·β·q_c·(w_c·(lq_c + 1) − P)
// The target's gradient entry, where Γ·q_y and γ_y cancel on confident rows, is formed in f64 at the end:
//   g·(Γ·expm1(−ℓ) + (Γ − γ_y)) (+ the penalty's entry), with 1 − q_y = −expm1(−ℓ) exact.
// Layout: zin (N,K) f32 the logits; z the gradient rows, zStride bytes apart (z = zin, zStride = 4K: in
// place; zStride = 0: one scratch row, no gradient kept); out (N,3) f64 (nll, smooth, entropy).
//
// Blocks of BLOCK floats, as in rows.ts: pass 1 takes the block max (and Σ v·(z − z_y) for cross-entropy),
// pass 2 stores e = exp(z − blockmax) in the row scratch `ework` (the logits stay: the penalty and focal
// passes need lq_c = (z_c − blockmax) + (blockmax − m − log s) without a log), then after the row the
// gradient passes read both (class-conditional noise alone keeps e in place, as rows.ts). Focal adds one
// pass (Γ needs Σ v_c·h_c before any gradient entry); its sums leave out the target, whose terms are
// taken in f64: by zeroing v_y meanwhile, or with the constant noise by recomputing y's vector.
// Class-conditional noise rows S[y] are normalized (and weighted) first, or, without class weights and
// focal loss, used raw with their mass taken in pass 1 and 1/mass folded into the row's constants.
// Every vector loop runs to K rounded up to 4: the last vector's lanes past K are masked out of every sum
// and written back unchanged (blend), so no scalar tail duplicates the formulas; the unmasked blocks run
// specialized fast loops up to the row's last full vector.

import { ALPHA, at, BETA, BM, CP, EPS, EWORK, EXPONENT, FOCAL, G, G_STRIDE, int, K, LABELS, MASK, NON_TARGET, OUT, real, SCALE, V, V_CONST, V_ROWS, V_SCRATCH, V_SUM, W, WRITE_GRAD, Z } from './call';
import { exp4, hmax4, hsum2, log4, widen } from './math';

const BLOCK: i32 = 2048;
/** f32 partial sums are moved into the f64 accumulators every GROUP floats. */
const GROUP: i32 = 64;

// Block results of pass 2 (module globals: AssemblyScript has no multiple return values).
let blockOnes: i32 = 0;
let blockA: f64 = 0.0;
let blockW: f64 = 0.0;
let blockMass: f64 = 0.0;
// Row results of the focal pass.
let rowS: f64 = 0.0;
let rowT: f64 = 0.0;
// Row results of focalRow.
let rowNll: f64 = 0.0;
let rowSmooth: f64 = 0.0;
let rowGamma: f64 = 0.0;
let rowOther: f64 = 0.0;
// Row results of rowSums.
let rowMax: f64 = 0.0;
let rowOnes: f64 = 0.0;
let rowRest: f64 = 0.0;
let rowSvz: f64 = 0.0;
let rowA: f64 = 0.0;
let rowW: f64 = 0.0;
let rowMass: f64 = 0.0;

/** Lanes [0, rem) set: the part of the last vector that lies inside the row. */
@inline
function lanesBelow(rem: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rem));
}

/** The allowed lanes of the vector at class c: the class mask (if any) and the row end. */
@inline
function allowedAt(mask: usize, c: i32, k: i32): v128 {
  let ok = mask ? f32x4.ne(v128.load(mask + (<usize>c << 2)), f32x4.splat(0)) : i32x4.splat(-1);
  if (c + 4 > k) ok = v128.and(ok, lanesBelow(k - c));
  return ok;
}

/** Store x at p, keeping the lanes past the row end as they are. */
@inline
function storeRow(p: usize, x: v128, c: i32, k: i32): void {
  if (c + 4 > k) x = v128.bitselect(x, v128.load(p), lanesBelow(k - c));
  v128.store(p, x);
}

/**
 * Pass 1 without a mask over [b0, v1) (v1 − b0 a multiple of 8): two independent max chains (as rows.ts);
 * with `svz`, Σ v·(z − z_y) (v = 0: the constant noise, the sum taken unscaled) into blockA.
 */
function pass1Fast(row: usize, b0: i32, v1: i32, v: usize, zyv: v128, svz: bool): f32 {
  const neg = f32x4.splat(-Infinity);
  let mx = neg;
  let mx2 = neg;
  let a = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let acc = f64x2.splat(0.0);
  if (!svz) {
    for (let c = b0; c < v1; c += 8) {
      const p = row + (<usize>c << 2);
      mx = f32x4.pmax(mx, v128.load(p));
      mx2 = f32x4.pmax(mx2, v128.load(p, 16));
    }
  } else if (v) {
    for (let c = b0; c < v1; c += 8) {
      const p = row + (<usize>c << 2);
      const za = v128.load(p);
      const zb = v128.load(p, 16);
      mx = f32x4.pmax(mx, za);
      mx2 = f32x4.pmax(mx2, zb);
      a = f32x4.add(a, f32x4.mul(v128.load(v + (<usize>c << 2)), f32x4.sub(za, zyv)));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(v + (<usize>c << 2), 16), f32x4.sub(zb, zyv)));
      if (((c + 8 - b0) & (GROUP - 1)) == 0) {
        acc = f64x2.add(acc, widen(f32x4.add(a, a2)));
        a = f32x4.splat(0);
        a2 = f32x4.splat(0);
      }
    }
  } else {
    for (let c = b0; c < v1; c += 8) {
      const p = row + (<usize>c << 2);
      const za = v128.load(p);
      const zb = v128.load(p, 16);
      mx = f32x4.pmax(mx, za);
      mx2 = f32x4.pmax(mx2, zb);
      a = f32x4.add(a, f32x4.sub(za, zyv));
      a2 = f32x4.add(a2, f32x4.sub(zb, zyv));
      if (((c + 8 - b0) & (GROUP - 1)) == 0) {
        acc = f64x2.add(acc, widen(f32x4.add(a, a2)));
        a = f32x4.splat(0);
        a2 = f32x4.splat(0);
      }
    }
  }
  blockA = hsum2(f64x2.add(acc, widen(f32x4.add(a, a2))));
  return hmax4(f32x4.pmax(mx, mx2));
}

/**
 * {@link pass1Fast} for a class-conditional noise row taken raw (S[y], not yet divided by its mass): also
 * Σ S into blockMass.
 */
function pass1FastMass(row: usize, b0: i32, v1: i32, v: usize, zyv: v128): f32 {
  const neg = f32x4.splat(-Infinity);
  let mx = neg;
  let mx2 = neg;
  let a = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let acc = f64x2.splat(0.0);
  let mass = f64x2.splat(0.0);
  for (let c = b0; c < v1; c += 8) {
    const p = row + (<usize>c << 2);
    const za = v128.load(p);
    const zb = v128.load(p, 16);
    const va = v128.load(v + (<usize>c << 2));
    const vb = v128.load(v + (<usize>c << 2), 16);
    mx = f32x4.pmax(mx, za);
    mx2 = f32x4.pmax(mx2, zb);
    a = f32x4.add(a, f32x4.mul(va, f32x4.sub(za, zyv)));
    a2 = f32x4.add(a2, f32x4.mul(vb, f32x4.sub(zb, zyv)));
    mass = f64x2.add(mass, widen(f32x4.add(va, vb)));
    if (((c + 8 - b0) & (GROUP - 1)) == 0) {
      acc = f64x2.add(acc, widen(f32x4.add(a, a2)));
      a = f32x4.splat(0);
      a2 = f32x4.splat(0);
    }
  }
  blockA = hsum2(f64x2.add(acc, widen(f32x4.add(a, a2))));
  blockMass = hsum2(mass);
  return hmax4(f32x4.pmax(mx, mx2));
}

/**
 * Pass 2 without a mask over [b0, v1) (a multiple of 8 floats): as {@link pass2}, two vectors a step.
 * Inlined with constant `cp` and `hasW` (w ≠ 0), so that the plain loop carries no penalty accumulators
 * (register pressure) and no loop tests for class weights.
 */
@inline
function pass2Fast(row: usize, e: usize, b0: i32, v1: i32, w: usize, bmax: f32, cp: bool, hasW: bool): f64 {
  const bv = f32x4.splat(bmax);
  const one = f32x4.splat(1.0);
  let se = f64x2.splat(0.0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let ones = i32x4.splat(0);
  let a = f32x4.splat(0);
  let accA = f64x2.splat(0.0);
  let accW = f64x2.splat(0.0);
  for (let c = b0; c < v1; c += 8) {
    const off = <usize>c << 2;
    const da = f32x4.sub(v128.load(row + off), bv);
    const db = f32x4.sub(v128.load(row + off, 16), bv);
    const ea = exp4(da);
    const eb = exp4(db);
    v128.store(e + off, ea);
    v128.store(e + off, eb, 16);
    const qa = f32x4.eq(ea, one);
    const qb = f32x4.eq(eb, one);
    // As rows.ts's pass B: the exact ones counted apart, the other (positive, < 1) terms summed in f32
    // for 32 floats, then widened once.
    s1 = f32x4.add(s1, v128.andnot(ea, qa));
    s2 = f32x4.add(s2, v128.andnot(eb, qb));
    ones = i32x4.add(ones, i32x4.add(qa, qb));
    if (((c + 8 - b0) & 31) == 0) {
      se = f64x2.add(se, widen(f32x4.add(s1, s2)));
      s1 = f32x4.splat(0);
      s2 = f32x4.splat(0);
    }
    if (cp) {
      if (hasW) {
        const wa = f32x4.mul(ea, v128.load(w + off));
        const wb = f32x4.mul(eb, v128.load(w + off, 16));
        a = f32x4.add(a, f32x4.add(f32x4.mul(wa, da), f32x4.mul(wb, db)));
        accW = f64x2.add(accW, widen(f32x4.add(wa, wb)));
      } else a = f32x4.add(a, f32x4.add(f32x4.mul(ea, da), f32x4.mul(eb, db)));
      if (((c + 8 - b0) & (GROUP - 1)) == 0) {
        accA = f64x2.add(accA, widen(a));
        a = f32x4.splat(0);
      }
    }
  }
  blockOnes = -(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  const sb = hsum2(f64x2.add(se, widen(f32x4.add(s1, s2))));
  blockA = hsum2(f64x2.add(accA, widen(a)));
  blockW = hasW ? hsum2(accW) : <f64>blockOnes + sb;
  return sb;
}

/**
 * Pass 1: the block max of the allowed z over [b0, b1), and (cross-entropy only, `svz`) Σ v·(z − z_y)
 * into blockA (reused as the block's output).
 */
function pass1(row: usize, b0: i32, b1: i32, k: i32, v: usize, mask: usize, zyv: v128, svz: bool): f32 {
  const neg = f32x4.splat(-Infinity);
  let mx = neg;
  let a = f32x4.splat(0);
  let acc = f64x2.splat(0.0);
  let mass = f64x2.splat(0.0);
  for (let c = b0; c < b1; c += 4) {
    const ok = allowedAt(mask, c, k);
    const za = v128.load(row + (<usize>c << 2));
    mx = f32x4.pmax(mx, v128.bitselect(za, neg, ok));
    if (svz) {
      const vl = v ? v128.load(v + (<usize>c << 2)) : f32x4.splat(1.0);
      if (v) mass = f64x2.add(mass, widen(v128.and(vl, ok)));
      a = f32x4.add(a, v128.and(f32x4.mul(vl, f32x4.sub(za, zyv)), ok));
      if (((c + 4 - b0) & (GROUP - 1)) == 0) {
        acc = f64x2.add(acc, widen(a));
        a = f32x4.splat(0);
      }
    }
  }
  blockA = hsum2(f64x2.add(acc, widen(a)));
  blockMass = hsum2(mass);
  return hmax4(mx);
}

/**
 * Pass 2: e = exp(z − bmax) on the allowed classes (0 elsewhere) into the scratch E over [b0, b1).
 * Returns Σ e over the entries with e < 1 and counts the ones with e = 1 into blockOnes (see rows.ts);
 * with the penalty also A_b = Σ w·e·(z − bmax) and W_b = Σ w·e (blockA, blockW).
 */
function pass2(row: usize, e: usize, b0: i32, b1: i32, k: i32, w: usize, mask: usize, bmax: f32, cp: bool): f64 {
  const bv = f32x4.splat(bmax);
  const one = f32x4.splat(1.0);
  let se = f64x2.splat(0.0);
  let ones = i32x4.splat(0);
  let a = f32x4.splat(0);
  let accA = f64x2.splat(0.0);
  let accW = f64x2.splat(0.0);
  for (let c = b0; c < b1; c += 4) {
    const off = <usize>c << 2;
    const ok = allowedAt(mask, c, k);
    const d = v128.and(f32x4.sub(v128.bitselect(v128.load(row + off), bv, ok), bv), ok);
    const ev = v128.and(exp4(d), ok);
    storeRow(e + off, ev, c, k); // e may be the row itself (in place): keep what lies past its end
    const q = f32x4.eq(ev, one);
    se = f64x2.add(se, widen(v128.andnot(ev, q)));
    ones = i32x4.add(ones, q);
    if (cp) {
      const we = w ? v128.and(f32x4.mul(ev, v128.load(w + off)), ok) : ev;
      a = f32x4.add(a, f32x4.mul(we, d));
      if (w) accW = f64x2.add(accW, widen(we));
      if (((c + 4 - b0) & (GROUP - 1)) == 0) {
        accA = f64x2.add(accA, widen(a));
        a = f32x4.splat(0);
      }
    }
  }
  blockOnes = -(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  const sb = hsum2(se);
  blockA = hsum2(f64x2.add(accA, widen(a)));
  blockW = w ? hsum2(accW) : <f64>blockOnes + sb;
  return sb;
}

/** r^(γ−1) for an integer γ ≥ 1 (1 for γ = 0, where it is multiplied by γ): constant γ folds to its
 * products. */
@inline
function powBelow(r: v128, gi: i32): v128 {
  if (gi <= 1) return f32x4.splat(1.0);
  if (gi == 2) return r;
  const r2 = f32x4.mul(r, r);
  if (gi == 3) return r2;
  if (gi == 4) return f32x4.mul(r2, r);
  const r4 = f32x4.mul(r2, r2);
  if (gi == 5) return r4;
  let x = r4;
  for (let j = 5; j < gi; j++) x = f32x4.mul(x, r);
  return x;
}

// How a focal loop takes r^γ (its constant `gk`): γ = 2, 3, 5 as constants (focal loss' usual γ and
// FLSD-53's two), an integer γ ≤ 16 held in `gi`, a half-integer (gi = ⌊γ⌋, one square root), any other γ.
const G_INT: i32 = -1;
const G_HALF: i32 = -2;
const G_REAL: i32 = -3;
// The exact forms the two take on vectors with a large q (G_HALF, G_REAL take the series on the others).
const G_SQRT: i32 = -4;
const G_EXPLOG: i32 = -5;
// The series on every vector, unchecked: a block whose largest q (f, at its max) is below the bound
// (G_SERIES1: below the bound of the series to q¹).
const G_SERIES: i32 = -6;
const G_SERIES1: i32 = -7;
/** Floats taken by the exact form once the series loop stops at a vector (see focalSplit). */
const EXACT_RUN: i32 = 32;

/** r^γ for a half-integer γ = gi + ½ (sr = √r). */
@inline
function halfPow(r: v128, sr: v128, gi: i32): v128 {
  return gi == 0 ? sr : f32x4.mul(f32x4.mul(powBelow(r, gi), r), sr);
}

/** r^(γ−1) for a half-integer γ = gi + ½ (sr = √r); for γ = ½, 0 where r = 0 (the limit of
 * γ·q·r^(γ−1)·lq, lq → 0 with r). */
@inline
function halfBelow(r: v128, sr: v128, gi: i32): v128 {
  if (gi > 0) return f32x4.mul(powBelow(r, gi), sr);
  const live = f32x4.gt(r, f32x4.splat(0));
  return v128.and(f32x4.div(sr, v128.bitselect(r, f32x4.splat(1.0), live)), live);
}

/** r^γ = exp(γ·log r) for any γ > 0; 0 where r ≤ 0 (q = 1 in float32). */
@inline
function realPow(r: v128, gv: v128): v128 {
  const live = f32x4.gt(r, f32x4.splat(0));
  return v128.and(exp4(f32x4.mul(gv, log4(v128.bitselect(r, f32x4.splat(1.0), live)))), live);
}

/** γ·q·r^(γ−1) from gq = γ·q and pw = r^γ: gq·pw/r, 0 where r ≤ 0 (the limit with lq → 0). */
@inline
function realBelow(gq: v128, pw: v128, r: v128): v128 {
  const live = f32x4.gt(r, f32x4.splat(0));
  return v128.and(f32x4.div(f32x4.mul(gq, pw), v128.bitselect(r, f32x4.splat(1.0), live)), live);
}

let boundGamma: f64 = NaN;
let boundQ: f32 = 0;
let boundQ1: f32 = 0;

/**
 * The q below which the binomial series of (1 − q)^γ and of (1 − q)^(γ−1), each to q², are exact to
 * float32: the first dropped terms, |C(γ, 3)|·q³ and |C(γ − 1, 3)|·q³ (relative), stay below 3e−8, half a
 * float32 ulp; each later term is smaller by the factor |γ − j|·q/(j + 1), below ¼ at the q this admits
 * (q ≤ 1/64, and q·γ < 0.01 for γ > 4). Cached for the last γ (it is asked per block).
 */
function seriesBound(gamma: f64): f32 {
  if (gamma != boundGamma) {
    const c3 = Math.abs((gamma * (gamma - 1) * (gamma - 2)) / 6);
    const d3 = Math.abs(((gamma - 1) * (gamma - 2) * (gamma - 3)) / 6);
    boundQ = <f32>min(1.0 / 64, Math.cbrt(3e-8 / max(max(c3, d3), 1e-30)));
    const c2 = Math.abs((gamma * (gamma - 1)) / 2);
    const d2 = Math.abs(((gamma - 1) * (gamma - 2)) / 2);
    boundQ1 = <f32>min(<f64>boundQ, Math.sqrt(3e-8 / max(max(c2, d2), 1e-30)));
    boundGamma = gamma;
  }
  return boundQ;
}

/** {@link seriesBound} for the series to q¹ (dropped terms |C(γ, 2)|·q² and |C(γ − 1, 2)|·q² < 3e−8; ≈ 2.8e−4
 * for γ = 1.5): the q of most blocks of a long row. */
function seriesBound1(gamma: f64): f32 {
  seriesBound(gamma);
  return boundQ1;
}

/** The kind of γ (see G_INT) and its integer part: [gk, gi]. */
function gammaKind(gamma: f64): i32 {
  if (gamma == Math.floor(gamma) && gamma <= 16) return gamma == 2 || gamma == 3 || gamma == 5 ? <i32>gamma : G_INT;
  if (gamma * 2 == Math.floor(gamma * 2) && gamma <= 16) return G_HALF;
  return G_REAL;
}

/**
 * The focal pass over [b0, b1) of a block (f = e^(bmax − m)/s: q = E·f; cb = bmax − m − log s:
 * lq = (z − bmax) + cb), with h = r^γ − γ·q·r^(γ−1)·lq (r = 1 − q): adds Σ v·r^γ·lq into rowS and
 * (unless `fused`) Σ v·h into rowT; writes over z (writeGrad) −g·α·ε·v·h, or (`fused`: no noise term in
 * the gradient, ε = 0) the whole gradient entry q·gG (gG = g·Γ); both plus the penalty's
 * g·β·q·(w·(lq + 1) − P) (gBeta = g·β; `pen` its constant part K, see the loop). r^γ by `gk` (see G_INT);
 * a half-integer or general γ takes, where all 4 lanes have q below {@link seriesBound} (most of a long
 * row), the binomial series of (1 − q)^γ and (1 − q)^(γ−1), else (the loop stops there and returns c, see
 * focalSplit; in place in `generic` loops) √r or exp(γ·log r); returns b1 when done. v = 0: the constant
 * noise vc (hasV false: the sums are taken unscaled and scaled once). Inlined with constant `gk`, `cp`,
 * `generic`, `hasV` and `fused`.
 */
@inline
function focalPass(
  row: usize, e: usize, b0: i32, b1: i32, k: i32, w: usize, v: usize, hasV: bool, vc: f32, mask: usize,
  bmax: f32, f: f32, cb: f32, gamma: f32, gk: i32, gi: i32,
  gNoise: f32, cp: bool, gBeta: f32, pen: f32, writeGrad: bool, generic: bool, fused: bool, gG: f32,
): i32 {
  const bv = f32x4.splat(bmax);
  const fv = f32x4.splat(f);
  const cbv = f32x4.splat(cb);
  const gv = f32x4.splat(gamma);
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const gn = f32x4.splat(hasV ? gNoise : <f32>(<f64>gNoise * <f64>vc));
  const ggv = f32x4.splat(gG);
  const gb = f32x4.splat(gBeta);
  // the penalty's term g·β·q·(w·(lq + 1) − P) = q·(gβ·lq + K) (K = gβ·(1 − P), `pen`), or with class weights
  // q·(w·(gβ·lq + gβ) + K) (K = −gβ·P); fused, K takes the whole entry's q·gG as well
  const kv = f32x4.splat(fused ? gG + pen : pen);
  const g64 = <f64>gamma;
  const qs = f32x4.splat(seriesBound(g64));
  // (1 − q)^γ = 1 + q·(c1 + q·c2),  γ·q·(1 − q)^(γ−1) = q·(γ + q·(d1 + q·d2))  (see seriesBound)
  const c1 = f32x4.splat(<f32>-g64);
  const c2 = f32x4.splat(<f32>((g64 * (g64 - 1)) / 2));
  const d1 = f32x4.splat(<f32>(-g64 * (g64 - 1)));
  const d2 = f32x4.splat(<f32>((g64 * (g64 - 1) * (g64 - 2)) / 2));
  let s = f32x4.splat(0);
  let t = f32x4.splat(0);
  let accS = f64x2.splat(0.0);
  let accT = f64x2.splat(0.0);
  let stop = b1;
  // groups of GROUP floats summed in f32, then widened (the inner loop carries no group test)
  for (let g0 = b0; g0 < b1; g0 += GROUP) {
  const g1 = min(g0 + GROUP, b1);
  for (let c = g0; c < g1; c += 4) {
    const off = <usize>c << 2;
    const p = row + off;
    const ok = generic ? allowedAt(mask, c, k) : i32x4.splat(-1);
    let lq = f32x4.add(f32x4.sub(v128.load(p), bv), cbv);
    let q = f32x4.mul(v128.load(e + off), fv);
    if (generic) {
      // lanes past the row end may hold anything: q = 0 keeps every power finite
      lq = v128.and(lq, ok);
      q = v128.and(q, ok);
    }
    const r = f32x4.sub(one, q);
    let pw = one; // r^γ
    let gqp = zero; // γ·q·r^(γ−1)
    if (gk >= 0 || gk == G_INT) {
      const gc = gk >= 0 ? gk : gi;
      const pb = powBelow(r, gc);
      pw = gc == 0 ? one : f32x4.mul(pb, r);
      gqp = f32x4.mul(f32x4.mul(gv, q), pb);
    } else if (gk == G_SQRT) {
      const sr = f32x4.sqrt(f32x4.pmax(r, zero)); // (q may round a hair above 1)
      pw = halfPow(r, sr, gi);
      gqp = f32x4.mul(f32x4.mul(gv, q), halfBelow(r, sr, gi));
    } else if (gk == G_EXPLOG) {
      pw = realPow(r, gv);
      gqp = realBelow(f32x4.mul(gv, q), pw, r);
    } else if (gk == G_SERIES1) {
      pw = f32x4.add(one, f32x4.mul(q, c1));
      gqp = f32x4.mul(q, f32x4.add(gv, f32x4.mul(q, d1)));
    } else if (gk == G_SERIES || i32x4.all_true(f32x4.lt(q, qs))) {
      pw = f32x4.add(one, f32x4.mul(q, f32x4.add(c1, f32x4.mul(q, c2))));
      gqp = f32x4.mul(q, f32x4.add(gv, f32x4.mul(q, f32x4.add(d1, f32x4.mul(q, d2)))));
    } else if (!generic) {
      // a vector with a large q (few in a long row): stop here, the caller takes it exactly (focalSplit)
      stop = c;
      break;
    } else if (gk == G_HALF) {
      const sr = f32x4.sqrt(f32x4.pmax(r, zero));
      pw = halfPow(r, sr, gi);
      gqp = f32x4.mul(f32x4.mul(gv, q), halfBelow(r, sr, gi));
    } else {
      pw = realPow(r, gv);
      gqp = realBelow(f32x4.mul(gv, q), pw, r);
    }
    let h = f32x4.sub(pw, f32x4.mul(gqp, lq));
    let vv = one;
    if (hasV) {
      vv = v128.load(v + off);
      if (generic) vv = v128.and(vv, ok);
      h = f32x4.mul(vv, h); // v·h
      s = f32x4.add(s, f32x4.mul(f32x4.mul(vv, pw), lq));
    } else {
      if (generic) h = v128.and(h, ok);
      s = f32x4.add(s, f32x4.mul(pw, lq));
    }
    if (!fused) t = f32x4.add(t, h);
    if (writeGrad) {
      let out: v128;
      if (cp) {
        let u = f32x4.mul(gb, lq);
        if (w) u = f32x4.mul(v128.load(w + off), f32x4.add(u, gb));
        u = f32x4.mul(q, f32x4.add(u, kv));
        out = fused ? u : f32x4.add(f32x4.mul(h, gn), u);
        if (generic) out = v128.and(out, ok);
      } else out = fused ? f32x4.mul(q, ggv) : f32x4.mul(h, gn);
      if (generic) storeRow(p, out, c, k);
      else v128.store(p, out);
    }
  }
  accS = f64x2.add(accS, widen(s));
  s = zero;
  if (!fused) {
    accT = f64x2.add(accT, widen(t));
    t = zero;
  }
  if (stop < b1) break;
  }
  const scale: f64 = hasV ? 1.0 : <f64>vc;
  rowS += scale * hsum2(accS);
  if (!fused) rowT += scale * hsum2(accT);
  return stop;
}

/** The fast focal loops of a noise vector v (no mask, no row end, no penalty), by γ's kind. */
function focalFastV(
  row: usize, e: usize, b0: i32, b1: i32, v: usize, bmax: f32, f: f32, cb: f32, gamma: f32, gk: i32, gi: i32,
  gNoise: f32, writeGrad: bool,
): void {
  if (gk == 2) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, 2, 2, 2, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == 3) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, 3, 3, 3, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == 5) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, 5, 5, 5, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == G_INT) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, gamma, G_INT, gi, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == G_HALF) focalSplit(row, e, b0, b1, 0, v, true, 0, bmax, f, cb, gamma, G_HALF, gi, gNoise, false, 0, 0, writeGrad, false, 0);
  else focalSplit(row, e, b0, b1, 0, v, true, 0, bmax, f, cb, gamma, G_REAL, gi, gNoise, false, 0, 0, writeGrad, false, 0);
}

/** {@link focalFastV} with the constant noise vc (no vector stream). */
function focalFastC(
  row: usize, e: usize, b0: i32, b1: i32, vc: f32, bmax: f32, f: f32, cb: f32, gamma: f32, gk: i32, gi: i32,
  gNoise: f32, writeGrad: bool,
): void {
  if (gk == 2) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, 2, 2, 2, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == 3) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, 3, 3, 3, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == 5) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, 5, 5, 5, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == G_INT) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, gamma, G_INT, gi, gNoise, false, 0, 0, writeGrad, false, false, 0);
  else if (gk == G_HALF) focalSplit(row, e, b0, b1, 0, 0, false, vc, bmax, f, cb, gamma, G_HALF, gi, gNoise, false, 0, 0, writeGrad, false, 0);
  else focalSplit(row, e, b0, b1, 0, 0, false, vc, bmax, f, cb, gamma, G_REAL, gi, gNoise, false, 0, 0, writeGrad, false, 0);
}

/** The fast fused loops (ε = 0: the gradient written in the same pass) of a noise vector v, by γ's kind. */
function focalGradV(
  row: usize, e: usize, b0: i32, b1: i32, v: usize, bmax: f32, f: f32, cb: f32, gamma: f32, gk: i32, gi: i32,
  gG: f32,
): void {
  if (gk == 2) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, 2, 2, 2, 0, false, 0, 0, true, false, true, gG);
  else if (gk == 3) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, 3, 3, 3, 0, false, 0, 0, true, false, true, gG);
  else if (gk == 5) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, 5, 5, 5, 0, false, 0, 0, true, false, true, gG);
  else if (gk == G_INT) focalPass(row, e, b0, b1, 0, 0, v, true, 0, 0, bmax, f, cb, gamma, G_INT, gi, 0, false, 0, 0, true, false, true, gG);
  else if (gk == G_HALF) focalSplit(row, e, b0, b1, 0, v, true, 0, bmax, f, cb, gamma, G_HALF, gi, 0, false, 0, 0, true, true, gG);
  else focalSplit(row, e, b0, b1, 0, v, true, 0, bmax, f, cb, gamma, G_REAL, gi, 0, false, 0, 0, true, true, gG);
}

/** {@link focalGradV} with the constant noise vc. */
function focalGradC(
  row: usize, e: usize, b0: i32, b1: i32, vc: f32, bmax: f32, f: f32, cb: f32, gamma: f32, gk: i32, gi: i32,
  gG: f32,
): void {
  if (gk == 2) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, 2, 2, 2, 0, false, 0, 0, true, false, true, gG);
  else if (gk == 3) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, 3, 3, 3, 0, false, 0, 0, true, false, true, gG);
  else if (gk == 5) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, 5, 5, 5, 0, false, 0, 0, true, false, true, gG);
  else if (gk == G_INT) focalPass(row, e, b0, b1, 0, 0, 0, false, vc, 0, bmax, f, cb, gamma, G_INT, gi, 0, false, 0, 0, true, false, true, gG);
  else if (gk == G_HALF) focalSplit(row, e, b0, b1, 0, 0, false, vc, bmax, f, cb, gamma, G_HALF, gi, 0, false, 0, 0, true, true, gG);
  else focalSplit(row, e, b0, b1, 0, 0, false, vc, bmax, f, cb, gamma, G_REAL, gi, 0, false, 0, 0, true, true, gG);
}

/**
 * {@link focalPass} over [b0, b1) for a half-integer or general γ (gk G_HALF or G_REAL) without mask or
 * row end: the series loop, and from each vector it stops at (a large q) EXACT_RUN floats by the exact form
 * (a square root, or exp and log), then the series loop again; a block whose largest q = E·f ≤ f (E ≤ 1) is below the bound
 * takes the series without the test (to q¹ below {@link seriesBound1}).
 */
@inline
function focalSplit(
  row: usize, e: usize, b0: i32, b1: i32, w: usize, v: usize, hasV: bool, vc: f32, bmax: f32, f: f32,
  cb: f32, gamma: f32, gk: i32, gi: i32, gNoise: f32, cp: bool, gBeta: f32, pen: f32, writeGrad: bool,
  fused: bool, gG: f32,
): void {
  if (f < seriesBound1(<f64>gamma)) {
    focalPass(row, e, b0, b1, 0, w, v, hasV, vc, 0, bmax, f, cb, gamma, G_SERIES1, gi, gNoise, cp, gBeta, pen, writeGrad, false, fused, gG);
    return;
  }
  if (f < seriesBound(<f64>gamma)) {
    focalPass(row, e, b0, b1, 0, w, v, hasV, vc, 0, bmax, f, cb, gamma, G_SERIES, gi, gNoise, cp, gBeta, pen, writeGrad, false, fused, gG);
    return;
  }
  let c = b0;
  while (c < b1) {
    c = focalPass(row, e, c, b1, 0, w, v, hasV, vc, 0, bmax, f, cb, gamma, gk, gi, gNoise, cp, gBeta, pen, writeGrad, false, fused, gG);
    if (c < b1) {
      // the exact form over EXACT_RUN floats from there (large q cluster in short rows; each switch of loop
      // costs their setup)
      const c1 = min(c + EXACT_RUN, b1);
      if (gk == G_HALF) focalPass(row, e, c, c1, 0, w, v, hasV, vc, 0, bmax, f, cb, gamma, G_SQRT, gi, gNoise, cp, gBeta, pen, writeGrad, false, fused, gG);
      else focalPass(row, e, c, c1, 0, w, v, hasV, vc, 0, bmax, f, cb, gamma, G_EXPLOG, gi, gNoise, cp, gBeta, pen, writeGrad, false, fused, gG);
      c = c1;
    }
  }
}

/** The fast loops with the penalty (class weights w or none, noise vector or constant), by γ's kind;
 * `fused` as in {@link focalPass}. */
function focalFastCp(
  row: usize, e: usize, b0: i32, b1: i32, w: usize, v: usize, vc: f32, bmax: f32, f: f32, cb: f32,
  gamma: f32, gk: i32, gi: i32, gNoise: f32, gBeta: f32, pen: f32, writeGrad: bool, fused: bool, gG: f32,
): void {
  if (fused) {
    if (gk == 2) focalPass(row, e, b0, b1, 0, w, v, v != 0, vc, 0, bmax, f, cb, 2, 2, 2, 0, true, gBeta, pen, true, false, true, gG);
    else if (gk == G_HALF) focalSplit(row, e, b0, b1, w, v, v != 0, vc, bmax, f, cb, gamma, G_HALF, gi, 0, true, gBeta, pen, true, true, gG);
    else if (gk == G_REAL) focalSplit(row, e, b0, b1, w, v, v != 0, vc, bmax, f, cb, gamma, G_REAL, gi, 0, true, gBeta, pen, true, true, gG);
    else focalPass(row, e, b0, b1, 0, w, v, v != 0, vc, 0, bmax, f, cb, gamma, G_INT, gi, 0, true, gBeta, pen, true, false, true, gG);
  } else if (gk == 2) focalPass(row, e, b0, b1, 0, w, v, v != 0, vc, 0, bmax, f, cb, 2, 2, 2, gNoise, true, gBeta, pen, writeGrad, false, false, 0);
  else if (gk == G_HALF) focalSplit(row, e, b0, b1, w, v, v != 0, vc, bmax, f, cb, gamma, G_HALF, gi, gNoise, true, gBeta, pen, writeGrad, false, 0);
  else if (gk == G_REAL) focalSplit(row, e, b0, b1, w, v, v != 0, vc, bmax, f, cb, gamma, G_REAL, gi, gNoise, true, gBeta, pen, writeGrad, false, 0);
  else focalPass(row, e, b0, b1, 0, w, v, v != 0, vc, 0, bmax, f, cb, gamma, G_INT, gi, gNoise, true, gBeta, pen, writeGrad, false, false, 0);
}

/** {@link focalPass} with the mask and the row end applied (a masked block, the row's last vector). */
function focalTail(
  row: usize, e: usize, b0: i32, b1: i32, k: i32, w: usize, v: usize, vc: f32, mask: usize, bmax: f32, f: f32,
  cb: f32, gamma: f32, gk: i32, gi: i32, gNoise: f32, cp: bool, gBeta: f32, pen: f32, writeGrad: bool,
  fused: bool, gG: f32,
): void {
  if (gk == G_HALF) focalPass(row, e, b0, b1, k, w, v, v != 0, vc, mask, bmax, f, cb, gamma, G_HALF, gi, gNoise, cp, gBeta, pen, writeGrad, true, fused, gG);
  else if (gk == G_REAL) focalPass(row, e, b0, b1, k, w, v, v != 0, vc, mask, bmax, f, cb, gamma, G_REAL, gi, gNoise, cp, gBeta, pen, writeGrad, true, fused, gG);
  else focalPass(row, e, b0, b1, k, w, v, v != 0, vc, mask, bmax, f, cb, gamma, G_INT, gi, gNoise, cp, gBeta, pen, writeGrad, true, fused, gG);
}

/**
 * The focal part of one row (see the header; the row's sums from rowSums): the focal pass over the blocks
 * (with ε = 0 and a gradient it writes the whole gradient row), then nll, smooth, Γ and Γ − γ_y into
 * rowNll, rowSmooth, rowGamma, rowOther. y's terms are taken in f64, out of the vector sums.
 */
function focalRow(
  row: usize, ework: usize, k: i32, kv: i32, y: i32, w: usize, vp: usize, vConst: f64, mask: usize, bm: usize,
  m: f64, s: f64, ls: f64, ly: f64, qy: f64, ry: f64, wy: f64, vy: f64, g: f64, eps: f64, nonTarget: i32,
  cp: i32, beta: f64, pen: f64, gamma: f64, alpha: f64, writeGrad: i32,
): void {
  const gr: f64 = gamma < 0 ? (qy < 0.2 ? 5.0 : 3.0) : gamma;
  const gk = gammaKind(gr);
  const gi: i32 = gk == G_REAL ? -1 : <i32>Math.floor(gr);
  const pwy = Math.pow(ry, gr); // 0^0 = 1
  const hy = pwy + (gr == 0 || ry == 0 ? 0.0 : gr * qy * Math.pow(ry, gr - 1) * ly);
  const vyTarget = nonTarget ? 0.0 : vy;
  // ε = 0: no noise term in the gradient, Γ = α·w_y·h_y is known now, and the focal pass writes the
  // whole gradient (no gradient pass after it)
  const fused = writeGrad != 0 && eps == 0;
  const gG = <f32>(g * alpha * wy * hy);
  // The target's terms are taken in f64 below: out of the vector sums (u_y = 0 meanwhile; with the
  // constant noise, y's lane is recomputed after the row and subtracted).
  if (vp) store<f32>(vp + (<usize>y << 2), 0);
  const vc = <f32>vConst;
  rowS = 0.0;
  rowT = 0.0;
  let yS: f64 = 0.0;
  let yT: f64 = 0.0;
  if (!vp) {
    // y's lane as the loops will take it (before they overwrite z): its vector with the noise one-hot
    // at y (a scratch vector past E), through the same arithmetic
    const y0 = y & ~3;
    const oneHot = ework + (<usize>kv << 2);
    v128.store(oneHot, f32x4.splat(0));
    store<f32>(oneHot + (<usize>(y - y0) << 2), vc);
    const bmy = <f64>load<f32>(bm + (<usize>(y / BLOCK) << 2));
    const fy = <f32>((bmy == m ? 1.0 : Math.exp(bmy - m)) / s);
    focalTail(row, ework, y0, y0 + 4, k, 0, oneHot - (<usize>y0 << 2), 0, mask, <f32>bmy, fy, <f32>(bmy - m - ls), <f32>gr, gk, gi, 0, false, 0, 0, false, false, 0);
    yS = rowS;
    yT = rowT;
    rowS = 0.0;
    rowT = 0.0;
  }
  let nb = 0;
  const gNoise = <f32>(-g * alpha * eps);
  // the penalty's constant part (see focalPass)
  const penK = <f32>(w ? -g * beta * pen : g * beta * (1.0 - pen));
  for (let b0 = 0; b0 < kv; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, kv);
    const bmax = <f64>load<f32>(bm + (<usize>nb << 2));
    nb++;
    if (bmax == -Infinity) {
      if (writeGrad) memory.fill(row + (<usize>b0 << 2), 0, <usize>(min(b1, k) - b0) << 2);
      continue;
    }
    const f = <f32>((bmax == m ? 1.0 : Math.exp(bmax - m)) / s);
    const cb = <f32>(bmax - m - ls);
    const v4 = mask ? b0 : b0 + ((min(b1, k) - b0) & ~3);
    const gb = <f32>(g * beta);
    if (v4 > b0) {
      const bf = <f32>bmax;
      const wg = writeGrad != 0;
      if (cp) focalFastCp(row, ework, b0, v4, w, vp, vc, bf, f, cb, <f32>gr, gk, gi, gNoise, gb, penK, wg, fused, gG);
      else if (fused) {
        if (vp) focalGradV(row, ework, b0, v4, vp, bf, f, cb, <f32>gr, gk, gi, gG);
        else focalGradC(row, ework, b0, v4, vc, bf, f, cb, <f32>gr, gk, gi, gG);
      } else if (vp) focalFastV(row, ework, b0, v4, vp, bf, f, cb, <f32>gr, gk, gi, gNoise, wg);
      else focalFastC(row, ework, b0, v4, vc, bf, f, cb, <f32>gr, gk, gi, gNoise, wg);
    }
    if (v4 < b1) focalTail(row, ework, v4, b1, k, w, vp, vc, mask, <f32>bmax, f, cb, <f32>gr, gk, gi, gNoise, cp != 0, gb, penK, writeGrad != 0, fused, gG);
  }
  if (vp) store<f32>(vp + (<usize>y << 2), <f32>vy);
  else {
    rowS -= yS;
    rowT -= yT;
  }
  rowNll = alpha * wy * pwy * ly;
  rowSmooth = alpha * (vyTarget * pwy * ly - rowS);
  rowGamma = alpha * ((1.0 - eps) * wy * hy + eps * (rowT + vyTarget * hy));
  rowOther = alpha * eps * rowT;
}

/**
 * Passes 1 and 2 over one row's blocks (see the header): the block maxima into bm, e = exp(z − blockmax)
 * into eb (the logits read at src), and the row's running sums merged block by block, all relative to the
 * row max: rowMax, rowOnes (the count of e = 1), rowRest (Σ of the other e), rowA and rowW (the penalty's
 * A and W), rowSvz (Σ v·(z − z_y)) and, with `fold`, rowMass (Σ S[y] on the allowed classes).
 */
function rowSums(
  src: usize, eb: usize, k: i32, kv: i32, vp: usize, mask: usize, w: usize, zyv: v128, bm: usize, cp: i32,
  focal: i32, fold: bool,
): void {
  rowMax = -Infinity;
  rowOnes = 0.0;
  rowRest = 0.0;
  rowSvz = 0.0;
  rowA = 0.0;
  rowW = 0.0;
  rowMass = 0.0;
  let nb = 0;
  for (let b0 = 0; b0 < kv; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, kv);
    // without a mask: the fast loops to the last multiple of 8 inside the row, the generic rowOnes after
    const v1 = mask ? b0 : b0 + ((min(b1, k) - b0) & ~7);
    let bmax: f32 = -Infinity;
    if (v1 > b0) {
      if (fold) {
        bmax = pass1FastMass(src, b0, v1, vp, zyv);
        rowMass += blockMass;
      } else bmax = pass1Fast(src, b0, v1, vp, zyv, !focal);
      rowSvz += blockA;
    }
    if (v1 < b1) {
      bmax = max(bmax, pass1(src, v1, b1, k, vp, mask, zyv, !focal));
      rowSvz += blockA;
      rowMass += blockMass;
    }
    store<f32>(bm + (<usize>nb << 2), bmax);
    nb++;
    if (bmax == -Infinity) {
      memory.fill(eb + (<usize>b0 << 2), 0, <usize>(min(b1, k) - b0) << 2);
      continue;
    }
    let sb: f64 = 0.0;
    let bOnes: f64 = 0.0;
    let bA: f64 = 0.0;
    let bW: f64 = 0.0;
    if (v1 > b0) {
      if (!cp) sb = pass2Fast(src, eb, b0, v1, 0, bmax, false, false);
      else if (w) sb = pass2Fast(src, eb, b0, v1, w, bmax, true, true);
      else sb = pass2Fast(src, eb, b0, v1, 0, bmax, true, false);
      bOnes = <f64>blockOnes;
      bA = blockA;
      bW = blockW;
    }
    if (v1 < b1) {
      sb += pass2(src, eb, v1, b1, k, w, mask, bmax, cp != 0);
      bOnes += <f64>blockOnes;
      bA += blockA;
      bW += blockW;
    }
    blockA = bA;
    blockW = bW;
    // merge the block into the running (rowMax, rowOnes, rowRest, A, W), all relative to rowMax
    const bm64 = <f64>bmax;
    if (rowMax == -Infinity) {
      rowOnes = bOnes;
      rowRest = sb;
      rowA = blockA;
      rowW = blockW;
      rowMax = bm64;
    } else if (bm64 > rowMax) {
      const rf = Math.exp(rowMax - bm64);
      rowRest = (rowOnes + rowRest) * rf + sb;
      rowA = rf * (rowA + (rowMax - bm64) * rowW) + blockA;
      rowW = rf * rowW + blockW;
      rowOnes = bOnes;
      rowMax = bm64;
    } else if (bm64 == rowMax) {
      rowOnes += bOnes;
      rowRest += sb;
      rowA += blockA;
      rowW += blockW;
    } else {
      const rf = Math.exp(bm64 - rowMax);
      rowRest += (bOnes + sb) * rf;
      rowA += rf * (blockA + (bm64 - rowMax) * blockW);
      rowW += rf * blockW;
    }
  }
}

/**
 * Rows r0 ≤ r < r1 of the call whose record is at `call` (call.ts). Pointers of 0 mean "absent": w (class
 * weights, f32 K), mask (f32 K, 1 = allowed), vRows (class-conditional noise: rows of S[y] as f32 K,
 * normalised and weighted here in place; else the shared noise vector v, f32 K, 0 on masked classes).
 * scale: f64 per row, the gradient factor g_i. labels: i32 per row (−1 = ignored). cp: the penalty's
 * entropy is wanted (beta its weight in the gradient). focal: its exponent ≥ 0, or < 0 for FLSD-53 (5 if
 * q_y < 0.2 else 3). out: f64 (nll, smooth, entropy) per row; a row whose class-conditional noise has no
 * float32 mass gets NaN (the caller's reference recomputes it). bm: scratch for block maxima; ework:
 * scratch of K (+ 4) floats. vScratch: 0 when vRows holds the staged rows (row r at vRows + 4K·(r − r0));
 * else vRows is S itself (K×K, read in place at row yᵣ, never written: several threads read it) and the
 * rows to normalize first are copied to vScratch (K + 4 floats). Without vRows, a vScratch ≠ 0 takes a
 * copy of the shared vector v for focal rows (which zero v_y while they run: v may be read by other
 * threads meanwhile). The logits are read at z, the gradient rows written at g, gStride bytes apart.
 */
export function familyRows(call: usize, r0: i32, r1: i32): void {
  const k = int(call, K);
  const gStride = at(call, G_STRIDE);
  const r = <usize>r0;
  familyRowsFrom(
    at(call, Z) + r * (<usize>k << 2),
    at(call, G) + r * gStride,
    gStride,
    r1 - r0,
    k,
    at(call, LABELS) + (r << 2),
    at(call, SCALE) + (r << 3),
    at(call, W),
    at(call, V),
    real(call, V_CONST),
    at(call, V_ROWS),
    at(call, MASK),
    real(call, EPS),
    int(call, NON_TARGET),
    real(call, V_SUM),
    int(call, CP),
    real(call, BETA),
    int(call, FOCAL),
    real(call, EXPONENT),
    real(call, ALPHA),
    at(call, OUT) + r * 24,
    at(call, BM),
    at(call, EWORK),
    int(call, WRITE_GRAD),
    at(call, V_SCRATCH),
  );
}

/** `familyRows` with the record's fields for the call's rows from the first one run (`n` rows). */
function familyRowsFrom(
  zin: usize,
  z: usize,
  zStride: usize,
  n: i32,
  k: i32,
  labels: usize,
  scale: usize,
  w: usize,
  v: usize,
  vConst: f64,
  vRows: usize,
  mask: usize,
  eps: f64,
  nonTarget: i32,
  vSum: f64,
  cp: i32,
  beta: f64,
  focal: i32,
  gamma: f64,
  alpha: f64,
  out: usize,
  bm: usize,
  ework: usize,
  writeGrad: i32,
  vScratch: usize,
): void {
  const rowBytes = <usize>k << 2;
  // Focal rows zero v_y while they run: a vector other threads read too is copied to this thread's scratch.
  if (focal && v && !vRows && vScratch) {
    memory.copy(vScratch, v, rowBytes);
    v = vScratch;
  }
  const kv = (k + 3) & ~3; // vector loops run to K rounded up to 4
  for (let i = 0; i < n; i++) {
    const row = z + <usize>i * zStride;
    let src = zin + <usize>i * rowBytes;
    const o = out + <usize>i * 24;
    const y = load<i32>(labels + (<usize>i << 2));
    if (y < 0) {
      if (writeGrad) memory.fill(row, 0, rowBytes);
      store<f64>(o, 0.0);
      store<f64>(o, 0.0, 8);
      store<f64>(o, 0.0, 16);
      continue;
    }
    let vp = v;
    let vs = vSum;
    // Class-conditional noise without class weights or focal loss: S[y] is used raw and its mass taken in
    // pass 1 (ρ = 1/mass folds into the row's constants); otherwise normalized (and weighted) first.
    const fold = vRows != 0 && !w && !focal;
    let rho: f64 = 1.0;
    if (vRows) vp = vRows + <usize>(vScratch ? y : i) * rowBytes;
    if (vRows && !fold) {
      if (vScratch) {
        memory.copy(vScratch, vp, rowBytes);
        vp = vScratch;
      }
      vs = noiseRow(vp, k, w, mask);
      if (vs != vs) {
        store<f64>(o, NaN);
        store<f64>(o, NaN, 8);
        store<f64>(o, NaN, 16);
        continue;
      }
    }
    // e = exp(z − blockmax) goes to the scratch when the penalty or focal passes still need z, else to the
    // gradient row (as rows.ts: one stream less). The penalty and focal passes read z where they write the
    // gradient: a separate input row is copied there first (while it is in cache: no stream more).
    const eb = cp || focal ? ework : row;
    if (src != row && (cp || focal)) {
      memory.copy(row, src, rowBytes);
      src = row;
    }
    const zy = <f64>load<f32>(src + (<usize>y << 2));
    const zyv = f32x4.splat(<f32>zy);
    rowSums(src, eb, k, kv, vp, mask, w, zyv, bm, cp, focal, fold);
    const m = rowMax;
    const ones = rowOnes;
    const rest = rowRest;
    let svz = rowSvz;
    const aSum = rowA;
    const wSum = rowW;
    const mass = rowMass;
    if (fold) {
      if (!(mass > 1e-30 && mass < Infinity)) {
        // no float32 mass on the allowed classes: the reference takes the row
        store<f64>(o, NaN);
        store<f64>(o, NaN, 8);
        store<f64>(o, NaN, 16);
        continue;
      }
      rho = 1.0 / mass;
      svz *= rho;
      vs = mass * rho;
    }
    const s = ones + rest;
    const ls = Math.log1p(ones - 1.0 + rest); // log s, with the digits of a tiny rest
    const ly = m - zy + ls; // ℓ = −log q_y
    const qy = Math.exp(-ly);
    const ry = -Math.expm1(-ly); // 1 − q_y
    const wy: f64 = w ? <f64>load<f32>(w + (<usize>y << 2)) : 1.0;
    const vy: f64 = vp ? <f64>load<f32>(vp + (<usize>y << 2)) * rho : vConst;
    if (!vp) svz *= vConst; // Σ (z − z_y) was taken unscaled
    // H_w(q) and P = Σ w·q·(lq + 1) (the penalty's gradient)
    const entropy = cp ? (ls * wSum - aSum) / s : 0.0;
    const pen = wSum / s - entropy;
    const g = load<f64>(scale + (<usize>i << 3));
    let gammaRow: f64 = 0.0; // Γ
    let other: f64 = 0.0; // Γ − γ_y
    let nll: f64;
    let smooth: f64;
    if (focal) {
      focalRow(row, ework, k, kv, y, w, vp, vConst, mask, bm, m, s, ls, ly, qy, ry, wy, vy, g, eps, nonTarget, cp, beta, pen, gamma, alpha, writeGrad);
      nll = rowNll;
      smooth = rowSmooth;
      gammaRow = rowGamma;
      other = rowOther;
    } else {
      const vRow = vs - (nonTarget ? vy : 0.0);
      nll = wy * ly;
      smooth = vRow * ly - svz;
      gammaRow = (1.0 - eps) * wy + eps * vRow;
      other = eps * (vs - vy);
    }
    store<f64>(o, nll);
    store<f64>(o, smooth, 8);
    store<f64>(o, entropy, 16);
    if (!writeGrad) continue;
    if (!(focal && eps == 0)) gradientPass(row, eb, k, kv, w, vp, vConst, rho, mask, bm, m, s, ls, g, gammaRow, eps, focal != 0, cp != 0, beta, pen);
    let gy = g * (gammaRow * Math.expm1(-ly) + other);
    if (cp) gy += g * beta * qy * (wy * (1.0 - ly) - pen);
    store<f32>(row + (<usize>y << 2), <f32>gy);
  }
}

/**
 * The class-conditional noise row at vp (S[y] as f32 K) → v_c = w_c·S[y, c]/mass on the allowed classes,
 * 0 elsewhere, in place; returns V = Σ v_c, or NaN when the allowed mass is not a normal float32 sum
 * (≤ 1e−30: the row goes to the reference).
 */
function noiseRow(vp: usize, k: i32, w: usize, mask: usize): f64 {
  let acc = f64x2.splat(0.0);
  for (let c = 0; c < k; c += 4) {
    const ok = allowedAt(mask, c, k);
    acc = f64x2.add(acc, widen(v128.and(v128.load(vp + (<usize>c << 2)), ok)));
  }
  const mass = hsum2(acc);
  if (!(mass > 1e-30 && mass < Infinity)) return NaN;
  const rho = f32x4.splat(<f32>(1.0 / mass));
  acc = f64x2.splat(0.0);
  for (let c = 0; c < k; c += 4) {
    const p = vp + (<usize>c << 2);
    const ok = allowedAt(mask, c, k);
    let x = f32x4.mul(v128.load(p), rho);
    if (w) x = f32x4.mul(x, v128.load(w + (<usize>c << 2)));
    x = v128.and(x, ok);
    acc = f64x2.add(acc, widen(x));
    storeRow(p, x, c, k);
  }
  return hsum2(acc);
}

/**
 * After the row's sums: the gradient over z from the stored e (and, for focal rows, the noise terms the
 * focal pass left in z): per block f = e^(bmax − m)/s, q = E·f,
 *   cross-entropy: g·(Γ·q − ε·v) (+ g·β·q·(w·(lq + 1) − P));   focal: z += g·Γ·q.
 * Without a mask the blocks run the fast loops up to the row's last full vector.
 */
function gradientPass(
  row: usize, e: usize, k: i32, kv: i32, w: usize, v: usize, vConst: f64, rho: f64, mask: usize, bm: usize,
  m: f64, s: f64, ls: f64, g: f64, gammaRow: f64, eps: f64, focal: bool, cp: bool, beta: f64, pen: f64,
): void {
  let nb = 0;
  for (let b0 = 0; b0 < kv; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, kv);
    const bmax = <f64>load<f32>(bm + (<usize>nb << 2));
    nb++;
    if (bmax == -Infinity) {
      if (!focal) memory.fill(row + (<usize>b0 << 2), 0, <usize>(min(b1, k) - b0) << 2);
      continue;
    }
    const f = (bmax == m ? 1.0 : Math.exp(bmax - m)) / s;
    const v4 = mask ? b0 : b0 + ((min(b1, k) - b0) & ~3);
    if (v4 > b0) gradRange(row, e, b0, v4, k, w, v, vConst, rho, mask, bmax, f, m, ls, g, gammaRow, eps, focal, cp, beta, pen, false);
    if (v4 < b1) gradTail(row, e, v4, b1, k, w, v, vConst, rho, mask, bmax, f, m, ls, g, gammaRow, eps, focal, cp, beta, pen);
  }
}

/**
 * The gradient over [c0, c1) of one block (see gradientPass); `generic`: mask and row end applied.
 * Inlined with a constant `generic`: the fast loops carry no lane masks.
 */
@inline
function gradRange(
  row: usize, e: usize, c0: i32, c1: i32, k: i32, w: usize, v: usize, vConst: f64, rho: f64, mask: usize,
  bmax: f64, f: f64, m: f64, ls: f64, g: f64, gammaRow: f64, eps: f64, focal: bool, cp: bool, beta: f64,
  pen: f64, generic: bool,
): void {
  if (focal) {
    const fg = f32x4.splat(<f32>(g * gammaRow * f));
    for (let c = c0; c < c1; c += 4) {
      const off = <usize>c << 2;
      const p = row + off;
      const x = f32x4.add(v128.load(p), f32x4.mul(v128.load(e + off), fg));
      if (generic) storeRow(p, x, c, k);
      else v128.store(p, x);
    }
  } else if (generic) gradLoop(row, e, c0, c1, k, w, v, mask, bmax, f, m, ls, g, gammaRow, eps, cp, beta, pen, rho, vConst, true, v != 0, w != 0);
  else if (!cp) {
    if (v) gradLoop(row, e, c0, c1, k, 0, v, 0, bmax, f, m, ls, g, gammaRow, eps, false, beta, pen, rho, vConst, false, true, false);
    else gradLoop(row, e, c0, c1, k, 0, 0, 0, bmax, f, m, ls, g, gammaRow, eps, false, beta, pen, rho, vConst, false, false, false);
  } else if (w) {
    if (v) gradLoop(row, e, c0, c1, k, w, v, 0, bmax, f, m, ls, g, gammaRow, eps, true, beta, pen, rho, vConst, false, true, true);
    else gradLoop(row, e, c0, c1, k, w, 0, 0, bmax, f, m, ls, g, gammaRow, eps, true, beta, pen, rho, vConst, false, false, true);
  } else if (v) gradLoop(row, e, c0, c1, k, 0, v, 0, bmax, f, m, ls, g, gammaRow, eps, true, beta, pen, rho, vConst, false, true, false);
  else gradLoop(row, e, c0, c1, k, 0, 0, 0, bmax, f, m, ls, g, gammaRow, eps, true, beta, pen, rho, vConst, false, false, false);
}

/**
 * The cross-entropy gradient loop of {@link gradRange}: g·(Γ·q − ε·v) (+ the penalty's q·g·β·(w·(lq + 1) − P)).
 * Inlined with constant `generic`, `hasV`, `hasW` (and `cp` in the fast loops): no per-vector tests.
 */
@inline
function gradLoop(
  row: usize, e: usize, c0: i32, c1: i32, k: i32, w: usize, v: usize, mask: usize, bmax: f64, f: f64, m: f64,
  ls: f64, g: f64, gammaRow: f64, eps: f64, cp: bool, beta: f64, pen: f64, rho: f64, vConst: f64,
  generic: bool, hasV: bool, hasW: bool,
): void {
  const fg = f32x4.splat(<f32>(g * gammaRow * f));
  const gev = f32x4.splat(<f32>(g * eps * rho)); // ρ: a raw noise row's 1/mass (else 1)
  const ev = f32x4.splat(<f32>(g * eps * vConst));
  if (!cp) {
    for (let c = c0; c < c1; c += 4) {
      const off = <usize>c << 2;
      const p = row + off;
      let x = f32x4.sub(f32x4.mul(v128.load(e + off), fg), hasV ? f32x4.mul(v128.load(v + off), gev) : ev);
      if (generic) {
        x = v128.and(x, allowedAt(mask, c, k));
        storeRow(p, x, c, k);
      } else v128.store(p, x);
    }
  } else {
    // q·(g·Γ + g·β·(w·(lq + 1) − P)), lq = (z − bmax) + (bmax − m − log s)
    const bv = f32x4.splat(<f32>bmax);
    const a2 = f32x4.splat(<f32>(g * f * (gammaRow - beta * pen)));
    const b2 = f32x4.splat(<f32>(g * f * beta));
    const c2 = f32x4.splat(<f32>(bmax - m - ls + 1.0));
    for (let c = c0; c < c1; c += 4) {
      const off = <usize>c << 2;
      const p = row + off;
      let d = f32x4.mul(b2, f32x4.add(f32x4.sub(v128.load(p), bv), c2));
      if (hasW) d = f32x4.mul(d, v128.load(w + off));
      let x = f32x4.mul(v128.load(e + off), f32x4.add(a2, d));
      x = f32x4.sub(x, hasV ? f32x4.mul(v128.load(v + off), gev) : ev);
      if (generic) {
        x = v128.and(x, allowedAt(mask, c, k));
        storeRow(p, x, c, k);
      } else v128.store(p, x);
    }
  }
}

/** {@link gradRange} with the mask and the row end applied (a masked block, or the row's last vector). */
function gradTail(
  row: usize, e: usize, c0: i32, c1: i32, k: i32, w: usize, v: usize, vConst: f64, rho: f64, mask: usize,
  bmax: f64, f: f64, m: f64, ls: f64, g: f64, gammaRow: f64, eps: f64, focal: bool, cp: bool, beta: f64,
  pen: f64,
): void {
  gradRange(row, e, c0, c1, k, w, v, vConst, rho, mask, bmax, f, m, ls, g, gammaRow, eps, focal, cp, beta, pen, true);
}
