import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { calibration, OnlineLabelSmoothing, type OnlineLabelSmoothingState } from 'labelsmooth';
import { softmaxCrossEntropy } from 'labelsmooth/tfjs';
import { classFrequencies, type Dataset, permutation } from '../data/dataset.js';
import { DataFileError } from '../data/errors.js';
import { writeDirAtomic, writeFileAtomic, writeFileDurable } from './files.js';
import type { ModelKind, NoiseKind } from './kinds.js';
import { checkLossConfig, type LossSettings, lossOptions } from './losses.js';
import { claim, isOwned, removeOwned } from './manifest.js';
import { buildModel } from './model.js';
import { epsilonAt } from './schedule.js';

/** Everything that determines a training run. */
export interface TrainConfig extends LossSettings {
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
  /** ε of this epoch (recorded when an ε schedule other than constant is set). */
  epsilon?: number;
  /** Mean training entropy H(q) (recorded for the confidence penalty: loss = … − β·H(q)). */
  trainEntropy?: number;
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
  /** Online label smoothing's S (loss `ols`): fed each batch's training logits, S_t used in epoch t. */
  private ols: OnlineLabelSmoothing | null;

  constructor(
    readonly config: TrainConfig,
    readonly train: Dataset,
    readonly test: Dataset,
  ) {
    checkLossConfig(config);
    const classes = train.classNames.length;
    this.ols = config.loss === 'ols' ? new OnlineLabelSmoothing(classes) : null;
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
    let entropy = 0;
    const schedule = config.epsilonSchedule ?? 'constant';
    const eps = epsilonAt(schedule, config.epsilon, config.epsilonFinal ?? 0, this.epoch, config.epochs);
    const ols = this.ols;
    const k = train.classNames.length;
    // S_t is fixed for the whole epoch; the batches' predictions build S_{t+1}.
    const noise = ols ? { matrix: ols.matrix } : this.noise;
    const extra = lossOptions(config);
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
            noise,
            ...extra,
            onLoss: (r, z) => {
              if (r.entropy !== undefined) entropy += (r.entropy as number) * m;
              ols?.update(z, yb, { classes: k });
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
    ols?.nextEpoch();
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
      ...(schedule === 'constant' ? {} : { epsilon: eps }),
      ...(config.loss === 'cp' ? { trainEntropy: entropy / n } : {}),
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
    const weightBytes = new Uint8Array(weights.weightData as ArrayBuffer);
    const optBytes = new Uint8Array(optData.buffer);
    const state: CheckpointState = {
      config: this.config,
      epoch: this.epoch,
      history: this.history,
      weightSpecs: weights.weightSpecs ?? [],
      optimizer: optSpecs,
      // Adam's bias-correction powers: setWeights recomputes them with pow(), which is not bit-identical to
      // the running product an uninterrupted run holds.
      accBeta1: internals.accBeta1.dataSync()[0],
      accBeta2: internals.accBeta2.dataSync()[0],
      ...(this.ols ? { ols: this.ols.state() } : {}),
      // Checked on load: a damaged checkpoint is refused instead of resuming from wrong weights.
      sha256: { 'weights.bin': sha256(weightBytes), 'optimizer.bin': sha256(optBytes) },
    };
    const [w, o, s] = CHECKPOINT_FILES;
    writeDirAtomic(dir, (tmp) => {
      writeFileDurable(join(tmp, w), weightBytes);
      writeFileDurable(join(tmp, o), optBytes);
      writeFileDurable(join(tmp, s), JSON.stringify(state));
    });
  }

  /**
   * Restore weights, optimizer and history from a checkpoint directory written by {@link saveCheckpoint}.
   * Everything is verified before anything is restored (structure, configuration, epoch, file sizes and
   * SHA-256): a damaged checkpoint is a {@link DataFileError}, never a silent restart or wrong weights.
   */
  async loadCheckpoint(dir: string, epoch?: number): Promise<void> {
    const { state, weights, optimizer, ols } = readCheckpoint(dir, this.config, epoch);
    const decoded = tf.io.decodeWeights(weights, state.weightSpecs);
    this.model.setWeights(state.weightSpecs.map((s) => decoded[s.name]));
    tf.dispose(Object.values(decoded));
    const odata = new Float32Array(optimizer);
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
    if (ols) this.ols = ols;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** The files of a checkpoint directory. */
export const CHECKPOINT_FILES = ['weights.bin', 'optimizer.bin', 'state.json'] as const;

/** The state.json of a checkpoint. */
interface CheckpointState {
  config: TrainConfig;
  epoch: number;
  history: EpochMetrics[];
  weightSpecs: tf.io.WeightsManifestEntry[];
  optimizer: { name: string; shape: number[] }[];
  accBeta1: number;
  accBeta2: number;
  /** Online label smoothing's complete state (loss `ols` only). */
  ols?: OnlineLabelSmoothingState;
  sha256?: Record<string, string>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const DAMAGED = 'the checkpoint is damaged: start the run over with --force';

/** Read and verify a checkpoint directory; throws a {@link DataFileError} naming the damaged file. */
function readCheckpoint(
  dir: string,
  config: TrainConfig,
  epoch: number | undefined,
): {
  state: CheckpointState;
  weights: ArrayBuffer;
  optimizer: ArrayBuffer;
  ols: OnlineLabelSmoothing | null;
} {
  const file = join(dir, 'state.json');
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message;
    throw new DataFileError(file, undefined, `cannot read checkpoint (${why}); ${DAMAGED}`);
  }
  const shapeOk =
    state !== null &&
    typeof state === 'object' &&
    Number.isInteger(state.epoch) &&
    Array.isArray(state.history) &&
    state.history.length === state.epoch &&
    Array.isArray(state.weightSpecs) &&
    Array.isArray(state.optimizer) &&
    Number.isFinite(state.accBeta1) &&
    Number.isFinite(state.accBeta2);
  if (!shapeOk) throw new DataFileError(file, undefined, `not a labelsmooth checkpoint; ${DAMAGED}`);
  if (epoch !== undefined && state.epoch !== epoch)
    throw new DataFileError(file, undefined, `holds epoch ${state.epoch}, expected ${epoch}; ${DAMAGED}`);
  if (JSON.stringify(state.config) !== JSON.stringify(config))
    throw new DataFileError(file, undefined, `written for another configuration; ${DAMAGED}`);
  let ols: OnlineLabelSmoothing | null = null;
  if (config.loss === 'ols') {
    try {
      ols = OnlineLabelSmoothing.restore(state.ols as OnlineLabelSmoothingState);
    } catch (e) {
      throw new DataFileError(
        file,
        undefined,
        `online label smoothing state: ${(e as Error).message}; ${DAMAGED}`,
      );
    }
  }
  const floats = (shapes: { shape: number[] }[]) =>
    4 * shapes.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const read = (name: string, bytes: number): ArrayBuffer => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new DataFileError(path, undefined, `missing; ${DAMAGED}`);
    const b = readFileSync(path);
    if (b.byteLength !== bytes)
      throw new DataFileError(path, undefined, `${b.byteLength} bytes, expected ${bytes}; ${DAMAGED}`);
    const expected = state.sha256?.[name];
    if (expected !== undefined && sha256(b) !== expected)
      throw new DataFileError(path, undefined, `SHA-256 does not match state.json; ${DAMAGED}`);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  return {
    state,
    weights: read('weights.bin', floats(state.weightSpecs)),
    optimizer: read('optimizer.bin', floats(state.optimizer)),
    ols,
  };
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

/**
 * Checkpoints of a run directory: `checkpoints/epoch-NNNN`, with `checkpoint.json` naming the latest. Only
 * the latest is kept: the older one is removed once `checkpoint.json` names the new one (the commit point).
 * Each is listed in the run's manifest before it is written; only listed checkpoints are ever removed.
 */
export const checkpoints = {
  async save(runDir: string, trainer: Trainer): Promise<void> {
    const name = `epoch-${String(trainer.epoch).padStart(4, '0')}`;
    const root = join(runDir, 'checkpoints');
    claim(runDir, ['checkpoint.json', ...CHECKPOINT_FILES.map((f) => `checkpoints/${name}/${f}`)]);
    mkdirSync(root, { recursive: true });
    await trainer.saveCheckpoint(join(root, name));
    writeFileAtomic(join(runDir, 'checkpoint.json'), JSON.stringify({ latest: name, epoch: trainer.epoch }));
    for (const d of readdirSync(root))
      if (d !== name && isOwned(runDir, `checkpoints/${d}/`)) removeOwned(runDir, `checkpoints/${d}/`);
  },
  /**
   * The latest committed checkpoint, or null when none was committed yet (a run killed during its first
   * epoch). A `checkpoint.json` that exists but cannot be read is an error, not "no checkpoint".
   */
  latest(runDir: string): { dir: string; epoch: number } | null {
    const file = join(runDir, 'checkpoint.json');
    if (!existsSync(file)) return null;
    let pointer: { latest?: unknown; epoch?: unknown };
    try {
      pointer = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DataFileError(file, undefined, `corrupt (${(e as Error).message}); ${DAMAGED}`);
    }
    const { latest, epoch } = pointer ?? {};
    if (typeof latest !== 'string' || !/^epoch-\d{4,}$/.test(latest) || !Number.isInteger(epoch))
      throw new DataFileError(file, undefined, `not a checkpoint pointer; ${DAMAGED}`);
    return { dir: join(runDir, 'checkpoints', latest), epoch: epoch as number };
  },
};
