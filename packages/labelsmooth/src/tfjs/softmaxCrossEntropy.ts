import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { TF_OP_KEYS } from '../core/plan.js';
import { cpuCrossEntropy } from './cpuOp.js';
import { GPU_BACKENDS, type GpuBackend } from './gpuKernels.js';
import { gpuCrossEntropy } from './gpuOp.js';
import type { OpShape, TfCrossEntropyOptions, TfTarget } from './opTypes.js';

export { asOp, targetData } from './opTargets.js';
export type { TfCrossEntropyOptions, TfTarget } from './opTypes.js';

/** The logits' shape: [N, K] or, for sequences, [B, T, V] (N = B·T rows of K = V classes). */
function opShape(fn: string, logits: unknown): OpShape {
  if (!(logits instanceof tf.Tensor)) fail(fn, 'logits', undefined, logits, 'expected a tf.Tensor');
  if (logits.rank !== 2 && logits.rank !== 3)
    fail(fn, 'logits', undefined, `Tensor[${logits.shape}]`, 'expected rank 2 [N, K] or rank 3 [B, T, V]');
  if (logits.dtype !== 'float32') fail(fn, 'logits', undefined, logits.dtype, 'expected dtype float32');
  const rowShape = logits.shape.slice(0, -1);
  return {
    rows: rowShape.reduce((a: number, b: number) => a * b, 1),
    classes: logits.shape[logits.rank - 1],
    rowShape,
  };
}

/**
 * Label-smoothed softmax cross-entropy as a TF.js op with a fused gradient, on every backend:
 *
 *     p' = (1−ε)·p + ε·u,  loss = (1−ε)·H(p, q) + ε·H(u, q) [+ ζ·lse²],  q = softmax(z′),  z′ = c·tanh(z/c)
 *
 * - `cpu`, `wasm` (and other CPU-side backends): the labelsmooth core (WASM SIMD kernel, threads) computes
 *   loss and gradient from the logits' values; the gradient only while autodiff records (`tf.grad`,
 *   `valueAndGrad`, `minimize`), into a buffer reused from step to step. Every option of the core.
 * - `webgl`, `webgpu`: GPU programs registered with TF.js on first use; nothing is read back to the CPU in
 *   the forward or the backward pass. Class indices with `ignoreIndex`, uniform, non-target or prior noise,
 *   a shared `classMask`, both weight conventions, `sampleWeight`, every reduction and `normalizer`,
 *   `softcap` and `zLoss`. Refused there with a `LabelSmoothingError` (exported by `labelsmooth`) naming
 *   the option and the backend: probability targets, per-sample or class-conditional noise, per-row masks, the confidence
 *   penalty, focal loss, `onLoss` and `lse` (both read back), `kernel` other than `'auto'`. `threads` has
 *   no effect on the GPU. Labels in a tensor are checked by the programs without a read-back: a label that
 *   is not an integer in [0, K), not ignoreIndex, or a masked class makes the loss NaN (labels in an array
 *   are checked on the CPU, with an error naming them).
 *
 * Unlike `tf.losses.softmaxCrossEntropy` it takes sparse targets (no one-hot [B, T, V] anywhere), every
 * noise, class masks, PyTorch or Keras weights and `ignoreIndex`. Returns a scalar, or one loss per row
 * ([N] or [B, T]) for `reduction: 'none'`.
 *
 * @param target class indices ([N], [N, 1] or [B, T]) or probabilities (the logits' shape), as a tensor or
 *   a core target
 * @param logits float32 [N, K], or [B, T, V] for sequences
 */
export function softmaxCrossEntropy(
  target: TfTarget,
  logits: tf.Tensor,
  options?: TfCrossEntropyOptions,
): tf.Tensor {
  const fn = 'softmaxCrossEntropy';
  const o = checkOptions<TfCrossEntropyOptions>(fn, options, TF_OP_KEYS);
  if (o.onLoss !== undefined && typeof o.onLoss !== 'function')
    fail(fn, 'options.onLoss', undefined, o.onLoss, 'must be a function');
  const shape = opShape(fn, logits);
  const flat = logits.rank === 2 ? logits : tf.reshape(logits, [shape.rows, shape.classes]);
  const backend = tf.getBackend();
  const gpu = (GPU_BACKENDS as readonly string[]).includes(backend);
  try {
    return gpu
      ? gpuCrossEntropy(fn, backend as GpuBackend, target, flat, o, shape)
      : cpuCrossEntropy(fn, target, flat, o, shape);
  } finally {
    if (flat !== logits) flat.dispose();
  }
}
