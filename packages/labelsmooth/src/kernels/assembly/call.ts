// The call record: one kernel call (its pointers and scalars) laid out in the kernel's memory by the
// JavaScript side (kernels/call.ts, writeCall, the one writer), read here by `rows` and `familyRows`.
// Per-row pointers address row 0 of the call; rows(call, r0, r1) runs rows r0 ≤ r < r1, at
//   logits z + r·4K, gradient g + r·gStride (gStride 0: one scratch row), labels + 4r, scale + 8r,
//   out + r·(16 | 24 bytes), lse + 8r, and staged noise rows S[yᵣ] (`vRows` without `vScratch`) at vRows + (r − r0)·4K.
// Offsets in bytes; keep them equal to kernels/call.ts.
export const Z: usize = 0;
export const G: usize = 4;
export const G_STRIDE: usize = 8;
export const K: usize = 12;
export const LABELS: usize = 16;
export const SCALE: usize = 20;
export const W: usize = 24;
export const V: usize = 28;
export const MASK: usize = 32;
export const NON_TARGET: usize = 36;
export const ALLOWED: usize = 40;
export const OUT: usize = 44;
export const BM: usize = 48;
export const WRITE_GRAD: usize = 52;
export const V_ROWS: usize = 56;
export const EWORK: usize = 60;
export const V_SCRATCH: usize = 64;
export const CP: usize = 68;
export const FOCAL: usize = 72;
export const V_CONST: usize = 80;
export const EPS: usize = 88;
export const V_SUM: usize = 96;
export const BETA: usize = 104;
export const EXPONENT: usize = 112;
export const ALPHA: usize = 120;
// The language-model options of `rows` (rows.ts): the soft cap c (0: none), the z-loss's gradient factor
// per unit of the row's scale (2ζ·zScale / g; 0: none), the factor of the cross-entropy's gradient on the
// row's scale (1, or 0 when the scale array carries the z-loss's weights: see kernels/languageModel.ts),
// the f64 per-row log-sum-exp output (0: none) and whether ignored rows get theirs too.
export const SOFTCAP: usize = 128;
export const Z_FACTOR: usize = 136;
export const CE_FACTOR: usize = 144;
export const LSE: usize = 152;
export const LSE_IGNORED: usize = 156;
// The kernel's own per-row results (an out-record the JavaScript side does not read): rows.ts's rowLoss
// leaves here what rowGradient needs.
export const R_M: usize = 160;
export const R_S: usize = 168;
export const R_QY1: usize = 176;
export const R_LAMBDA: usize = 184;
// The family kernel's out-records (family.ts): the state of the row it runs, of the block it sums and of
// the row's focal loss, each an @unmanaged record at a fixed offset of the call's results. The hot
// functions take one pointer and load their fields into locals before their loops; results go back into
// the same records (AssemblyScript has no multiple return values, and the records are per call record,
// i.e. per thread, where module globals would be per instance).
export const FAMILY_ROW: usize = 192;
export const FAMILY_BLOCK: usize = FAMILY_ROW + ((offsetof<FamilyRow>() + 7) & ~7);
export const FAMILY_FOCAL: usize = FAMILY_BLOCK + ((offsetof<FamilyBlock>() + 7) & ~7);
/** Bytes of the call record with its out-records: kernels/call.ts's CALL_BYTES must be at least this. */
export const CALL_END: usize = FAMILY_FOCAL + ((offsetof<FamilyFocal>() + 7) & ~7);

/** One row of `familyRows`: the call's constants, the row's addresses, sums and constants, its results. */
@unmanaged
export class FamilyRow {
  // the call's scalars (copied from the record once a call)
  vConst: f64;
  vSum: f64;
  eps: f64;
  beta: f64;
  /** The focal exponent γ (< 0: FLSD-53). */
  exponent: f64;
  alpha: f64;
  // the row's noise: ρ = 1/mass of a raw noise row (else 1), V = Σ v_c
  rho: f64;
  vRow: f64;
  // the row's sums (passes 1 and 2), relative to the row max m: Σ e = ones + rest, the penalty's
  // A = Σ w·e·(z − m) and W = Σ w·e, Σ v·(z − z_y), and a raw noise row's mass
  zy: f64;
  m: f64;
  ones: f64;
  rest: f64;
  a: f64;
  wSum: f64;
  svz: f64;
  mass: f64;
  // the row's constants: s = Σ e, log s, ℓ = −log q_y, q_y, 1 − q_y, w_y, v_y, the gradient factor g,
  // Λ = Σ_c λ_c, P = Σ w·q·(lq + 1)
  s: f64;
  ls: f64;
  ly: f64;
  qy: f64;
  ry: f64;
  wy: f64;
  vy: f64;
  g: f64;
  lambda: f64;
  pen: f64;
  // the row's results: nll, smooth, and Λ − λ_y (the target's gradient entry)
  nll: f64;
  smooth: f64;
  other: f64;
  // addresses: the logits read (src), the gradient row, the exp values (e: ework or the row), the row's
  // noise vector (0: the constant vConst), class weights, mask, block maxima
  src: usize;
  row: usize;
  e: usize;
  ework: usize;
  v: usize;
  w: usize;
  mask: usize;
  bm: usize;
  k: i32;
  kv: i32;
  cp: i32;
  focal: i32;
  nonTarget: i32;
  writeGrad: i32;
  fold: i32;
}

/** One block's sums (passes 1 and 2 of family.ts), merged into the row's by the caller. */
@unmanaged
export class FamilyBlock {
  svz: f64;
  mass: f64;
  ones: f64;
  a: f64;
  w: f64;
}

/** The focal loss of one row: its constants, the block's (bmax, f, cb), and the sums of the focal pass. */
@unmanaged
export class FamilyFocal {
  /** Σ v·r^γ·lq and Σ v·h over the row (the target left out). */
  s: f64;
  t: f64;
  bmax: f32;
  /** q = E·f over the block, lq = (z − bmax) + cb. */
  f: f32;
  cb: f32;
  /** γ of the row, its kind (see family.ts's G_INT) and integer part. */
  exponent: f32;
  gk: i32;
  gi: i32;
  /** The q below which the series to q² (qs) and q¹ (qs1) are exact to float32 (family.ts's seriesBound). */
  qs: f32;
  qs1: f32;
  /** The series' coefficients: (1 − q)^γ = 1 + q·(c1 + q·c2), γ·q·(1 − q)^(γ−1) = q·(γ + q·(d1 + q·d2)). */
  c1: f32;
  c2: f32;
  d1: f32;
  d2: f32;
  /** −g·α·ε, g·β, the penalty's constant part, g·Λ (fused) and the constant noise. */
  gNoise: f32;
  gBeta: f32;
  pen: f32;
  gLambda: f32;
  vc: f32;
  /** ε = 0 with a gradient: the focal pass writes the whole gradient entry. */
  fused: i32;
}

/** A pointer (or i32) field of the record at `call`. */
@inline
export function at(call: usize, field: usize): usize {
  return <usize>load<u32>(call + field);
}

/** An i32 field of the record at `call`. */
@inline
export function int(call: usize, field: usize): i32 {
  return load<i32>(call + field);
}

/** An f64 field of the record at `call`. */
@inline
export function real(call: usize, field: usize): f64 {
  return load<f64>(call + field);
}

// kernels/call.ts reserves CALL_BYTES (640) for the record: the out-records must fit (checked when
// compiling: ERROR is compiled only where its condition holds).
// @ts-ignore: ERROR is an AssemblyScript builtin
if (CALL_END > 640) ERROR('the call record outgrew CALL_BYTES (640) of kernels/call.ts');
