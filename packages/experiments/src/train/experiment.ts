import { type CalibrationReport, calibration, fitTemperature } from 'labelsmooth';
import type { Dataset } from '../data/dataset.js';
import { type Projection, projectPenultimate } from './projection.js';
import type { EpochMetrics, TrainConfig, Trainer } from './trainer.js';

/** One trained model's results. */
export interface RunResult {
  label: string;
  epsilon: number;
  seed: number;
  /** Per-epoch metrics. */
  epochs: EpochMetrics[];
  /** Final calibration on the test set (with reliability bins). */
  test: CalibrationReport;
  /** Temperature fitted on the validation split (when there is one), and the test calibration after it. */
  temperature?: { temperature: number; nllBefore: number; nllAfter: number; test: CalibrationReport };
  projection?: Projection;
}

/** Label of a run: ε=0.1, or with its noise when not uniform. */
export function runLabel(config: Pick<TrainConfig, 'epsilon' | 'noise'>): string {
  return `ε=${config.epsilon}${config.noise !== 'uniform' && config.epsilon > 0 ? ` (${config.noise})` : ''}`;
}

/** Final evaluation of a trained model: test calibration, temperature scaling on validation, projection. */
export function evaluateRun(trainer: Trainer, validation: Dataset | null): RunResult {
  const { test, config } = trainer;
  const classes = test.classNames.length;
  const logits = trainer.predict(test);
  const result: RunResult = {
    label: runLabel(config),
    epsilon: config.epsilon,
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
