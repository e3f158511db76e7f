// Validation and normalization of the arguments shared by the core functions. Everything here reads the
// caller's arrays and never writes them.
import { fail } from './errors.js';
import { refuseInherited } from './options.js';
import type { FloatArray, Matrix, Noise, Target } from './types.js';

/** Tolerance for "sums to 1" checks on distributions. */
export const SUM_TOLERANCE = 1e-4;

/** A row-major N×K matrix as a flat array. */
export interface Flat {
  data: ArrayLike<number>;
  rows: number;
  classes: number;
}

/** Parsed targets: class indices or an N×K probability matrix. */
export type ParsedTarget =
  /** Class indices, length N (ignoreIndex marks rows to skip). */
  | { kind: 'index'; labels: ArrayLike<number> }
  /** Probabilities, N×K row-major. */
  | { kind: 'probs'; probs: ArrayLike<number> };

/**
 * The noise distribution after validation, one case per kind of u: uniform 1/K and non-target
 * (1 − t_c)/(K − 1) carry no data; a prior n (K), a per-sample n (N×K, the one kind with a row each) or a
 * class-conditional S (K×K, row y = u(·|y)), each renormalized on the allowed classes. `perRow` and whether
 * `data` is null follow from the kind (kept as fields: the kernels read them).
 */
export type ParsedNoise =
  | { kind: 'uniform' | 'non-target'; data: null; perRow: false }
  | { kind: 'prior'; data: ArrayLike<number>; perRow: false }
  | { kind: 'per-sample'; data: ArrayLike<number>; perRow: true }
  | {
      kind: 'class-conditional';
      data: ArrayLike<number>;
      perRow: false;
      /** S from noiseMatrix(): every row checked when it was made, not per call. */
      checked: boolean;
    };

/** The class mask after validation, as 0/1 bytes; null when every class is allowed. */
export interface ParsedMask {
  /** 1 = allowed, 0 = masked; K entries (shared) or N×K (per row). */
  data: Uint8Array;
  perRow: boolean;
}

/** Float32Array or Float64Array. */
export function isFloatArray(x: unknown): x is FloatArray {
  return x instanceof Float32Array || x instanceof Float64Array;
}

function isIntegerTypedArray(x: unknown): x is ArrayLike<number> {
  return (
    x instanceof Int8Array ||
    x instanceof Uint8Array ||
    x instanceof Uint8ClampedArray ||
    x instanceof Int16Array ||
    x instanceof Uint16Array ||
    x instanceof Int32Array ||
    x instanceof Uint32Array
  );
}

/** Validate K given as an option. */
export function parseClasses(fn: string, classes: unknown): number | undefined {
  if (classes === undefined) return undefined;
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 1) {
    fail(fn, 'options.classes', undefined, classes, 'must be an integer ≥ 1');
  }
  return classes;
}

/** Flatten `number[][]` (copying) or check a flat float array against `classes`. */
export function parseMatrix(
  fn: string,
  argument: string,
  m: Matrix | unknown,
  classes: number | undefined,
): Flat {
  if (isFloatArray(m)) {
    if (classes === undefined)
      fail(fn, 'options.classes', undefined, classes, `required when ${argument} is flat`);
    if (m.length % classes !== 0) {
      fail(
        fn,
        argument,
        undefined,
        m,
        `length ${m.length} is not a multiple of options.classes = ${classes}`,
      );
    }
    return { data: m, rows: m.length / classes, classes };
  }
  if (Array.isArray(m)) {
    const rows = m.length;
    const width = rows > 0 && Array.isArray(m[0]) ? (m[0] as unknown[]).length : (classes ?? 0);
    if (rows > 0 && !Array.isArray(m[0])) fail(fn, argument, 0, m[0], 'expected an array of rows');
    const k = classes ?? width;
    if (k < 1) fail(fn, argument, undefined, m, 'cannot infer the number of classes from empty input');
    const data = new Float64Array(rows * k);
    for (let i = 0; i < rows; i++) {
      const row = m[i] as unknown;
      if (!Array.isArray(row) || row.length !== k) {
        fail(fn, argument, i, row, `row ${i} must be an array of length ${k}`);
      }
      for (let c = 0; c < k; c++) {
        const v = row[c];
        // Strings and other types would be coerced by the Float64Array; NaN/±Infinity are reported later
        // by the function that knows what they mean (e.g. −Infinity on a masked class is allowed).
        if (typeof v !== 'number')
          fail(fn, argument, i * k + c, v, `must be a number (row ${i}, column ${c})`);
        data[i * k + c] = v;
      }
    }
    return { data, rows, classes: k };
  }
  return fail(fn, argument, undefined, m, 'expected Float32Array, Float64Array or number[][]');
}

/** Recognize index vs probability targets and check their shape (values are checked by the caller). */
export function parseTarget(
  fn: string,
  target: Target | unknown,
  rows: number,
  classes: number,
): ParsedTarget {
  if (isIntegerTypedArray(target) || (Array.isArray(target) && !Array.isArray(target[0]))) {
    if (target.length !== rows) {
      fail(
        fn,
        'target',
        undefined,
        target,
        `length ${target.length} does not match the ${rows} rows of logits`,
      );
    }
    return { kind: 'index', labels: target };
  }
  if (isFloatArray(target) || Array.isArray(target)) {
    const flat = parseMatrix(fn, 'target', target, classes);
    if (flat.rows !== rows || flat.classes !== classes) {
      fail(fn, 'target', undefined, target, `probabilities must be ${rows}×${classes} like the logits`);
    }
    return { kind: 'probs', probs: flat.data };
  }
  return fail(
    fn,
    'target',
    undefined,
    target,
    'expected class indices (integer array) or probabilities (N×K)',
  );
}

/** ε must be a number in [0, 1]. */
export function parseEpsilon(fn: string, eps: unknown): number {
  if (eps === undefined) return 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) {
    fail(fn, 'options.labelSmoothing', undefined, eps, 'must be a number in [0, 1]');
  }
  return eps;
}

/** Check that `a` has `length` entries, each finite and ≥ 0. */
export function parseNonNegative(
  fn: string,
  argument: string,
  a: unknown,
  length: number,
): ArrayLike<number> {
  if (!(ArrayBuffer.isView(a) || Array.isArray(a)))
    fail(fn, argument, undefined, a, 'expected an array of numbers');
  const arr = a as ArrayLike<number>;
  if (arr.length !== length) fail(fn, argument, undefined, a, `length ${arr.length}, expected ${length}`);
  for (let i = 0; i < length; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !(v >= 0 && v < Infinity))
      fail(fn, argument, i, v, 'must be finite and ≥ 0');
  }
  return arr;
}

/**
 * Check that rows of `a` (row-major, width K) are distributions: all `rows` rows, or only the rows listed
 * in `which` (ascending). Errors name the flat index of a bad entry, or the row of a bad sum.
 */
export function checkDistribution(
  fn: string,
  argument: string,
  a: ArrayLike<number>,
  rows: number,
  k: number,
  which?: Int32Array,
): void {
  const list = which ?? Int32Array.from({ length: rows }, (_, i) => i);
  // Float arrays first through a loop of one element type (V8 keeps it monomorphic: ~10× faster on a
  // K×K noise matrix); the general loop below names the first bad entry.
  if ((a instanceof Float64Array || a instanceof Float32Array) && distributions(a, list, k)) return;
  for (const i of list) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = a[i * k + c];
      if (typeof v !== 'number' || !(v >= 0 && v < Infinity)) {
        fail(fn, argument, i * k + c, v, `must be finite and ≥ 0 (row ${i}, class ${c})`);
      }
      s += v;
    }
    if (Math.abs(s - 1) > SUM_TOLERANCE)
      fail(fn, argument, i, s, `row ${i} must sum to 1 (±${SUM_TOLERANCE})`);
  }
}

/** Whether the listed rows of the float array (width K) are finite, ≥ 0 and sum to 1 (±SUM_TOLERANCE). */
function distributions(a: Float64Array | Float32Array, rows: Int32Array, k: number): boolean {
  for (const i of rows) {
    let s = 0;
    for (let j = i * k, e = j + k; j < e; j++) {
      const v = a[j];
      if (!(v >= 0 && v < Infinity)) return false;
      s += v;
    }
    if (!(Math.abs(s - 1) <= SUM_TOLERANCE)) return false;
  }
  return true;
}

/**
 * `{ matrix: S }`: S is K×K (flat or K rows), each row a distribution. A Float32Array / Float64Array is read
 * in place, as the logits are (never written; copying K² entries per call cost more than the loss: 1.1 s at
 * K = 4096); other arrays are copied to a flat Float64Array. Only the shape is checked here: the rows the
 * batch uses are checked by {@link checkUsedNoiseRows} (checking all K² entries on every call cost 2–5 s
 * at K = 32000, far more than the loss).
 */
function parseClassConditional(fn: string, noise: Record<string, unknown>, classes: number): ParsedNoise {
  checkMatrixKeys(fn, noise);
  const m = noise.matrix;
  const argument = 'options.noise.matrix';
  let data: Float64Array | Float32Array;
  if (Array.isArray(m) && Array.isArray(m[0])) {
    if (m.length !== classes) fail(fn, argument, undefined, m, `expected ${classes} rows (K×K)`);
    data = parseMatrix(fn, argument, m, classes).data as Float64Array;
  } else if (ArrayBuffer.isView(m) || Array.isArray(m)) {
    const a = m as ArrayLike<number>;
    if (a.length !== classes * classes)
      fail(fn, argument, undefined, m, `expected K×K = ${classes * classes} entries`);
    if (m instanceof Float64Array || m instanceof Float32Array) data = m;
    else
      data = Float64Array.from({ length: a.length }, (_, j) => {
        const v = a[j];
        return typeof v === 'number' ? v : fail(fn, argument, j, v, 'must be a number');
      });
  } else return fail(fn, argument, undefined, m, 'expected a K×K matrix (flat or rows)');
  return { kind: 'class-conditional', data, perRow: false, checked: false };
}

/** `options.noise` as `{ matrix }` has no other own key (symbols included) and inherits none. */
export function checkMatrixKeys(fn: string, noise: object): void {
  refuseInherited(fn, 'options.noise', noise);
  for (const key of Reflect.ownKeys(noise)) {
    if (key === 'matrix') continue;
    const where = typeof key === 'symbol' ? `options.noise[${String(key)}]` : `options.noise.${key}`;
    fail(fn, where, undefined, Reflect.get(noise, key), 'unknown key; expected { matrix }');
  }
}

/**
 * The rows S[y] of a class-conditional noise matrix that enter the loss are distributions: y = each
 * label that is not ignored (class-index targets), or each class with mass in some row (probability
 * targets). A row no target uses does not enter the loss and is not read.
 */
export function checkUsedNoiseRows(
  fn: string,
  noise: ParsedNoise,
  target: ParsedTarget,
  ignoreIndex: number,
  classes: number,
): void {
  if (noise.kind !== 'class-conditional' || noise.checked) return;
  const used = new Uint8Array(classes);
  if (target.kind === 'index') {
    for (let i = 0; i < target.labels.length; i++) {
      const y = target.labels[i];
      if (y !== ignoreIndex) used[y] = 1;
    }
  } else for (let j = 0; j < target.probs.length; j++) if (target.probs[j] > 0) used[j % classes] = 1;
  const rows: number[] = [];
  for (let y = 0; y < classes; y++) if (used[y]) rows.push(y);
  checkDistribution(fn, 'options.noise.matrix', noise.data, classes, classes, Int32Array.from(rows));
}

/** Validate `options.noise`: a name, a prior (K), a per-sample distribution (N×K) or `{ matrix }` (K×K). */
export function parseNoise(fn: string, noise: Noise | unknown, rows: number, classes: number): ParsedNoise {
  if (noise === undefined || noise === 'uniform') return { kind: 'uniform', data: null, perRow: false };
  if (noise === 'non-target') {
    if (classes < 2) fail(fn, 'options.noise', undefined, noise, 'needs at least 2 classes (K = 1)');
    return { kind: 'non-target', data: null, perRow: false };
  }
  if (typeof noise === 'string') {
    fail(
      fn,
      'options.noise',
      undefined,
      noise,
      "must be 'uniform', 'non-target', a prior (K) or a per-sample (N×K) array",
    );
  }
  if (typeof noise === 'object' && noise !== null && !ArrayBuffer.isView(noise) && !Array.isArray(noise))
    return parseClassConditional(fn, noise as Record<string, unknown>, classes);
  if (!(ArrayBuffer.isView(noise) || Array.isArray(noise))) {
    fail(fn, 'options.noise', undefined, noise, 'expected a string, an array of probabilities or { matrix }');
  }
  const data = noise as ArrayLike<number>;
  if (data.length === classes) {
    checkDistribution(fn, 'options.noise', data, 1, classes);
    return { kind: 'prior', data, perRow: false };
  }
  if (data.length === rows * classes) {
    checkDistribution(fn, 'options.noise', data, rows, classes);
    return { kind: 'per-sample', data, perRow: true };
  }
  return fail(
    fn,
    'options.noise',
    undefined,
    noise,
    `length ${data.length}, expected K = ${classes} or N×K = ${rows * classes}`,
  );
}

/**
 * Validate `options.classMask` (K or N×K) into 0/1 bytes. Entries must be booleans or numbers other than
 * NaN (a NaN is neither "allowed" nor "masked"); every row must allow a class.
 */
export function parseMask(fn: string, mask: unknown, rows: number, classes: number): ParsedMask | null {
  if (mask === undefined || mask === null) return null;
  if (!(ArrayBuffer.isView(mask) || Array.isArray(mask)))
    fail(fn, 'options.classMask', undefined, mask, 'expected an array');
  const given = mask as ArrayLike<unknown>;
  let perRow = false;
  if (given.length === rows * classes && given.length !== classes) perRow = true;
  else if (given.length !== classes)
    fail(
      fn,
      'options.classMask',
      undefined,
      mask,
      `length ${given.length}, expected K = ${classes} or N×K = ${rows * classes}`,
    );
  const data = new Uint8Array(given.length);
  for (let j = 0; j < given.length; j++) {
    const v = given[j];
    if (typeof v === 'boolean') data[j] = v ? 1 : 0;
    else if (typeof v === 'number' && !Number.isNaN(v)) data[j] = v !== 0 ? 1 : 0;
    else fail(fn, 'options.classMask', j, v, 'must be a boolean or a number (not NaN); truthy = allowed');
  }
  const maskRows = perRow ? rows : 1;
  for (let i = 0; i < maskRows; i++) {
    let any = false;
    for (let c = 0; c < classes && !any; c++) any = data[i * classes + c] === 1;
    if (!any) fail(fn, 'options.classMask', i, 0, `row ${i} allows no class`);
  }
  return { data, perRow };
}

/** Validate `options.ignoreIndex` (default −100). */
export function parseIgnoreIndex(fn: string, ignoreIndex: unknown): number {
  if (ignoreIndex === undefined) return -100;
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) {
    fail(fn, 'options.ignoreIndex', undefined, ignoreIndex, 'must be an integer');
  }
  return ignoreIndex;
}
