import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CompareResults } from '../results/schema.js';
import { evaluateRun, metricsAnalyzer, runLabel } from '../train/experiment.js';
import { writeFileAtomic } from '../train/files.js';
import { directoryHandler, MODEL_FILES } from '../train/io.js';
import { claim } from '../train/manifest.js';
import { checkpoints, Trainer } from '../train/trainer.js';
import { checkModelBackend, checkModelData, UsageError, useBackend } from './backend.js';
import { type CliContext, DEFAULT_CONTEXT } from './context.js';
import { dataHash, loadSplits, type Splits } from './datasets.js';
import { epochLine, wrapParts } from './epochLine.js';
import { isStorageError, resumableWriteError } from './errorLine.js';
import { FAMILY_DEFAULTS, runConfig, storedVariant, trainVariant, withFamilyConfig } from './family.js';
import { datasetName, deriveRunName } from './naming.js';
import { flagName } from './options.js';
import { progress } from './progress.js';
import { checkRunDir, openRunDir, readRunConfig } from './runDir.js';
import type { RunOptions } from './runOptions.js';
import { experimentResults, publishResults } from './runOutput.js';

/** Options of `labelsmooth train`. */
export interface TrainOptions extends RunOptions {
  epsilon: number;
  resume: boolean;
}

/** Options that only say how to run, not what: they may differ between a run and its `--resume`. */
const META = ['json', 'quiet', 'resume', 'runsDir', 'name', 'force'] as const;

/** config.json: the options that determine the run, and the SHA-256 of its data. */
type Saved = Omit<TrainOptions, (typeof META)[number]> & { dataSha256?: string };

function settings(o: TrainOptions): Omit<Saved, 'dataSha256'> {
  const { json: _j, quiet: _q, resume: _r, runsDir: _d, name: _n, force: _f, ...rest } = o;
  return rest;
}

/**
 * `--resume` continues a run with the settings it was started with. A setting given again with another
 * value is refused, naming each one, instead of being ignored.
 */
export function resumeConflicts(saved: Saved, o: TrainOptions, given: ReadonlySet<string>): string[] {
  const now = settings(o) as Record<string, unknown>;
  const was = saved as Record<string, unknown>;
  return [...given]
    .filter((k) => !(META as readonly string[]).includes(k))
    .filter((k) => JSON.stringify(now[k]) !== JSON.stringify(was[k]))
    .map((k) => `${flagName(k)} ${shownValue(k, now[k])} (the run has ${shownValue(k, was[k])})`);
}

/** What an unset option means, as a resume refusal shows it: a size is every row; the others say none. */
const UNSET: Record<string, string> = {
  trainSize: 'all',
  testSize: 'all',
  loss: 'none: label smoothing with --epsilon',
  labelColumn: "none: 'label', else the last column",
};

/** An option's value as the command line gives it; an unset one says what it means. */
function shownValue(key: string, v: unknown): string {
  if (v === undefined || v === null) return UNSET[key] ?? 'none';
  return Array.isArray(v) ? v.join(',') : String(v);
}

const readConfig = (file: string) =>
  readRunConfig<Saved>(
    file,
    'labelsmooth train configuration',
    (v) => typeof v.dataset === 'string' && Number.isFinite(v.epsilon),
  );

/** The run name: `--name`, or derived from the options that differ from their defaults. */
export function trainRunName(o: TrainOptions, cli: CliContext): string {
  return o.name ?? deriveRunName('train', datasetName(o.dataset), { ...o }, cli.defaults);
}

/** Open the run for `--resume`: stored settings, the same data (by hash), no conflicting flags. */
function openResume(o: TrainOptions, cli: CliContext, name: string) {
  if (o.force)
    throw new UsageError('--resume continues a run and --force replaces it: give one of them, not both');
  const run = openRunDir(o.runsDir, name, { mode: 'resume' });
  try {
    const configFile = join(run.dir, 'config.json');
    const saved = readConfig(configFile);
    const conflicts = resumeConflicts(saved, o, cli.given);
    if (conflicts.length > 0)
      throw new UsageError(
        `--resume continues ${run.dir} with the settings in its config.json; these differ: ${conflicts.join(', ')}. ` +
          'Drop them, or start a new run (another --name, or --force)',
      );
    checkModelBackend(saved.model, saved.backend);
    const splits = loadSplits(saved);
    checkModelData(saved.model, splits.train);
    const hash = dataHash(splits);
    if (saved.dataSha256 !== undefined && saved.dataSha256 !== hash)
      throw new UsageError(
        `--resume: the data of ${saved.dataset} changed since ${run.dir} started (SHA-256 ` +
          `${saved.dataSha256.slice(0, 12)}… then, ${hash.slice(0, 12)}… now); restore it, or start over with --force`,
      );
    return { run, saved, splits, verified: saved.dataSha256 !== undefined };
  } catch (e) {
    run.release();
    throw e;
  }
}

/** Open a new run: every refusal (name taken, bad data) comes before anything is written. */
function openNew(o: TrainOptions, cli: CliContext, name: string) {
  trainVariant(o, cli.given);
  checkRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  checkModelBackend(o.model, o.backend);
  const splits: Splits = loadSplits(o, cli.given);
  checkModelData(o.model, splits.train);
  const run = openRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  const saved: Saved = { ...settings(o), dataSha256: dataHash(splits) };
  claim(run.dir, ['config.json', 'metrics.jsonl']);
  writeFileAtomic(join(run.dir, 'config.json'), `${JSON.stringify(saved, null, 1)}\n`);
  return { run, saved, splits };
}

/**
 * One training run in runs/<name>: config.json (with the data's SHA-256), metrics.jsonl (one JSON line
 * per epoch), the latest checkpoint (checkpoints/ + checkpoint.json), the final model in TF.js format
 * (model/model.json + weights.bin) and results.json. `--resume` verifies, then continues from the last
 * checkpoint to exactly the result of an uninterrupted run.
 */
export async function trainCommand(
  o: TrainOptions,
  cli: CliContext = DEFAULT_CONTEXT,
): Promise<CompareResults> {
  const name = trainRunName(o, cli);
  const opened = o.resume ? openResume(o, cli, name) : { ...openNew(o, cli, name), verified: true };
  try {
    return await runOpened(o, name, opened);
  } catch (e) {
    // A full or read-only disk mid-run: the run directory holds complete files only (atomic writes), so
    // the run goes on from its last checkpoint once the disk is fixed.
    if (isStorageError(e) && existsSync(join(opened.run.dir, 'config.json'))) throw resumableWriteError(e);
    throw e;
  }
}

/** Train (or continue) an opened run to its end, then write its model and results. */
async function runOpened(
  o: TrainOptions,
  name: string,
  opened: ReturnType<typeof openNew> & { verified: boolean },
): Promise<CompareResults> {
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const { run, saved, splits } = opened;
  const dir = run.dir;
  const backend = await useBackend(saved.backend);
  const variant = storedVariant(saved);
  const config = runConfig(saved, saved.seed, variant);
  const label = runLabel(config);
  const trainer = new Trainer(config, splits.train, splits.test);
  if (o.resume) {
    if (!opened.verified) log(`note: ${dir}/config.json has no data hash (older version): data not verified`);
    const ckpt = checkpoints.latest(dir);
    if (ckpt) await trainer.loadCheckpoint(ckpt.dir, ckpt.epoch);
    log(
      ckpt
        ? `resuming ${dir} after epoch ${trainer.epoch}`
        : `resuming ${dir}: no checkpoint yet, from epoch 1`,
    );
  }
  const writeMetrics = () =>
    writeFileAtomic(
      join(dir, 'metrics.jsonl'),
      trainer.history.map((m) => `${JSON.stringify(m)}\n`).join(''),
    );
  writeMetrics();
  log(
    wrapParts([
      `labelsmooth train → ${dir}:`,
      `${splits.dataset} (train ${splits.train.rows}, validation ${splits.validation?.rows ?? 0},`,
      `test ${splits.test.rows}),`,
      `${config.model}, ${label}, seed ${config.seed}, backend ${backend}`,
    ]),
  );
  for (const note of splits.notes) log(`note: ${note}`);
  const batches = Math.ceil(splits.train.rows / config.batchSize);
  const bar = progress(o.quiet ? 'quiet' : 'auto', config.epochs * batches, trainer.epoch * batches);
  for (let e = trainer.epoch; e < config.epochs; e++) {
    const m = await trainer.runEpoch((done) =>
      bar.update(e * batches + done, `run 1/1 ${label} seed ${config.seed} epoch ${e + 1}/${config.epochs}`),
    );
    await checkpoints.save(dir, trainer);
    writeMetrics();
    bar.log(epochLine(label, config.seed, m, config.epochs, config.loss));
  }
  bar.stop();
  // The model directory is written once, in one rename; a resume after it was written finds the same
  // weights in the last checkpoint and keeps it.
  if (!existsSync(join(dir, 'model', 'model.json'))) {
    claim(
      dir,
      MODEL_FILES.map((f) => `model/${f}`),
    );
    await trainer.model.save(directoryHandler(join(dir, 'model')));
  }
  const { result } = evaluateRun(trainer, splits.test, splits.validation, metricsAnalyzer());
  const { dataSha256: _h, ...resultConfig } = saved;
  const results = experimentResults({
    kind: 'train',
    name,
    backend,
    splits,
    config: withFamilyConfig(
      { ...resultConfig, epsilons: [saved.epsilon], seeds: [saved.seed] },
      { ...FAMILY_DEFAULTS, ...saved },
      [variant],
    ),
    runs: [result],
  });
  await publishResults(dir, results, o.json, { model: join(dir, 'model', 'model.json') });
  run.release();
  trainer.dispose();
  tf.disposeVariables();
  return results;
}
