// The per-row terms the GPU row programs write, and the layout of what the reduce programs make of them,
// on the same backend (nothing is read back). With r = the row's weight (sampleWeight × the per-example
// weight), z′ the soft-capped logits and v_c = w_c·u_c:
//     loss  = ((1−ε)·Σ r·nll + ε·Σ r·smoothing)·scale + ζ·Σ r·lse²·zScale
//     dL/dz′ = sᵢ·q_c − aᵢ·λ_c,   aᵢ = dy·scale·r,   sᵢ = aᵢ·Λᵢ + dy·zScale·2ζ·r·lse
// where scale = 1/Σ w[y] (`mean`), 1/normalizer or 1, and zScale the same with the count of rows that are
// not ignored in place of Σ w[y]. The gradient program reads the terms and the totals, so the backward pass
// is one elementwise program.

/** The scalars every GPU program reads as uniforms, on either backend. */
export interface GpuScalars {
  eps: number;
  sumV: number;
  ignoreIndex: number;
  /** 0: no soft cap. */
  softcap: number;
  /** ζ of the z-loss (0 without). */
  zeta: number;
  /** 0 without one. */
  normalizer: number;
}

/** Columns of the [N, ROW_TERM_COUNT] terms: every one 0 on ignored rows but lse, NaN on invalid labels. */
export const TERM = {
  /** lse = log Σ_c exp(z′_c) over the allowed classes (every row). */
  lse: 0,
  /** r·w_y·(lse − z′_y). */
  nll: 1,
  /** r·Σ_c v_c·(lse − z′_c) (non-target: without the target's). */
  smoothing: 2,
  /** Λ = (1−ε)·w_y + ε·Σ_c v_c, the sum of the gradient's targets λ_c (without r). */
  lambda: 3,
  /** The row's part of the `mean` denominator: w_y (1 without per-class weights). */
  denominator: 4,
  /** 1: the row counts (is not ignored). */
  counted: 5,
  /** r·lse². */
  zLoss: 6,
  /** r. */
  weight: 7,
} as const;

/** How many terms per row. */
export const ROW_TERM_COUNT = 8;

/**
 * The [4] totals of a scalar reduction: the loss, its z-loss part, scale and zScale. With `reduction:
 * 'none'` the totals are [2, N] instead: each row's loss (z-loss included) and its z-loss part.
 */
export const TOTAL = { loss: 0, zLoss: 1, scale: 2, zScale: 3 } as const;

/** Reduction codes of the programs' uniforms. */
export const REDUCTION_CODE = { mean: 0, sum: 1, none: 2 } as const;
