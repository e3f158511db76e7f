import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Analyzer, PairedAnalysis } from '../report/analysis.js';
import { methodName, tableOrder } from '../report/report.js';
import {
  evaluateRun,
  metricsAnalyzer,
  monitorSet,
  pairedAnalyses,
  type RunLogits,
  type RunResult,
  runLabel,
  type SummaryRow,
  summarize,
} from '../train/experiment.js';
import type { ModelKind } from '../train/model.js';
import { type EpochMetrics, type NoiseKind, Trainer } from '../train/trainer.js';
import { type BackendName, checkModelBackend, checkModelData, useBackend } from './backend.js';
import { type DataOptions, loadSplits, type Splits } from './datasets.js';
import { progress } from './progress.js';
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
  /** Size of the stratified test subset the per-epoch test metrics are measured on (absent: the whole test set). */
  monitor?: number;
  /** Paired bootstrap differences against ε = 0 on the same test rows, per seed (with an analyzer). */
  paired?: PairedAnalysis[];
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

/**
 * The table in the shape of Müller, Kornblith & Hinton 2019, Table 3: ECE and NLL of the baseline, label
 * smoothing, temperature scaling and both; mean ± sd over seeds, then the 95 % interval when known.
 */
export function mullerTable(rows: SummaryRow[]): string {
  const iv = (x?: [number, number]) => (x ? ` [${x[0].toFixed(3)}, ${x[1].toFixed(3)}]` : '');
  return formatTable(
    ['method', 'ECE', 'NLL', 'accuracy'],
    tableOrder(rows).map((r) => [
      methodName(r),
      pm(r.ece, r.runs) + iv(r.intervals?.ece),
      pm(r.nll, r.runs) + iv(r.intervals?.nll),
      pm(r.accuracy, r.runs) + iv(r.intervals?.accuracy),
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
  paired?: PairedAnalysis[],
): CompareResults {
  const results: CompareResults = {
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
  if (paired?.length) results.paired = paired;
  return results;
}

/** Paired differences against ε = 0 when the calibration metrics are plugged in. */
function pairings(logits: RunLogits[], splits: Splits, analyzer?: Analyzer): PairedAnalysis[] | undefined {
  if (!analyzer) return undefined;
  return pairedAnalyses(logits, splits.test.y, splits.test.classNames.length, analyzer);
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
  const monitor = monitorSet(splits.test, o.seeds[0]);
  const runs: RunResult[] = [];
  const logits: RunLogits[] = [];
  const analyzer = metricsAnalyzer();
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
      const label = runLabel(config);
      const trainer = new Trainer(config, splits.train, monitor);
      for (let e = 0; e < o.epochs; e++) {
        bar.start(
          `${label} seed ${seed} epoch ${e + 1}/${o.epochs}`,
          Math.ceil(splits.train.rows / o.batchSize),
        );
        const m = await trainer.runEpoch((done) => bar.update(done));
        bar.stop();
        log(epochLine(label, seed, m));
      }
      const done = evaluateRun(trainer, splits.test, splits.validation, analyzer);
      runs.push(done.result);
      logits.push(done.logits);
      trainer.dispose();
    }
  }
  const { json: _j, quiet: _q, runsDir: _r, name: _n, ...config } = o;
  const paired = pairings(logits, splits, analyzer);
  const results = experimentResults('compare', name, backend, splits, config, runs, paired);
  if (monitor !== splits.test) results.monitor = monitor.rows;
  const dir = join(o.runsDir, name);
  const reportFile = await writeResults(dir, results);
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else {
    process.stdout.write(`\n${summaryTable(results.summary)}\n\n${mullerTable(results.summary)}\n\n`);
    for (const r of runs) {
      if (r.temperature)
        process.stdout.write(
          `${r.label} seed ${r.seed}: temperature T = ${r.temperature.temperature.toFixed(3)} fitted on validation\n`,
        );
    }
    process.stdout.write(`results: ${join(dir, 'results.json')}\nreport: ${reportFile}\n`);
  }
  tf.disposeVariables();
  return results;
}
