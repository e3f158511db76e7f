// One trial of a comparison: train a (seed, ε) model for its epochs, then evaluate it. Shared by `compare`
// (in process) and `sweep` (in worker processes), so that both give the same result bit for bit.
import type { Dataset } from '../data/dataset.js';
import type { Analyzer } from './analysis.js';
import { budgetLabel, evaluateRun, type RunLogits, type RunResult, type TrainedOn } from './experiment.js';
import { fitsTemperature } from './losses.js';
import { type EpochMetrics, type TrainConfig, Trainer } from './trainer.js';

/** What a caller hears while a trial trains. */
export interface TrialHooks {
  /** After each mini-batch: the epoch (0-based) and the batches done in it. */
  onBatch?(epoch: number, done: number): void;
  /** After each epoch, with its metrics. */
  onEpoch?(metrics: EpochMetrics): void;
}

/**
 * Train `config.epochs` epochs on `data.train` (per-epoch test metrics on `data.monitor`, a subset of the
 * test set, or the whole of it), then measure the test calibration, with temperature scaling fitted on
 * `data.validation` (for cross-entropy and label smoothing runs), and the analyzer's metrics when one is
 * given; with `data.trainedOn`, the run is labelled as the budget-matched one. Deterministic given the config and the
 * data. The trainer's tensors are freed even when training throws. Returns the result and the test logits
 * (for paired comparisons).
 */
export async function runTrial(
  config: TrainConfig,
  data: {
    train: Dataset;
    validation: Dataset | null;
    test: Dataset;
    monitor?: Dataset;
    split?: string;
    trainedOn?: TrainedOn;
  },
  hooks: TrialHooks = {},
  analyzer?: Analyzer,
): Promise<{ result: RunResult; logits: RunLogits }> {
  const trainer = new Trainer(config, data.train, data.monitor ?? data.test);
  try {
    for (let e = 0; e < config.epochs; e++) {
      const m = await trainer.runEpoch((done) => hooks.onBatch?.(e, done));
      hooks.onEpoch?.(m);
    }
    const done = evaluateRun(trainer, data.test, fitsTemperature(config) ? data.validation : null, analyzer);
    if (data.split !== undefined) done.result.split = data.split;
    if (data.trainedOn !== undefined) {
      // The budget-matched run: its own label, so that it never pools with the runs of the same ε.
      done.result.trainedOn = data.trainedOn;
      done.result.label = budgetLabel(done.result.label);
      done.logits.label = done.result.label;
      done.logits.budget = true;
    }
    return done;
  } finally {
    trainer.dispose();
  }
}
