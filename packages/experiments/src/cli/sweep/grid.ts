import type { TrainedOn } from '../../train/experiment.js';
import type { NoiseKind } from '../../train/kinds.js';
import { LOSSES, type LossName } from '../../train/losses.js';

/**
 * The loss axis of a sweep: `cross-entropy` is compare without `--losses` (label smoothing with the trial's
 * ε, a configuration without a loss field); the others are `--losses` names.
 */
export const TRIAL_LOSSES = ['cross-entropy', ...LOSSES] as const;
/** A loss of the sweep grid. */
export type TrialLoss = (typeof TRIAL_LOSSES)[number];

/** One cell of a sweep grid: one model trained on one dataset with one (ε, noise, loss, seed). */
export interface Trial {
  dataset: string;
  epsilon: number;
  noise: NoiseKind;
  loss: TrialLoss;
  seed: number;
  /** `train+validation`: the budget-matched run (trained on the seed's training and validation rows). */
  trainedOn?: TrainedOn;
}

/** One run per seed: a loss and its ε (compare's variants; the loss parameters are in the sweep's spec). */
export interface GridRun {
  loss: TrialLoss;
  epsilon: number;
  trainedOn?: TrainedOn;
}

/** The axes of a sweep grid (the options `compare` takes). */
export interface Grid {
  datasets: string[];
  noises: NoiseKind[];
  seeds: number[];
  /** The runs of each seed, in compare's order (its variants: ε grid, or losses). */
  runs: GridRun[];
}

/** The grid loss of a compare variant: its loss, or `cross-entropy` when it has none. */
export function trialLoss(loss: LossName | undefined): TrialLoss {
  return loss ?? 'cross-entropy';
}

/**
 * Every trial of the grid, in the order `compare` trains them (dataset, noise, then seed, then its runs
 * innermost), so that a sweep's results.json lists its runs exactly as compare's does.
 */
export function expandGrid(g: Grid): Trial[] {
  const out: Trial[] = [];
  for (const dataset of g.datasets)
    for (const noise of g.noises)
      for (const seed of g.seeds)
        for (const { loss, epsilon, trainedOn } of g.runs)
          out.push({ dataset, epsilon, noise, loss, seed, ...(trainedOn ? { trainedOn } : {}) });
  return out;
}

/**
 * The trial's key: `dataset=…,epsilon=…,noise=…,loss=…,seed=…` with each value URI-encoded, so the key
 * has no `:` (BullMQ job ids must not) and one trial has exactly one key. It names the trial in the
 * ledger and, with the sweep's spec hash, the job id in the queue. A budget-matched trial ends in
 * `,trainedOn=train%2Bvalidation` (the other keys are as they always were).
 */
export function trialKey(t: Trial): string {
  const e = encodeURIComponent;
  const data = t.trainedOn === undefined ? '' : `,trainedOn=${e(t.trainedOn)}`;
  return `dataset=${e(t.dataset)},epsilon=${e(String(t.epsilon))},noise=${e(t.noise)},loss=${e(t.loss)},seed=${e(String(t.seed))}${data}`;
}
