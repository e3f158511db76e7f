// One trial of a comparison: train a (seed, ε) model for its epochs, then evaluate it. Shared by `compare`
// (in process) and `sweep` (in worker processes), so that both give the same result bit for bit.
import type { Dataset } from '../data/dataset.js';
import { evaluateRun, type RunResult } from './experiment.js';
import { isPlainCrossEntropy } from './losses.js';
import { type EpochMetrics, type TrainConfig, Trainer } from './trainer.js';

/** What a caller hears while a trial trains. */
export interface TrialHooks {
  /** After each mini-batch: the epoch (0-based) and the batches done in it. */
  onBatch?(epoch: number, done: number): void;
  /** After each epoch, with its metrics. */
  onEpoch?(metrics: EpochMetrics): void;
}

/**
 * Train `config.epochs` epochs on `data.train`, then measure the test calibration (with temperature
 * scaling fitted on `data.validation` for plain cross-entropy, ε = 0). Deterministic given the config and the data. The
 * trainer's tensors are freed even when training throws.
 */
export async function runTrial(
  config: TrainConfig,
  data: { train: Dataset; validation: Dataset | null; test: Dataset },
  hooks: TrialHooks = {},
): Promise<RunResult> {
  const trainer = new Trainer(config, data.train, data.test);
  try {
    for (let e = 0; e < config.epochs; e++) {
      const m = await trainer.runEpoch((done) => hooks.onBatch?.(e, done));
      hooks.onEpoch?.(m);
    }
    return evaluateRun(trainer, isPlainCrossEntropy(config) ? data.validation : null);
  } finally {
    trainer.dispose();
  }
}
