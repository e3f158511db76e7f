import { sigmoid } from '../math/sigmoid.js';
import { fail } from './errors.js';
import { planBinaryCrossEntropy } from './plan.js';
import { lossScale, partRows, reduceRows, reduceSums } from './reduce.js';
import type { BinaryCrossEntropyOptions, BinaryCrossEntropyResult, Matrix } from './types.js';

export type { BinaryCrossEntropyOptions, BinaryCrossEntropyResult } from './types.js';

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
  options?: BinaryCrossEntropyOptions,
): BinaryCrossEntropyResult<number> | BinaryCrossEntropyResult<Float64Array> {
  const plan = planBinaryCrossEntropy(logits, target, options);
  const { rows: n, classes: k, logits: z, target: y, eps, weight, sampleWeight, grad } = plan;
  const size = n * k;
  const reduction = plan.reduction;
  const scale = lossScale(reduction, plan.normalizer, size);
  const perElement = reduction === 'none';
  const parts = partRows(perElement ? size : 0);
  const sums = { nll: 0, smoothing: 0, entropy: 0 };
  // logits, target, grad: (N,K) row-major
  for (let i = 0; i < n; i++) {
    const rw = sampleWeight ? sampleWeight[i] : 1;
    for (let c = 0; c < k; c++) {
      const j = i * k + c;
      const v = z[j];
      if (!(v > -Infinity && v < Infinity))
        fail(plan.fn, 'logits', j, v, `must be finite (row ${i}, output ${c})`);
      const t = y[j];
      const w = rw * (weight ? weight.data[weight.perElement ? j : c] : 1);
      // softplus(−|z|) + max(z,0) = log(1 + e^z), computed without overflow.
      const sp = Math.log1p(Math.exp(-Math.abs(v)));
      const pos = Math.max(v, 0);
      const nll = w * (pos - v * t + sp); // H(y, σ(z))
      const smooth = w * (pos - v * 0.5 + sp); // H(½, σ(z))
      if (perElement) {
        parts.nll[j] = nll;
        parts.smoothing[j] = smooth;
      } else {
        sums.nll += nll;
        sums.smoothing += smooth;
      }
      if (grad) {
        grad[j] = scale * w * (sigmoid(v) - (t * (1 - eps) + eps / 2));
      }
    }
  }
  const out = perElement ? reduceRows(eps, null, parts, size) : reduceSums(eps, null, sums, scale, size);
  return grad ? { ...out, grad } : out;
}
