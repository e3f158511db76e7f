import type { NoiseKind } from '../../train/trainer.js';

/** Loss families a trial can train with (issue #14 adds more; the trial key already carries the axis). */
export const LOSSES = ['cross-entropy'] as const;
/** A loss family of the sweep grid. */
export type LossKind = (typeof LOSSES)[number];

/** One cell of a sweep grid: one model trained on one dataset with one (ε, noise, loss, seed). */
export interface Trial {
  dataset: string;
  epsilon: number;
  noise: NoiseKind;
  loss: LossKind;
  seed: number;
}

/** The axes of a sweep grid (the options `compare` takes). */
export interface Grid {
  datasets: string[];
  epsilons: number[];
  noises: NoiseKind[];
  losses: LossKind[];
  seeds: number[];
}

/**
 * Every trial of the grid, in the order `compare` trains them (dataset, noise, loss, then seed, then ε
 * innermost), so that a sweep's results.json lists its runs exactly as compare's does.
 */
export function expandGrid(g: Grid): Trial[] {
  const out: Trial[] = [];
  for (const dataset of g.datasets)
    for (const noise of g.noises)
      for (const loss of g.losses)
        for (const seed of g.seeds)
          for (const epsilon of g.epsilons) out.push({ dataset, epsilon, noise, loss, seed });
  return out;
}

/**
 * The trial's key: `dataset=…,epsilon=…,noise=…,loss=…,seed=…` with each value URI-encoded, so the key
 * has no `:` (BullMQ job ids must not) and one trial has exactly one key. It names the trial in the
 * ledger and, with the sweep's spec hash, the job id in the queue.
 */
export function trialKey(t: Trial): string {
  const e = encodeURIComponent;
  return `dataset=${e(t.dataset)},epsilon=${e(String(t.epsilon))},noise=${e(t.noise)},loss=${e(t.loss)},seed=${e(String(t.seed))}`;
}
