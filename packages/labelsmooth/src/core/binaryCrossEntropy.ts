import { fail } from './errors.js';
import { isFloatArray, parseClasses, parseEpsilon, parseMatrix, parseNonNegative } from './inputs.js';
import type { FloatArray, Matrix, Reduction } from './types.js';

/** Options of {@link binaryCrossEntropy}. */
export interface BinaryCrossEntropyOptions {
  /** Outputs per row (K); default: the row length of `number[][]` logits, else 1. */
  classes?: number;
  /** ε in [0, 1]: targets become y·(1−ε) + ε/2 (Keras `BinaryCrossentropy(label_smoothing)`). */
  labelSmoothing?: number;
  /** Per-output weights (length K) or per-element weights (length N×K), like PyTorch's `weight`. */
  weight?: ArrayLike<number>;
  /** Per-row weights (length N). */
  sampleWeight?: ArrayLike<number>;
  /** `'mean'` over all N×K elements (default, PyTorch/Keras), `'sum'`, or `'none'` (per-element arrays). */
  reduction?: Reduction;
  /** Divide the sum by this count instead of N×K. */
  normalizer?: number;
  /** `true`, or a float buffer of length N×K, to get dL/dlogits. */
  grad?: boolean | FloatArray;
}

/** Result of {@link binaryCrossEntropy}; per-element arrays (length N×K) for `reduction: 'none'`. */
export interface BinaryCrossEntropyResult<T extends number | Float64Array = number | Float64Array> {
  /** (1−ε)·nll + ε·smoothing. */
  loss: T;
  /** H(y, σ(z)). */
  nll: T;
  /** H(½, σ(z)). */
  smoothing: T;
  /** N×K, the `mean` denominator. */
  denominator: number;
  grad?: FloatArray;
}

/**
 * Sigmoid (multi-label) cross-entropy with Keras' label smoothing toward ½:
 *
 *     y' = y·(1−ε) + ε/2,   ℓ = max(z, 0) − z·y' + log(1 + e^−|z|),   dℓ/dz = σ(z) − y'
 *
 * so ℓ = (1−ε)·H(y, σ) + ε·H(½, σ). Targets are probabilities in [0, 1] of the logits' shape.
 * Reference: Keras `BinaryCrossentropy`; PyTorch `binary_cross_entropy_with_logits` (no smoothing there).
 */
export function binaryCrossEntropy(
  logits: Matrix,
  target: Matrix | ArrayLike<number>,
  options: BinaryCrossEntropyOptions & { reduction: 'none' },
): BinaryCrossEntropyResult<Float64Array>;
export function binaryCrossEntropy(
  logits: Matrix,
  target: Matrix | ArrayLike<number>,
  options?: BinaryCrossEntropyOptions,
): BinaryCrossEntropyResult<number>;
export function binaryCrossEntropy(
  logits: Matrix,
  target: Matrix | ArrayLike<number>,
  options: BinaryCrossEntropyOptions = {},
): BinaryCrossEntropyResult<number> | BinaryCrossEntropyResult<Float64Array> {
  const fn = 'binaryCrossEntropy';
  let classes = parseClasses(fn, options.classes);
  if (classes === undefined && isFloatArray(logits)) classes = 1;
  const flat = parseMatrix(fn, 'logits', logits, classes);
  const { rows: n, classes: k } = flat;
  const z = flat.data;
  const size = n * k;
  const y: ArrayLike<number> =
    Array.isArray(target) && Array.isArray(target[0])
      ? parseMatrix(fn, 'target', target, k).data
      : (target as ArrayLike<number>);
  if (!(ArrayBuffer.isView(y) || Array.isArray(y)))
    fail(fn, 'target', undefined, target, 'expected an array');
  if (y.length !== size) fail(fn, 'target', undefined, target, `length ${y.length}, expected N×K = ${size}`);
  const eps = parseEpsilon(fn, options.labelSmoothing);
  let weight: ArrayLike<number> | null = null;
  let weightPerElement = false;
  if (options.weight !== undefined) {
    weightPerElement = options.weight.length === size && size !== k;
    weight = parseNonNegative(fn, 'options.weight', options.weight, weightPerElement ? size : k);
  }
  const sampleWeight =
    options.sampleWeight === undefined
      ? null
      : parseNonNegative(fn, 'options.sampleWeight', options.sampleWeight, n);
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    fail(fn, 'options.reduction', undefined, reduction, "must be 'mean', 'sum' or 'none'");
  }
  const normalizer = options.normalizer;
  if (normalizer !== undefined && (reduction === 'none' || !(normalizer > 0 && normalizer < Infinity))) {
    fail(fn, 'options.normalizer', undefined, normalizer, "must be finite and > 0, and reduction not 'none'");
  }
  let grad: FloatArray | null = null;
  if (options.grad === true)
    grad = z instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
  else if (isFloatArray(options.grad)) {
    if (options.grad.length !== size)
      fail(fn, 'options.grad', undefined, options.grad, `buffer length must be ${size}`);
    grad = options.grad;
  }
  const scale =
    normalizer !== undefined ? 1 / normalizer : reduction === 'mean' ? (size > 0 ? 1 / size : 0) : 1;
  const perElement = reduction === 'none';
  const lossOut = new Float64Array(perElement ? size : 0);
  const nllOut = new Float64Array(perElement ? size : 0);
  const smoothOut = new Float64Array(perElement ? size : 0);
  let nllSum = 0;
  let smoothSum = 0;
  // logits, target, grad: (N,K) row-major
  for (let i = 0; i < n; i++) {
    const rw = sampleWeight ? sampleWeight[i] : 1;
    for (let c = 0; c < k; c++) {
      const j = i * k + c;
      const v = z[j];
      if (!(v > -Infinity && v < Infinity))
        fail(fn, 'logits', j, v, `must be finite (row ${i}, output ${c})`);
      const t = y[j];
      if (typeof t !== 'number' || !(t >= 0 && t <= 1))
        fail(fn, 'target', j, t, `must be in [0, 1] (row ${i}, output ${c})`);
      const w = rw * (weight ? weight[weightPerElement ? j : c] : 1);
      // softplus(−|z|) + max(z,0) = log(1 + e^z), computed without overflow.
      const sp = Math.log1p(Math.exp(-Math.abs(v)));
      const pos = Math.max(v, 0);
      const nll = w * (pos - v * t + sp);
      const smooth = w * (pos - v * 0.5 + sp);
      if (perElement) {
        nllOut[j] = nll;
        smoothOut[j] = smooth;
        lossOut[j] = (1 - eps) * nll + eps * smooth;
      } else {
        nllSum += nll;
        smoothSum += smooth;
      }
      if (grad) {
        const sig = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
        grad[j] = scale * w * (sig - (t * (1 - eps) + eps / 2));
      }
    }
  }
  const out = perElement
    ? { loss: lossOut, nll: nllOut, smoothing: smoothOut, denominator: size }
    : {
        loss: ((1 - eps) * nllSum + eps * smoothSum) * scale,
        nll: nllSum * scale,
        smoothing: smoothSum * scale,
        denominator: size,
      };
  return grad ? { ...out, grad } : out;
}
