#!/usr/bin/env node
// The labelsmooth command line: compare | train | evaluate | report.
import { Command, Option } from 'commander';
import { LabelSmoothingError } from '../core/errors.js';
import { DataFileError } from '../data/errors.js';
import { BACKENDS, UsageError } from './backend.js';
import { epsilons, float, int, runName, seeds, sizeOrAll } from './options.js';

const NOISES = ['uniform', 'non-target', 'prior'] as const;
const MODELS = ['mlp', 'cnn'] as const;

/** Options shared by `compare` and `train`. */
function trainingOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <name>', 'mnist | fashion-mnist | csv:PATH', 'mnist')
    .option('--label-column <name>', "CSV label column (default: 'label', else the last column)")
    .addOption(new Option('--model <kind>', 'model').choices(MODELS).default('mlp'))
    .option('--epochs <n>', 'training epochs', int(1), 12)
    .option('--batch-size <n>', 'mini-batch size', int(1), 128)
    .option('--lr <rate>', 'Adam learning rate', float(0, 10, { open: true }), 0.001)
    .addOption(
      new Option('--noise <kind>', 'smoothing noise (prior = training class frequencies)')
        .choices(NOISES)
        .default('uniform'),
    )
    .option('--validation <fraction>', 'held-out fraction of train (temperature scaling)', float(0, 0.9), 0.1)
    .option('--train-size <n>', "training examples (stratified subset) or 'all'", sizeOrAll, 10000)
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
      .option('--epsilons <list>', 'comma-separated ε values', epsilons, [0, 0.1])
      .option('--seeds <n|list>', 'number of seeds (1..n) or a comma-separated list', seeds, [1]),
  ).action(async (opts) => {
    const { compare } = await import('./compare.js');
    await compare({ ...opts, seed: opts.seeds[0] });
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
    .option('--resamples <n>', 'bootstrap resamples for the 95 % intervals (0: no intervals)', int(0), 1000)
    .option('--seed <n>', 'seed of the bootstrap', int(0), 0)
    .option('--ignore-index <n>', 'label of rows to leave out', int(-(2 ** 31)), -100)
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
