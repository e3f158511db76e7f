// The label-smoothing family on the SIMD kernel: confidence penalty, focal loss (FLSD-53
// included) and class-conditional noise, fused with label smoothing, class weights and a shared class
// mask, for class-index targets. The same row loss and gradient as the float64 reference
// (src/core/reference.ts); the plain loss stays on `rows` (rows.ts).
//
// Per row i with label y, q = softmax(z) over the allowed classes, lq_c = log q_c = (z_c − m) − log s,
// v_c = w_c·u_c the weighted noise (0 on masked classes; the row's S[y]·w/mass for class-conditional
// noise), V = Σ v_c minus v_y for non-target noise (u_y = 0 there), ℓ = −lq_y. Forward and backward:
//   cross-entropy: nll = w_y·ℓ,  smooth = V·ℓ − Σ_c v_c·(z_c − z_y),  Λ = (1−ε)·w_y + ε·V
//                  grad_c = g·(Λ·q_c − ε·v_c)   (c ≠ y)
//   focal (exponent γ, factor α): with r_c = 1 − q_c, h_c = r_c^γ − γ·q_c·r_c^(γ−1)·lq_c,
//                  nll = α·w_y·r_y^γ·ℓ,  smooth = −α·Σ_c v_c·r_c^γ·lq_c,
//                  Λ = α·((1−ε)·w_y·h_y + ε·Σ_c v_c·h_c),  grad_c = g·(Λ·q_c − α·ε·v_c·h_c)   (c ≠ y)
//   penalty (β):   entropy H = −Σ_c w_c·q_c·lq_c = log s·W/s − A/s  (A = Σ w_c·e_c·(z_c − m),
//                  W = Σ w_c·e_c, e_c = exp(z_c − m)), P = Σ w_c·q_c·(lq_c + 1) = W/s − H,
//                  grad_c += g·β·q_c·(w_c·(lq_c + 1) − P)
// Λ = Σ_c λ_c is the gradient's target sum (docs/glossary.md). The target's gradient entry, where Λ·q_y and
// λ_y cancel on confident rows, is formed in f64 at the end: g·(Λ·expm1(−ℓ) + (Λ − λ_y)) (+ the penalty's
// entry), with 1 − q_y = −expm1(−ℓ) exact.
// Shapes: logits (N,K) f32 at the call's z; the gradient rows at g, gStride bytes apart (g = z, gStride =
// 4K: in place; gStride = 0: one scratch row, no gradient kept); out (N,3) f64 (nll, smooth, entropy).
//
// Blocks of BLOCK floats, as in rows.ts: pass 1 takes the block max (and Σ v·(z − z_y) for cross-entropy),
// pass 2 stores e = exp(z − blockmax) in the row scratch `ework` (the logits stay: the penalty and focal
// passes need lq_c = (z_c − blockmax) + (blockmax − m − log s) without a log), then after the row the
// gradient passes read both (class-conditional noise alone keeps e in place, as rows.ts). Focal adds one
// pass (Λ needs Σ v_c·h_c before any gradient entry); its sums leave out the target, whose terms are
// taken in f64: by zeroing v_y meanwhile, or with the constant noise by recomputing y's vector.
// Class-conditional noise rows S[y] are normalized (and weighted) first, or, without class weights and
// focal loss, used raw with their mass taken in pass 1 and 1/mass folded into the row's constants.
// Every vector loop runs to K rounded up to 4: the last vector's lanes past K are masked out of every sum
// and written back unchanged (blend), so no scalar tail duplicates the formulas; the unmasked blocks run
// specialized fast loops up to the row's last full vector.
//
// State: the row, its block and its focal loss live in out-records next to the call record (FamilyRow,
// FamilyBlock, FamilyFocal in call.ts); each function takes their pointers and loads the fields it needs
// into locals before its loops. The loops are specialized by constant `flags` (below): each is inlined
// where its flags are literal, so that the tests fold away and the plain loops carry no dead accumulators.

import {
  ALPHA,
  at,
  BETA,
  BM,
  CP,
  EPS,
  EWORK,
  EXPONENT,
  FAMILY_BLOCK,
  FAMILY_FOCAL,
  FAMILY_ROW,
  FamilyBlock,
  FamilyFocal,
  FamilyRow,
  FOCAL,
  G,
  G_STRIDE,
  int,
  K,
  LABELS,
  MASK,
  NON_TARGET,
  OUT,
  real,
  SCALE,
  V,
  V_CONST,
  V_ROWS,
  V_SCRATCH,
  V_SUM,
  W,
  WRITE_GRAD,
  Z,
} from './call';
import { exp4, hmax4, hsum2, log4, widen } from './math';

const BLOCK: i32 = 2048;
/** f32 partial sums are moved into the f64 accumulators every GROUP floats. */
const GROUP: i32 = 64;

// Flags of the specialized loops: a property fixed for the loop (constant) or read from the row record
// (`…_ROW`, one test per vector, as a runtime bool would be). The penalty's terms (CP); a noise vector,
// else the constant vc (V); class weights (W); the gradient written (WRITE); focal with ε = 0, the focal
// pass writing the whole gradient entry (FUSED); the mask and the row end applied (GENERIC: a masked
// block, or the row's last vector).
const F_CP: i32 = 1, F_CP_ROW: i32 = 2, F_V: i32 = 4, F_V_ROW: i32 = 8, F_W: i32 = 16, F_W_ROW: i32 = 32;
const F_WRITE: i32 = 64, F_WRITE_ROW: i32 = 128, F_FUSED: i32 = 256, F_FUSED_ROW: i32 = 512, F_GENERIC: i32 = 1024;

/** Whether `flags` has `fixed`, or `fromRow` and the record's `value`. */
@inline
function flag(flags: i32, fixed: i32, fromRow: i32, value: bool): bool {
  return (flags & fixed) != 0 || ((flags & fromRow) != 0 && value);
}

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

/**
 * Pass 1 without a mask over [b0, v1) (v1 − b0 a multiple of 8): two independent max chains (as rows.ts);
 * for cross-entropy rows, Σ v·(z − z_y) (no noise vector: the constant noise, the sum taken unscaled) into
 * blk.svz, and for a raw noise row (x.fold) its mass into blk.mass. Returns the block max.
 */
function pass1Fast(x: FamilyRow, blk: FamilyBlock, b0: i32, v1: i32): f32 {
  const row = x.src, v = x.v;
  const zyv = f32x4.splat(<f32>x.zy);
  const neg = f32x4.splat(-Infinity);
  let mx = neg, mx2 = neg, a = f32x4.splat(0);
  let a2 = f32x4.splat(0), acc = f64x2.splat(0.0);
  if (x.focal) {
    for (let c = b0; c < v1; c += 8) {
      const p = row + (<usize>c << 2);
      mx = f32x4.pmax(mx, v128.load(p));
      mx2 = f32x4.pmax(mx2, v128.load(p, 16));
    }
  } else if (x.fold) {
    // a class-conditional noise row taken raw (S[y], not yet divided by its mass): also Σ S into blk.mass
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
    blk.mass = hsum2(mass);
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
  blk.svz = hsum2(f64x2.add(acc, widen(f32x4.add(a, a2))));
  return hmax4(f32x4.pmax(mx, mx2));
}

/**
 * Pass 2 without a mask over [b0, v1) (a multiple of 8 floats): as {@link pass2}, two vectors a step.
 * Inlined with constant flags (F_CP, F_W), so that the plain loop carries no penalty accumulators
 * (register pressure) and no loop tests for class weights.
 */
@inline
function pass2Fast(x: FamilyRow, blk: FamilyBlock, b0: i32, v1: i32, bmax: f32, flags: i32): f64 {
  const cp = (flags & F_CP) != 0;
  const hasW = (flags & F_W) != 0;
  const row = x.src, e = x.e, w = x.w;
  const bv = f32x4.splat(bmax);
  const one = f32x4.splat(1.0);
  let se = f64x2.splat(0.0), s1 = f32x4.splat(0), s2 = f32x4.splat(0);
  let ones = i32x4.splat(0), a = f32x4.splat(0), accA = f64x2.splat(0.0);
  let accW = f64x2.splat(0.0);
  // do-while: the loop body runs on every iteration, so that the compiler keeps exp's constants out of it
  let c = b0;
  if (c < v1)
    do {
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
      c += 8;
    } while (c < v1);
  const nOnes = -(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  const sb = hsum2(f64x2.add(se, widen(f32x4.add(s1, s2))));
  blk.ones = <f64>nOnes;
  blk.a = hsum2(f64x2.add(accA, widen(a)));
  blk.w = hasW ? hsum2(accW) : <f64>nOnes + sb;
  return sb;
}

// The specializations of pass2Fast, one function each (see gradV): without the penalty, with it, with it
// and class weights.
function pass2Plain(x: FamilyRow, blk: FamilyBlock, b0: i32, v1: i32, bmax: f32): f64 { return pass2Fast(x, blk, b0, v1, bmax, 0); }
function pass2Penalty(x: FamilyRow, blk: FamilyBlock, b0: i32, v1: i32, bmax: f32): f64 {
  return pass2Fast(x, blk, b0, v1, bmax, F_CP);
}
function pass2PenaltyW(x: FamilyRow, blk: FamilyBlock, b0: i32, v1: i32, bmax: f32): f64 {
  return pass2Fast(x, blk, b0, v1, bmax, F_CP | F_W);
}

/**
 * Pass 1 over [b0, b1), the mask and the row end applied: the block max of the allowed z, and (cross-
 * entropy rows) Σ v·(z − z_y) into blk.svz and, with a noise vector, its allowed mass into blk.mass.
 */
function pass1(x: FamilyRow, blk: FamilyBlock, b0: i32, b1: i32): f32 {
  const row = x.src, k = x.k, v = x.v;
  const mask = x.mask;
  const svz = !x.focal;
  const zyv = f32x4.splat(<f32>x.zy);
  const neg = f32x4.splat(-Infinity);
  let mx = neg, a = f32x4.splat(0), acc = f64x2.splat(0.0);
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
  blk.svz = hsum2(f64x2.add(acc, widen(a)));
  blk.mass = hsum2(mass);
  return hmax4(mx);
}

/**
 * Pass 2 over [b0, b1), the mask and the row end applied: e = exp(z − bmax) on the allowed classes (0
 * elsewhere) into the scratch E. Returns Σ e over the entries with e < 1 and counts the ones with e = 1
 * into blk.ones (see rows.ts); with the penalty also A_b = Σ w·e·(z − bmax) and W_b = Σ w·e (blk.a, blk.w).
 */
function pass2(x: FamilyRow, blk: FamilyBlock, b0: i32, b1: i32, bmax: f32): f64 {
  const row = x.src, e = x.e, k = x.k;
  const w = x.w, mask = x.mask;
  const cp = x.cp != 0;
  const bv = f32x4.splat(bmax);
  const one = f32x4.splat(1.0);
  let se = f64x2.splat(0.0), ones = i32x4.splat(0), a = f32x4.splat(0);
  let accA = f64x2.splat(0.0), accW = f64x2.splat(0.0);
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
  const nOnes = -(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  const sb = hsum2(se);
  blk.ones = <f64>nOnes;
  blk.a = hsum2(f64x2.add(accA, widen(a)));
  blk.w = w ? hsum2(accW) : <f64>nOnes + sb;
  return sb;
}

/**
 * Passes 1 and 2 over one row's blocks (see the header): the block maxima into bm, e = exp(z − blockmax)
 * into x.e (the logits read at x.src), and the row's sums merged block by block, all relative to the row
 * max: x.m, x.ones (the count of e = 1), x.rest (Σ of the other e), x.a and x.wSum (the penalty's A and
 * W), x.svz (Σ v·(z − z_y)) and, for a raw noise row (x.fold), x.mass (Σ S[y] on the allowed classes).
 */
function rowSums(x: FamilyRow, blk: FamilyBlock): void {
  const k = x.k, kv = x.kv, bm = x.bm;
  x.m = -Infinity;
  x.ones = 0.0;
  x.rest = 0.0;
  x.svz = 0.0;
  x.a = 0.0;
  x.wSum = 0.0;
  x.mass = 0.0;
  let nb = 0;
  for (let b0 = 0; b0 < kv; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, kv);
    // 1. the block max (and Σ v·(z − z_y), a raw noise row's mass)
    const bmax = blockMax(x, blk, b0, b1);
    store<f32>(bm + (<usize>nb << 2), bmax);
    nb++;
    if (bmax == -Infinity) {
      memory.fill(x.e + (<usize>b0 << 2), 0, <usize>(min(b1, k) - b0) << 2);
      continue;
    }
    // 2. e = exp(z − bmax) and its sums, merged into the row's
    const sb = blockExp(x, blk, b0, b1, bmax);
    mergeBlock(x, blk, <f64>bmax, sb);
  }
}

/**
 * Pass 1 over the block [b0, b1): its max; Σ v·(z − z_y) and a raw noise row's mass added to x.svz and
 * x.mass. Without a mask, the fast loops to the last multiple of 8 inside the row, the generic one after.
 */
function blockMax(x: FamilyRow, blk: FamilyBlock, b0: i32, b1: i32): f32 {
  const v1 = x.mask ? b0 : b0 + ((min(b1, x.k) - b0) & ~7);
  let bmax: f32 = -Infinity;
  if (v1 > b0) {
    bmax = pass1Fast(x, blk, b0, v1);
    if (x.fold) x.mass += blk.mass;
    x.svz += blk.svz;
  }
  if (v1 < b1) {
    bmax = max(bmax, pass1(x, blk, v1, b1));
    x.svz += blk.svz;
    x.mass += blk.mass;
  }
  return bmax;
}

/** Pass 2 over the block [b0, b1) (as {@link blockMax}): Σ e over e < 1 returned, the rest into blk. */
function blockExp(x: FamilyRow, blk: FamilyBlock, b0: i32, b1: i32, bmax: f32): f64 {
  const v1 = x.mask ? b0 : b0 + ((min(b1, x.k) - b0) & ~7);
  let sb: f64 = 0.0;
  let bOnes: f64 = 0.0;
  let bA: f64 = 0.0;
  let bW: f64 = 0.0;
  if (v1 > b0) {
    if (!x.cp) sb = pass2Plain(x, blk, b0, v1, bmax);
    else if (x.w) sb = pass2PenaltyW(x, blk, b0, v1, bmax);
    else sb = pass2Penalty(x, blk, b0, v1, bmax);
    bOnes = blk.ones;
    bA = blk.a;
    bW = blk.w;
  }
  if (v1 < b1) {
    sb += pass2(x, blk, v1, b1, bmax);
    bOnes += blk.ones;
    bA += blk.a;
    bW += blk.w;
  }
  blk.ones = bOnes;
  blk.a = bA;
  blk.w = bW;
  return sb;
}

/** Merge a block's sums (max bm64, Σ e over e < 1 `sb`, the rest in blk) into the row's, all relative to x.m. */
function mergeBlock(x: FamilyRow, blk: FamilyBlock, bm64: f64, sb: f64): void {
  const m = x.m;
  if (m == -Infinity) {
    x.ones = blk.ones;
    x.rest = sb;
    x.a = blk.a;
    x.wSum = blk.w;
    x.m = bm64;
  } else if (bm64 > m) {
    const rf = Math.exp(m - bm64);
    x.rest = (x.ones + x.rest) * rf + sb;
    x.a = rf * (x.a + (m - bm64) * x.wSum) + blk.a;
    x.wSum = rf * x.wSum + blk.w;
    x.ones = blk.ones;
    x.m = bm64;
  } else if (bm64 == m) {
    x.ones += blk.ones;
    x.rest += sb;
    x.a += blk.a;
    x.wSum += blk.w;
  } else {
    const rf = Math.exp(bm64 - m);
    x.rest += (blk.ones + sb) * rf;
    x.a += rf * (blk.a + (bm64 - m) * blk.w);
    x.wSum += rf * blk.w;
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
  const x = changetype<FamilyRow>(call + FAMILY_ROW);
  x.k = int(call, K);
  x.kv = (x.k + 3) & ~3; // vector loops run to K rounded up to 4
  x.w = at(call, W);
  x.mask = at(call, MASK);
  x.bm = at(call, BM);
  x.ework = at(call, EWORK);
  x.cp = int(call, CP);
  x.focal = int(call, FOCAL);
  x.nonTarget = int(call, NON_TARGET);
  x.writeGrad = int(call, WRITE_GRAD);
  x.vConst = real(call, V_CONST);
  x.vSum = real(call, V_SUM);
  x.eps = real(call, EPS);
  x.beta = real(call, BETA);
  x.exponent = real(call, EXPONENT);
  x.alpha = real(call, ALPHA);
  let v = at(call, V);
  const vRows = at(call, V_ROWS);
  const vScratch = at(call, V_SCRATCH);
  // Focal rows zero v_y while they run: a vector other threads read too is copied to this thread's scratch.
  if (x.focal && v && !vRows && vScratch) {
    memory.copy(vScratch, v, <usize>x.k << 2);
    v = vScratch;
  }
  for (let r = r0; r < r1; r++) familyRow(x, call, r, r0, v);
}

/** Row r of the call (see familyRows; `v` the shared noise vector, or 0). */
function familyRow(x: FamilyRow, call: usize, r: i32, r0: i32, v: usize): void {
  const rowBytes = <usize>x.k << 2;
  const row = at(call, G) + <usize>r * at(call, G_STRIDE);
  const o = at(call, OUT) + <usize>r * 24;
  const y = load<i32>(at(call, LABELS) + (<usize>r << 2));
  const cp = x.cp != 0;
  const focal = x.focal != 0;
  if (y < 0) {
    if (x.writeGrad) memory.fill(row, 0, rowBytes);
    storeOut(o, 0.0, 0.0, 0.0);
    return;
  }
  // 1. the row's noise: v, a row S[y] normalized (and weighted), or S[y] raw (its mass from pass 1)
  if (!rowNoise(x, call, y, r - r0, v)) {
    storeOut(o, NaN, NaN, NaN);
    return;
  }
  // 2. e = exp(z − blockmax) goes to the scratch when the penalty or focal passes still need z, else to the
  // gradient row (as rows.ts: one stream less). The penalty and focal passes read z where they write the
  // gradient: a separate input row is copied there first (while it is in cache: no stream more).
  let src = at(call, Z) + <usize>r * rowBytes;
  x.row = row;
  x.e = cp || focal ? x.ework : row;
  if (src != row && (cp || focal)) {
    memory.copy(row, src, rowBytes);
    src = row;
  }
  x.src = src;
  x.zy = <f64>load<f32>(src + (<usize>y << 2));
  // 3. passes 1 and 2: the row's max and sums (K → scalars; e (K) stored)
  rowSums(x, changetype<FamilyBlock>(call + FAMILY_BLOCK));
  // 4. the row's constants, then its loss: (nll, smooth, entropy) and Λ, Λ − λ_y
  if (!rowConstants(x, y, load<f64>(at(call, SCALE) + (<usize>r << 3)))) {
    storeOut(o, NaN, NaN, NaN);
    return;
  }
  const entropy = cp ? (x.ls * x.wSum - x.a) / x.s : 0.0;
  x.pen = x.wSum / x.s - entropy;
  if (focal) focalRow(x, changetype<FamilyFocal>(call + FAMILY_FOCAL), y);
  else crossEntropyRow(x);
  storeOut(o, x.nll, x.smooth, entropy);
  if (!x.writeGrad) return;
  // 5. the gradient (K): the passes over e (ε = 0 focal rows: written by the focal pass), then y's entry
  if (!(focal && x.eps == 0)) gradientPass(x);
  const g = x.g;
  let gy = g * (x.lambda * Math.expm1(-x.ly) + x.other);
  if (cp) gy += g * x.beta * x.qy * (x.wy * (1.0 - x.ly) - x.pen);
  store<f32>(row + (<usize>y << 2), <f32>gy);
}

/** Store a row's (nll, smooth, entropy) at o. */
@inline
function storeOut(o: usize, nll: f64, smooth: f64, entropy: f64): void {
  store<f64>(o, nll);
  store<f64>(o, smooth, 8);
  store<f64>(o, entropy, 16);
}

/**
 * The noise of the row with label y (`i` rows after the call's first row run): x.v, x.rho, x.vRow and
 * x.fold. Class-conditional noise without class weights or focal loss: S[y] is used raw and its mass taken
 * in pass 1 (ρ = 1/mass folds into the row's constants); otherwise normalized (and weighted) first. False
 * when the row's allowed noise mass is not a normal float32 sum (the reference takes the row).
 */
function rowNoise(x: FamilyRow, call: usize, y: i32, i: i32, v: usize): bool {
  const vRows = at(call, V_ROWS);
  const vScratch = at(call, V_SCRATCH);
  const rowBytes = <usize>x.k << 2;
  let vp = v;
  x.vRow = x.vSum;
  x.rho = 1.0;
  x.fold = i32(vRows != 0 && !x.w && !x.focal);
  if (vRows) vp = vRows + <usize>(vScratch ? y : i) * rowBytes;
  x.v = vp;
  if (vRows && !x.fold) {
    if (vScratch) {
      memory.copy(vScratch, vp, rowBytes);
      vp = vScratch;
      x.v = vp;
    }
    const vs = noiseRow(vp, x.k, x.w, x.mask);
    if (vs != vs) return false;
    x.vRow = vs;
  }
  return true;
}

/**
 * The row's constants from its sums (x.m, x.ones, x.rest, x.svz) and its gradient factor g: s, log s,
 * ℓ = −log q_y, q_y, 1 − q_y, w_y, v_y; a raw noise row's ρ = 1/mass (false when it has no float32 mass).
 */
function rowConstants(x: FamilyRow, y: i32, g: f64): bool {
  if (x.fold) {
    const mass = x.mass;
    // no float32 mass on the allowed classes: the reference takes the row
    if (!(mass > 1e-30 && mass < Infinity)) return false;
    x.rho = 1.0 / mass;
    x.svz *= x.rho;
    x.vRow = mass * x.rho;
  }
  const vp = x.v, ones = x.ones, rest = x.rest;
  x.s = ones + rest;
  x.ls = Math.log1p(ones - 1.0 + rest); // log s, with the digits of a tiny rest
  x.ly = x.m - x.zy + x.ls; // ℓ = −log q_y
  x.qy = Math.exp(-x.ly);
  x.ry = -Math.expm1(-x.ly); // 1 − q_y
  x.wy = x.w ? <f64>load<f32>(x.w + (<usize>y << 2)) : 1.0;
  x.vy = vp ? <f64>load<f32>(vp + (<usize>y << 2)) * x.rho : x.vConst;
  if (!vp) x.svz *= x.vConst; // Σ (z − z_y) was taken unscaled
  x.g = g;
  return true;
}

/** The cross-entropy row's nll, smooth, Λ and Λ − λ_y (see the header). */
function crossEntropyRow(x: FamilyRow): void {
  const eps = x.eps, wy = x.wy, vy = x.vy;
  const vs = x.vRow;
  const vRow = vs - (x.nonTarget ? vy : 0.0);
  x.nll = wy * x.ly;
  x.smooth = vRow * x.ly - x.svz;
  x.lambda = (1.0 - eps) * wy + eps * vRow;
  x.other = eps * (vs - vy);
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
 *   cross-entropy: g·(Λ·q − ε·v) (+ g·β·q·(w·(lq + 1) − P));   focal: z += g·Λ·q.
 * Without a mask the blocks run the fast loops up to the row's last full vector.
 */
function gradientPass(x: FamilyRow): void {
  const k = x.k, kv = x.kv, bm = x.bm;
  const m = x.m, s = x.s, mask = x.mask;
  let nb = 0;
  for (let b0 = 0; b0 < kv; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, kv);
    const bmax = <f64>load<f32>(bm + (<usize>nb << 2));
    nb++;
    if (bmax == -Infinity) {
      if (!x.focal) memory.fill(x.row + (<usize>b0 << 2), 0, <usize>(min(b1, k) - b0) << 2);
      continue;
    }
    const f = (bmax == m ? 1.0 : Math.exp(bmax - m)) / s;
    const v4 = mask ? b0 : b0 + ((min(b1, k) - b0) & ~3);
    if (v4 > b0) gradRange(x, b0, v4, bmax, f, 0);
    if (v4 < b1) gradTail(x, v4, b1, bmax, f);
  }
}

/**
 * The gradient over [c0, c1) of one block (see gradientPass); flags F_GENERIC: mask and row end applied.
 * Inlined with constant flags: the fast loops carry no lane masks.
 */
@inline
function gradRange(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64, flags: i32): void {
  if (x.focal) {
    const generic = (flags & F_GENERIC) != 0;
    const row = x.row, e = x.e, k = x.k;
    const fg = f32x4.splat(<f32>(x.g * x.lambda * f));
    let c = c0;
    if (c < c1)
      do {
        const off = <usize>c << 2;
        const p = row + off;
        const z = f32x4.add(v128.load(p), f32x4.mul(v128.load(e + off), fg));
        if (generic) storeRow(p, z, c, k);
        else v128.store(p, z);
        c += 4;
      } while (c < c1);
  } else if (flags & F_GENERIC) gradLoop(x, c0, c1, bmax, f, F_GENERIC | F_CP_ROW | F_V_ROW | F_W_ROW);
  else if (!x.cp) {
    if (x.v) gradV(x, c0, c1, bmax, f);
    else gradC(x, c0, c1, bmax, f);
  } else if (x.w) {
    if (x.v) gradPenaltyWV(x, c0, c1, bmax, f);
    else gradPenaltyWC(x, c0, c1, bmax, f);
  } else if (x.v) gradPenaltyV(x, c0, c1, bmax, f);
  else gradPenaltyC(x, c0, c1, bmax, f);
}

// The fast specializations of gradLoop, one function each (a function holding several inlined loops that
// differ only in their constant flags lets the optimizer merge them into one loop that tests the flags):
// noise vector (V) or constant (C), with the penalty, with class weights (W).
function gradV(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void { gradLoop(x, c0, c1, bmax, f, F_V); }
function gradC(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void { gradLoop(x, c0, c1, bmax, f, 0); }
function gradPenaltyWV(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void {
  gradLoop(x, c0, c1, bmax, f, F_CP | F_V | F_W);
}
function gradPenaltyWC(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void { gradLoop(x, c0, c1, bmax, f, F_CP | F_W); }
function gradPenaltyV(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void { gradLoop(x, c0, c1, bmax, f, F_CP | F_V); }
function gradPenaltyC(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void { gradLoop(x, c0, c1, bmax, f, F_CP); }

/**
 * The cross-entropy gradient loop of {@link gradRange}: g·(Λ·q − ε·v) (+ the penalty's q·g·β·(w·(lq + 1) − P)).
 * Inlined with constant flags (F_GENERIC, F_CP, F_V, F_W or their row forms): no per-vector tests.
 */
@inline
function gradLoop(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64, flags: i32): void {
  const generic = (flags & F_GENERIC) != 0;
  const cp = flag(flags, F_CP, F_CP_ROW, x.cp != 0);
  const hasV = flag(flags, F_V, F_V_ROW, x.v != 0);
  const hasW = flag(flags, F_W, F_W_ROW, x.w != 0);
  const row = x.row, e = x.e, k = x.k;
  const v = x.v, w = x.w, mask = x.mask;
  const g = x.g, eps = x.eps;
  const fg = f32x4.splat(<f32>(g * x.lambda * f));
  const gev = f32x4.splat(<f32>(g * eps * x.rho)); // ρ: a raw noise row's 1/mass (else 1)
  const ev = f32x4.splat(<f32>(g * eps * x.vConst));
  if (!cp) {
    let c = c0;
    if (c < c1)
      do {
        const off = <usize>c << 2;
        const p = row + off;
        const z = f32x4.sub(f32x4.mul(v128.load(e + off), fg), hasV ? f32x4.mul(v128.load(v + off), gev) : ev);
        storeGradient(p, z, c, k, mask, generic);
        c += 4;
      } while (c < c1);
  } else {
    // q·(g·Λ + g·β·(w·(lq + 1) − P)), lq = (z − bmax) + (bmax − m − log s)
    const beta = x.beta;
    const bv = f32x4.splat(<f32>bmax);
    const a2 = f32x4.splat(<f32>(g * f * (x.lambda - beta * x.pen)));
    const b2 = f32x4.splat(<f32>(g * f * beta));
    const c2 = f32x4.splat(<f32>(bmax - x.m - x.ls + 1.0));
    let c = c0;
    if (c < c1)
      do {
        const off = <usize>c << 2;
        const p = row + off;
        let d = f32x4.mul(b2, f32x4.add(f32x4.sub(v128.load(p), bv), c2));
        if (hasW) d = f32x4.mul(d, v128.load(w + off));
        let z = f32x4.mul(v128.load(e + off), f32x4.add(a2, d));
        z = f32x4.sub(z, hasV ? f32x4.mul(v128.load(v + off), gev) : ev);
        storeGradient(p, z, c, k, mask, generic);
        c += 4;
      } while (c < c1);
  }
}

/** Store the gradient vector z of class c at p; `generic`: 0 on the masked classes, the row end kept. */
@inline
function storeGradient(p: usize, z: v128, c: i32, k: i32, mask: usize, generic: bool): void {
  if (generic) storeRow(p, v128.and(z, allowedAt(mask, c, k)), c, k);
  else v128.store(p, z);
}

/** {@link gradRange} with the mask and the row end applied (a masked block, or the row's last vector). */
function gradTail(x: FamilyRow, c0: i32, c1: i32, bmax: f64, f: f64): void {
  gradRange(x, c0, c1, bmax, f, F_GENERIC);
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


/**
 * The q below which the binomial series of (1 − q)^γ and of (1 − q)^(γ−1), to q² (`order` 2) or to q¹,
 * are exact to float32: the first dropped terms, |C(γ, 3)|·q³ and |C(γ − 1, 3)|·q³ (relative), stay below
 * 3e−8, half a float32 ulp; each later term is smaller by the factor |γ − j|·q/(j + 1), below ¼ at the q
 * this admits (q ≤ 1/64, and q·γ < 0.01 for γ > 4). To q¹: |C(γ, 2)|·q² and |C(γ − 1, 2)|·q² < 3e−8
 * (≈ 2.8e−4 for γ = 1.5), the q of most blocks of a long row.
 */
function seriesBound(exponent: f64, order: i32): f32 {
  const g = exponent;
  const c3 = Math.abs((g * (g - 1) * (g - 2)) / 6);
  const d3 = Math.abs(((g - 1) * (g - 2) * (g - 3)) / 6);
  const q2 = <f32>min(1.0 / 64, Math.cbrt(3e-8 / max(max(c3, d3), 1e-30)));
  if (order == 2) return q2;
  const c2 = Math.abs((g * (g - 1)) / 2);
  const d2 = Math.abs(((g - 1) * (g - 2)) / 2);
  return <f32>min(<f64>q2, Math.sqrt(3e-8 / max(max(c2, d2), 1e-30)));
}

/** The kind of γ (see G_INT). */
function exponentKind(exponent: f64): i32 {
  const g = exponent;
  if (g == Math.floor(g) && g <= 16) return g == 2 || g == 3 || g == 5 ? <i32>g : G_INT;
  if (g * 2 == Math.floor(g * 2) && g <= 16) return G_HALF;
  return G_REAL;
}

/**
 * What r^γ and γ·q·r^(γ−1) of an exact form share: r^(γ−1) (integer γ), √r (G_SQRT, G_HALF) or r^γ
 * (G_EXPLOG, G_REAL).
 */
@inline
function powBase(gk: i32, gi: i32, r: v128, gv: v128): v128 {
  if (gk >= 0 || gk == G_INT) return powBelow(r, gk >= 0 ? gk : gi);
  if (gk == G_SQRT || gk == G_HALF) return f32x4.sqrt(f32x4.pmax(r, f32x4.splat(0))); // (q may round a hair above 1)
  return realPow(r, gv);
}

/** r^γ of an exact form from its {@link powBase}. */
@inline
function powOf(gk: i32, gi: i32, base: v128, r: v128): v128 {
  if (gk >= 0 || gk == G_INT) return (gk >= 0 ? gk : gi) == 0 ? f32x4.splat(1.0) : f32x4.mul(base, r);
  if (gk == G_SQRT || gk == G_HALF) return halfPow(r, base, gi);
  return base;
}

/** γ·q·r^(γ−1) of an exact form from its {@link powBase}. */
@inline
function gqOf(gk: i32, gi: i32, base: v128, q: v128, r: v128, gv: v128): v128 {
  if (gk >= 0 || gk == G_INT) return f32x4.mul(f32x4.mul(gv, q), base);
  if (gk == G_SQRT || gk == G_HALF) return f32x4.mul(f32x4.mul(gv, q), halfBelow(r, base, gi));
  return realBelow(f32x4.mul(gv, q), base, r);
}

/** x on the lanes of `ok` (0 elsewhere) in `generic` loops; x in the others. */
@inline
function masked(x: v128, ok: v128, generic: bool): v128 {
  return generic ? v128.and(x, ok) : x;
}

/** (1 − q)^γ by its binomial series to q^order: 1 + q·(c1 + q·c2) (see seriesBound). */
@inline
function seriesPow(q: v128, c1: v128, c2: v128, order: i32): v128 {
  const one = f32x4.splat(1.0);
  return order == 1 ? f32x4.add(one, f32x4.mul(q, c1)) : f32x4.add(one, f32x4.mul(q, f32x4.add(c1, f32x4.mul(q, c2))));
}

/** γ·q·(1 − q)^(γ−1) by its binomial series: q·(γ + q·(d1 + q·d2)). */
@inline
function seriesBelow(q: v128, gv: v128, d1: v128, d2: v128, order: i32): v128 {
  if (order == 1) return f32x4.mul(q, f32x4.add(gv, f32x4.mul(q, d1)));
  return f32x4.mul(q, f32x4.add(gv, f32x4.mul(q, f32x4.add(d1, f32x4.mul(q, d2)))));
}

/** The penalty's gradient term q·(gβ·lq + K), or with class weights w (at off) q·(w·(gβ·lq + gβ) + K). */
@inline
function penaltyTerm(q: v128, lq: v128, w: usize, off: usize, gb: v128, kv: v128): v128 {
  let u = f32x4.mul(gb, lq);
  if (w) u = f32x4.mul(v128.load(w + off), f32x4.add(u, gb));
  return f32x4.mul(q, f32x4.add(u, kv));
}

/**
 * The focal pass over [b0, b1) of a block (fs.f: q = E·f; fs.cb: lq = (z − fs.bmax) + cb), with
 * h = r^γ − γ·q·r^(γ−1)·lq (r = 1 − q): adds Σ v·r^γ·lq into fs.s and (unless fused) Σ v·h into fs.t;
 * writes over z (the gradient written) −g·α·ε·v·h, or (fused: no noise term in the gradient, ε = 0) the
 * whole gradient entry q·g·Λ; both plus the penalty's g·β·q·(w·(lq + 1) − P). r^γ by `gk` (see G_INT); a
 * half-integer or general γ takes, where all 4 lanes have q below fs.qs (most of a long row), the binomial
 * series of (1 − q)^γ and (1 − q)^(γ−1), else (the loop stops there and returns c, see focalSplit; in
 * place in generic loops) √r or exp(γ·log r); returns b1 when done. No noise vector: the constant noise vc
 * (the sums taken unscaled and scaled once). Generic loops: lanes past the row end may hold anything,
 * q = 0 there keeps every power finite. Sums in f32 over groups of GROUP floats, then widened (the inner
 * loop carries no group test). Inlined with constant `gk` and `flags`.
 */
@inline
function focalPass(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32, gk: i32, flags: i32): i32 {
  const generic = (flags & F_GENERIC) != 0;
  // the properties of this loop: each a constant, or the record's (see F_CP)
  const cp = flag(flags, F_CP, F_CP_ROW, x.cp != 0), hasV = flag(flags, F_V, F_V_ROW, x.v != 0);
  const fused = flag(flags, F_FUSED, F_FUSED_ROW, fs.fused != 0);
  const writeGrad = flag(flags, F_WRITE, F_WRITE_ROW, x.writeGrad != 0);
  const gi = gk >= 0 ? gk : fs.gi; // γ's integer part (γ itself for the constant kinds)
  const split = gk == G_HALF || gk == G_REAL; // the series where q is small, else the exact form
  const row = x.row, e = x.e, k = x.k;
  const w = x.w, v = x.v, mask = x.mask;
  const bv = f32x4.splat(fs.bmax);
  const fv = f32x4.splat(fs.f);
  const cbv = f32x4.splat(fs.cb);
  const gv = f32x4.splat(gk >= 0 ? <f32>gk : fs.exponent);
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const gb = f32x4.splat(fs.gBeta);
  const gx = f32x4.splat(fused ? fs.gLambda : hasV ? fs.gNoise : <f32>(<f64>fs.gNoise * <f64>fs.vc));
  const kv = f32x4.splat(fused ? fs.gLambda + fs.pen : fs.pen);
  const qs = f32x4.splat(fs.qs);
  const c1 = f32x4.splat(fs.c1);
  const c2 = f32x4.splat(fs.c2);
  const d1 = f32x4.splat(fs.d1);
  const d2 = f32x4.splat(fs.d2);
  let s = zero, t = zero, accS = f64x2.splat(0.0);
  let accT = f64x2.splat(0.0);
  let stop = b1;
  for (let g0 = b0; g0 < b1; g0 += GROUP) {
    const g1 = min(g0 + GROUP, b1);
    let c = g0;
    do {
      const off = <usize>c << 2;
      const p = row + off;
      const ok = generic ? allowedAt(mask, c, k) : i32x4.splat(-1);
      const lq = masked(f32x4.add(f32x4.sub(v128.load(p), bv), cbv), ok, generic);
      const q = masked(f32x4.mul(v128.load(e + off), fv), ok, generic);
      const r = f32x4.sub(one, q);
      let pw = one; // r^γ
      let gqp = zero; // γ·q·r^(γ−1)
      if (gk == G_SERIES1 || gk == G_SERIES || (split && i32x4.all_true(f32x4.lt(q, qs)))) {
        pw = seriesPow(q, c1, c2, gk == G_SERIES1 ? 1 : 2);
        gqp = seriesBelow(q, gv, d1, d2, gk == G_SERIES1 ? 1 : 2);
      } else if (split && !generic) {
        stop = c; // a vector with a large q (few in a long row): the caller takes it exactly (focalSplit)
        break;
      } else {
        const base = powBase(gk, gi, r, gv);
        pw = powOf(gk, gi, base, r);
        gqp = gqOf(gk, gi, base, q, r, gv);
      }
      let h = f32x4.sub(pw, f32x4.mul(gqp, lq));
      const vv = hasV ? masked(v128.load(v + off), ok, generic) : one;
      h = hasV ? f32x4.mul(vv, h) : masked(h, ok, generic); // v·h
      s = f32x4.add(s, hasV ? f32x4.mul(f32x4.mul(vv, pw), lq) : f32x4.mul(pw, lq));
      if (!fused) t = f32x4.add(t, h);
      if (writeGrad) {
        let out = fused ? f32x4.mul(q, gx) : f32x4.mul(h, gx);
        if (cp) out = fused ? penaltyTerm(q, lq, w, off, gb, kv) : f32x4.add(out, penaltyTerm(q, lq, w, off, gb, kv));
        if (cp) out = masked(out, ok, generic);
        if (generic) storeRow(p, out, c, k);
        else v128.store(p, out);
      }
      c += 4;
    } while (c < g1);
    accS = f64x2.add(accS, widen(s));
    s = zero;
    if (!fused) accT = f64x2.add(accT, widen(t));
    t = zero;
    if (stop < b1) break;
  }
  addFocalSums(fs, accS, accT, hasV ? 1.0 : <f64>fs.vc, fused);
  return stop;
}

/** Add a focal pass's sums (f64 pairs, times `scale`: the constant noise's) into fs.s and (unless fused) fs.t. */
@inline
function addFocalSums(fs: FamilyFocal, accS: v128, accT: v128, scale: f64, fused: bool): void {
  fs.s += scale * hsum2(accS);
  if (!fused) fs.t += scale * hsum2(accT);
}

/**
 * {@link focalPass} over [b0, b1) for a half-integer or general γ (gk G_HALF or G_REAL) without mask or
 * row end: the series loop, and from each vector it stops at (a large q) EXACT_RUN floats by the exact form
 * (a square root, or exp and log), then the series loop again; a block whose largest q = E·f ≤ f (E ≤ 1)
 * is below the bound takes the series without the test (to q¹ below fs.qs1).
 */
@inline
function focalSplit(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32, gk: i32, flags: i32): void {
  const f = fs.f;
  if (f < fs.qs1) {
    focalPass(x, fs, b0, b1, G_SERIES1, flags);
    return;
  }
  if (f < fs.qs) {
    focalPass(x, fs, b0, b1, G_SERIES, flags);
    return;
  }
  let c = b0;
  while (c < b1) {
    c = focalPass(x, fs, c, b1, gk, flags);
    if (c < b1) {
      // the exact form over EXACT_RUN floats from there (large q cluster in short rows; each switch of loop
      // costs their setup)
      const c1 = min(c + EXACT_RUN, b1);
      if (gk == G_HALF) focalPass(x, fs, c, c1, G_SQRT, flags);
      else focalPass(x, fs, c, c1, G_EXPLOG, flags);
      c = c1;
    }
  }
}

/**
 * The fast focal loops (no mask, no row end) of one set of constant `flags`, by γ's kind: γ = 2, 3, 5 as
 * constants (not with the penalty, whose loops are larger), other integers, half-integers, any γ.
 */
@inline
function focalByKind(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32, flags: i32): void {
  const gk = fs.gk;
  const few = (flags & F_CP) != 0;
  if (gk == 2) focalPass(x, fs, b0, b1, 2, flags);
  else if (!few && gk == 3) focalPass(x, fs, b0, b1, 3, flags);
  else if (!few && gk == 5) focalPass(x, fs, b0, b1, 5, flags);
  else if (gk == G_HALF) focalSplit(x, fs, b0, b1, G_HALF, flags);
  else if (gk == G_REAL) focalSplit(x, fs, b0, b1, G_REAL, flags);
  else focalPass(x, fs, b0, b1, G_INT, flags);
}

// The fast focal loops, one function each (see gradV): noise vector (V) or constant (C); fused (ε = 0: the
// gradient written in the same pass); with the penalty (noise vector or constant, class weights or none).
function focalFastV(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void { focalByKind(x, fs, b0, b1, F_V | F_WRITE_ROW); }
function focalFastC(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void { focalByKind(x, fs, b0, b1, F_WRITE_ROW); }
function focalGradV(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void {
  focalByKind(x, fs, b0, b1, F_V | F_WRITE | F_FUSED);
}
function focalGradC(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void { focalByKind(x, fs, b0, b1, F_WRITE | F_FUSED); }
function focalFastCp(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void {
  focalByKind(x, fs, b0, b1, F_CP | F_V_ROW | F_WRITE_ROW);
}
function focalGradCp(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void {
  focalByKind(x, fs, b0, b1, F_CP | F_V_ROW | F_WRITE | F_FUSED);
}

/** {@link focalPass} with the mask and the row end applied (a masked block, the row's last vector). */
function focalTail(x: FamilyRow, fs: FamilyFocal, b0: i32, b1: i32): void {
  const flags = F_GENERIC | F_CP_ROW | F_V_ROW | F_WRITE_ROW | F_FUSED_ROW;
  const gk = fs.gk;
  if (gk == G_HALF) focalPass(x, fs, b0, b1, G_HALF, flags);
  else if (gk == G_REAL) focalPass(x, fs, b0, b1, G_REAL, flags);
  else focalPass(x, fs, b0, b1, G_INT, flags);
}

/**
 * y's lane of the constant noise's sums as the loops take it (before they overwrite z): its vector with
 * the noise one-hot at y (a scratch vector past E), through the same arithmetic; into fs.s and fs.t.
 */
function focalLaneY(x: FamilyRow, fs: FamilyFocal, y: i32): void {
  const y0 = y & ~3;
  const oneHot = x.ework + (<usize>x.kv << 2);
  v128.store(oneHot, f32x4.splat(0));
  store<f32>(oneHot + (<usize>(y - y0) << 2), fs.vc);
  const bmy = <f64>load<f32>(x.bm + (<usize>(y / BLOCK) << 2));
  fs.bmax = <f32>bmy;
  fs.f = <f32>((bmy == x.m ? 1.0 : Math.exp(bmy - x.m)) / x.s);
  fs.cb = <f32>(bmy - x.m - x.ls);
  x.v = oneHot - (<usize>y0 << 2);
  const flags = F_GENERIC | F_V;
  const gk = fs.gk;
  if (gk == G_HALF) focalPass(x, fs, y0, y0 + 4, G_HALF, flags);
  else if (gk == G_REAL) focalPass(x, fs, y0, y0 + 4, G_REAL, flags);
  else focalPass(x, fs, y0, y0 + 4, G_INT, flags);
  x.v = 0;
}

/**
 * The focal part of one row (see the header; the row's sums and constants in x): the focal pass over the
 * blocks (with ε = 0 and a gradient it writes the whole gradient row), then nll, smooth, Λ and Λ − λ_y
 * into x. y's terms are taken in f64, out of the vector sums.
 */
function focalRow(x: FamilyRow, fs: FamilyFocal, y: i32): void {
  const ly = x.ly, qy = x.qy, ry = x.ry;
  const wy = x.wy, vy = x.vy, alpha = x.alpha;
  const eps = x.eps;
  // 1. γ of the row (FLSD-53: 5 where q_y < 0.2, else 3), y's r_y^γ and h_y in f64
  const gr: f64 = x.exponent < 0 ? (qy < 0.2 ? 5.0 : 3.0) : x.exponent;
  const pwy = Math.pow(ry, gr); // 0^0 = 1
  const hy = pwy + (gr == 0 || ry == 0 ? 0.0 : gr * qy * Math.pow(ry, gr - 1) * ly);
  const vyTarget = x.nonTarget ? 0.0 : vy;
  focalConstants(x, fs, gr, hy);
  // 2. the focal pass over the blocks (K → Σ v·r^γ·lq, Σ v·h; the noise terms or, fused, the gradient
  // written); y's terms out of the sums: v_y = 0 meanwhile, or with the constant noise y's lane subtracted
  const vp = x.v;
  if (vp) store<f32>(vp + (<usize>y << 2), 0);
  fs.s = 0.0;
  fs.t = 0.0;
  let yS: f64 = 0.0;
  let yT: f64 = 0.0;
  if (!vp) {
    focalLaneY(x, fs, y);
    yS = fs.s;
    yT = fs.t;
    fs.s = 0.0;
    fs.t = 0.0;
  }
  focalBlocks(x, fs);
  if (vp) store<f32>(vp + (<usize>y << 2), <f32>vy);
  else {
    fs.s -= yS;
    fs.t -= yT;
  }
  // 3. the row's loss and the gradient's Λ, Λ − λ_y
  x.nll = alpha * wy * pwy * ly;
  x.smooth = alpha * (vyTarget * pwy * ly - fs.s);
  x.lambda = alpha * ((1.0 - eps) * wy * hy + eps * (fs.t + vyTarget * hy));
  x.other = alpha * eps * fs.t;
}

/** The focal constants of the row (its γ `gr`, y's h_y `hy`) as the loops take them (see FamilyFocal). */
function focalConstants(x: FamilyRow, fs: FamilyFocal, gr: f64, hy: f64): void {
  const g = x.g;
  const gk = exponentKind(gr);
  fs.gk = gk;
  fs.gi = gk == G_REAL ? -1 : <i32>Math.floor(gr);
  fs.exponent = <f32>gr;
  fs.qs = seriesBound(<f64><f32>gr, 2);
  fs.qs1 = seriesBound(<f64><f32>gr, 1);
  // (1 − q)^γ = 1 + q·(c1 + q·c2),  γ·q·(1 − q)^(γ−1) = q·(γ + q·(d1 + q·d2))  (γ as the loops take it)
  const e = <f64><f32>gr;
  fs.c1 = <f32>-e;
  fs.c2 = <f32>((e * (e - 1)) / 2);
  fs.d1 = <f32>(-e * (e - 1));
  fs.d2 = <f32>((e * (e - 1) * (e - 2)) / 2);
  // ε = 0: no noise term in the gradient, Λ = α·w_y·h_y is known now, and the focal pass writes the
  // whole gradient (no gradient pass after it)
  fs.fused = i32(x.writeGrad != 0 && x.eps == 0);
  fs.gLambda = <f32>(g * x.alpha * x.wy * hy);
  fs.vc = <f32>x.vConst;
  fs.gNoise = <f32>(-g * x.alpha * x.eps);
  fs.gBeta = <f32>(g * x.beta);
  // the penalty's constant part (see focalPass)
  fs.pen = <f32>(x.w ? -g * x.beta * x.pen : g * x.beta * (1.0 - x.pen));
}

/** The focal pass over the row's blocks: per block fs.bmax, fs.f = e^(bmax − m)/s, fs.cb = bmax − m − log s. */
function focalBlocks(x: FamilyRow, fs: FamilyFocal): void {
  const k = x.k, kv = x.kv, m = x.m;
  const s = x.s, ls = x.ls, mask = x.mask;
  let nb = 0;
  for (let b0 = 0; b0 < kv; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, kv);
    const bmax = <f64>load<f32>(x.bm + (<usize>nb << 2));
    nb++;
    if (bmax == -Infinity) {
      if (x.writeGrad) memory.fill(x.row + (<usize>b0 << 2), 0, <usize>(min(b1, k) - b0) << 2);
      continue;
    }
    fs.bmax = <f32>bmax;
    fs.f = <f32>((bmax == m ? 1.0 : Math.exp(bmax - m)) / s);
    fs.cb = <f32>(bmax - m - ls);
    const v4 = mask ? b0 : b0 + ((min(b1, k) - b0) & ~3);
    if (v4 > b0) {
      if (x.cp) {
        if (fs.fused) focalGradCp(x, fs, b0, v4);
        else focalFastCp(x, fs, b0, v4);
      } else if (fs.fused) {
        if (x.v) focalGradV(x, fs, b0, v4);
        else focalGradC(x, fs, b0, v4);
      } else if (x.v) focalFastV(x, fs, b0, v4);
      else focalFastC(x, fs, b0, v4);
    }
    if (v4 < b1) focalTail(x, fs, v4, b1);
  }
}
