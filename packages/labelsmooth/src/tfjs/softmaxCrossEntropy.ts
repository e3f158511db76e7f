import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy } from '../core/crossEntropy.js';
import { fail, LabelSmoothingError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { TF_OP_KEYS } from '../core/plan.js';
import type { CrossEntropyOptions, CrossEntropyResult, Target } from '../core/types.js';

/** Options of the TF.js op: the core's options, without `classes` (from the shape) and `grad` (autodiff). */
export interface TfCrossEntropyOptions extends Omit<CrossEntropyOptions, 'classes' | 'grad'> {
  /**
   * Observe the fused computation: called with the core's result (loss, nll, smoothing, denominator) and
   * the logits it read, so training loops can log the two parts of the loss and the accuracy without
   * another pass or another read-back.
   */
  onLoss?: (result: CrossEntropyResult, logits: Float32Array) => void;
}

/** Targets: a tensor of class indices ([N] or [N, 1]) or probabilities ([N, K]), or any core target. */
export type TfTarget = tf.Tensor | Target;

/** Read a target tensor into the core's form. Float tensors of indices become number[] so that the core
 * checks they are integers. */
export function targetData(fn: string, target: TfTarget, rows: number, classes: number): Target {
  if (!(target instanceof tf.Tensor)) return target;
  const sparse = target.rank === 1 || (target.rank === 2 && target.shape[1] === 1 && classes !== 1);
  if (sparse) {
    if (target.shape[0] !== rows)
      fail(fn, 'target', undefined, `Tensor[${target.shape}]`, `${target.shape[0]} labels for ${rows} rows`);
    const data = target.dataSync();
    return target.dtype === 'int32' ? (data as Int32Array) : Array.from(data as Float32Array);
  }
  if (target.rank !== 2 || target.shape[0] !== rows || target.shape[1] !== classes) {
    fail(
      fn,
      'target',
      undefined,
      `Tensor[${target.shape}]`,
      `expected class indices [${rows}] or probabilities [${rows}, ${classes}]`,
    );
  }
  return Float32Array.from(target.dataSync() as Float32Array);
}

/** Re-raise core validation errors under the TF.js op's name. */
export function asOp<T>(fn: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof LabelSmoothingError ? e.as(fn) : e;
  }
}

/**
 * Label-smoothed softmax cross-entropy as a TF.js op with a custom gradient computed by the labelsmooth
 * core (fused: no N×K temporaries on the TF.js side). Works under `tf.grad`, `tf.valueAndGrad` and
 * `optimizer.minimize`, on the `cpu` and `wasm` backends.
 *
 *     p' = (1−ε)·p + ε·u,  loss = (1−ε)·H(p, q) + ε·H(u, q),  q = softmax(logits)
 *
 * Unlike `tf.losses.softmaxCrossEntropy` it takes sparse targets, every noise (`'uniform'`, `'non-target'`,
 * prior, per-sample, class-conditional `{ matrix }` — best a `noiseMatrix(S)`), class masks, PyTorch or Keras weights and `ignoreIndex`. Returns a scalar, or a [N]
 * tensor for `reduction: 'none'`.
 *
 * @param target class indices ([N] / [N, 1]) or probabilities ([N, K]), as a tensor or a core target
 * @param logits float32 [N, K]
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
  if (!(logits instanceof tf.Tensor)) fail(fn, 'logits', undefined, logits, 'expected a tf.Tensor');
  if (logits.rank !== 2) fail(fn, 'logits', undefined, `Tensor[${logits.shape}]`, 'expected rank 2 [N, K]');
  if (logits.dtype !== 'float32') fail(fn, 'logits', undefined, logits.dtype, 'expected dtype float32');
  const [rows, classes] = logits.shape as [number, number];
  const t = asOp(fn, () => targetData(fn, target, rows, classes));
  const { onLoss, ...core } = o;
  const perRow = core.reduction === 'none';
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = inputs[0] as tf.Tensor;
    const data = z.dataSync() as Float32Array;
    // Loss and gradient in one fused call; the gradient stays a typed array until backprop asks for it.
    const r = asOp(fn, () => crossEntropy(data, t, { ...core, classes, grad: true }));
    onLoss?.(r, data);
    const loss: number | Float64Array = r.loss;
    const value = typeof loss === 'number' ? tf.scalar(loss) : tf.tensor1d(Float32Array.from(loss));
    const grad = r.grad as Float32Array;
    return {
      value,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const g = tf.tensor2d(grad, [rows, classes]);
          return perRow ? tf.mul(g, tf.reshape(dy, [rows, 1])) : tf.mul(g, dy);
        }),
    };
  });
  return op(logits);
}
