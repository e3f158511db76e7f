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
export const R_GAMMA: usize = 184;

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
