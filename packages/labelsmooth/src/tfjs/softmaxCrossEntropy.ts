import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { TF_OP_KEYS } from '../core/plan.js';
import { cpuCrossEntropy } from './cpuOp.js';
import { GPU_BACKENDS, type GpuBackend } from './gpuKernels.js';
import { gpuCrossEntropy } from './gpuOp.js';
import type { OpResult, OpShape, TfCrossEntropyOptions, TfTarget } from './opTypes.js';

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
 *   `softcap` and `zLoss` ({@link softmaxCrossEntropyParts} returns the lse and the z-loss part as tensors). Refused there with a `LabelSmoothingError` (exported by `labelsmooth`) naming
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
  return run('softmaxCrossEntropy', target, logits, options, false).loss;
}

/** The tensors of {@link softmaxCrossEntropyParts}. */
export interface TfCrossEntropyParts {
  /** The loss, as {@link softmaxCrossEntropy} returns it (z-loss included); the gradient flows through it. */
  loss: tf.Tensor;
  /** Each row's log-sum-exp after soft-capping, [N] or [B, T] (ignored rows included). Not differentiable. */
  lse: tf.Tensor;
  /** The z-loss part of `loss`, reduced like it (0 without `zLoss`). Not differentiable. */
  zLoss: tf.Tensor;
}

/**
 * {@link softmaxCrossEntropy} with its parts as tensors, for training loops that log them: the loss (the
 * gradient flows through it alone, as through the op's), each row's lse and the z-loss part. The same
 * options but `lse` (always returned), on every backend; on `webgl` and `webgpu` the parts come from the
 * same GPU programs as the loss, without a read-back.
 *
 * @param target as for {@link softmaxCrossEntropy}
 * @param logits float32 [N, K], or [B, T, V] for sequences
 */
export function softmaxCrossEntropyParts(
  target: TfTarget,
  logits: tf.Tensor,
  options?: Omit<TfCrossEntropyOptions, 'lse'>,
): TfCrossEntropyParts {
  const { loss, parts } = run('softmaxCrossEntropyParts', target, logits, options, true);
  if (!parts) throw new Error('softmaxCrossEntropyParts: the op returned no parts');
  // made inside the op's scope (kept there); clones (no copy) belong to the caller's scope, as any output
  const lse = parts.lse.clone();
  const zLoss = parts.zLoss.clone();
  tf.dispose([parts.lse, parts.zLoss]);
  return { loss, lse, zLoss };
}

function run(
  fn: string,
  target: TfTarget,
  logits: tf.Tensor,
  options: TfCrossEntropyOptions | undefined,
  parts: boolean,
): OpResult {
  const keys = parts ? TF_OP_KEYS.filter((k) => k !== 'lse') : TF_OP_KEYS;
  const o = checkOptions<TfCrossEntropyOptions>(fn, options, keys);
  if (o.onLoss !== undefined && typeof o.onLoss !== 'function')
    fail(fn, 'options.onLoss', undefined, o.onLoss, 'must be a function');
  const shape = { ...opShape(fn, logits), parts };
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
