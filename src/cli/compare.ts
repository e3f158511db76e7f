import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateRun, type RunResult, runLabel, type SummaryRow, summarize } from '../train/experiment.js';
import type { ModelKind } from '../train/model.js';
import { type EpochMetrics, type NoiseKind, type TrainConfig, Trainer } from '../train/trainer.js';
import { type BackendName, checkModelBackend, checkModelData, useBackend } from './backend.js';
import { type DataOptions, loadSplits, type Splits } from './datasets.js';
import { type Progress, progress } from './progress.js';
import { writeResults } from './results.js';
import { formatTable, pm } from './table.js';

/** Options shared by `labelsmooth compare` and `labelsmooth train`. */
export interface RunOptions extends DataOptions {
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  noise: NoiseKind;
  backend: BackendName;
  name?: string;
  runsDir: string;
  json: boolean;
  quiet: boolean;
}

/** Options of `labelsmooth compare`. */
export interface CompareOptions extends RunOptions {
  epsilons: number[];
  seeds: number[];
}

/** The results.json of a `compare` (and, with one run, of a `train`). */
export interface CompareResults {
  kind: 'compare' | 'train';
  name: string;
  createdAt: string;
  backend: string;
  dataset: { name: string; classNames: string[]; train: number; validation: number; test: number };
  config: Omit<CompareOptions, 'json' | 'quiet' | 'runsDir' | 'name'>;
  runs: RunResult[];
  summary: SummaryRow[];
}

/** One line per epoch: the loss decomposition and the test calibration. */
export function epochLine(label: string, seed: number, m: EpochMetrics): string {
  return (
    `${label} seed ${seed} epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} = (1−ε)H(p,q) ${m.trainNllPart.toFixed(4)} + εH(u,q) ${m.trainSmoothingPart.toFixed(4)} [H(u,q) ${m.trainSmoothing.toFixed(2)}]` +
    ` | train acc ${m.trainAccuracy.toFixed(4)} | test acc ${m.testAccuracy.toFixed(4)} NLL ${m.testNll.toFixed(4)} ECE ${m.testEce.toFixed(4)}` +
    ` conf ${m.testMeanConfidence.toFixed(4)} over-conf ${m.testOverconfidence >= 0 ? '+' : ''}${m.testOverconfidence.toFixed(4)} (${m.seconds.toFixed(1)} s)`
  );
}

/** The summary table printed at the end. */
export function summaryTable(rows: SummaryRow[]): string {
  return formatTable(
    ['run', 'accuracy', 'NLL', 'ECE', 'MCE', 'Brier', 'confidence', 'over-confidence'],
    rows.map((r) => [
      r.label,
      pm(r.accuracy, r.runs),
      pm(r.nll, r.runs),
      pm(r.ece, r.runs),
      pm(r.mce, r.runs),
      pm(r.brier, r.runs),
      pm(r.meanConfidence, r.runs),
      pm(r.overconfidence, r.runs),
    ]),
  );
}

/** The results.json of a compare or train run. */
export function experimentResults(
  kind: CompareResults['kind'],
  name: string,
  backend: string,
  splits: Splits,
  config: CompareResults['config'],
  runs: RunResult[],
): CompareResults {
  return {
    kind,
    name,
    createdAt: new Date().toISOString(),
    backend,
    dataset: {
      name: splits.dataset,
      classNames: splits.train.classNames,
      train: splits.train.rows,
      validation: splits.validation?.rows ?? 0,
      test: splits.test.rows,
    },
    config,
    runs,
    summary: summarize(runs),
  };
}

/** Train one model per (seed, ε) and compare their calibration; writes runs/<name>/results.json. */
export async function compare(o: CompareOptions): Promise<CompareResults> {
  checkModelBackend(o.model, o.backend);
  const backend = await useBackend(o.backend);
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const splits: Splits = loadSplits(o);
  checkModelData(o.model, splits.train);
  const name = o.name ?? `compare-${o.dataset.replace(/[^\w.-]+/g, '_')}`;
  log(
    `labelsmooth compare: ${splits.dataset} (train ${splits.train.rows}, validation ${splits.validation?.rows ?? 0}, test ${splits.test.rows}), ` +
      `${o.model}, ${o.epochs} epochs, batch ${o.batchSize}, lr ${o.lr}, noise ${o.noise}, ε ∈ {${o.epsilons.join(', ')}}, seeds {${o.seeds.join(', ')}}, backend ${backend}`,
  );
  const bar = progress(o.quiet ? 'quiet' : 'auto');
  const runs: RunResult[] = [];
  for (const seed of o.seeds) {
    for (const epsilon of o.epsilons) {
      const config = {
        epsilon,
        noise: o.noise,
        seed,
        model: o.model,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
      };
      runs.push(await runTrial(config, splits, log, bar));
    }
  }
  const { json: _j, quiet: _q, runsDir: _r, name: _n, ...config } = o;
  const results = await publishResults(o, name, backend, splits, config, runs);
  tf.disposeVariables();
  return results;
}

/**
 * Train and evaluate one (seed, ε) model of a comparison: `config.epochs` epochs with a progress bar and
 * one log line per epoch, then the test calibration (temperature scaling on validation for ε = 0).
 * Deterministic given the config and the splits (also used by `labelsmooth sweep`'s workers).
 */
export async function runTrial(
  config: TrainConfig,
  splits: Splits,
  log: (line: string) => void,
  bar: Progress = progress('quiet'),
): Promise<RunResult> {
  const label = runLabel(config);
  const trainer = new Trainer(config, splits.train, splits.test);
  try {
    for (let e = 0; e < config.epochs; e++) {
      bar.start(
        `${label} seed ${config.seed} epoch ${e + 1}/${config.epochs}`,
        Math.ceil(splits.train.rows / config.batchSize),
      );
      const m = await trainer.runEpoch((done) => bar.update(done));
      bar.stop();
      log(epochLine(label, config.seed, m));
    }
    return evaluateRun(trainer, config.epsilon === 0 ? splits.validation : null);
  } finally {
    trainer.dispose();
  }
}

/**
 * Write `<runsDir>/<name>/results.json` and report.html for the runs of a comparison, then print the
 * summary table (or the JSON with `--json`). Also used by `labelsmooth sweep`.
 */
export async function publishResults(
  o: Pick<RunOptions, 'runsDir' | 'json'>,
  name: string,
  backend: string,
  splits: Splits,
  config: CompareResults['config'],
  runs: RunResult[],
): Promise<CompareResults> {
  const results = experimentResults('compare', name, backend, splits, config, runs);
  const dir = join(o.runsDir, name);
  const reportFile = await writeResults(dir, results);
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else {
    process.stdout.write(`\n${summaryTable(results.summary)}\n\n`);
    for (const r of runs) {
      if (r.temperature)
        process.stdout.write(
          `${r.label} seed ${r.seed}: temperature T = ${r.temperature.temperature.toFixed(3)} fitted on validation\n`,
        );
    }
    process.stdout.write(`results: ${join(dir, 'results.json')}\nreport: ${reportFile}\n`);
  }
  return results;
}
