import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CompareResults } from '../results/schema.js';
import { evaluateRun, type RunResult, runLabel } from '../train/experiment.js';
import type { ModelKind } from '../train/model.js';
import { type NoiseKind, Trainer } from '../train/trainer.js';
import { type BackendName, checkModelBackend, checkModelData, useBackend } from './backend.js';
import { type DataOptions, loadSplits, type Splits } from './datasets.js';
import { progress } from './progress.js';
import { writeResults } from './results.js';
import { epochLine, experimentResults, summaryTable } from './runOutput.js';

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
      const label = runLabel(config);
      const trainer = new Trainer(config, splits.train, splits.test);
      for (let e = 0; e < o.epochs; e++) {
        bar.start(
          `${label} seed ${seed} epoch ${e + 1}/${o.epochs}`,
          Math.ceil(splits.train.rows / o.batchSize),
        );
        const m = await trainer.runEpoch((done) => bar.update(done));
        bar.stop();
        log(epochLine(label, seed, m));
      }
      runs.push(evaluateRun(trainer, epsilon === 0 ? splits.validation : null));
      trainer.dispose();
    }
  }
  const { json: _j, quiet: _q, runsDir: _r, name: _n, ...config } = o;
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
  tf.disposeVariables();
  return results;
}
