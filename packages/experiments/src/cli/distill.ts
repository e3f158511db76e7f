import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { calibration } from 'labelsmooth';
import { distillClaims } from '../report/claims.js';
import type { DistillConfig, DistillModel, DistillResults, DistillSummary } from '../results/schema.js';
import { predictLogits, softTargets, trainStudent } from '../train/distillation.js';
import { metricsAnalyzer, monitorSet, seedIntervals, stat } from '../train/experiment.js';
import { Trainer } from '../train/trainer.js';
import { checkModelBackend, checkModelData, useBackend } from './backend.js';
import { type CliContext, DEFAULT_CONTEXT } from './context.js';
import { DATA_SEED, drawSplits, loadPool, type Splits } from './datasets.js';
import { wrapParts } from './epochLine.js';
import { datasetName, deriveRunName } from './naming.js';
import { progress } from './progress.js';
import { writeResults } from './results.js';
import { checkRunDir, openRunDir } from './runDir.js';
import type { OutputOptions } from './runOptions.js';
import { formatTable, pm } from './table.js';
import { UsageError } from './usage.js';

/** Options of `labelsmooth distill`: the stored settings plus where and how to write. */
export interface DistillOptions extends Omit<DistillConfig, 'backend'>, OutputOptions {
  /** An option of every training command; distill refuses anything but 'uniform'. */
  noise: string;
}

/** Summary per (role, teacher ε), teachers first, ε ascending. */
export function summarizeDistill(models: DistillModel[]): DistillSummary[] {
  const keys = [...new Set(models.map((m) => `${m.role}|${m.teacherEpsilon}`))];
  return keys
    .map((key) => {
      const [role, e] = key.split('|');
      const ms = models.filter((m) => m.role === role && m.teacherEpsilon === Number(e));
      const row: DistillSummary = {
        role: role as DistillSummary['role'],
        teacherEpsilon: Number(e),
        runs: ms.length,
        accuracy: stat(ms.map((m) => m.test.accuracy)),
        nll: stat(ms.map((m) => m.test.nll)),
        ece: stat(ms.map((m) => m.test.ece)),
      };
      const iv = seedIntervals(ms.map((m) => m.test));
      if (iv) row.intervals = { accuracy: iv.accuracy, nll: iv.nll, ece: iv.ece };
      return row;
    })
    .sort((a, b) =>
      a.role === b.role ? a.teacherEpsilon - b.teacherEpsilon : a.role === 'teacher' ? -1 : 1,
    );
}

/** The table printed at the end. */
export function distillTable(rows: DistillSummary[]): string {
  return formatTable(
    ['model', 'accuracy', 'NLL', 'ECE'],
    rows.map((r) => [
      r.role === 'teacher' ? `teacher ε=${r.teacherEpsilon}` : `student of the ε=${r.teacherEpsilon} teacher`,
      pm(r.accuracy, r.runs),
      pm(r.nll, r.runs),
      pm(r.ece, r.runs),
    ]),
  );
}

/**
 * The job's progress over every teacher's and student's batches: `seed 2 teacher ε=0.1 epoch 3/20`. The
 * models train in order (per seed: the ε = 0 teacher and its student, then the smoothed pair).
 */
function distillProgress(o: DistillOptions, batches: number) {
  const perModel = (o.epochs + o.studentEpochs) * batches;
  const bar = progress(o.quiet ? 'quiet' : 'auto', o.seeds.length * 2 * perModel);
  const base = (epsilon: number, seed: number) =>
    (o.seeds.indexOf(seed) * 2 + (epsilon === 0 ? 0 : 1)) * perModel;
  return {
    bar,
    teacher(epsilon: number, seed: number, epoch: number, batch: number) {
      bar.update(
        base(epsilon, seed) + epoch * batches + batch,
        `seed ${seed} teacher ε=${epsilon} epoch ${epoch + 1}/${o.epochs}`,
      );
    },
    student(epsilon: number, seed: number, epoch: number, batch: number) {
      bar.update(
        base(epsilon, seed) + (o.epochs + epoch) * batches + batch,
        `seed ${seed} student of ε=${epsilon} epoch ${epoch + 1}/${o.studentEpochs}`,
      );
    },
  };
}

/** Options shared with compare that distill has no use for are refused, not silently ignored. */
function refuseUnused(o: DistillOptions): void {
  if (o.noise !== 'uniform')
    throw new UsageError(
      `--noise ${o.noise}: distill's smoothed teacher uses uniform noise; leave --noise out`,
    );
  if (o.validation > 0)
    throw new UsageError(`--validation ${o.validation}: distill fits no temperature; leave --validation out`);
}

/** What training and scoring one seed's teachers and students needs. */
interface DistillJob {
  o: DistillOptions;
  bySeed: Map<number, Splits>;
  test: Splits['test'];
  monitor: Splits['test'];
  progress: ReturnType<typeof distillProgress>;
  /** Score a model's test logits, say so in one line. */
  evaluate: (
    role: DistillModel['role'],
    teacherEpsilon: number,
    seed: number,
    z: Float32Array,
  ) => DistillModel;
}

/**
 * Müller et al. 2019 §5 (Fig. 6): train a teacher with ε = 0 and one with ε > 0, distill each into a
 * small student at temperature T on the same training rows, and evaluate all four on the test set, per seed.
 */
export async function distill(o: DistillOptions, cli: CliContext = DEFAULT_CONTEXT): Promise<DistillResults> {
  const name = o.name ?? deriveRunName('distill', datasetName(o.dataset), { ...o }, cli.defaults);
  checkRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  refuseUnused(o);
  checkModelBackend(o.model, o.backend);
  const backend = await useBackend(o.backend);
  // Each seed is a replicate: its own training rows, shared by its two teachers and their students.
  const pool = loadPool(o, cli.given);
  const bySeed = new Map<number, Splits>(o.seeds.map((s) => [s, drawSplits(pool, o, s, cli.given)]));
  const splits = bySeed.get(o.seeds[0]) as Splits;
  checkModelData(o.model, splits.train);
  const run = openRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  const progress = distillProgress(o, Math.ceil(splits.train.rows / o.batchSize));
  progress.bar.log(distillHeader(o, splits, run.dir, backend));
  const { test } = splits;
  const monitor = monitorSet(test, DATA_SEED, 500);
  const job: DistillJob = { o, bySeed, test, monitor, progress, evaluate: evaluator(bySeed, test, progress) };
  const models: DistillModel[] = [];
  for (const seed of o.seeds)
    for (const epsilon of [0, o.epsilon]) models.push(...(await pair(job, seed, epsilon)));
  progress.bar.stop();
  const results = distillResults(o, { name, backend, splits, models });
  const reportFile = await writeResults(run.dir, results);
  run.release();
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else
    process.stdout.write(
      `\n${distillTable(results.summary)}\n\nresults: ${join(run.dir, 'results.json')}\nreport: ${reportFile}\n`,
    );
  tf.disposeVariables();
  return results;
}

/** The first line: the data, the teachers, the students, the seeds. */
function distillHeader(o: DistillOptions, splits: Splits, dir: string, backend: string): string {
  return wrapParts([
    `labelsmooth distill → ${dir}:`,
    `${splits.dataset} (train ${splits.train.rows}, test ${splits.test.rows}),`,
    `teachers ${o.model} ε ∈ {0, ${o.epsilon}} for ${o.epochs} epochs,`,
    `students of ${o.studentHidden} hidden units for ${o.studentEpochs} epochs at T = ${o.temperature},`,
    `seeds {${o.seeds.join(', ')}}, backend ${backend}`,
  ]);
}

/** Scores a model's test logits (calibration and the analyses) and prints one line. */
function evaluator(
  bySeed: Map<number, Splits>,
  test: Splits['test'],
  progress: ReturnType<typeof distillProgress>,
): DistillJob['evaluate'] {
  const analyzer = metricsAnalyzer();
  const k = test.classNames.length;
  return (role, teacherEpsilon, seed, z) => {
    const report = calibration(z, test.y, { classes: k });
    const m: DistillModel = { role, teacherEpsilon, seed, split: bySeed.get(seed)?.split, test: report };
    m.analysis = analyzer.model(z, test.y, k);
    const who =
      role === 'teacher' ? `teacher ε=${teacherEpsilon}` : `student of the ε=${teacherEpsilon} teacher`;
    progress.bar.log(
      `${who}, seed ${seed}: accuracy ${report.accuracy.toFixed(4)} NLL ${report.nll.toFixed(4)} ECE ${report.ece.toFixed(4)}`,
    );
    return m;
  };
}

/** One seed's teacher at `epsilon` and its student distilled at T, each scored; each model freed after. */
async function pair(job: DistillJob, seed: number, epsilon: number): Promise<DistillModel[]> {
  const { o, test, progress } = job;
  const { train } = job.bySeed.get(seed) as Splits;
  const k = test.classNames.length;
  const config = {
    epsilon,
    noise: 'uniform' as const,
    seed,
    model: o.model,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
  };
  const models: DistillModel[] = [];
  // Each model is freed when its step is done, also when the step throws.
  const teacher = new Trainer(config, train, job.monitor);
  let targets: Float32Array;
  try {
    for (let e = 0; e < o.epochs; e++) await teacher.runEpoch((b) => progress.teacher(epsilon, seed, e, b));
    models.push(job.evaluate('teacher', epsilon, seed, predictLogits(teacher.model, test)));
    targets = softTargets(predictLogits(teacher.model, train), k, o.temperature);
  } finally {
    teacher.dispose();
  }
  const student = await trainStudent(train, targets, {
    temperature: o.temperature,
    epochs: o.studentEpochs,
    batchSize: o.batchSize,
    lr: o.lr,
    seed,
    hidden: o.studentHidden,
    onBatch: (e, b) => progress.student(epsilon, seed, e, b),
  });
  try {
    models.push(job.evaluate('student', epsilon, seed, predictLogits(student, test)));
  } finally {
    student.dispose();
  }
  return models;
}

/** results.json of a distill run: the stored settings (not the output options), the models, the summary. */
function distillResults(
  o: DistillOptions,
  r: { name: string; backend: string; splits: Splits; models: DistillModel[] },
): DistillResults {
  const { json: _j, quiet: _q, runsDir: _r, name: _n, force: _f, ...config } = o;
  const { test, train } = r.splits;
  return {
    kind: 'distill',
    name: r.name,
    createdAt: new Date().toISOString(),
    backend: r.backend,
    dataset: { name: r.splits.dataset, classNames: test.classNames, train: train.rows, test: test.rows },
    config,
    models: r.models,
    summary: summarizeDistill(r.models),
    claims: distillClaims(r.models),
  };
}
