// The op on the cpu and wasm backends (and any backend without the GPU kernels): the logits are read as
// a typed array and the labelsmooth core (WASM kernel, threads) computes the loss and, when autodiff is
// recording, the gradient into a reused buffer.
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy } from '../core/crossEntropy.js';
import type { CrossEntropyResult } from '../core/types.js';
import { leaseGradient, returnGradient } from './gradientPool.js';
import { asOp, targetData } from './opTargets.js';
import type { OpResult, OpShape, TfCrossEntropyOptions, TfTarget } from './opTypes.js';

/**
 * Whether TF.js records the next op for autodiff (inside `tf.grad`, `valueAndGrad`, `minimize`): the
 * engine's own test, so that a forward pass outside training computes no gradient at all.
 */
export function tapeOn(): boolean {
  const { state } = tf.engine();
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/** The gradient tensor of a backward pass: g·dy (per row for 'none'); the buffer is returned to the pool. */
function backward(grad: Float32Array, shape: OpShape, perRow: boolean, dy: tf.Tensor): tf.Tensor {
  try {
    return tf.tidy(() => {
      const g = tf.tensor2d(grad, [shape.rows, shape.classes]);
      return perRow ? tf.mul(g, tf.reshape(dy, [shape.rows, 1])) : tf.mul(g, dy);
    });
  } finally {
    returnGradient(grad); // the tensor over it is disposed by now
  }
}

/** The parts of a core result as tensors kept past the op's scope: lse per row, the z-loss part. */
function partsOf(r: CrossEntropyResult, shape: OpShape): NonNullable<OpResult['parts']> {
  const { rowShape } = shape;
  const z = r.zLoss;
  // without a z-loss, its part is 0 of the loss's shape
  const zLoss =
    z === undefined
      ? typeof r.loss === 'number'
        ? tf.scalar(0)
        : tf.zeros(rowShape)
      : typeof z === 'number'
        ? tf.scalar(z)
        : tf.tensor(Float32Array.from(z), rowShape);
  const lse = tf.tensor(Float32Array.from(r.lse as Float64Array), rowShape);
  return { lse: tf.keep(lse), zLoss: tf.keep(zLoss) };
}

/** The op on a CPU-side backend; `logits` [N, K] (sequences already reshaped), options key-checked. */
export function cpuCrossEntropy(
  fn: string,
  target: TfTarget,
  logits: tf.Tensor,
  options: TfCrossEntropyOptions,
  shape: OpShape,
): OpResult {
  const { rows, classes, rowShape } = shape;
  const t = asOp(fn, () => targetData(fn, target, shape));
  const { onLoss, ...core } = options;
  const perRow = core.reduction === 'none';
  const recording = tapeOn();
  let parts: OpResult['parts'];
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = inputs[0] as tf.Tensor;
    const data = z.dataSync() as Float32Array;
    // Loss and gradient in one fused call; the gradient stays a typed array until backprop asks for it.
    const grad = recording ? leaseGradient(rows * classes) : null;
    const lse = shape.parts || core.lse;
    const r = asOp(fn, () => crossEntropy(data, t, { ...core, classes, grad: grad ?? false, lse }));
    onLoss?.(r, data);
    if (shape.parts) parts = partsOf(r, shape);
    const loss: number | Float64Array = r.loss;
    const value = typeof loss === 'number' ? tf.scalar(loss) : tf.tensor(Float32Array.from(loss), rowShape);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        if (!grad) throw new Error(`${fn}: backward pass of a forward pass recorded without a tape`);
        return backward(grad, shape, perRow, dy);
      },
    };
  });
  return { loss: op(logits), parts };
}
