// The family options on the SIMD kernel (the `familyRows` export, assembly/family.ts): the job's extra
// fields, each thread's scratch areas, the staging of class-conditional noise rows and the family's fields
// of a chunk's call record. The executor (executor.ts) drives the chunks exactly as for the plain loss.
import type { FamilyFields } from './call.js';
import { align16 } from './wasm.js';

/** The family's options of a kernel job (null fields: not asked for). */
export interface FamilyJob {
  /** β of the confidence penalty −β·H_w(q), or null (then no entropy is reported). */
  beta: number | null;
  /** The focal loss: γ (a number, or 'flsd-53' per row) and α; null for cross-entropy. */
  focal: { gamma: number | 'flsd-53'; alpha: number } | null;
  /**
   * Class-conditional noise S (K×K, row y = u(·|y) before the mask's renormalization), or null. Threads
   * read it only when it is in shared memory (noiseMatrix()'s copy): the kernel's (read in place at row yᵢ)
   * or a SharedArrayBuffer (shared with the workers along with the job; each stages its chunks' rows).
   */
  matrix: ArrayLike<number> | null;
}

/** Vector loops read up to 3 floats past a row's end (masked out): every K-float area gets 32 bytes more
 * (the row scratch also holds a 16-byte vector after K rounded up to 4). */
const SLACK = 32;

/** The focal exponent as `familyRows` takes it: < 0 for FLSD-53 (5 or 3 per row), 0 without focal loss. */
function focalExponent(f: FamilyJob): number {
  return f.focal ? (f.focal.gamma === 'flsd-53' ? -1 : f.focal.gamma) : 0;
}

/**
 * The family options of a call (layout.ts's CallLayout), as the numbers every thread passes to
 * `familyRows`. S, if any, lies in the call's kernel memory (read in place at row yᵢ) or outside it (a
 * SharedArrayBuffer, or an ordinary array on one thread: each thread stages its chunks' rows S[yᵢ] into its
 * scratch).
 */
export interface CallFamily {
  cp: number;
  beta: number;
  focal: number;
  /** The focal exponent (see focalExponent). */
  exponent: number;
  alpha: number;
  /** Byte address of S (K×K f32) in the shared kernel memory, or 0. */
  matrix: number;
  /** S in a SharedArrayBuffer outside the kernel memory (posted to the workers: shared, not copied), or null. */
  staged: ArrayLike<number> | null;
}

/** The family part of a shared-memory call for `job`, its S (if any) at byte address `matrix` of the
 * kernel memory (0: elsewhere, staged per chunk). */
export function callFamily(f: FamilyJob, matrix: number): CallFamily {
  return {
    cp: f.beta !== null ? 1 : 0,
    beta: f.beta ?? 0,
    focal: f.focal ? 1 : 0,
    exponent: focalExponent(f),
    alpha: f.focal ? f.focal.alpha : 1,
    matrix,
    staged: f.matrix && !matrix ? f.matrix : null,
  };
}

/**
 * Byte offsets of one thread's scratch areas for a shared-memory family call (after its block maxima): the
 * row scratch of exp values (e), S[y]'s normalized copy or the noise vector's private copy (vScratch), one
 * row for a chunk's last row and, without a gradient, for every row's (tail), and the staged rows S[yᵢ]
 * when S is outside the kernel memory (vRows); `bytes` in all.
 */
export function familyAreas(k: number, chunkRows: number, staged: boolean) {
  const row = align16(4 * k + SLACK);
  const e = 0;
  const vScratch = e + row;
  const tail = vScratch + row;
  const vRows = tail + row;
  const bytes = align16(vRows + (staged ? 4 * chunkRows * k + SLACK : 0));
  return { e, vScratch, tail, vRows, bytes };
}

/**
 * The family fields of the call record (call.ts) for rows [r0, r0 + n) of a call whose thread scratch rows
 * (familyAreas) start at `scratch`: S read in place at row yᵢ, or its rows S[yᵢ] staged into the
 * scratch first (from `buffer`, the kernel memory).
 */
export function familyFields(
  buffer: ArrayBufferLike,
  c: { classes: number; chunkRows: number; labels: number; v: number },
  f: CallFamily,
  h: { r0: number; n: number; scratch: number },
): FamilyFields {
  const k = c.classes;
  const at = familyAreas(k, c.chunkRows, f.staged !== null);
  let vRows = f.matrix;
  if (f.staged) {
    vRows = h.scratch + at.vRows;
    const labels = new Int32Array(buffer, c.labels + 4 * h.r0, h.n);
    stageNoiseRows(new Float32Array(buffer), vRows, f.staged, labels, k);
  }
  return {
    vRows,
    ework: h.scratch + at.e,
    // S read in place (its rows normalized in the scratch), or a private copy of the shared vector v for
    // focal rows (they zero v_y meanwhile)
    vScratch: f.matrix || (!vRows && c.v && f.focal) ? h.scratch + at.vScratch : 0,
    penalty: f.cp !== 0,
    beta: f.beta,
    focal: f.focal !== 0,
    exponent: f.exponent,
    alpha: f.alpha,
  };
}

/**
 * Copy S[yᵢ] of a chunk's kernel labels (−1: ignored, nothing) to byte `to` onwards, one row of K each
 * (into a thread's scratch).
 */
export function stageNoiseRows(
  f32: Float32Array,
  to: number,
  S: ArrayLike<number>,
  labels: Int32Array,
  k: number,
): void {
  const typed = S instanceof Float64Array || S instanceof Float32Array;
  // (V8 converts float64 → float32 element by element here; staging float64 rows for the kernel to narrow
  // measured no faster: the rows of S come from memory either way, 1 of 3 streams of the call.)
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y < 0) continue;
    const at = (to >>> 2) + i * k;
    if (typed) f32.set(S.subarray(y * k, (y + 1) * k), at);
    else for (let c = 0; c < k; c++) f32[at + c] = S[y * k + c];
  }
}
