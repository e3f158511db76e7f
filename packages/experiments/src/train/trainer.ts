import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { calibration } from 'labelsmooth';
import { softmaxCrossEntropy } from 'labelsmooth/tfjs';
import { classFrequencies, type Dataset, permutation } from '../data/dataset.js';
import { DataFileError } from '../data/errors.js';
import { writeDirAtomic, writeFileAtomic } from './files.js';
import { buildModel, type ModelKind } from './model.js';

/** Noise choices of the CLI (`prior` = class frequencies of the training set). */
export type NoiseKind = 'uniform' | 'non-target' | 'prior';

/** Everything that determines a training run. */
export interface TrainConfig {
  epsilon: number;
  noise: NoiseKind;
  seed: number;
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
}

/** What is logged for every epoch. */
export interface EpochMetrics {
  epoch: number;
  /** Mean training loss over the epoch's batches, and its two parts (1−ε)·H(p,q) and ε·H(u,q). */
  trainLoss: number;
  trainNllPart: number;
  trainSmoothingPart: number;
  /** Mean training H(p,q) and H(u,q) themselves (before the (1−ε) and ε factors): H(u,q) grows as the
   * logits spread apart, the sign of growing over-confidence, whatever ε is. */
  trainNll: number;
  trainSmoothing: number;
  trainAccuracy: number;
  testAccuracy: number;
  testNll: number;
  testEce: number;
  testMeanConfidence: number;
  testOverconfidence: number;
  /** Wall time of the epoch (not part of the deterministic result). */
  seconds: number;
}

/** Batches are drawn from this seed so that epoch e's order depends only on (seed, e). */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
}

/**
 * Trains a classifier with the labelsmooth loss, one epoch at a time, and checkpoints everything a
 * bit-identical resume needs (weights, Adam moments and bias-correction powers, metrics history).
 */
export class Trainer {
  readonly model: tfl.Sequential;
  readonly history: EpochMetrics[] = [];
  private readonly optimizer: tf.AdamOptimizer;
  private readonly noise: 'uniform' | 'non-target' | Float64Array;

  constructor(
    readonly config: TrainConfig,
    readonly train: Dataset,
    readonly test: Dataset,
  ) {
    const classes = train.classNames.length;
    this.model = buildModel(config.model, train.features, classes, config.seed, train.imageShape);
    this.optimizer = tf.train.adam(config.lr);
    this.noise = config.noise === 'prior' ? classFrequencies(train.y, classes) : config.noise;
  }

  get epoch(): number {
    return this.history.length;
  }

  /** One pass over the training set; `onBatch(done, total)` reports progress. */
  async runEpoch(onBatch?: (done: number, total: number) => void): Promise<EpochMetrics> {
    const t0 = performance.now();
    const { train, config } = this;
    const f = train.features;
    const n = train.rows;
    const bs = config.batchSize;
    const order = permutation(n, epochSeed(config.seed, this.epoch));
    const batches = Math.ceil(n / bs);
    let loss = 0;
    let nll = 0;
    let smoothing = 0;
    let correct = 0;
    const eps = config.epsilon;
    for (let b = 0; b < batches; b++) {
      const rows = order.subarray(b * bs, Math.min(n, (b + 1) * bs));
      const m = rows.length;
      const xb = new Float32Array(m * f);
      const yb = new Int32Array(m);
      for (let i = 0; i < m; i++) {
        xb.set(train.x.subarray(rows[i] * f, (rows[i] + 1) * f), i * f);
        yb[i] = train.y[rows[i]];
      }
      tf.tidy(() => {
        const xt = tf.tensor2d(xb, [m, f]);
        this.optimizer.minimize(() => {
          const logits = this.model.apply(xt, { training: true }) as tf.Tensor2D;
          return softmaxCrossEntropy(yb, logits, {
            labelSmoothing: eps,
            noise: this.noise,
            onLoss: (r, z) => {
              loss += (r.loss as number) * m;
              nll += (r.nll as number) * m;
              smoothing += (r.smoothing as number) * m;
              correct += countCorrect(z, yb, logits.shape[1]);
            },
          }) as tf.Scalar;
        });
      });
      onBatch?.(b + 1, batches);
    }
    const logits = this.predict(this.test);
    const report = calibration(logits, this.test.y, { classes: this.test.classNames.length });
    const metrics: EpochMetrics = {
      epoch: this.epoch + 1,
      trainLoss: loss / n,
      trainNllPart: ((1 - eps) * nll) / n,
      trainSmoothingPart: (eps * smoothing) / n,
      trainNll: nll / n,
      trainSmoothing: smoothing / n,
      trainAccuracy: correct / n,
      testAccuracy: report.accuracy,
      testNll: report.nll,
      testEce: report.ece,
      testMeanConfidence: report.meanConfidence,
      testOverconfidence: report.overconfidence,
      seconds: (performance.now() - t0) / 1000,
    };
    this.history.push(metrics);
    return metrics;
  }

  /** Logits of the model on `ds`, N×K. */
  predict(ds: Dataset, batchSize = 1000): Float32Array {
    const out = new Float32Array(ds.rows * ds.classNames.length);
    for (let s = 0; s < ds.rows; s += batchSize) {
      const e = Math.min(ds.rows, s + batchSize);
      const part = tf.tidy(() => {
        const xt = tf.tensor2d(ds.x.subarray(s * ds.features, e * ds.features), [e - s, ds.features]);
        return (this.model.predict(xt) as tf.Tensor).dataSync() as Float32Array;
      });
      out.set(part, s * ds.classNames.length);
    }
    return out;
  }

  /** Save a checkpoint directory (atomically) for the current epoch. */
  async saveCheckpoint(dir: string): Promise<void> {
    let artifacts: tf.io.ModelArtifacts | null = null;
    await this.model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const weights = artifacts! as tf.io.ModelArtifacts;
    const opt = await this.optimizer.getWeights();
    const optSpecs = opt.map((w) => ({ name: w.name, shape: w.tensor.shape }));
    const optData = concatFloat32(opt.map((w) => w.tensor.dataSync() as Float32Array));
    const internals = this.optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    const state = {
      config: this.config,
      epoch: this.epoch,
      history: this.history,
      weightSpecs: weights.weightSpecs,
      optimizer: optSpecs,
      // Adam's bias-correction powers: setWeights recomputes them with pow(), which is not bit-identical to
      // the running product an uninterrupted run holds.
      accBeta1: internals.accBeta1.dataSync()[0],
      accBeta2: internals.accBeta2.dataSync()[0],
    };
    writeDirAtomic(dir, (tmp) => {
      writeFileSync(join(tmp, 'weights.bin'), new Uint8Array(weights.weightData as ArrayBuffer));
      writeFileSync(join(tmp, 'optimizer.bin'), new Uint8Array(optData.buffer));
      writeFileSync(join(tmp, 'state.json'), JSON.stringify(state));
    });
  }

  /** Restore weights, optimizer and history from a checkpoint directory written by {@link saveCheckpoint}. */
  async loadCheckpoint(dir: string): Promise<void> {
    const file = join(dir, 'state.json');
    let state: {
      epoch: number;
      history: EpochMetrics[];
      weightSpecs: tf.io.WeightsManifestEntry[];
      optimizer: { name: string; shape: number[] }[];
      accBeta1: number;
      accBeta2: number;
    };
    try {
      state = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DataFileError(file, undefined, `cannot read checkpoint: ${(e as Error).message}`);
    }
    const wbuf = readFileSync(join(dir, 'weights.bin'));
    const decoded = tf.io.decodeWeights(
      wbuf.buffer.slice(wbuf.byteOffset, wbuf.byteOffset + wbuf.byteLength),
      state.weightSpecs,
    );
    this.model.setWeights(state.weightSpecs.map((s) => decoded[s.name]));
    tf.dispose(Object.values(decoded));
    const obuf = readFileSync(join(dir, 'optimizer.bin'));
    const odata = new Float32Array(obuf.buffer.slice(obuf.byteOffset, obuf.byteOffset + obuf.byteLength));
    let o = 0;
    const named = state.optimizer.map((s) => {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const tensor = tf.tensor(odata.subarray(o, o + size), s.shape);
      o += size;
      return { name: s.name, tensor };
    });
    await this.optimizer.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
    const internals = this.optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    internals.accBeta1.assign(tf.scalar(state.accBeta1));
    internals.accBeta2.assign(tf.scalar(state.accBeta2));
    this.history.splice(0, this.history.length, ...state.history);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** Rows whose argmax logit (first on ties) is the label. */
export function countCorrect(z: ArrayLike<number>, y: ArrayLike<number>, k: number): number {
  let c = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + best]) best = j;
    if (best === y[i]) c++;
  }
  return c;
}

function concatFloat32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Checkpoints of a run directory: `checkpoints/epoch-NNNN`, with `checkpoint.json` naming the latest. */
export const checkpoints = {
  async save(runDir: string, trainer: Trainer): Promise<void> {
    const name = `epoch-${String(trainer.epoch).padStart(4, '0')}`;
    const root = join(runDir, 'checkpoints');
    mkdirSync(root, { recursive: true });
    await trainer.saveCheckpoint(join(root, name));
    writeFileAtomic(join(runDir, 'checkpoint.json'), JSON.stringify({ latest: name, epoch: trainer.epoch }));
    for (const d of readdirSync(root))
      if (d !== name) rmSync(join(root, d), { recursive: true, force: true });
  },
  latest(runDir: string): string | null {
    try {
      const { latest } = JSON.parse(readFileSync(join(runDir, 'checkpoint.json'), 'utf8')) as {
        latest: string;
      };
      return join(runDir, 'checkpoints', latest);
    } catch {
      return null;
    }
  },
};
