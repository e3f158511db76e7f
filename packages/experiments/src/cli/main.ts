#!/usr/bin/env node
// The labelsmooth command line: compare | sweep | worker | train | evaluate | report.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { LOSSES } from '../train/losses.js';
import { SCHEDULES } from '../train/schedule.js';
import { contextOf } from './context.js';
import { errorLine } from './errorLine.js';
import { FAMILY_DEFAULTS, loss, losses } from './family.js';
import { dataset, epsilons, float, int, runName, seeds, sizeOrAll } from './options.js';
import { BACKENDS } from './usage.js';

const NOISES = ['uniform', 'non-target', 'prior'] as const;
const MODELS = ['mlp', 'cnn'] as const;
const LOSS_LIST = LOSSES.join('|');

/** Options shared by `compare` and `train`. */
function trainingOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <name>', 'mnist | fashion-mnist | csv:PATH', dataset, 'mnist')
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
    .option('--name <name>', 'run name (default: from the options that differ from defaults)', runName)
    .option('--runs-dir <dir>', 'where run directories go', 'runs')
    .option('--force', 'replace an existing run of the same name', false)
    .option('--json', 'print the results as JSON on stdout', false)
    .option('--quiet', 'no progress or per-epoch lines', false);
}

/** The label-smoothing family's parameters and the ε schedule (compare and train). */
function familyOptions(cmd: Command): Command {
  const d = FAMILY_DEFAULTS;
  return cmd
    .option('--confidence-penalty <β>', 'β of loss cp: loss − β·H(q)', float(0, 100), d.confidencePenalty)
    .option('--focal-gamma <γ>', 'γ of loss focal: −α·Σ p′·(1 − q)^γ·log q', float(0, 100), d.focalGamma)
    .option('--focal-alpha <α>', 'α of losses focal and flsd53', float(0, 100, { open: true }), d.focalAlpha)
    .addOption(
      new Option('--epsilon-schedule <kind>', 'ε per epoch: constant, or decay from ε to --epsilon-final')
        .choices(SCHEDULES)
        .default(d.epsilonSchedule),
    )
    .option(
      '--epsilon-final <ε>',
      'ε of the last epoch (linear or cosine schedule)',
      float(0, 1),
      d.epsilonFinal,
    );
}

/** The version in package.json (two folders up from both src/cli and dist/cli). */
function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** Commander's messages as one line, in the same form as the other errors. */
function oneLine(s: string): string {
  const text = s
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  return `labelsmooth: error: ${text} (see labelsmooth --help)\n`;
}

/** The commander program with its four commands (exported for tests and embedding). */
export function program(): Command {
  const p = new Command('labelsmooth')
    .description('Label smoothing experiments: train, compare ε, evaluate calibration, report')
    .version(version(), '-V, --version')
    .configureOutput({ outputError: (s, write) => write(oneLine(s)) });

  familyOptions(
    trainingOptions(
      p
        .command('compare')
        .description('train the same model for each ε (and seed) and compare accuracy and calibration')
        .option('--epsilons <list>', 'comma-separated ε values', epsilons, [0, 0.1])
        .option('--seeds <n|list>', 'number of seeds (1..n) or a comma-separated list', seeds, [1])
        .option('--losses <list>', `losses to compare: ${LOSS_LIST} (ls: each ε > 0 of --epsilons)`, losses)
        .option(
          '--ols-epsilon <ε>',
          'ε of loss ols: weight of the learned soft labels S[y]',
          float(0, 1, { open: true }),
          FAMILY_DEFAULTS.olsEpsilon,
        ),
    ),
  ).action(async (opts, cmd: Command) => {
    const { compare } = await import('./compare.js');
    await compare({ ...opts, seed: opts.seeds[0] }, contextOf(cmd));
  });

  trainingOptions(
    p
      .command('sweep')
      .description("run compare's grid as independent trials: local processes, or a Redis queue of workers")
      .option('--epsilons <list>', 'comma-separated ε values', epsilons, [0, 0.1])
      .option('--seeds <n|list>', 'number of seeds (1..n) or a comma-separated list', seeds, [1])
      .option(
        '--workers <n>',
        'local trial processes (default: the number of cores)',
        int(1),
        availableParallelism(),
      )
      .option('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT: enqueue the trials for `labelsmooth worker`s')
      .option('--insecure', 'allow a Redis without a password on a non-loopback host', false),
  ).action(async (opts) => {
    const { sweep } = await import('./sweep.js');
    await sweep({ ...opts, seed: opts.seeds[0] });
  });

  p.command('worker')
    .description('train the trials that `labelsmooth sweep --queue` enqueues (until SIGINT/SIGTERM)')
    .requiredOption('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT')
    .option('--insecure', 'allow a Redis without a password on a non-loopback host', false)
    .option('--concurrency <n>', 'trials trained at once (one process each)', int(1), 1)
    .option(
      '--lock-duration <ms>',
      "job lock lifetime: a dead worker's trial is retried after it",
      int(100),
      30000,
    )
    .option('--stalled-interval <ms>', 'how often expired locks are looked for', int(100), 30000)
    .option('--quiet', 'no per-epoch lines', false)
    .action(async (opts) => {
      const { workerCommand } = await import('./worker.js');
      await workerCommand(opts);
    });

  familyOptions(
    trainingOptions(
      p
        .command('train')
        .description('one training run with checkpoints; saves the model in TF.js format')
        .option('--epsilon <ε>', 'label smoothing ε', float(0, 1), 0.1)
        .option('--seed <n>', 'random seed', int(0), 1)
        .option('--resume', 'continue the run in <runs-dir>/<name> from its last checkpoint', false)
        .option('--loss <name>', `${LOSS_LIST} (default: label smoothing with --epsilon)`, loss),
    ),
  ).action(async (opts, cmd: Command) => {
    const { trainCommand } = await import('./train.js');
    await trainCommand(opts, contextOf(cmd));
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
    .option('--force', 'replace an existing run of the same name', false)
    .option('--json', 'print the results as JSON on stdout', false)
    .action(async (opts, cmd: Command) => {
      const { evaluate } = await import('./evaluate.js');
      await evaluate(opts, contextOf(cmd));
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

/** Run the CLI; returns the exit code. Every error is one line on stderr (stack with LABELSMOOTH_DEBUG=1). */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().exitOverride().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    // Help and version exit 0; usage errors were already printed by commander.
    if (err.code?.startsWith('commander.')) return err.exitCode ?? 2;
    process.stderr.write(`${errorLine(e, process.env.LABELSMOOTH_DEBUG === '1')}\n`);
    return 1;
  }
}

/**
 * A reader that stops early (`labelsmooth … | head`) closes stdout: the rest of the output is dropped
 * quietly, as other command-line tools do, instead of an EPIPE stack trace (stdout is written last, after
 * the files). A closed stderr only loses the progress lines: the job goes on.
 */
function quietOnEpipe(stream: NodeJS.WriteStream, then: 'exit' | 'continue'): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    if (then === 'exit') process.exit(process.exitCode ?? 0);
  });
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/labelsmooth')) {
  quietOnEpipe(process.stdout, 'exit');
  quietOnEpipe(process.stderr, 'continue');
  // No SIGINT handler: training blocks the event loop for a whole epoch, and Ctrl-C must stop it at once.
  // The lock a killed process leaves names a dead PID, and the next command takes it over.
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
