// Logit soft-capping in the SIMD fast path (rows.ts): z′ = c·tanh(z/c) (Gemma 2), and the gradient times
// dz′/dz = 1 − (z′/c)². A capped row keeps z′ where an uncapped row keeps its exp values (its gradient row,
// or the scratch row): each block is capped into it first, passes A and B read z′ there, and pass B stores
// the exp values in the call's exp row (EWORK, K floats) instead, since pass C needs both: one tanh per
// logit more than an uncapped row, and one more L2-resident row stream.

import { at, EPS, EWORK, real, SOFTCAP, V, V_CONST } from './call';
import { tanh4, tanhLarge, tanhSmall4 } from './math';

/**
 * c·tanh(z·(1/c)) of 4 lanes (cv = c, iv = 1/c). Where no lane needs tanh4's exp branch (|z| < 0.625·c: most
 * logits of a language model under a cap of 30) the polynomial alone gives the same bits at a third of the
 * cost.
 */
@inline
function cap4(z: v128, cv: v128, iv: v128): v128 {
  const x = f32x4.mul(z, iv);
  return f32x4.mul(cv, v128.any_true(tanhLarge(x)) ? tanh4(x) : tanhSmall4(x));
}

/** The cap c of the call at `call`, as the passes take it (f32). */
@inline
function capOf(call: usize): f32 {
  return <f32>real(call, SOFTCAP);
}

/** z′ of one logit: cap4's lane arithmetic, so that a row's z′_y has the bits of its stored lane. */
export function cap1(call: usize, z: f32): f32 {
  const c = capOf(call);
  return f32x4.extract_lane(cap4(f32x4.splat(z), f32x4.splat(c), f32x4.splat(<f32>1.0 / c)), 0);
}

/** z′ of the block [b0, b1) of the row at `row`, stored at the same offsets from `dst` (which may be row). */
export function capBlock(call: usize, row: usize, dst: usize, b0: i32, b1: i32): void {
  const c = capOf(call);
  const cv = f32x4.splat(c);
  const iv = f32x4.splat(<f32>1.0 / c);
  const v1 = b0 + ((b1 - b0) & ~3);
  // do-while: in a for loop of a small function V8 rebuilds the v128 constants every iteration
  let j = b0;
  if (j < v1)
    do {
      const o = <usize>j << 2;
      v128.store(dst + o, cap4(v128.load(row + o), cv, iv));
      j += 4;
    } while (j < v1);
  for (j = v1; j < b1; j++) store<f32>(dst + (<usize>j << 2), cap1(call, load<f32>(row + (<usize>j << 2))));
}

/**
 * One vector of a capped row's pass C: (e·f − t)·(1 − u)(1 + u) with u = z′/c and t the noise term g·ε·v_c.
 * (1 − u)(1 + u) rather than 1 − u²: 1 − u is exact near |u| = 1, where 1 − u² rounds.
 */
@inline
function cappedGradient4(zc: v128, e: v128, fv: v128, t: v128, iv: v128): v128 {
  const one = f32x4.splat(1.0);
  const u = f32x4.mul(zc, iv);
  const d = f32x4.sub(f32x4.mul(e, fv), t);
  return f32x4.mul(d, f32x4.mul(f32x4.sub(one, u), f32x4.add(one, u)));
}

/**
 * Pass C of a capped row over the block [b0, b1): z′ at `grow`, its exp values e (pass B's) in the call's
 * exp row, f = g·Λ/s·exp(bmax − m) the block's factor and gi the row's g:
 * grad_c = (e_c·f − g·ε·v_c)·(1 − (z′_c/c)²), written over z′. Masked classes are zeroed by the caller, as
 * for an uncapped row.
 */
export function cappedGradientBlock(call: usize, grow: usize, b0: i32, b1: i32, f: f32, gi: f64): void {
  const v = at(call, V);
  const ework = at(call, EWORK);
  const eps = real(call, EPS);
  const iv = f32x4.splat(<f32>1.0 / capOf(call));
  const fv = f32x4.splat(f);
  const gev = f32x4.splat(<f32>(gi * eps));
  const ev = f32x4.splat(<f32>(gi * eps * real(call, V_CONST)));
  const v1 = b0 + ((b1 - b0) & ~3);
  let j = b0;
  if (j < v1)
    do {
      const o = <usize>j << 2;
      const t = v ? f32x4.mul(v128.load(v + o), gev) : ev;
      v128.store(grow + o, cappedGradient4(v128.load(grow + o), v128.load(ework + o), fv, t, iv));
      j += 4;
    } while (j < v1);
  for (j = v1; j < b1; j++) {
    const o = <usize>j << 2;
    const t = v ? f32x4.mul(f32x4.splat(load<f32>(v + o)), gev) : ev;
    const e = f32x4.splat(load<f32>(ework + o));
    store<f32>(grow + o, f32x4.extract_lane(cappedGradient4(f32x4.splat(load<f32>(grow + o)), e, fv, t, iv), 0));
  }
}
