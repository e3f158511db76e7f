import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { mulberry32 } from '../random/mulberry32.js';

/** A minimal `tf.data.Dataset` stand-in: what `model.fitDataset` reads (`size`, `iterator()`). */
export interface BatchDataset {
  /** Batches per epoch. */
  readonly size: number;
  /** One epoch's batches, in the order drawn for it (tfjs-layers calls it once per epoch). */
  iterator(): Promise<{
    /** The next batch, or `done` after the last one. */
    next(): Promise<
      IteratorResult<{
        /** The rows of x in this batch. */
        xs: tf.Tensor;
        /** The same rows of y. */
        ys: tf.Tensor;
      }>
    >;
  }>;
}

/** Options of {@link batches}. */
export interface BatchesOptions {
  /** Rows per batch (the last batch may be smaller); default 32. */
  batchSize?: number;
  /** Shuffle seed; each epoch (each `iterator()` call) draws a new permutation from it. `null`: no shuffle. */
  seed?: number | null;
}

/**
 * Seeded mini-batches of (x, y) for `model.fitDataset`. Use it for class-index targets: `model.fit` in
 * tfjs-layers requires a custom loss's targets to have the output's shape [N, K], and only `fitDataset`
 * lets [N] labels through (with `classWeight` still applied). Deterministic for a given seed.
 */
export function batches(x: tf.Tensor, y: tf.Tensor, options: BatchesOptions = {}): BatchDataset {
  const fn = 'batches';
  const { batchSize = 32, seed = 0 } = checkOptions<BatchesOptions>(fn, options, ['batchSize', 'seed']);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    fail(fn, 'options.batchSize', undefined, batchSize, 'must be an integer ≥ 1');
  const n = x.shape[0];
  if (y.shape[0] !== n)
    fail(fn, 'y', undefined, `Tensor[${y.shape}]`, `${y.shape[0]} rows for ${n} rows of x`);
  const random = seed === null ? null : mulberry32(seed);
  const size = Math.ceil(n / batchSize);
  return {
    size,
    async iterator() {
      const order = Int32Array.from({ length: n }, (_, i) => i);
      if (random) {
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      let b = 0;
      return {
        async next() {
          if (b >= size) return { done: true, value: undefined };
          const idx = tf.tensor1d(order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)), 'int32');
          b++;
          const value = { xs: tf.gather(x, idx), ys: tf.gather(y, idx) };
          idx.dispose();
          return { done: false, value };
        },
      };
    },
  };
}
