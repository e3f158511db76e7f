// The results.json schemas: what the commands write and the report reads. They live below both cli and
// report so that neither imports the other's files.
import type { CalibrationReport } from 'labelsmooth';
import type { RunResult, SummaryRow } from '../train/experiment.js';
import type { LossName } from '../train/losses.js';
import type { ModelKind } from '../train/model.js';
import type { EpsilonSchedule } from '../train/schedule.js';
import type { NoiseKind } from '../train/trainer.js';

/** Options that choose the data. */
export interface DataOptions {
  dataset: string;
  validation: number;
  trainSize?: number;
  testSize?: number;
  seed: number;
  labelColumn?: string;
}

/** The experiment's settings as stored in results.json (the command-line options, minus output ones). */
export interface ExperimentConfig extends DataOptions {
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  noise: NoiseKind;
  backend: string;
  epsilons: number[];
  seeds: number[];
  /** The label-smoothing family (issue #14): `compare --losses`, `train --loss`, their parameters. */
  losses?: LossName[];
  loss?: LossName;
  confidencePenalty?: number;
  focalGamma?: number;
  focalAlpha?: number;
  olsEpsilon?: number;
  epsilonSchedule?: EpsilonSchedule;
  epsilonFinal?: number;
}

/** The results.json of a `compare` (and, with one run, of a `train`). */
export interface CompareResults {
  kind: 'compare' | 'train';
  name: string;
  createdAt: string;
  backend: string;
  dataset: { name: string; classNames: string[]; train: number; validation: number; test: number };
  config: ExperimentConfig;
  runs: RunResult[];
  summary: SummaryRow[];
}

/** The results.json of an `evaluate`. */
export interface EvaluateResults {
  kind: 'evaluate';
  name: string;
  createdAt: string;
  predictions: string;
  labels: string;
  from: 'logits' | 'probs';
  rows: number;
  classes: number;
  report: CalibrationReport;
}

/** Anything a report can be made from. */
export type ReportInput = CompareResults | EvaluateResults;
