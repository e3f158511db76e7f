// The call record: one call of the `rows` / `familyRows` exports, its pointers and scalars laid out in the
// kernel's memory by writeCall (the one writer) and read there by the kernel (assembly/call.ts, which has
// the same offsets and says how rows r0 ≤ r < r1 are addressed from it).

/**
 * Bytes of one call record: its fields (160) and the kernel's out-records (the per-row results of `rows`,
 * the row, block and focal records of `familyRows`; assembly/call.ts checks that they fit).
 */
export const CALL_BYTES = 640;

/** The family options of a call (`familyRows`), as the kernel takes them. */
export interface FamilyFields {
  /** Class-conditional noise: S itself (with vScratch) or the staged rows S[yᵣ] from row r0; else 0. */
  vRows: number;
  /** The row scratch of exp values (K + 4 floats). */
  ework: number;
  /** S[y]'s normalized copy (S read in place), or a private copy of v for focal rows; else 0. */
  vScratch: number;
  /** The confidence penalty's entropy is wanted, with weight β. */
  penalty: boolean;
  beta: number;
  /** Focal loss, with its exponent (< 0: FLSD-53, 5 or 3 per row) and α. */
  focal: boolean;
  exponent: number;
  alpha: number;
}

/** The language-model options of a call (`rows`), as the kernel takes them (see languageModel.ts). */
export interface LanguageModelFields {
  /** The soft cap c (0: none). */
  softcap: number;
  /** The z-loss's gradient factor per unit of a row's scale (0: none). */
  zFactor: number;
  /** The cross-entropy's gradient factor on a row's scale (1, or 0: see languageModel.ts). */
  ceFactor: number;
  /** f64 per row: the log-sum-exp (0: none); `lseIgnored`: ignored rows' too. */
  lse: number;
  lseIgnored: boolean;
  /** A soft-capped row's exp values (K + 4 floats; 0 without a cap). */
  ework: number;
}

/** One kernel call: byte addresses (0: absent) of row 0's data and the scalars shared by every row. */
export interface KernelCall {
  /** Logits (stride 4K). */
  z: number;
  /** Gradient rows, gStride bytes apart (0: one scratch row, no gradient kept). */
  g: number;
  gStride: number;
  classes: number;
  /** i32 per row, −1 ignored. */
  labels: number;
  /** f64 per row: the gradient factor. */
  scale: number;
  /** f64 (nll, smoothing[, entropy]) per row. */
  out: number;
  /** Scratch for the block maxima of one row. */
  bm: number;
  /** Class weights, noise vector, class mask (f32 K each). */
  w: number;
  v: number;
  mask: number;
  vConst: number;
  eps: number;
  nonTarget: boolean;
  /** Allowed classes Kₐ. */
  allowed: number;
  vSum: number;
  writeGrad: boolean;
  family: FamilyFields | null;
  /** The language-model options, or null (none: the plain loss). */
  lm?: LanguageModelFields | null;
}

/** Lay out call `c` at byte `at` (8-byte aligned) of the kernel memory `buffer`. */
export function writeCall(buffer: ArrayBufferLike, at: number, c: KernelCall): void {
  const f = c.family;
  const u = new Uint32Array(buffer, at, 20);
  u[0] = c.z;
  u[1] = c.g;
  u[2] = c.gStride;
  u[3] = c.classes;
  u[4] = c.labels;
  u[5] = c.scale;
  u[6] = c.w;
  u[7] = c.v;
  u[8] = c.mask;
  u[9] = c.nonTarget ? 1 : 0;
  u[10] = c.allowed;
  u[11] = c.out;
  u[12] = c.bm;
  u[13] = c.writeGrad ? 1 : 0;
  u[14] = f ? f.vRows : 0;
  u[15] = f ? f.ework : (c.lm?.ework ?? 0);
  u[16] = f ? f.vScratch : 0;
  u[17] = f?.penalty ? 1 : 0;
  u[18] = f?.focal ? 1 : 0;
  const d = new Float64Array(buffer, at + 80, 6);
  d[0] = c.vConst;
  d[1] = c.eps;
  d[2] = c.vSum;
  d[3] = f ? f.beta : 0;
  d[4] = f ? f.exponent : 0;
  d[5] = f ? f.alpha : 1;
  const lm = c.lm ?? null;
  const l = new Float64Array(buffer, at + 128, 3);
  l[0] = lm ? lm.softcap : 0;
  l[1] = lm ? lm.zFactor : 0;
  l[2] = lm ? lm.ceFactor : 1;
  const p = new Uint32Array(buffer, at + 152, 2);
  p[0] = lm ? lm.lse : 0;
  p[1] = lm?.lseIgnored ? 1 : 0;
}
