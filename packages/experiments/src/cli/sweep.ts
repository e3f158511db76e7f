import * as tf from '@tensorflow/tfjs-core';
import type { CompareResults } from '../results/schema.js';
import { budgetLabel, metricsAnalyzer, monitorSet, pairedAnalyses, runLabel } from '../train/experiment.js';
import { namePath } from '../train/files.js';
import { claim } from '../train/manifest.js';
import { checkModelBackend, checkModelData, useBackend } from './backend.js';
import { budgetRun } from './budget.js';
import { type CliContext, DEFAULT_CONTEXT } from './context.js';
import { DATA_SEED, drawSplits, loadPool, type Splits } from './datasets.js';
import { compareVariants, gridText, withFamilyConfig } from './family.js';
import { datasetName, deriveRunName } from './naming.js';
import { checkRunDir, openRunDir } from './runDir.js';
import { type CompareOptions, storedConfig } from './runOptions.js';
import { experimentResults, publishResults } from './runOutput.js';
import { decodeLogits, type TrialOutcome } from './sweep/execute.js';
import { expandGrid, type GridRun, type Trial, trialKey, trialLoss } from './sweep/grid.js';
import { TrialLedger } from './sweep/ledger.js';
import { runLocalPool } from './sweep/pool.js';
import { runOnQueue } from './sweep/queue.js';
import { checkQueueUrl, type QueueTarget } from './sweep/redisUrl.js';
import { type SweepSpec, specHash, trainConfig } from './sweep/spec.js';
import { checkSpecFile, SPEC_FILE } from './sweep/specFile.js';
import { trialSpec } from './trialSpec.js';

/** Options of `labelsmooth sweep`: compare's grid, and where the trials run. */
export interface SweepOptions extends CompareOptions {
  /** Local trial processes (ignored with `queue`). */
  workers: number;
  /** `redis://HOST:PORT`: run the trials on `labelsmooth worker` processes through a BullMQ queue. */
  queue?: string;
  /** Accept a password-less Redis on a non-loopback host. */
  insecure: boolean;
  /** Seconds the queue's Redis may stay unreachable before the sweep stops (it can be resumed). */
  redisTimeout: number;
  /** Seconds the queue may go without a worker before the sweep stops (it can be resumed). */
  workerTimeout: number;
}

/** A sweep's grid, data and configuration, checked before its run directory is opened. */
interface SweepPlan {
  name: string;
  variants: ReturnType<typeof compareVariants>;
  target: QueueTarget | null;
  backend: string;
  splits: Splits;
  spec: SweepSpec;
  trials: Trial[];
  /** Run labels of the grid's variants (the first seed's trials). */
  labels: string[];
  /** The budget-matched run (compare's), or null without one. */
  budget: GridRun | null;
  log: (line: string) => void;
}

/**
 * Run compare's grid with every (dataset, ε, noise, loss, seed) trial as an independent job — in
 * `workers` local processes, or on a BullMQ queue — recording each finished trial in
 * `<run-dir>/trials.jsonl` first, then write results.json and report.html exactly as `compare` does.
 * Run again, the same command trains only the trials the ledger does not hold.
 */
export async function sweep(o: SweepOptions, cli: CliContext = DEFAULT_CONTEXT): Promise<CompareResults> {
  const plan = await planSweep(o, cli);
  const run = openRunDir(o.runsDir, plan.name, { mode: 'ledger', force: o.force });
  try {
    claim(run.dir, [SPEC_FILE, 'trials.jsonl']);
    checkSpecFile(run.dir, plan.spec);
  } catch (e) {
    run.release();
    throw e;
  }
  const ledger = new TrialLedger(run.dir, specHash(plan.spec));
  try {
    await trainMissing(o, plan, ledger);
  } finally {
    ledger.close();
  }
  const results = sweepResults(o, plan, ledger);
  await publishResults(run.dir, results, o.json);
  run.release();
  tf.disposeVariables();
  return results;
}

/** Check the options, load the data (every seed's splits drawn once) and expand the grid into trials. */
async function planSweep(o: SweepOptions, cli: CliContext): Promise<SweepPlan> {
  const name = o.name ?? deriveRunName('sweep', datasetName(o.dataset), { ...o }, cli.defaults);
  const variants = compareVariants(o, cli.given);
  checkRunDir(o.runsDir, name, { mode: 'ledger', force: o.force });
  checkModelBackend(o.model, o.backend);
  const target = o.queue ? checkQueueUrl(o.queue, o.insecure) : null;
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const backend = await useBackend(o.backend);
  // Every trial draws its seed's splits from this pool (the workers too); the first seed's are checked here.
  const pool = loadPool(o, cli.given);
  const splits = drawSplits(pool, o, o.seeds[0], cli.given);
  for (const seed of o.seeds.slice(1)) drawSplits(pool, o, seed, cli.given);
  checkModelData(o.model, splits.train);
  const spec: SweepSpec = trialSpec(o, backend, pool);
  // compare's grid: the variants, then the budget-matched run (label smoothing on train ∪ validation).
  const runs: GridRun[] = variants.map((v) => ({ loss: trialLoss(v.loss), epsilon: v.epsilon }));
  const budget = budgetRun(o, splits.validation?.rows ?? 0, cli.given, (note) => splits.notes.push(note));
  if (budget) runs.push(budget);
  const trials = expandGrid({ datasets: [o.dataset], noises: [o.noise], seeds: o.seeds, runs });
  const labels = trials.slice(0, variants.length).map((t) => runLabel(trainConfig(spec, t)));
  return { name, variants, target, backend, splits, spec, trials, labels, budget, log };
}

/** Train the trials the ledger does not hold, locally or on the queue, recording each as it finishes. */
async function trainMissing(o: SweepOptions, plan: SweepPlan, ledger: TrialLedger): Promise<void> {
  const { trials, log } = plan;
  const todo = trials.filter((t) => !ledger.done.has(trialKey(t)));
  log(sweepHeader(o, plan, ledger.file, todo.length));
  for (const note of plan.splits.notes) log(`note: ${note}`);
  if (ledger.repaired > 0)
    log(`sweep: cut off a torn last line (${ledger.repaired} bytes) of ${ledger.file}`);
  if (ledger.foreign > 0)
    log(
      `sweep: ignored ${ledger.foreign} ledger lines of another configuration (spec hash ≠ ${ledger.spec})`,
    );
  let finished = trials.length - todo.length;
  const onOutcome = (out: TrialOutcome) => {
    try {
      ledger.record(out);
    } catch (e) {
      throw namePath(e, ledger.file);
    }
    finished++;
    log(
      `sweep: ${out.key} done by ${out.worker} in ${out.seconds.toFixed(1)} s (${finished}/${trials.length})`,
    );
  };
  if (plan.target)
    await runOnQueue(plan.target, plan.spec, todo, {
      log,
      onOutcome,
      redisTimeout: o.redisTimeout * 1000,
      workerTimeout: o.workerTimeout * 1000,
    });
  else await runLocalPool(plan.spec, todo, { workers: o.workers, quiet: o.quiet, log, onOutcome });
}

/** The sweep's first line: the data, the grid, and how many trials are left to train where. */
function sweepHeader(o: SweepOptions, plan: SweepPlan, ledgerFile: string, todo: number): string {
  const { splits, spec, trials, target } = plan;
  const where =
    todo === 0
      ? ''
      : target
        ? ` on the queue ${target.display}`
        : ` in ${Math.min(o.workers, todo)} local processes`;
  return (
    `labelsmooth sweep: ${splits.dataset} (train ${splits.train.rows}, validation ${splits.validation?.rows ?? 0}, test ${splits.test.rows}, data ${spec.dataHash}), ` +
    `${o.model}, ${o.epochs} epochs, batch ${o.batchSize}, lr ${o.lr}, noise ${o.noise}, ${gridText(o, plan.labels)}${plan.budget ? `, ${budgetLabel(`ε=${plan.budget.epsilon}`)}` : ''}, seeds {${o.seeds.join(', ')}}, backend ${plan.backend}: ` +
    `${trials.length} trials, ${trials.length - todo} already in ${ledgerFile}, ${todo} to train${where}`
  );
}

/** results.json of a finished sweep, from the ledger: compare's, the paired differences included. */
function sweepResults(o: SweepOptions, plan: SweepPlan, ledger: TrialLedger): CompareResults {
  const { splits } = plan;
  const entries = plan.trials.map((t) => {
    const entry = ledger.done.get(trialKey(t));
    if (!entry) throw new Error(`sweep: trial ${trialKey(t)} finished without a result`);
    return entry;
  });
  // The paired differences as compare computes them, from every trial's recorded test logits.
  const k = splits.test.classNames.length;
  const results = experimentResults({
    kind: 'compare',
    name: plan.name,
    backend: plan.backend,
    splits,
    config: withFamilyConfig(
      storedConfig({ ...o, budgetEpsilon: plan.budget?.epsilon ?? null }),
      o,
      plan.variants,
    ),
    runs: entries.map((e) => e.result),
    monitor: monitorSet(splits.test, DATA_SEED),
    paired: pairedAnalyses(entries.map(decodeLogits), splits.test.y, k, metricsAnalyzer()),
  });
  results.command = 'sweep';
  return results;
}
