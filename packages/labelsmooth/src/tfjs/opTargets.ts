import * as tf from '@tensorflow/tfjs-core';
import { fail, LabelSmoothingError } from '../core/errors.js';
import type { Target } from '../core/types.js';
import type { OpShape, TfTarget } from './opTypes.js';

/** Re-raise core validation errors under the TF.js op's name. */
export function asOp<T>(fn: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof LabelSmoothingError ? e.as(fn) : e;
  }
}

/**
 * Whether a target tensor holds class indices ([N], [B, T], or with a trailing axis of 1 when K > 1) rather
 * than probabilities (the logits' shape); any other shape is an error naming it.
 */
export function isSparseTarget(fn: string, target: tf.Tensor, shape: OpShape): boolean {
  const { rowShape, classes } = shape;
  const same = (s: number[]) => s.length === target.rank && s.every((d, i) => target.shape[i] === d);
  if (same(rowShape)) return true;
  if (same([...rowShape, 1]) && classes !== 1) return true;
  if (same([...rowShape, classes])) return false;
  return fail(
    fn,
    'target',
    undefined,
    `Tensor[${target.shape}]`,
    `expected class indices [${rowShape}] or probabilities [${rowShape},${classes}]`,
  );
}

/** Read a target tensor into the core's form (the cpu path). Float tensors of indices become number[] so
 * that the core checks they are integers. */
export function targetData(fn: string, target: TfTarget, shape: OpShape): Target {
  if (!(target instanceof tf.Tensor)) return target;
  if (isSparseTarget(fn, target, shape)) {
    const data = target.dataSync();
    return target.dtype === 'int32' ? (data as Int32Array) : Array.from(data as Float32Array);
  }
  return Float32Array.from(target.dataSync() as Float32Array);
}
