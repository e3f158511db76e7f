// A class-conditional noise matrix S checked once: crossEntropy then reads it without re-checking the rows
// a batch uses (at K = 32000 that check cost 79 ms a call, about as much as the loss itself).
import { allocate, floats, release, sharedKernel } from '../kernels/memory.js';
import { fail } from './errors.js';
import {
  checkDistribution,
  checkMatrixKeys,
  type ParsedNoise,
  parseMatrix,
  SUM_TOLERANCE,
} from './inputs.js';
import { checkOptions } from './options.js';
import type { NoiseMatrix } from './types.js';

/** Options of {@link noiseMatrix}. */
export interface NoiseMatrixOptions {
  /** K; optional (taken from S's shape), checked when given. */
  classes?: number;
}

/**
 * The matrices handed out by {@link noiseMatrix}: S, K×K, each row a distribution (u(·|y) = S[y]), as a
 * float32 copy that only this module can read (nothing outside can change it), placed by {@link storage}.
 */
class CheckedMatrix implements NoiseMatrix {
  readonly classes: number;
  readonly #values: Float32Array;

  constructor(classes: number, values: Float32Array) {
    this.classes = classes;
    this.#values = values;
  }

  toArray(): Float32Array {
    return this.#values.slice();
  }

  /** The copy itself, for the loss (never handed to the caller). */
  static values(m: CheckedMatrix): Float32Array {
    return m.#values;
  }
}

/** Matrices up to this size go into the kernel's shared memory (which never shrinks: see kernels/memory.ts). */
const IN_KERNEL_MAX_BYTES = 1 << 30;

/** Gives a matrix's region of the kernel memory back once its copy is unreachable. */
const regions =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<number>((at) => release(at)) : null;

/**
 * Where a matrix's float32 copy lives: in the shared kernel memory when it fits (≤ 1 GiB; every kernel
 * thread reads S[yᵢ] there in place, no staging), else in a SharedArrayBuffer (every thread stages the
 * rows S[yᵢ] of its chunks), else (no shared memory here) in an ordinary array (one thread).
 */
function storage(k: number): Float32Array {
  const length = k * k;
  const bytes = 4 * length;
  // 32 bytes more: the kernel's vector loops read up to 3 floats past a row (masked out).
  if (regions && bytes + 32 <= IN_KERNEL_MAX_BYTES && sharedKernel()) {
    try {
      const at = allocate(bytes + 32);
      const values = floats(at, length);
      regions.register(values, at);
      return values;
    } catch {
      // the 4 GB of the kernel memory are taken: a SharedArrayBuffer below
    }
  }
  if (typeof SharedArrayBuffer === 'function') {
    try {
      return new Float32Array(new SharedArrayBuffer(bytes));
    } catch {
      // e.g. a page that is not cross-origin isolated, or a buffer too large: an ordinary one
    }
  }
  return new Float32Array(length);
}

/**
 * A class-conditional noise matrix S checked once, for `noise: { matrix }`. The loss is then
 *
 *     p′ = (1−ε)·onehot(y) + ε·S[y],   L = Σᵢ (1−ε)·H(onehot(yᵢ), q) + ε·H(S[yᵢ], q)
 *
 * (for probability targets u = Σ_y p_y·S[y]; with a class mask S[y] is renormalized on the allowed
 * classes): the noise of online label smoothing (Zhang et al. 2021, "Delving Deep into Label Smoothing",
 * IEEE TIP; {@link OnlineLabelSmoothing.noiseMatrix} hands one out per epoch) and of any fixed
 * class-to-class smoothing. A plain array S has the rows a batch uses checked on every call (79 ms at
 * K = 32000, about the cost of the loss); a NoiseMatrix is checked here, all K rows, once, and copied to
 * float32 (the values the kernel reads): the caller's array is neither kept nor modified, and later
 * changes to it do not reach the matrix. Results are those of the same float32 values passed as a plain
 * Float32Array, to the last bit.
 *
 * Checks: every entry finite and ≥ 0, every row summing to 1 (± {@link SUM_TOLERANCE}). S is flat
 * row-major (K² numbers, any typed array or number[]) or K rows (`number[][]`); K is √length unless
 * `options.classes` says it.
 *
 * @throws LabelSmoothingError naming the entry (flat index) or the row that is not a distribution
 */
export function noiseMatrix(
  S: ArrayLike<number> | readonly (readonly number[])[],
  options?: NoiseMatrixOptions,
): NoiseMatrix {
  const fn = 'noiseMatrix';
  const o = checkOptions<NoiseMatrixOptions>(fn, options, ['classes']);
  const given = o.classes;
  if (given !== undefined && (typeof given !== 'number' || !Number.isInteger(given) || given < 1))
    fail(fn, 'options.classes', undefined, given, 'must be an integer ≥ 1');
  let flat: ArrayLike<number>;
  let k: number;
  if (Array.isArray(S) && Array.isArray(S[0])) {
    k = given ?? S.length;
    if (S.length !== k) fail(fn, 'S', undefined, S, `expected ${k} rows (K×K)`);
    flat = parseMatrix(fn, 'S', S as readonly (readonly number[])[], k).data;
  } else if (ArrayBuffer.isView(S) || Array.isArray(S)) {
    const a = S as ArrayLike<number>;
    k = given ?? Math.round(Math.sqrt(a.length));
    if (k < 1 || a.length !== k * k)
      fail(fn, 'S', undefined, S, `length ${a.length} is not K×K${given === undefined ? '' : ` = ${k * k}`}`);
    flat = a;
  } else return fail(fn, 'S', undefined, S, 'expected a K×K matrix (flat or rows)');
  const values = storage(k);
  // Float arrays row by row: checked, then copied while the row is in the cache (S is read from memory
  // once; element by element into shared memory this took 20 s at K = 32000). The general check names
  // the first bad entry or row.
  const fast = flat instanceof Float32Array || flat instanceof Float64Array ? flat : null;
  if (!fast || !checkedCopy(fast, k, values)) {
    checkDistribution(fn, 'S', flat, k, k);
    values.set(flat);
  }
  return new CheckedMatrix(k, values);
}

/** Copy the K×K float array `a` into `to` row by row while checking that each row is a distribution;
 * false (and `to` partly written) at the first row that is not. */
function checkedCopy(a: Float32Array | Float64Array, k: number, to: Float32Array): boolean {
  for (let y = 0; y < k; y++) {
    const start = y * k;
    let sum = 0;
    for (let j = start, end = start + k; j < end; j++) {
      const v = a[j];
      if (!(v >= 0 && v < Infinity)) return false;
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= SUM_TOLERANCE)) return false;
    to.set(a.subarray(start, start + k), start);
  }
  return true;
}

/**
 * `noise` as `{ matrix: m }` with m from {@link noiseMatrix}: its parsed form (checked when it was made), or
 * null for any other noise (parseNoise takes those). Errors: other keys next to `matrix`, another K.
 */
export function parseCheckedNoise(fn: string, noise: unknown, classes: number): ParsedNoise | null {
  if (typeof noise !== 'object' || noise === null) return null;
  const m = (noise as { matrix?: unknown }).matrix;
  if (!(m instanceof CheckedMatrix)) return null;
  const values = CheckedMatrix.values(m);
  checkMatrixKeys(fn, noise);
  if (m.classes !== classes)
    fail(
      fn,
      'options.noise.matrix',
      undefined,
      m.classes,
      `a noise matrix of K = ${m.classes}, the call has K = ${classes}`,
    );
  return { kind: 'class-conditional', data: values, perRow: false, checked: true };
}
