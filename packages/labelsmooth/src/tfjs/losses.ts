import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { LAYERS_LOSS_KEYS } from '../core/plan.js';
import { softmaxCrossEntropy, type TfCrossEntropyOptions } from './softmaxCrossEntropy.js';

/** Options of the `model.compile` losses. */
export interface LayersLossOptions
  extends Omit<TfCrossEntropyOptions, 'reduction' | 'normalizer' | 'sampleWeight'> {
  /** `yPred` holds logits (default, recommended: exact) or probabilities (a softmax output layer). */
  fromLogits?: boolean;
}

/** Probabilities are floored here before the log (Keras' epsilon), so a 0 gives a finite loss. */
export const PROBABILITY_FLOOR = 1e-7;

/** A loss function for `model.compile({ loss })`: per-example values [N], so `classWeight` works. */
export type LayersLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

function make(fn: string, sparse: boolean, options: LayersLossOptions | undefined): LayersLoss {
  // Checked when the loss is made (at model.compile), not at the first batch.
  const { fromLogits = true, ...core } = checkOptions<LayersLossOptions>(fn, options, LAYERS_LOSS_KEYS);
  if (typeof fromLogits !== 'boolean')
    fail(fn, 'options.fromLogits', undefined, fromLogits, 'must be a boolean');
  return (yTrue, yPred) =>
    tf.tidy(() => {
      if (yPred.rank !== 2) fail(fn, 'yPred', undefined, `Tensor[${yPred.shape}]`, 'expected rank 2 [N, K]');
      if (!sparse && (yTrue.rank !== 2 || yTrue.shape[1] !== yPred.shape[1])) {
        fail(
          fn,
          'yTrue',
          undefined,
          `Tensor[${yTrue.shape}]`,
          `expected probabilities [N, ${yPred.shape[1]}]`,
        );
      }
      if (sparse && yTrue.rank === 2 && yTrue.shape[1] !== 1) {
        fail(fn, 'yTrue', undefined, `Tensor[${yTrue.shape}]`, 'expected class indices [N] or [N, 1]');
      }
      // tfjs-layers' own losses clip before looking at fromLogits; here logits are used as they are, and
      // probabilities go through a floored log (softmax(log p) = p).
      const logits = fromLogits ? yPred : tf.log(tf.clipByValue(yPred, PROBABILITY_FLOOR, 1));
      const target = sparse ? tf.reshape(yTrue, [yTrue.shape[0]]) : yTrue;
      return softmaxCrossEntropy(target, logits, { ...core, reduction: 'none' });
    });
}

/**
 * Losses for `model.compile`, with label smoothing and every option of the core. Each returns
 * per-example losses (the reduction is left to tfjs-layers, so `model.fit({ classWeight })` works).
 */
export const losses = {
  /** Dense (one-hot or soft) targets [N, K]; Keras `CategoricalCrossentropy(label_smoothing)`. */
  categoricalCrossentropy(options?: LayersLossOptions): LayersLoss {
    return make('categoricalCrossentropy', false, options);
  },
  /** Class-index targets [N] or [N, 1] — label smoothing Keras never had for sparse targets. */
  sparseCategoricalCrossentropy(options?: LayersLossOptions): LayersLoss {
    return make('sparseCategoricalCrossentropy', true, options);
  },
};
