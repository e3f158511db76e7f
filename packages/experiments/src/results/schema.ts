// The results.json schemas: what the commands write and the report reads. They live below both cli and
// report so that neither imports the other's files.
import type { CalibrationReport } from 'labelsmooth';
import type { Interval, IntervalMetric, ModelAnalysis, PairedAnalysis } from '../train/analysis.js';
import type { RunResult, Stat, SummaryRow } from '../train/experiment.js';
import type { ModelKind, NoiseKind } from '../train/kinds.js';
import type { LossName, LossParameterName } from '../train/losses.js';
import type { EpsilonSchedule } from '../train/schedule.js';

/** Options that choose the data. */
export interface DataOptions {
  dataset: string;
  validation: number;
  trainSize?: number;
  testSize?: number;
  seed: number;
  labelColumn?: string;
}

/**
 * The experiment's settings as stored in results.json (the command-line options, minus output ones); the
 * loss parameters under their names in LOSS_PARAMETERS (`confidencePenalty`, `focalGamma`, …), those of
 * the losses trained.
 */
export interface ExperimentConfig extends DataOptions, Partial<Record<LossParameterName, number>> {
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  noise: NoiseKind;
  backend: string;
  epsilons: number[];
  seeds: number[];
  /** ε of the budget-matched run (label smoothing on train ∪ validation); null: none was trained. */
  budgetEpsilon?: number | null;
  /** The label-smoothing family: `compare --losses`, `train --loss` (their parameters: see above). */
  losses?: LossName[];
  loss?: LossName;
  epsilonSchedule?: EpsilonSchedule;
  epsilonFinal?: number;
}

/**
 * One comparison a report states, with the test behind it. `b − a` per seed (a = null: the level of b
 * itself, e.g. its over-confidence), its mean over the seeds, and the 95 % interval of that mean over the
 * seeds (a t-interval: it covers seed-to-seed variation, each seed its own split and initialisation).
 */
export interface Claim {
  id: string;
  /** The sentence exactly as the report prints it. */
  text: string;
  /** The metric: a key of the runs' `test` report (`ece`, `nll`, `accuracy`, `overconfidence`…). */
  metric: string;
  /** Labels as in `summary` (`ε=0`, `ε=0 + temperature scaling`); a = null for a level of b. */
  a: string | null;
  b: string;
  /** Mean over the seeds of the per-seed b − a (or of b's value when a = null). */
  estimate: number;
  /** 95 % interval of the estimate over seeds; null with one seed (no interval, nothing holds). */
  interval: Interval | null;
  /** The seeds paired (each contributes one difference, in this order). */
  seeds: number[];
  /** The per-seed differences (or values), in the order of `seeds`. */
  perSeed: number[];
  method: string;
  /** True only when the interval excludes 0. */
  holds: boolean;
}

/** The results.json of a `compare` (and, with one run, of a `train`). */
export interface CompareResults {
  kind: 'compare' | 'train';
  /** The command that wrote it, when it is not `kind` (a sweep writes compare's results). */
  command?: 'sweep';
  name: string;
  createdAt: string;
  backend: string;
  dataset: { name: string; classNames: string[]; train: number; validation: number; test: number };
  config: ExperimentConfig;
  runs: RunResult[];
  summary: SummaryRow[];
  /** Size of the stratified test subset the per-epoch test metrics are measured on (absent: the whole test set). */
  monitor?: number;
  /** Paired bootstrap differences against ε = 0 on the same test rows, per seed (with an analyzer). */
  paired?: PairedAnalysis[];
  /** Every comparison the report states, with its interval over seeds (see {@link Claim}). */
  claims?: Claim[];
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
export type ReportInput = CompareResults | EvaluateResults | DistillResults;

/** The settings of a `labelsmooth distill` as stored in results.json. */
export interface DistillConfig extends DataOptions {
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  /** ε of the smoothed teacher (the other teacher has ε = 0). */
  epsilon: number;
  temperature: number;
  studentEpochs: number;
  studentHidden: number;
  seeds: number[];
  backend: string;
}

/** One model of a distillation run, evaluated on the test set. */
export interface DistillModel {
  role: 'teacher' | 'student';
  /** ε the teacher was trained with (for a student: its teacher's ε). */
  teacherEpsilon: number;
  seed: number;
  /** Id of the seed's row selection (see `RunResult.split`). */
  split?: string;
  /** Test-set metrics; `bins` (the reliability diagram's) may be absent, the report then draws none. */
  test: Omit<CalibrationReport, 'bins'> & { bins?: CalibrationReport['bins'] };
  analysis?: ModelAnalysis;
}

/** Mean ± sd over seeds of one role and teacher ε. */
export interface DistillSummary {
  role: 'teacher' | 'student';
  teacherEpsilon: number;
  runs: number;
  accuracy: Stat;
  nll: Stat;
  ece: Stat;
  intervals?: Partial<Record<IntervalMetric, Interval>>;
}

/** The results.json of `labelsmooth distill`. */
export interface DistillResults {
  kind: 'distill';
  name: string;
  createdAt: string;
  backend: string;
  dataset: { name: string; classNames: string[]; train: number; test: number };
  config: DistillConfig;
  models: DistillModel[];
  summary: DistillSummary[];
  /** Every comparison the report states (see {@link Claim}). */
  claims?: Claim[];
}
