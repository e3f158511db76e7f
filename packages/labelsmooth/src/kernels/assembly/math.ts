// Shared SIMD math of the AssemblyScript kernels: exp over 4 lanes, horizontal sums and maxima, f32 → f64
// widening. Instruction choices are for V8's x64 code (see rows.ts).

const MAGIC: f32 = 12582912.0; // 1.5·2²³: x + MAGIC rounds x to an integer held in the low mantissa bits

/**
 * exp(x) for x ≤ 0, 4 lanes, relative error < 2e−7 (x ≥ −87.3; below, ~1e−38 instead of 0). x = n·ln2 + r,
 * |r| ≤ ln2/2 (Cody–Waite, two constants), exp(r) by a degree-5 minimax polynomial with p(0) = 1 exactly
 * (so the row max gives exp(0) = 1), 2ⁿ by building the exponent bits.
 */
@inline
export function exp4(x: v128): v128 {
  x = f32x4.pmax(x, f32x4.splat(-87.3));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504)), f32x4.splat(MAGIC));
  const n = f32x4.sub(t, f32x4.splat(MAGIC));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(8.325711824e-3);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.190902039e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.666694134e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.99990344e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  // The low 9 bits of t's bit pattern are n (mod 512): shifted into the exponent field, plus the bias.
  const pow2n = i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23));
  return f32x4.mul(p, pow2n);
}

@inline
export function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/**
 * tanh(x), 4 lanes, within ~2 ulp (Cephes tanhf): for |x| < 0.625 the odd polynomial x + x³·P(x²); beyond,
 * sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|) ≤ 0.29 (no cancellation, and exp4's relative error shrinks
 * with e). ±Infinity give ±1; NaN stays NaN (the small-|x| branch, since the comparison is false).
 */
@inline
export function tanh4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  const a = f32x4.abs(x);
  const e = exp4(f32x4.mul(a, f32x4.splat(-2.0)));
  const large = v128.or(f32x4.div(f32x4.sub(one, e), f32x4.add(one, e)), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(large, tanhSmall4(x), tanhLarge(x));
}

/** The lanes where {@link tanh4} takes its exp branch (|x| ≥ 0.625); NaN lanes are not among them. */
@inline
export function tanhLarge(x: v128): v128 {
  return f32x4.ge(f32x4.abs(x), f32x4.splat(0.625));
}

/** tanh4's branch for |x| < 0.625: x + x³·P(x²) (the same bits as tanh4 on those lanes). */
@inline
export function tanhSmall4(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  return f32x4.add(x, f32x4.mul(f32x4.mul(p, z), x));
}

/** Sum of the 2 f64 lanes. */
@inline
export function hsum2(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/** The 4 f32 lanes of a, widened to f64 and added pairwise: f64x2 (a0 + a2, a1 + a3). */
@inline
export function widen(a: v128): v128 {
  return f64x2.add(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(v128.shuffle<i32>(a, a, 2, 3, 0, 1)));
}

@inline
export function hmax4(a: v128): f32 {
  return max(max(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)), max(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)));
}

/**
 * log(1 + x) for x ≥ 0 in f64, relative error < 2e−10 — ample for a sum of float32 exp values, whose own
 * relative error is ~1e−7 — at a fraction of the libm log1p's cost. x < 2⁻⁵ (a confident row: 1 + a tiny
 * sum) by the series x − x²/2 + … − x⁶/6 (truncation < x⁶/7 relative), which keeps every digit of x; else
 * 1 + x = 2ᵉ·f with f in [√½, √2), log f = 2·atanh(t), t = (f − 1)/(f + 1), |t| ≤ 0.172, to t¹¹.
 */
@inline
export function log1pSum(x: f64): f64 {
  if (!(x < Infinity)) return x; // NaN and +Infinity pass through (the row is then declined)
  if (x < 0.03125) return x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * (0.25 - x * (0.2 - x * (1.0 / 6.0))))));
  const bits = reinterpret<i64>(1.0 + x);
  let e = <i32>(bits >> 52) - 1023;
  let f = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (f > 1.4142135623730951) {
    f *= 0.5;
    e++;
  }
  const t = (f - 1.0) / (f + 1.0);
  const t2 = t * t;
  const atanh = t * (1.0 + t2 * (1.0 / 3.0 + t2 * (0.2 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0))))));
  return <f64>e * 0.6931471805599453 + 2.0 * atanh;
}

/**
 * log(x) for finite x > 0, 4 lanes, relative error < 3e−7 away from x = 1 and absolute < 1e−7 near it
 * (Cephes logf: x = 2ᵉ·f with f in [√½, √2), log f by a degree-9 polynomial in f − 1, e·ln2 in two
 * constants). Denormal x are not supported (they give log of a wrong mantissa); callers keep x normal.
 */
@inline
export function log4(x: v128): v128 {
  const bits = x;
  // exponent e and mantissa m in [1, 2)
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(127)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  // m ≥ √2: halve it (e + 1), so that f = m − 1 lies in [√½ − 1, √2 − 1)
  const big = f32x4.ge(m, f32x4.splat(1.41421356));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = f32x4.add(e, v128.and(f32x4.splat(1.0), big));
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const z = f32x4.mul(f, f);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(f, y), f32x4.mul(e, f32x4.splat(0.693359375)));
}
