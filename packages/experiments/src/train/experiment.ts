import { type CalibrationReport, calibration, fitTemperature } from 'labelsmooth';
import { type Dataset, stratifiedSplit, take } from '../data/dataset.js';
import {
  type Analyzer,
  INTERVAL_METRICS,
  type Interval,
  type IntervalMetric,
  type ModelAnalysis,
  type PairedAnalysis,
} from './analysis.js';
import { METRICS_ANALYZER } from './analyzer.js';
import { CONFIG_PARAMETERS, LOSS_PARAMETERS, type LossName, type LossParameter } from './losses.js';
import { type Projection, projectPenultimate } from './projection.js';
import { tInterval } from './studentT.js';
import type { EpochMetrics, TrainConfig, Trainer } from './trainer.js';

/**
 * What a run trained on besides its seed's training split: `train+validation` is the budget-matched run,
 * trained on every labelled row the temperature-scaled baseline uses (the training and validation splits).
 */
export type TrainedOn = 'train+validation';

/** One trained model's results. */
export interface RunResult {
  label: string;
  epsilon: number;
  /** The loss (absent: label smoothing with ε, as before the option existed). */
  loss?: LossName;
  seed: number;
  /** Id of the seed's row selection (train, validation, test): runs of one seed share it. */
  split?: string;
  /** Absent: the training split; `train+validation`: the budget-matched run (see {@link TrainedOn}). */
  trainedOn?: TrainedOn;
  /** Per-epoch metrics. */
  epochs: EpochMetrics[];
  /** Final calibration on the test set (with reliability bins). */
  test: CalibrationReport;
  /** Smooth ECE, risk–coverage and intervals of the test predictions, when an analyzer is plugged in. */
  analysis?: ModelAnalysis;
  /** Temperature fitted on the validation split (when there is one), and the test calibration after it. */
  temperature?: {
    temperature: number;
    nllBefore: number;
    nllAfter: number;
    test: CalibrationReport;
    analysis?: ModelAnalysis;
  };
  projection?: Projection;
}

/** Test logits of a run (before and after temperature scaling), kept in memory for paired comparisons. */
export interface RunLogits {
  label: string;
  seed: number;
  /** A budget-matched run (not paired on test rows with the runs trained on the training split). */
  budget?: boolean;
  test: Float32Array;
  scaled?: Float32Array;
}

type LabelFields = 'epsilon' | 'noise' | 'loss' | 'confidencePenalty' | 'focalGamma' | 'focalAlpha';

/**
 * Label of a run: `ε=0.1`, with its noise when not uniform and its ε schedule (`ε=0.1→0 cosine`); with a
 * loss, the loss and its parameters first: `ce`, `ls ε=0.1`, `cp β=0.1`, `focal γ=3 α=0.25`, `flsd-53`,
 * `ols ε=0.5` (ε shown when > 0).
 */
export function runLabel(
  config: Pick<TrainConfig, LabelFields> & Partial<Pick<TrainConfig, 'epsilonSchedule' | 'epsilonFinal'>>,
): string {
  const scheduled = (config.epsilonSchedule ?? 'constant') !== 'constant';
  const eps = `ε=${config.epsilon}${scheduled ? `→${config.epsilonFinal} ${config.epsilonSchedule}` : ''}`;
  const smoothed = config.epsilon > 0 || (scheduled && (config.epsilonFinal ?? 0) > 0);
  const noise = config.noise !== 'uniform' && smoothed ? ` (${config.noise})` : '';
  if (config.loss === undefined) return `${eps}${noise}`;
  const parts: string[] = [config.loss];
  // Each parameter by its symbol (LOSS_PARAMETERS); an optional one only when it is not its default.
  for (const key of CONFIG_PARAMETERS) {
    const p: LossParameter = LOSS_PARAMETERS[key];
    const v = config[key];
    if (v !== undefined && (p.requiredBy.includes(config.loss) || v !== p.default))
      parts.push(`${p.symbol}=${v}`);
  }
  if (smoothed) parts.push(`${eps}${noise}`);
  return parts.join(' ');
}

/** Whether `label` is the unregularized baseline's ({@link runLabel}): `ε=0`, or `ce` in a comparison of losses. */
export const isBaselineLabel = (label: string) => label === 'ε=0' || label === 'ce';

/** Label of a run after temperature scaling. */
export const scaledLabel = (label: string) => `${label} + temperature scaling`;

/** Label of a budget-matched run: `ε=0.1 on train ∪ validation`. */
export const budgetLabel = (label: string) => `${label} on train ∪ validation`;

/**
 * Final evaluation of a trained model: test calibration, temperature scaling fitted on validation (for
 * every ε: Müller et al. 2019 report it for the baseline and for label smoothing), the projection, and the
 * analyzer's metrics when one is given.
 */
export function evaluateRun(
  trainer: Trainer,
  test: Dataset,
  validation: Dataset | null,
  analyzer?: Analyzer,
): { result: RunResult; logits: RunLogits } {
  const { config } = trainer;
  const classes = test.classNames.length;
  const z = trainer.predict(test);
  const result: RunResult = {
    label: runLabel(config),
    epsilon: config.epsilon,
    ...(config.loss === undefined ? {} : { loss: config.loss }),
    seed: config.seed,
    epochs: [...trainer.history],
    test: calibration(z, test.y, { classes }),
  };
  if (analyzer) result.analysis = analyzer.model(z, test.y, classes);
  const logits: RunLogits = { label: result.label, seed: config.seed, test: z };
  if (validation && validation.rows > 0) {
    const fit = fitTemperature(trainer.predict(validation), validation.y, { classes });
    const scaled = z.map((v) => v / fit.temperature);
    result.temperature = { ...fit, test: calibration(scaled, test.y, { classes }) };
    if (analyzer) result.temperature.analysis = analyzer.model(scaled, test.y, classes);
    logits.scaled = scaled;
  }
  if (classes >= 3) result.projection = projectPenultimate(trainer.model, test);
  return { result, logits };
}

/**
 * Paired comparisons on the same test rows and seed: every ε > 0 against ε = 0, and temperature scaling
 * of ε = 0 against ε = 0 (differences b − a).
 */
export function pairedAnalyses(
  runs: RunLogits[],
  labels: Int32Array,
  classes: number,
  analyzer: Analyzer,
): PairedAnalysis[] {
  const out: PairedAnalysis[] = [];
  for (const base of runs.filter((r) => isBaselineLabel(r.label))) {
    for (const other of runs.filter((r) => r.seed === base.seed && r !== base && !r.budget)) {
      out.push({
        a: base.label,
        b: other.label,
        seed: base.seed,
        differences: analyzer.paired(base.test, other.test, labels, classes),
      });
    }
    if (base.scaled)
      out.push({
        a: base.label,
        b: scaledLabel(base.label),
        seed: base.seed,
        differences: analyzer.paired(base.test, base.scaled, labels, classes),
      });
  }
  return out;
}

/** Mean and standard deviation (n − 1) of a metric over seeds. */
export interface Stat {
  mean: number;
  sd: number;
}

/** One row of the summary table. */
export interface SummaryRow {
  label: string;
  /** The runs' loss (absent: label smoothing with ε). */
  loss?: LossName;
  /** ε of the runs, and whether the row is after temperature scaling. */
  epsilon: number;
  scaled: boolean;
  /** The budget-matched runs' training data (absent: the training split). */
  trainedOn?: TrainedOn;
  runs: number;
  accuracy: Stat;
  nll: Stat;
  brier: Stat;
  ece: Stat;
  mce: Stat;
  meanConfidence: Stat;
  overconfidence: Stat;
  smoothEce?: Stat;
  aurc?: Stat;
  /** 95 % t-intervals over the seeds of the mean of each metric (present with two seeds or more). */
  intervals?: Partial<Record<IntervalMetric, Interval>>;
}

const METRICS = ['accuracy', 'nll', 'brier', 'ece', 'mce', 'meanConfidence', 'overconfidence'] as const;

/** Mean and sample standard deviation of xs. */
export function stat(xs: number[]): Stat {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

interface Member {
  report: CalibrationReport;
  analysis?: ModelAnalysis;
}

/**
 * Intervals of a group: the 95 % t-interval over its seeds of the mean of each metric (seed-to-seed
 * variation: each seed its own split and initialisation), cut to the metric's range (no ECE below 0, no
 * accuracy above 1: the cut never removes the mean). None with one seed.
 */
export function seedIntervals(reports: Pick<CalibrationReport, IntervalMetric>[]): SummaryRow['intervals'] {
  const out: Partial<Record<IntervalMetric, Interval>> = {};
  for (const m of INTERVAL_METRICS) {
    const xs = reports.map((r) => r[m]);
    if (xs.some((x) => !Number.isFinite(x))) continue;
    const { interval } = tInterval(xs);
    if (interval)
      out[m] = [Math.max(0, interval[0]), m === 'accuracy' ? Math.min(1, interval[1]) : interval[1]];
  }
  return Object.keys(out).length ? out : undefined;
}

/** Summary per ε (over seeds), then one "+ temperature scaling" row per ε that has it. */
export function summarize(runs: RunResult[]): SummaryRow[] {
  type Group = {
    epsilon: number;
    scaled: boolean;
    loss?: LossName;
    trainedOn?: TrainedOn;
    members: Member[];
  };
  const groups = new Map<string, Group>();
  const add = (label: string, r: RunResult, scaled: boolean, m: Member) => {
    const g: Group = groups.get(label) ?? {
      epsilon: r.epsilon,
      scaled,
      loss: r.loss,
      trainedOn: r.trainedOn,
      members: [],
    };
    g.members.push(m);
    groups.set(label, g);
  };
  for (const r of runs) add(r.label, r, false, { report: r.test, analysis: r.analysis });
  for (const r of runs)
    if (r.temperature)
      add(scaledLabel(r.label), r, true, {
        report: r.temperature.test,
        analysis: r.temperature.analysis,
      });
  return [...groups].map(([label, { epsilon, scaled, loss, trainedOn, members }]) => {
    const row = { label, epsilon, scaled, runs: members.length } as SummaryRow;
    if (loss !== undefined) row.loss = loss;
    if (trainedOn !== undefined) row.trainedOn = trainedOn;
    for (const m of METRICS) row[m] = stat(members.map((x) => x.report[m]));
    // Every test report has them; a results file of an older version may not.
    const smooth = members.map((x) => x.report.smoothEce ?? x.analysis?.smoothEce?.value);
    if (smooth.every((v) => v !== undefined)) row.smoothEce = stat(smooth as number[]);
    const aurc = members.map((x) => x.report.aurc ?? x.analysis?.aurc);
    if (aurc.every((v) => v !== undefined)) row.aurc = stat(aurc as number[]);
    const iv = seedIntervals(members.map((x) => x.report));
    if (iv) row.intervals = iv;
    return row;
  });
}

/** The calibration metrics of the library as an {@link Analyzer} (see analyzer.ts). */
export function metricsAnalyzer(): Analyzer {
  return METRICS_ANALYZER;
}

/** Test examples the per-epoch curves are measured on. */
export const MONITOR_SIZE = 1000;

/**
 * Examples the per-epoch test metrics are measured on: a stratified subset of `size` test examples (the
 * final metrics use the whole test set). Evaluating 10,000 test images after every epoch would cost more
 * than training on a small subset.
 */
export function monitorSet(test: Dataset, seed: number, size = MONITOR_SIZE): Dataset {
  if (test.rows <= size) return test;
  const { second } = stratifiedSplit(test.y, test.classNames.length, size, seed + 4);
  return take(test, second, `${test.name} (per-epoch subset)`);
}
