import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataFileError } from '../data/errors.js';
import { evaluateRun, metricsAnalyzer } from '../train/experiment.js';
import { writeFileAtomic } from '../train/files.js';
import { directoryHandler } from '../train/io.js';
import { checkpoints, Trainer } from '../train/trainer.js';
import { checkModelBackend, checkModelData, useBackend } from './backend.js';
import type { CompareResults } from './compare.js';
import { epochLine, experimentResults, type RunOptions, summaryTable } from './compare.js';
import { loadSplits } from './datasets.js';
import { progress } from './progress.js';
import { writeResults } from './results.js';

/** Options of `labelsmooth train`. */
export interface TrainOptions extends RunOptions {
  epsilon: number;
  resume: boolean;
}

type Saved = Omit<TrainOptions, 'json' | 'quiet' | 'resume' | 'runsDir' | 'name'>;

/**
 * One training run in runs/<name>: config.json, metrics.jsonl (one JSON line per epoch), a checkpoint per
 * epoch (checkpoints/ + checkpoint.json), the final model in TF.js format (model/model.json +
 * weights.bin) and results.json. `--resume` continues from the last checkpoint to exactly the result of an
 * uninterrupted run.
 */
export async function trainCommand(o: TrainOptions): Promise<CompareResults> {
  const name = o.name ?? `train-${o.dataset.replace(/[^\w.-]+/g, '_')}-eps${o.epsilon}`;
  const dir = join(o.runsDir, name);
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  let saved: Saved;
  const configFile = join(dir, 'config.json');
  if (o.resume) {
    if (!existsSync(configFile))
      throw new DataFileError(configFile, undefined, 'nothing to resume: no run was started here');
    try {
      saved = JSON.parse(readFileSync(configFile, 'utf8')) as Saved;
    } catch (e) {
      throw new DataFileError(configFile, undefined, `corrupt run configuration: ${(e as Error).message}`);
    }
  } else {
    const { json: _j, quiet: _q, resume: _r, runsDir: _d, name: _n, ...rest } = o;
    saved = rest;
  }
  // Everything that can be refused is checked before a new run replaces an old one's files.
  checkModelBackend(saved.model, saved.backend);
  const splits = loadSplits(saved);
  checkModelData(saved.model, splits.train);
  if (!o.resume) {
    for (const f of ['checkpoints', 'checkpoint.json', 'metrics.jsonl', 'model', 'results.json'])
      rmSync(join(dir, f), { recursive: true, force: true });
    writeFileAtomic(configFile, `${JSON.stringify(saved, null, 1)}\n`);
  }
  const backend = await useBackend(saved.backend);
  const config = {
    epsilon: saved.epsilon,
    noise: saved.noise,
    seed: saved.seed,
    model: saved.model,
    epochs: saved.epochs,
    batchSize: saved.batchSize,
    lr: saved.lr,
  };
  const trainer = new Trainer(config, splits.train, splits.test);
  const ckpt = o.resume ? checkpoints.latest(dir) : null;
  if (ckpt) {
    await trainer.loadCheckpoint(ckpt);
    log(`resuming ${dir} after epoch ${trainer.epoch}`);
  }
  const writeMetrics = () =>
    writeFileAtomic(
      join(dir, 'metrics.jsonl'),
      trainer.history.map((m) => `${JSON.stringify(m)}\n`).join(''),
    );
  writeMetrics();
  log(
    `labelsmooth train: ${splits.dataset} (train ${splits.train.rows}, test ${splits.test.rows}), ${config.model}, ε=${config.epsilon}, seed ${config.seed}, backend ${backend}`,
  );
  const bar = progress(o.quiet ? 'quiet' : 'auto');
  for (let e = trainer.epoch; e < config.epochs; e++) {
    bar.start(`epoch ${e + 1}/${config.epochs}`, Math.ceil(splits.train.rows / config.batchSize));
    const m = await trainer.runEpoch((done) => bar.update(done));
    bar.stop();
    await checkpoints.save(dir, trainer);
    writeMetrics();
    log(epochLine(`ε=${config.epsilon}`, config.seed, m));
  }
  await trainer.model.save(directoryHandler(join(dir, 'model')));
  const run = evaluateRun(trainer, splits.test, splits.validation, metricsAnalyzer()).result;
  const resultConfig = { ...saved, epsilons: [saved.epsilon], seeds: [saved.seed] };
  const results = experimentResults('train', name, backend, splits, resultConfig, [run]);
  const reportFile = await writeResults(dir, results);
  trainer.dispose();
  tf.disposeVariables();
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else
    process.stdout.write(
      `\n${summaryTable(results.summary)}\n\nmodel: ${join(dir, 'model', 'model.json')}\nresults: ${join(dir, 'results.json')}\nreport: ${reportFile}\n`,
    );
  return results;
}
