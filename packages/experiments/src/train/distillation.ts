import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { softmaxRow } from 'labelsmooth';
import { softmaxCrossEntropy } from 'labelsmooth/tfjs';
import { type Dataset, permutation } from '../data/dataset.js';
import { buildStudent } from './model.js';

/** How a student is distilled. */
export interface StudentConfig {
  /** Distillation temperature T. */
  temperature: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Hidden units of the student. */
  hidden: number;
  /** Called after each batch: the epoch (from 0) and the batches done in it (from 1). */
  onBatch?: (epoch: number, batch: number) => void;
}

/** Soft targets softmax(z/T) of N×K teacher logits (row max subtracted first, float64 sums). */
export function softTargets(logits: Float32Array, classes: number, temperature: number): Float32Array {
  const out = new Float32Array(logits.length);
  const rows = logits.length / classes;
  for (let i = 0; i < rows; i++)
    softmaxRow(logits, i * classes, classes, out.subarray(i * classes, (i + 1) * classes), temperature);
  return out;
}

/** Logits of `model` on `ds`, N×K, in batches. */
export function predictLogits(model: tfl.LayersModel, ds: Dataset, batchSize = 1000): Float32Array {
  const k = ds.classNames.length;
  const out = new Float32Array(ds.rows * k);
  for (let s = 0; s < ds.rows; s += batchSize) {
    const e = Math.min(ds.rows, s + batchSize);
    const part = tf.tidy(() => {
      const x = tf.tensor2d(ds.x.subarray(s * ds.features, e * ds.features), [e - s, ds.features]);
      return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(part, s * k);
  }
  return out;
}

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015) as in Müller et al. 2019 §5: a student trained on
 * the teacher's soft targets only, L = T²·H(softmax(z_t/T), softmax(z_s/T)) (T² keeps the gradient scale
 * independent of T), with Adam and seeded batches. `targets` are softmax(z_t/T) of the training rows.
 */
export async function trainStudent(
  train: Dataset,
  targets: Float32Array,
  o: StudentConfig,
): Promise<tfl.Sequential> {
  const k = train.classNames.length;
  const model = buildStudent(train.features, k, o.seed, train.imageShape, o.hidden);
  const optimizer = tf.train.adam(o.lr);
  // Only the student's weights: the teachers' variables are alive too.
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    fitStudent(model, optimizer, vars, train, targets, o);
  } catch (e) {
    model.dispose(); // a half-trained student is of no use to the caller, who never gets it
    throw e;
  } finally {
    optimizer.dispose();
  }
  return model;
}

/** The epochs of {@link trainStudent}: seeded batches, Adam on the student's weights only. */
function fitStudent(
  model: tfl.Sequential,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  train: Dataset,
  targets: Float32Array,
  o: StudentConfig,
): void {
  const k = train.classNames.length;
  const f = train.features;
  const t2 = o.temperature * o.temperature;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = permutation(train.rows, (Math.imul(o.seed + 7, 0x9e3779b1) ^ (epoch + 1)) >>> 0);
    for (let b = 0; b < train.rows; b += o.batchSize) {
      const rows = order.subarray(b, Math.min(train.rows, b + o.batchSize));
      const m = rows.length;
      const xb = new Float32Array(m * f);
      const pb = new Float32Array(m * k);
      for (let i = 0; i < m; i++) {
        xb.set(train.x.subarray(rows[i] * f, (rows[i] + 1) * f), i * f);
        pb.set(targets.subarray(rows[i] * k, (rows[i] + 1) * k), i * k);
      }
      tf.tidy(() => {
        const x = tf.tensor2d(xb, [m, f]);
        optimizer.minimize(
          () => {
            const z = model.apply(x, { training: true }) as tf.Tensor2D;
            return tf.mul(softmaxCrossEntropy(pb, tf.div(z, o.temperature)), t2) as tf.Scalar;
          },
          false,
          vars,
        );
      });
      o.onBatch?.(epoch, b / o.batchSize + 1);
    }
  }
}
