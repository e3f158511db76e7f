import { mulberry32 } from 'labelsmooth';

/** A classification dataset held as dense float features and integer labels. */
export interface Dataset {
  /** Where it came from, e.g. `mnist/train`. */
  name: string;
  /** Features, row-major N × features, float32 (pixels scaled to [0, 1]). */
  x: Float32Array;
  /** Class indices, length N. */
  y: Int32Array;
  rows: number;
  features: number;
  classNames: string[];
  /** [height, width, channels] when the rows are images (enables the CNN). */
  imageShape?: [number, number, number];
}

/** The rows `indices` of `ds`, in that order. */
export function take(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const f = ds.features;
  const x = new Float32Array(indices.length * f);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    x.set(ds.x.subarray(r * f, (r + 1) * f), i * f);
    y[i] = ds.y[r];
  }
  return { ...ds, name, x, y, rows: indices.length };
}

/** The rows of `a`, then those of `b` (same features and classes). */
export function concat(a: Dataset, b: Dataset, name = a.name): Dataset {
  if (a.features !== b.features || a.classNames.join('\u0000') !== b.classNames.join('\u0000'))
    throw new Error(`concat: ${a.name} and ${b.name} differ in features or classes`);
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Int32Array(a.rows + b.rows);
  y.set(a.y);
  y.set(b.y, a.rows);
  return { ...a, name, x, y, rows: a.rows + b.rows };
}

/** Fisher–Yates shuffle of 0..n−1 from a seeded generator. */
export function permutation(n: number, seed: number): Int32Array {
  const random = mulberry32(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Seeded stratified split: `count` rows go to the second part, spread over the classes in proportion to
 * their frequency (largest remainders), the rest to the first. Both parts keep a shuffled order.
 */
export function stratifiedSplit(
  y: Int32Array,
  classes: number,
  count: number,
  seed: number,
): { first: Int32Array; second: Int32Array } {
  const n = y.length;
  const order = permutation(n, seed);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const i of order) byClass[y[i]].push(i);
  const exact = byClass.map((rows) => (rows.length * count) / n);
  const quota = exact.map(Math.floor);
  let left = count - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => [e - Math.floor(e), c]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of byRemainder) {
    if (left-- <= 0) break;
    quota[c]++;
  }
  const inSecond = new Uint8Array(n);
  byClass.forEach((rows, c) => {
    for (let j = 0; j < quota[c]; j++) inSecond[rows[j]] = 1;
  });
  const first: number[] = [];
  const second: number[] = [];
  for (const i of order) (inSecond[i] ? second : first).push(i);
  return { first: Int32Array.from(first), second: Int32Array.from(second) };
}

/** Class frequencies of `y` (a prior for `noise`), summing to 1. */
export function classFrequencies(y: Int32Array, classes: number): Float64Array {
  const f = new Float64Array(classes);
  for (const v of y) f[v]++;
  for (let c = 0; c < classes; c++) f[c] /= y.length;
  return f;
}
