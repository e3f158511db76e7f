#!/usr/bin/env node
// The labelsmooth command line: compare | train | distill | evaluate | report.
import { Command, Option } from 'commander';
import { LabelSmoothingError } from '../core/errors.js';
import { DataFileError } from '../data/errors.js';
import { BACKENDS, UsageError } from './backend.js';
import { COMPARE_DEFAULTS, DISTILL_DEFAULTS, defaultModel, type TrainingDefaults } from './defaults.js';
import { epsilons, float, int, runName, seeds, sizeOrAll } from './options.js';

const NOISES = ['uniform', 'non-target', 'prior'] as const;
const MODELS = ['mlp', 'pooled-mlp', 'cnn'] as const;

/** Defaults of the data and training options (`compare` has its own: see COMPARE_DEFAULTS). */
const TRAIN_DEFAULTS: TrainingDefaults = {
  dataset: 'mnist',
  model: 'mlp',
  epochs: 12,
  batchSize: 128,
  lr: 0.001,
  trainSize: 10000,
  validation: 0.1,
};

/** Options shared by `compare`, `train` and `distill`. */
function trainingOptions(cmd: Command, d: TrainingDefaults = TRAIN_DEFAULTS): Command {
  return cmd
    .option('--dataset <name>', 'mnist | fashion-mnist | csv:PATH', d.dataset)
    .option('--label-column <name>', "CSV label column (default: 'label', else the last column)")
    .addOption(
      new Option(
        '--model <kind>',
        d.model ? 'model' : 'model (default: pooled-mlp on mnist and fashion-mnist, mlp on CSV data)',
      )
        .choices(MODELS)
        .default(d.model),
    )
    .option('--epochs <n>', 'training epochs', int(1), d.epochs)
    .option('--batch-size <n>', 'mini-batch size', int(1), d.batchSize)
    .option('--lr <rate>', 'Adam learning rate', float(0, 10, { open: true }), d.lr)
    .addOption(
      new Option('--noise <kind>', 'smoothing noise (prior = training class frequencies)')
        .choices(NOISES)
        .default('uniform'),
    )
    .option(
      '--validation <fraction>',
      'held-out fraction of train (temperature scaling)',
      float(0, 0.9),
      d.validation,
    )
    .option('--train-size <n>', "training examples (stratified subset) or 'all'", sizeOrAll, d.trainSize)
    .option('--test-size <n>', "test examples (stratified subset) or 'all'", sizeOrAll)
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(BACKENDS).default('wasm'))
    .option('--name <name>', 'run name: outputs go to <runs-dir>/<name>', runName)
    .option('--runs-dir <dir>', 'where run directories go', 'runs')
    .option('--json', 'print the results as JSON on stdout', false)
    .option('--quiet', 'no progress or per-epoch lines', false);
}

/** The commander program with its four commands (exported for tests and embedding). */
export function program(): Command {
  const p = new Command('labelsmooth')
    .description('Label smoothing experiments: train, compare ε, evaluate calibration, report')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (s, write) => write(s) });

  trainingOptions(
    p
      .command('compare')
      .description('train the same model for each ε (and seed) and compare accuracy and calibration')
      .option('--epsilons <list>', 'comma-separated ε values', epsilons, COMPARE_DEFAULTS.epsilons)
      .option(
        '--seeds <n|list>',
        'number of seeds (1..n) or a comma-separated list',
        seeds,
        COMPARE_DEFAULTS.seeds,
      ),
    COMPARE_DEFAULTS,
  ).action(async (opts) => {
    const { compare } = await import('./compare.js');
    await compare({ ...opts, model: opts.model ?? defaultModel(opts.dataset), seed: opts.seeds[0] });
  });

  trainingOptions(
    p
      .command('train')
      .description('one training run with checkpoints; saves the model in TF.js format')
      .option('--epsilon <ε>', 'label smoothing ε', float(0, 1), 0.1)
      .option('--seed <n>', 'random seed', int(0), 1)
      .option('--resume', 'continue the run in <runs-dir>/<name> from its last checkpoint', false),
  ).action(async (opts) => {
    const { trainCommand } = await import('./train.js');
    await trainCommand(opts);
  });

  trainingOptions(
    p
      .command('distill')
      .description('teachers at ε = 0 and ε > 0, each distilled into a small student at temperature T')
      .option(
        '--epsilon <ε>',
        "the smoothed teacher's ε",
        float(0, 1, { open: true }),
        DISTILL_DEFAULTS.epsilon,
      )
      .option(
        '--temperature <T>',
        'distillation temperature',
        float(0, 100, { open: true }),
        DISTILL_DEFAULTS.temperature,
      )
      .option('--student-epochs <n>', 'student training epochs', int(1), DISTILL_DEFAULTS.studentEpochs)
      .option('--student-hidden <n>', 'hidden units of the student', int(1), DISTILL_DEFAULTS.studentHidden)
      .option(
        '--seeds <n|list>',
        'number of seeds (1..n) or a comma-separated list',
        seeds,
        DISTILL_DEFAULTS.seeds,
      ),
    DISTILL_DEFAULTS,
  ).action(async (opts) => {
    const { distill } = await import('./distill.js');
    await distill({ ...opts, model: opts.model ?? defaultModel(opts.dataset), seed: opts.seeds[0] });
  });

  p.command('evaluate')
    .description('calibration of saved predictions (.npy, .csv or .json logits or probabilities)')
    .requiredOption('--predictions <file>', 'N×K logits or probabilities')
    .requiredOption('--labels <file>', 'N class indices')
    .addOption(
      new Option('--from <kind>', 'what the predictions hold')
        .choices(['auto', 'logits', 'probs'])
        .default('auto'),
    )
    .option('--bins <n>', 'confidence bins', int(1), 15)
    .option('--name <name>', 'run name: outputs go to <runs-dir>/<name>', runName)
    .option('--runs-dir <dir>', 'where run directories go', 'runs')
    .option('--json', 'print the results as JSON on stdout', false)
    .action(async (opts) => {
      const { evaluate } = await import('./evaluate.js');
      await evaluate(opts);
    });

  p.command('report')
    .description('regenerate <run-dir>/report.html from <run-dir>/results.json')
    .argument('<run-dir>', 'a directory written by compare, train or evaluate')
    .action(async (dir: string) => {
      const { reportCommand } = await import('./results.js');
      await reportCommand(dir);
    });

  return p;
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().exitOverride().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code?.startsWith('commander.')) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode ?? 2;
    }
    const known = e instanceof DataFileError || e instanceof LabelSmoothingError || e instanceof UsageError;
    process.stderr.write(`labelsmooth: error: ${known ? err.message : ((e as Error).stack ?? String(e))}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/labelsmooth')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
