// The SIMD fast path: fused label-smoothed cross-entropy, forward + backward, for class-index targets with a
// noise vector and class mask shared by all rows (AssemblyScript, compiled to WASM SIMD).
//
// Per row i with label y (−1 = ignored), logits z (K, f32), class weights w (or 1), noise vector v
// (v_c = w_c·u_c on allowed classes, shared by all rows; or the constant vConst), non-target correction
// δ = −w_y/(Kₐ−1) at y:
//   ℓ = lse − z_y = (m − z_y) + log Σ_allowed exp(z_c − m)     (never formed as lse: z_y may be large)
//   nll  = w_y·ℓ
//   smooth = V·ℓ − Σ v_c (z_c − z_y) + δ·ℓ                  (V = Σ v_c)
//   grad_c = g_i·(Λ·q_c − ε·v_c) − g_i·((1−ε)·w_y + ε·δ)·[c = y],   Λ = (1−ε)·w_y + ε·(V + δ)
// Layout: z: (N,K) row-major f32 (read); the gradient goes to g (N,K) f32, which may be z itself (in place);
// out: (N,2) f64 (nll, smooth).
//
// Each row is processed in blocks of BLOCK floats (L1-resident): pass A takes the block max and
// Σ v·(z − z_y); pass B stores e = exp(z − blockmax) into g and sums it; after the row, pass C turns the
// stored e into the gradient with one multiply-subtract (exp is computed once per logit), blocks last to
// first. A block's last 1–7 floats are vectors too (see `fresh`). Per row, ℓ takes log1pSum (no libm call)
// and the target entry's q_y − 1 comes from the row sums (no expm1): short rows are mostly this per-row
// work (8192×10: the two libm calls were a quarter of the kernel's time). Instruction
// choices are for V8's x64 code: f32x4.pmax (one maxps; f32x4.max is a NaN-propagating ~8-instruction
// sequence), and exp rounds with the 1.5·2²³ trick instead of floor + trunc_sat (both emulated).

import { ALLOWED, at, BM, CE_FACTOR, EPS, EWORK, G, G_STRIDE, int, K, LABELS, LSE, LSE_IGNORED, MASK, NON_TARGET, OUT, R_LAMBDA, R_M, R_QY1, R_S, real, SCALE, SOFTCAP, V, V_CONST, V_SUM, W, WRITE_GRAD, Z, Z_FACTOR } from './call';
import { exp1, exp4, hmax4, hsum2, log1pSum, widen } from './math';
import { cap1, capBlock, cappedGradientBlock } from './softcap';

const BLOCK: i32 = 2048;
/** f32 partial sums of (z − z_y) are moved into the f64 accumulator every GROUP floats (8 terms a lane). */
const GROUP: i32 = 64;
/** Pass B's f32 partial sums of exp values are moved into f64 every GROUP_B floats (8 terms a lane). */
const GROUP_B: i32 = 32;

// Block results of pass A / B (module globals: AssemblyScript has no multiple return values).
let blockSvz: v128 = f64x2.splat(0.0);
let blockTail: f64 = 0.0;
let blockOnes: i32 = 0;

/**
 * The lanes of the vector ending at a block's end that are not done yet. A block's last 1–3 floats are read as
 * the vector [b1 − 4, b1), whose first `done` lanes the 8-float loop already took: they are masked out of
 * sums and counts (a max and a repeated store of the same value need no mask). Blocks of < 4 floats stay scalar.
 */
@inline
function fresh(done: i32): v128 {
  return i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(done));
}

/**
 * v·(z − z_y) of one vector's lanes where `keep` is set, summed into f64 pairs, each difference taken in f64
 * (exact for float32 z: a few large differences against a concentrated noise must not lose float32 digits,
 * as the scalar tail never did). Lanes not kept count as z = z_y. v: the noise vector's lanes, or ones.
 */
@inline
function vzExact(za: v128, v: v128, keep: v128, zyv: v128, zy: f64): v128 {
  const z = v128.bitselect(za, zyv, keep);
  const zh = v128.shuffle<i32>(z, z, 2, 3, 0, 1);
  const vh = v128.shuffle<i32>(v, v, 2, 3, 0, 1);
  const y2 = f64x2.splat(zy);
  const lo = f64x2.mul(f64x2.promote_low_f32x4(v), f64x2.sub(f64x2.promote_low_f32x4(z), y2));
  const hi = f64x2.mul(f64x2.promote_low_f32x4(vh), f64x2.sub(f64x2.promote_low_f32x4(zh), y2));
  return f64x2.add(lo, hi);
}

/** Pass A without a mask: the block max of z over [b0, b1), and Σ v·(z − z_y) into blockSvz / blockTail. */
@inline
function passA(row: usize, b0: i32, b1: i32, v: usize, zy: f64): f32 {
  const v1 = b0 + ((b1 - b0) & ~7); // 8 floats per iteration: two independent vectors
  const zyv = f32x4.splat(<f32>zy);
  const neg = f32x4.splat(-Infinity);
  let mx = neg;
  let mx2 = neg;
  let a = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let svz = f64x2.splat(0.0);
  if (v) {
    for (let c = b0; c < v1; c += 8) {
      const p = row + (<usize>c << 2);
      const za = v128.load(p);
      const zb = v128.load(p, 16);
      mx = f32x4.pmax(mx, za);
      mx2 = f32x4.pmax(mx2, zb);
      a = f32x4.add(a, f32x4.mul(v128.load(v + (<usize>c << 2)), f32x4.sub(za, zyv)));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(v + (<usize>c << 2), 16), f32x4.sub(zb, zyv)));
      if (((c + 8 - b0) & (GROUP - 1)) == 0) {
        svz = f64x2.add(svz, widen(f32x4.add(a, a2)));
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
        svz = f64x2.add(svz, widen(f32x4.add(a, a2)));
        a = f32x4.splat(0);
        a2 = f32x4.splat(0);
      }
    }
  }
  svz = f64x2.add(svz, widen(f32x4.add(a, a2)));
  let c = v1;
  if (b1 - b0 >= 4) {
    const ones = f32x4.splat(1);
    if (b1 - c >= 4) {
      const za = v128.load(row + (<usize>c << 2));
      mx = f32x4.pmax(mx, za);
      const vv = v ? v128.load(v + (<usize>c << 2)) : ones;
      svz = f64x2.add(svz, vzExact(za, vv, i32x4.splat(-1), zyv, zy));
      c += 4;
    }
    if (c < b1) {
      const at = b1 - 4;
      const za = v128.load(row + (<usize>at << 2));
      mx2 = f32x4.pmax(mx2, za);
      const vv = v ? v128.load(v + (<usize>at << 2)) : ones;
      svz = f64x2.add(svz, vzExact(za, vv, fresh(c - at), zyv, zy));
      c = b1;
    }
  }
  blockSvz = svz;
  let smax = hmax4(f32x4.pmax(mx, mx2));
  let tail: f64 = 0.0;
  for (; c < b1; c++) {
    const zz = load<f32>(row + (<usize>c << 2));
    smax = max(smax, zz);
    tail += (v ? <f64>load<f32>(v + (<usize>c << 2)) : 1.0) * (<f64>zz - zy);
  }
  blockTail = tail;
  return smax;
}

/**
 * Pass B without a mask: e = exp(z − bmax) stored over [b0, b1) at `grow` (in place, or a soft-capped row's
 * exp row). Returns Σ e over the entries with e < 1 in f64, and counts the entries with e = 1 exactly (the
 * block max) into blockOnes: on a confident row Σ e = 1 + δ with δ tiny, and 1 + δ in f64 would keep only
 * ~16 − log10(1/δ) digits of δ.
 */
@inline
function passB(row: usize, grow: usize, b0: i32, b1: i32, bmax: f32): f64 {
  const v1 = b0 + ((b1 - b0) & ~7);
  const bv = f32x4.splat(bmax);
  const one = f32x4.splat(1.0);
  let se = f64x2.splat(0.0);
  let a = f32x4.splat(0);
  let a2 = f32x4.splat(0); // two accumulators: independent add chains
  let ones = i32x4.splat(0);
  // The vector ending at b1 (see `fresh`) is read first: in place (grow = row) the loop below overwrites the
  // logits it shares with it.
  const vector = b1 - b0 >= 4;
  const at = b1 - 4;
  let last = f32x4.splat(0);
  if (vector && v1 < b1) last = exp4(f32x4.sub(v128.load(row + (<usize>at << 2)), bv));
  for (let c = b0; c < v1; c += 8) {
    const p = row + (<usize>c << 2);
    const o = grow + (<usize>c << 2);
    const ea = exp4(f32x4.sub(v128.load(p), bv));
    const eb = exp4(f32x4.sub(v128.load(p, 16), bv));
    v128.store(o, ea);
    v128.store(o, eb, 16);
    const qa = f32x4.eq(ea, one);
    const qb = f32x4.eq(eb, one);
    // The exact ones are counted, not added (the lanes of qa are −1 there): a partial sum holding a 1
    // would round the tiny terms of a confident row away. The other terms (all < 1, positive) are added
    // in f32 for at most GROUP_B floats, then moved into the f64 accumulator.
    a = f32x4.add(a, v128.andnot(ea, qa));
    a2 = f32x4.add(a2, v128.andnot(eb, qb));
    ones = i32x4.add(ones, i32x4.add(qa, qb));
    if (((c + 8 - b0) & (GROUP_B - 1)) == 0) {
      se = f64x2.add(se, widen(f32x4.add(a, a2)));
      a = f32x4.splat(0);
      a2 = f32x4.splat(0);
    }
  }
  se = f64x2.add(se, widen(f32x4.add(a, a2)));
  let c = v1;
  if (vector) {
    if (b1 - c >= 4) {
      const e = exp4(f32x4.sub(v128.load(row + (<usize>c << 2)), bv));
      v128.store(grow + (<usize>c << 2), e);
      const q = f32x4.eq(e, one);
      se = f64x2.add(se, widen(v128.andnot(e, q)));
      ones = i32x4.add(ones, q);
      c += 4;
    }
    if (c < b1) {
      v128.store(grow + (<usize>at << 2), last); // the done lanes get the same values again
      const q = f32x4.eq(last, one);
      const keep = fresh(c - at);
      se = f64x2.add(se, widen(v128.and(v128.andnot(last, q), keep)));
      ones = i32x4.add(ones, v128.and(q, keep));
      c = b1;
    }
  }
  let sb = hsum2(se);
  let count = -(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  for (; c < b1; c++) {
    const e = exp1(load<f32>(row + (<usize>c << 2)) - bmax);
    store<f32>(grow + (<usize>c << 2), e);
    if (e == 1) count++;
    else sb += <f64>e;
  }
  blockOnes = count;
  return sb;
}

/**
 * Passes A and B over the block nb = [b0, b1) with a class mask (f32, 0 = excluded): masked classes are out
 * of every sum and get e = 0 (stored at `grow`, as by passB).
 */
function passesMasked(call: usize, row: usize, grow: usize, b0: i32, b1: i32, zy: f64): f64 {
  const nb = b0 / BLOCK;
  const v1 = b0 + ((b1 - b0) & ~3);
  const v = at(call, V);
  const mask = at(call, MASK);
  const bm = at(call, BM);
  const zyv = f32x4.splat(<f32>zy);
  const neg = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  let mx = neg;
  let smax: f32 = -Infinity;
  let svz = f64x2.splat(0.0);
  for (let c = b0; c < v1; c += 4) {
    const ok = f32x4.ne(v128.load(mask + (<usize>c << 2)), zero);
    const za = v128.load(row + (<usize>c << 2));
    mx = f32x4.pmax(mx, v128.bitselect(za, neg, ok));
    svz = f64x2.add(svz, vzExact(za, v ? v128.load(v + (<usize>c << 2)) : f32x4.splat(1), ok, zyv, zy));
  }
  let tail: f64 = 0.0;
  for (let c = v1; c < b1; c++) {
    if (load<f32>(mask + (<usize>c << 2)) == 0) continue;
    const zz = load<f32>(row + (<usize>c << 2));
    smax = max(smax, zz);
    tail += (v ? <f64>load<f32>(v + (<usize>c << 2)) : 1.0) * (<f64>zz - zy);
  }
  blockSvz = svz;
  blockTail = tail;
  const bmax = max(hmax4(mx), smax);
  store<f32>(bm + (<usize>nb << 2), bmax);
  if (bmax == -Infinity) {
    // every class of the block is masked
    if (int(call, WRITE_GRAD)) memory.fill(grow + (<usize>b0 << 2), 0, <usize>(b1 - b0) << 2);
    blockOnes = 0;
    return 0.0;
  }
  const bv = f32x4.splat(bmax);
  const one = f32x4.splat(1.0);
  let se = f64x2.splat(0.0);
  let ones = i32x4.splat(0);
  for (let c = b0; c < v1; c += 4) {
    const p = row + (<usize>c << 2);
    const ok = f32x4.ne(v128.load(mask + (<usize>c << 2)), zero);
    const e = v128.and(exp4(f32x4.sub(v128.bitselect(v128.load(p), bv, ok), bv)), ok);
    v128.store(grow + (<usize>c << 2), e);
    const q = f32x4.eq(e, one);
    se = f64x2.add(se, widen(v128.andnot(e, q)));
    ones = i32x4.add(ones, q);
  }
  let sb = hsum2(se);
  let count = -(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  for (let c = v1; c < b1; c++) {
    const p = grow + (<usize>c << 2);
    if (load<f32>(mask + (<usize>c << 2)) == 0) {
      store<f32>(p, 0);
      continue;
    }
    const e = exp1(load<f32>(row + (<usize>c << 2)) - bmax);
    store<f32>(p, e);
    if (e == 1) count++;
    else sb += <f64>e;
  }
  blockOnes = count;
  return sb;
}

/**
 * Rows r0 ≤ r < r1 of the call whose record is at `call` (call.ts). Pointers of 0 mean "absent": w (class
 * weights, f32 K), v (noise vector, f32 K; else vConst), mask (f32 K, 1 = allowed). scale: f64 per row, the
 * gradient factor g_i (row weight / denominator). labels: i32 per row (−1 = ignored). out: f64 (nll, smooth)
 * per row. bm: scratch for block maxima. g: where row i's exp values and then its gradient go, at
 * g + i·gStride bytes (g = z, gStride = 4K: in place; gStride = 0: one scratch row, when no gradient is
 * wanted). z is only read when g ≠ z.
 */
export function rows(call: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>int(call, K) << 2;
  const writeGrad = int(call, WRITE_GRAD);
  // The language-model options (call.ts): lse per row, the z-loss's h = g·zFactor·lse, the
  // cross-entropy's gradient factor g·ceFactor.
  const lse = at(call, LSE);
  const lseIgnored = lse != 0 && int(call, LSE_IGNORED) != 0;
  const zFactor = real(call, Z_FACTOR);
  const ceFactor = real(call, CE_FACTOR);
  for (let r = r0; r < r1; r++) {
    const i = <usize>r;
    const grow = at(call, G) + i * at(call, G_STRIDE);
    const out = at(call, OUT) + (i << 4);
    const row = at(call, Z) + i * rowBytes;
    const y = load<i32>(at(call, LABELS) + (i << 2));
    if (y < 0) {
      // An ignored row's lse, when asked for: its losses (taken against class 0) are dropped.
      if (lseIgnored) store<f64>(lse + (i << 3), rowLoss(call, row, grow, 0, out));
      if (writeGrad) memory.fill(grow, 0, rowBytes);
      store<f64>(out, 0.0);
      store<f64>(out, 0.0, 8);
      continue;
    }
    const l = rowLoss(call, row, grow, y, out);
    if (lse) store<f64>(lse + (i << 3), l);
    if (!writeGrad) continue;
    const g = load<f64>(at(call, SCALE) + (i << 3));
    rowGradient(call, grow, y, g * ceFactor, g * zFactor * l);
  }
}

/**
 * Passes A and B over the block nb = [b0, b1) of the row at `row`: the block max into bm[nb], Σ v·(z − z_y)
 * into blockSvz / blockTail, the count of e = 1 into blockOnes; returns the other e's sum. The exp values go
 * to `grow`; a soft-capped row's block is capped into `grow` first and its exp values go to the call's exp
 * row (EWORK): pass C needs both.
 */
function blockPasses(call: usize, row: usize, grow: usize, b0: i32, b1: i32, zy: f64): f64 {
  const bm = at(call, BM) + (<usize>(b0 / BLOCK) << 2);
  const capped = real(call, SOFTCAP) != 0;
  if (capped) capBlock(call, row, grow, b0, b1);
  const src = capped ? grow : row;
  const dst = capped ? at(call, EWORK) : grow;
  if (at(call, MASK)) return passesMasked(call, src, dst, b0, b1, zy);
  const bmax = passA(src, b0, b1, at(call, V), zy);
  store<f32>(bm, bmax);
  return passB(src, dst, b0, b1, bmax);
}

/**
 * Passes A and B of the row at `row` (logits) with label y, its exp values (z′ when soft-capped) written at
 * `grow`: (nll, smooth) into `out`, and the row's max m, its q_y − 1 and Λ (without the row's g) into the
 * call's results (R_M, R_QY1, R_LAMBDA, R_S) for rowGradient. Returns the row's lse.
 */
function rowLoss(call: usize, row: usize, grow: usize, y: i32, out: usize): f64 {
  const k = int(call, K);
  const v = at(call, V);
  const bm = at(call, BM);
  const capped = real(call, SOFTCAP) != 0;
  const zy = <f64>(capped ? cap1(call, load<f32>(row + (<usize>y << 2))) : load<f32>(row + (<usize>y << 2)));
  // Sums are taken of z − z_y so that large common offsets cancel before they are accumulated.
  // Σ_c exp(z_c − m) = ones + rest: `ones` counts the entries at the row max exactly (see passB).
  let m: f64 = -Infinity;
  let ones: f64 = 0.0;
  let rest: f64 = 0.0;
  let svz = f64x2.splat(0.0);
  let nb = 0;
  for (let b0 = 0; b0 < k; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, k);
    const sb = blockPasses(call, row, grow, b0, b1, zy);
    const bmax = load<f32>(bm + (<usize>nb << 2));
    nb++;
    svz = f64x2.add(svz, f64x2.add(blockSvz, f64x2.splat(blockTail * 0.5)));
    if (bmax == -Infinity) continue;
    // merge the block into the running (m, ones, rest)
    const bm64 = <f64>bmax;
    const bOnes = <f64>blockOnes;
    if (m == -Infinity) {
      ones = bOnes;
      rest = sb;
      m = bm64;
    } else if (bm64 > m) {
      rest = (ones + rest) * Math.exp(m - bm64) + sb;
      ones = bOnes;
      m = bm64;
    } else if (bm64 == m) {
      ones += bOnes;
      rest += sb;
    } else rest += (bOnes + sb) * Math.exp(bm64 - m);
  }
  // x = Σ_c e_c − 1: the mass besides one entry at the row max (ones ≥ 1), tiny on a confident row.
  const x = ones - 1.0 + rest;
  const s = ones + rest;
  // lse − z_y, without forming lse (z_y may be large); log1pSum keeps the digits of a tiny x.
  const l1p = log1pSum(x);
  const ly = m - zy + l1p;
  const w = at(call, W);
  const wy: f64 = w ? <f64>load<f32>(w + (<usize>y << 2)) : 1.0;
  const delta: f64 = int(call, NON_TARGET) ? -wy / <f64>(int(call, ALLOWED) - 1) : 0.0;
  const vSum = real(call, V_SUM);
  const sumVz = hsum2(svz) * (v ? 1.0 : real(call, V_CONST)); // Σ v_c·(z_c − z_y)
  store<f64>(out, wy * ly);
  store<f64>(out, vSum * ly - sumVz + delta * ly, 8);
  // q_y − 1 before pass C overwrites e_y. With y at the row max (e_y = 1, counted in `ones`), it is
  // −(Σ_{c≠y} e_c)/s = −x/s: no cancellation however close q_y is to 1. Otherwise q_y < ½ (another
  // entry has e = 1 ≥ e_y) and q_y − 1 = e_y·exp(bmax_y − m)/s − 1 loses nothing either.
  const bmy = <f64>load<f32>(bm + (<usize>(y / BLOCK) << 2));
  const ey = <f64>load<f32>((capped ? at(call, EWORK) : grow) + (<usize>y << 2));
  const eps = real(call, EPS);
  store<f64>(call + R_M, m);
  store<f64>(call + R_S, s);
  store<f64>(call + R_QY1, ey == 1.0 && bmy == m ? -x / s : (bmy == m ? ey : ey * Math.exp(bmy - m)) / s - 1.0);
  store<f64>(call + R_LAMBDA, (1.0 - eps) * wy + eps * (vSum + delta));
  return m + l1p;
}

/**
 * Pass C of a row with label y whose exp values are at `grow` and whose sums rowLoss left in the call's
 * results: grad_c = (g·Λ + h)/s·exp(bm − m)·e_c − g·ε·v_c, then the target correction (gi: the row's g;
 * h = 2ζ·lse × the row's z-loss weight: the z-loss's h·q_c, 0 without one). A soft-capped row (z′ at
 * `grow`, its exp values in the exp row) takes cappedGradientBlock: every entry times 1 − (z′/c)².
 */
function rowGradient(call: usize, grow: usize, y: i32, gi: f64, h: f64): void {
  const k = int(call, K);
  const v = at(call, V);
  const bm = at(call, BM);
  const mask = at(call, MASK);
  const eps = real(call, EPS);
  const cap = real(call, SOFTCAP);
  const m = load<f64>(call + R_M);
  const s = load<f64>(call + R_S);
  const lambda = load<f64>(call + R_LAMBDA);
  const zy = <f64>load<f32>(grow + (<usize>y << 2)); // z′_y of a capped row, before pass C overwrites it
  const scale = h == 0 ? gi * lambda : gi * lambda + h;
  // Blocks last to first: pass B wrote the row's exp values first to last, so on a row longer than the L2
  // cache the most recent ones are still in it (in order, every block would have been evicted already).
  for (let nb = (k - 1) / BLOCK; nb >= 0; nb--) {
    const bmax = <f64>load<f32>(bm + (<usize>nb << 2));
    const b0 = nb * BLOCK;
    const b1 = min(b0 + BLOCK, k);
    if (bmax == -Infinity) {
      // every class of the block is masked (passesMasked zeroed it, unless the row is capped: z′ is there)
      if (cap != 0) memory.fill(grow + (<usize>b0 << 2), 0, <usize>(b1 - b0) << 2);
      continue;
    }
    const f = <f32>((scale / s) * (bmax == m ? 1.0 : Math.exp(bmax - m)));
    if (cap == 0) gradientBlock(call, grow, b0, b1, f, gi);
    else {
      cappedGradientBlock(call, grow, b0, b1, f, gi);
      if (mask) maskBlock(grow, mask, b0, b1);
    }
  }
  // The target entry is where q_y ≈ 1 cancels against the target mass: in f64, as
  // g·(Λ·(q_y − 1) + ε·(V − v_y)) (since Λ − (1−ε)·w_y − ε·δ = ε·V), with q_y − 1 from rowLoss.
  const vy: f64 = v ? <f64>load<f32>(v + (<usize>y << 2)) : real(call, V_CONST);
  const qy1 = load<f64>(call + R_QY1);
  let gy = gi * (lambda * qy1 + eps * (real(call, V_SUM) - vy));
  if (h != 0) gy += h * (qy1 + 1.0);
  if (cap != 0) {
    const u = zy / cap;
    gy *= (1.0 - u) * (1.0 + u);
  }
  store<f32>(grow + (<usize>y << 2), <f32>gy);
}

/** Pass C over the block [b0, b1) of a row's exp values at `grow`: e·f − g·ε·v (f: the block's factor). */
function gradientBlock(call: usize, grow: usize, b0: i32, b1: i32, f: f32, gi: f64): void {
  const v = at(call, V);
  const mask = at(call, MASK);
  const eps = real(call, EPS);
  const ev = f32x4.splat(<f32>(gi * eps * real(call, V_CONST)));
  const gev = f32x4.splat(<f32>(gi * eps));
  const fv = f32x4.splat(f);
  const v1 = b0 + ((b1 - b0) & ~7);
  // The block's last 1–7 floats as in passB: a vector at v1 when 4 remain, and the vector ending at b1,
  // computed before the loops below rewrite the lanes it shares with them and stored after them (the
  // shared lanes get the same values).
  const vector = b1 - b0 >= 4;
  const at4 = b1 - 4;
  let last = f32x4.splat(0);
  if (vector && v1 < b1) {
    const e = v128.load(grow + (<usize>at4 << 2));
    last = f32x4.sub(f32x4.mul(e, fv), v ? f32x4.mul(v128.load(v + (<usize>at4 << 2)), gev) : ev);
  }
  if (v) {
    for (let c = b0; c < v1; c += 8) {
      const p = grow + (<usize>c << 2);
      const q = v + (<usize>c << 2);
      v128.store(p, f32x4.sub(f32x4.mul(v128.load(p), fv), f32x4.mul(v128.load(q), gev)));
      v128.store(p, f32x4.sub(f32x4.mul(v128.load(p, 16), fv), f32x4.mul(v128.load(q, 16), gev)), 16);
    }
  } else {
    for (let c = b0; c < v1; c += 8) {
      const p = grow + (<usize>c << 2);
      v128.store(p, f32x4.sub(f32x4.mul(v128.load(p), fv), ev));
      v128.store(p, f32x4.sub(f32x4.mul(v128.load(p, 16), fv), ev), 16);
    }
  }
  if (vector) {
    if (b1 - v1 > 4) {
      const p = grow + (<usize>v1 << 2);
      const t = v ? f32x4.mul(v128.load(v + (<usize>v1 << 2)), gev) : ev;
      v128.store(p, f32x4.sub(f32x4.mul(v128.load(p), fv), t));
    }
    if (v1 < b1) v128.store(grow + (<usize>at4 << 2), last);
  } else {
    for (let c = v1; c < b1; c++) {
      const p = grow + (<usize>c << 2);
      const t: f32 = v ? load<f32>(v + (<usize>c << 2)) * f32x4.extract_lane(gev, 0) : f32x4.extract_lane(ev, 0);
      store<f32>(p, load<f32>(p) * f - t);
    }
  }
  // Masked classes: e = 0 there, but the noise term must not leave −g·ε·v_c behind.
  if (mask) maskBlock(grow, mask, b0, b1);
}

/** Zero the gradient of the masked classes of the block [b0, b1). */
function maskBlock(grow: usize, mask: usize, b0: i32, b1: i32): void {
  const zero = f32x4.splat(0);
  const m1 = b0 + ((b1 - b0) & ~3);
  for (let c = b0; c < m1; c += 4) {
    const p = grow + (<usize>c << 2);
    v128.store(p, v128.and(v128.load(p), f32x4.ne(v128.load(mask + (<usize>c << 2)), zero)));
  }
  for (let c = m1; c < b1; c++) {
    if (load<f32>(mask + (<usize>c << 2)) == 0) store<f32>(grow + (<usize>c << 2), 0);
  }
}
