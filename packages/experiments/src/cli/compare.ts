import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset.js';
import type { CompareResults } from '../results/schema.js';
import type { Analyzer } from '../train/analysis.js';
import {
  budgetLabel,
  metricsAnalyzer,
  monitorSet,
  pairedAnalyses,
  type RunLogits,
  type RunResult,
  runLabel,
} from '../train/experiment.js';
import { runTrial } from '../train/trial.js';
import { checkModelBackend, checkModelData, useBackend } from './backend.js';
import { budgetEpochs, budgetRun } from './budget.js';
import { type CliContext, DEFAULT_CONTEXT } from './context.js';
import { budgetSplits, DATA_SEED, drawSplits, loadPool, type Splits } from './datasets.js';
import { epochLine, wrapParts } from './epochLine.js';
import { compareVariants, gridText, runConfig, type Variant, withFamilyConfig } from './family.js';
import { datasetName, deriveRunName } from './naming.js';
import { type Progress, progress } from './progress.js';
import { checkRunDir, openRunDir } from './runDir.js';
import { type CompareOptions, storedConfig } from './runOptions.js';
import { experimentResults, publishResults } from './runOutput.js';
import { decodeLogits, type TrialOutcome } from './sweep/execute.js';
import { expandGrid, type GridRun, type Trial, trialKey, trialLoss } from './sweep/grid.js';
import { runLocalPool } from './sweep/pool.js';
import type { SweepSpec } from './sweep/spec.js';
import { trialSpec } from './trialSpec.js';

/** The run name: `--name`, or derived from the options that differ from their defaults. */
export function compareRunName(o: CompareOptions, cli: CliContext): string {
  return o.name ?? deriveRunName('compare', datasetName(o.dataset), { ...o }, cli.defaults);
}

/** Job-wide progress: `run 2/8 ε=0.1 seed 1 epoch 3/12`, steps = batches over every run and epoch. */
function jobProgress(o: CompareOptions, batches: number, perSeed: number) {
  const runs = o.seeds.length * perSeed;
  const bar = progress(o.quiet ? 'quiet' : 'auto', runs * o.epochs * batches);
  let run = 0;
  return {
    bar: bar as Progress,
    nextRun: () => run++,
    tick(label: string, epoch: number, batch: number) {
      const done = ((run - 1) * o.epochs + epoch) * batches + batch;
      bar.update(done, `run ${run}/${runs} ${label} epoch ${epoch + 1}/${o.epochs}`);
    },
  };
}

/** One run of each seed: a variant, on the training split or (the budget-matched run) on train ∪ validation. */
interface SeedRun {
  variant: Variant;
  budget: boolean;
}

/** What {@link inProcess} trains with. */
interface InProcess {
  bySeed: Map<number, Splits>;
  monitor: Dataset;
  seedRuns: SeedRun[];
  analyzer: Analyzer;
  batches: number;
}

/** Train every (seed, variant) in this process, one after another, with a progress bar over batches. */
async function inProcess(o: CompareOptions, t: InProcess) {
  const job = jobProgress(o, t.batches, t.seedRuns.length);
  const runs: RunResult[] = [];
  const logits: RunLogits[] = [];
  for (const seed of o.seeds) {
    for (const { variant, budget } of t.seedRuns) {
      const splits = t.bySeed.get(seed) as Splits;
      const config = runConfig(o, seed, variant);
      if (budget) {
        const held = splits.validation?.rows ?? 0;
        config.epochs = budgetEpochs(o.epochs, o.batchSize, splits.train.rows, held);
      }
      const label = runLabel(config);
      job.nextRun();
      const done = await runTrial(
        config,
        { ...(budget ? budgetSplits(splits) : splits), monitor: t.monitor },
        {
          onBatch: (e, batch) => job.tick(`${label} seed ${seed}`, e, batch),
          onEpoch: (m) => job.bar.log(epochLine(label, seed, m, config.epochs, config.loss)),
        },
        t.analyzer,
      );
      runs.push(done.result);
      logits.push(done.logits);
    }
  }
  job.bar.stop();
  return { runs, logits };
}

/**
 * Train the trials in `workers` child processes (the sweep's local pool: one trial per core at a time),
 * then put the results in compare's order. Each trial's result is the one compare trains in process (the
 * same runner, data draw and seeds), so the results are the same whatever the number of workers.
 */
async function onPool(
  o: CompareOptions,
  spec: SweepSpec,
  trials: Trial[],
  workers: number,
  log: (s: string) => void,
) {
  const bar = progress(o.quiet ? 'quiet' : 'auto', trials.length);
  const done = new Map<string, TrialOutcome>();
  // The budget-matched trials train on twice the rows: start them first, so that no long trial is left
  // for one process at the end while the other waits.
  const first = [...trials.filter((t) => t.trainedOn), ...trials.filter((t) => !t.trainedOn)];
  await runLocalPool(spec, first, {
    workers,
    quiet: o.quiet,
    log,
    onOutcome: (out) => {
      done.set(out.key, out);
      bar.update(done.size, `${done.size}/${trials.length} runs done (${workers} processes)`);
    },
  });
  bar.stop();
  const outcomes = trials.map((t) => done.get(trialKey(t)) as TrialOutcome);
  return { runs: outcomes.map((x) => x.result), logits: outcomes.map(decodeLogits) };
}

/** Train one model per (seed, ε) and compare their calibration; writes runs/<name>/results.json. */
export async function compare(o: CompareOptions, cli: CliContext = DEFAULT_CONTEXT): Promise<CompareResults> {
  const name = compareRunName(o, cli);
  const variants = compareVariants(o, cli.given);
  checkRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  checkModelBackend(o.model, o.backend);
  const backend = await useBackend(o.backend);
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  // Each seed is a replicate: its own training and validation rows, shared by every run of that seed.
  const pool = loadPool(o, cli.given);
  const bySeed = new Map<number, Splits>(o.seeds.map((s) => [s, drawSplits(pool, o, s, cli.given)]));
  const splits = bySeed.get(o.seeds[0]) as Splits;
  checkModelData(o.model, splits.train);
  const notes = [...splits.notes];
  const budget = budgetRun(o, splits.validation?.rows ?? 0, cli.given, (s) => notes.push(s));
  const run = openRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  const dir = run.dir;
  log(
    wrapParts([
      `labelsmooth compare → ${dir}:`,
      `${splits.dataset} (train ${splits.train.rows}, validation ${splits.validation?.rows ?? 0}, test ${splits.test.rows}),`,
      `${o.model}, ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, batch ${o.batchSize}, lr ${o.lr}, noise ${o.noise},`,
      `${gridText(
        o,
        variants.map((v) => runLabel(runConfig(o, 0, v))),
      )}${budget ? `, ${budgetLabel(`ε=${budget.epsilon}`)}` : ''}, seeds {${o.seeds.join(', ')}}, backend ${backend}`,
    ]),
  );
  for (const note of notes) log(note.startsWith('note: ') ? note : `note: ${note}`);
  const monitor = monitorSet(splits.test, DATA_SEED);
  const analyzer = metricsAnalyzer();
  const gridRuns: GridRun[] = variants.map((v) => ({ loss: trialLoss(v.loss), epsilon: v.epsilon }));
  const seedRuns: SeedRun[] = variants.map((variant) => ({ variant, budget: false }));
  if (budget) {
    gridRuns.push(budget);
    seedRuns.push({ variant: { epsilon: budget.epsilon }, budget: true });
  }
  const trials = expandGrid({ datasets: [o.dataset], noises: [o.noise], seeds: o.seeds, runs: gridRuns });
  const workers = Math.min(o.workers ?? 1, trials.length);
  const trained =
    workers > 1
      ? await onPool(o, trialSpec(o, backend, pool), trials, workers, log)
      : await inProcess(o, {
          bySeed,
          monitor,
          seedRuns,
          analyzer,
          batches: Math.ceil(splits.train.rows / o.batchSize),
        });
  const { runs, logits } = trained;
  const paired = pairedAnalyses(logits, splits.test.y, splits.test.classNames.length, analyzer);
  const config = withFamilyConfig(
    storedConfig({ ...o, budgetEpsilon: budget?.epsilon ?? null }),
    o,
    variants,
  );
  const results = experimentResults({
    kind: 'compare',
    name,
    backend,
    splits,
    config,
    runs,
    monitor,
    paired,
  });
  await publishResults(dir, results, o.json);
  run.release();
  tf.disposeVariables();
  return results;
}
