import type * as tf from '@tensorflow/tfjs-core';
import type { CrossEntropyOptions, CrossEntropyResult, Target } from '../core/types.js';

/** Options of the TF.js op: the core's options, without `classes` (from the shape) and `grad` (autodiff). */
export interface TfCrossEntropyOptions extends Omit<CrossEntropyOptions, 'classes' | 'grad'> {
  /**
   * Observe the fused computation: called with the core's result (loss, nll, smoothing, denominator, and
   * zLoss and lse when asked) and the logits it read, so training loops can log the parts of the loss and
   * the accuracy without another pass or another read-back. `cpu` and `wasm` backends only (on a GPU
   * backend it would be a read-back, and is refused).
   */
  onLoss?: (result: CrossEntropyResult, logits: Float32Array) => void;
}

/**
 * Targets: a tensor of class indices (the logits' shape without the last axis: [N] or [B, T]; [N, 1] also
 * works) or probabilities (the logits' shape), or any core target (class indices of length N or B·T).
 */
export type TfTarget = tf.Tensor | Target;

/** The logits' shape, read once: rows N (B·T for sequences), classes K, and the shape of one loss per row. */
export interface OpShape {
  rows: number;
  classes: number;
  /** [N] or [B, T]. */
  rowShape: number[];
  /** Also return the per-row lse and the z-loss part as tensors. */
  parts?: boolean;
}

/** What the op computes: the loss, and its parts when asked (`OpShape.parts`). */
export interface OpResult {
  loss: tf.Tensor;
  /** The per-row lse (the rows' shape) and the z-loss part, reduced like the loss. */
  parts?: { lse: tf.Tensor; zLoss: tf.Tensor };
}
