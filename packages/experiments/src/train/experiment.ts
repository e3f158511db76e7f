import { type CalibrationReport, calibration, fitTemperature } from 'labelsmooth';
import type { Dataset } from '../data/dataset.js';
import type { LossName } from './losses.js';
import { type Projection, projectPenultimate } from './projection.js';
import type { EpochMetrics, TrainConfig, Trainer } from './trainer.js';

/** One trained model's results. */
export interface RunResult {
  label: string;
  epsilon: number;
  /** The loss (absent: label smoothing with ε, as before the option existed). */
  loss?: LossName;
  seed: number;
  /** Per-epoch metrics. */
  epochs: EpochMetrics[];
  /** Final calibration on the test set (with reliability bins). */
  test: CalibrationReport;
  /** Temperature fitted on the validation split (when there is one), and the test calibration after it. */
  temperature?: { temperature: number; nllBefore: number; nllAfter: number; test: CalibrationReport };
  projection?: Projection;
}

type LabelFields = 'epsilon' | 'noise' | 'loss' | 'confidencePenalty' | 'focalGamma' | 'focalAlpha';

/**
 * Label of a run: `ε=0.1`, with its noise when not uniform and its ε schedule (`ε=0.1→0 cosine`); with a
 * loss, the loss and its parameters first: `ce`, `ls ε=0.1`, `cp β=0.1`, `focal γ=3 α=0.25`, `flsd53`,
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
  if (config.confidencePenalty !== undefined) parts.push(`β=${config.confidencePenalty}`);
  if (config.focalGamma !== undefined) parts.push(`γ=${config.focalGamma}`);
  if (config.focalAlpha !== undefined && config.focalAlpha !== 1) parts.push(`α=${config.focalAlpha}`);
  if (smoothed) parts.push(`${eps}${noise}`);
  return parts.join(' ');
}

/** Final evaluation of a trained model: test calibration, temperature scaling on validation, projection. */
export function evaluateRun(trainer: Trainer, validation: Dataset | null): RunResult {
  const { test, config } = trainer;
  const classes = test.classNames.length;
  const logits = trainer.predict(test);
  const result: RunResult = {
    label: runLabel(config),
    epsilon: config.epsilon,
    ...(config.loss === undefined ? {} : { loss: config.loss }),
    seed: config.seed,
    epochs: [...trainer.history],
    test: calibration(logits, test.y, { classes }),
  };
  if (validation && validation.rows > 0) {
    const fit = fitTemperature(trainer.predict(validation), validation.y, { classes });
    const scaled = logits.map((z) => z / fit.temperature);
    result.temperature = { ...fit, test: calibration(scaled, test.y, { classes }) };
  }
  if (classes >= 3) result.projection = projectPenultimate(trainer.model, test);
  return result;
}

/** Mean and standard deviation (n − 1) of a metric over seeds. */
export interface Stat {
  mean: number;
  sd: number;
}

/** One row of the summary table. */
export interface SummaryRow {
  label: string;
  runs: number;
  accuracy: Stat;
  nll: Stat;
  brier: Stat;
  ece: Stat;
  mce: Stat;
  meanConfidence: Stat;
  overconfidence: Stat;
}

const METRICS = ['accuracy', 'nll', 'brier', 'ece', 'mce', 'meanConfidence', 'overconfidence'] as const;

function stat(xs: number[]): Stat {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** Summary per ε (over seeds), plus the "ε=0 + temperature scaling" row. */
export function summarize(runs: RunResult[]): SummaryRow[] {
  const groups = new Map<string, CalibrationReport[]>();
  const add = (label: string, r: CalibrationReport) => groups.set(label, [...(groups.get(label) ?? []), r]);
  for (const r of runs) add(r.label, r.test);
  for (const r of runs)
    if (r.epsilon === 0 && r.temperature) add(`${r.label} + temperature scaling`, r.temperature.test);
  return [...groups].map(([label, reports]) => {
    const row = { label, runs: reports.length } as SummaryRow;
    for (const m of METRICS) row[m] = stat(reports.map((r) => r[m]));
    return row;
  });
}
