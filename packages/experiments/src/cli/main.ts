#!/usr/bin/env node
// The labelsmooth command line: compare | sweep | worker | train | distill | evaluate | report.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { MODEL_KINDS, NOISE_KINDS } from '../train/kinds.js';
import { CONFIG_PARAMETERS, LOSS_PARAMETERS, LOSSES, type LossParameter } from '../train/losses.js';
import { SCHEDULES } from '../train/schedule.js';
import { BUDGET_EPSILON, budgetEpsilon } from './budget.js';
import { type CliContext, contextOf } from './context.js';
import {
  COMPARE_DEFAULTS,
  DISTILL_DEFAULTS,
  defaultModel,
  LOSSES_EPSILONS,
  type TrainingDefaults,
} from './defaults.js';
import { wrapParts } from './epochLine.js';
import { errorLine } from './errorLine.js';
import { FAMILY_DEFAULTS, loss, losses } from './family.js';
import { optionHelp } from './help.js';
import { dataset, epsilons, float, int, MAX_SEED, resolveAll, runName, seeds, sizeOrAll } from './options.js';
import { packageVersion } from './sweep/fingerprint.js';
import { BACKENDS } from './usage.js';

const LOSS_LIST = LOSSES.join('|');
/** Longest timer Node keeps (ms): a longer one fires at once. */
const MAX_TIMER = 2 ** 31 - 1;

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

/**
 * An option with a default shown as the user would type it: commander prints the value itself, as JSON
 * (`[0,0.1]` for a list).
 */
function shownDefault<T>(
  flags: string,
  description: string,
  parse: (v: string) => T,
  value: T,
  shown: string,
) {
  return new Option(flags, description).argParser(parse).default(value, shown);
}

/** `[1, 2, 3]` → `3` (as `--seeds 3` gives it), other lists comma-separated. */
function seedsText(list: number[]): string {
  return list.every((s, i) => s === i + 1) ? String(list.length) : list.join(',');
}

/** `--seeds`, its default shown as typed. */
function seedsOption(defaults: number[]): Option {
  return shownDefault(
    '--seeds <n|list>',
    'number of seeds (1..n) or a comma-separated list',
    seeds,
    defaults,
    seedsText(defaults),
  );
}

/** The grid of `compare` and `sweep`: the ε values, the seeds, the losses (and ols' ε). */
function gridOptions(cmd: Command): Command {
  const d = COMPARE_DEFAULTS;
  return cmd
    .addOption(
      shownDefault(
        '--epsilons <list>',
        'comma-separated ε values',
        epsilons,
        d.epsilons,
        d.epsilons.join(','),
      ),
    )
    .addOption(seedsOption(d.seeds))
    .option('--losses <list>', `losses to compare: ${LOSS_LIST} (ls: each ε > 0 of --epsilons)`, losses)
    .addOption(parameterOption(LOSS_PARAMETERS.olsEpsilon));
}

/** A loss parameter's flag, help, range and default, from the one table of them. */
function parameterOption(p: LossParameter): Option {
  return new Option(`${p.flag} <${p.symbol}>`, p.help)
    .argParser(float(p.min, p.max, { open: p.open }))
    .default(p.default);
}

/** How the defaults split the data, below the options of `--help`: a CSV is cut too, not only images. */
export function splitsHelp(d: TrainingDefaults): string {
  const held =
    d.validation > 0
      ? `${d.validation * 100} % of the pool (at least 50 rows when the pool allows, at most a fifth ` +
        'of it) is held out to fit the temperature, then '
      : '';
  const text =
    'Data: mnist and fashion-mnist have a training pool of 60,000 images and a test set of 10,000; a CSV ' +
    `is split 80/20 into a training pool and a test set. By default ${held}` +
    `${d.trainSize.toLocaleString('en-US')} training rows are drawn from the ${held ? 'rest' : 'pool'} ` +
    '(--train-size all: every row). Every split is stratified and seeded.';
  return `\n${wrapParts(text.split(' '), 80).replace(/\n {2}/g, '\n')}`;
}

/** Options shared by `compare`, `sweep`, `train` and `distill`. */
function trainingOptions(cmd: Command, d: TrainingDefaults = TRAIN_DEFAULTS): Command {
  return cmd
    .addHelpText('after', splitsHelp(d))
    .option('--dataset <name>', 'mnist | fashion-mnist | csv:PATH', dataset, d.dataset)
    .option('--label-column <name>', 'CSV label column (default: label, else the last column)')
    .addOption(
      new Option(
        '--model <kind>',
        d.model ? 'model' : 'model (default: pooled-mlp on mnist and fashion-mnist, mlp on CSV data)',
      )
        .choices(MODEL_KINDS)
        .default(d.model),
    )
    .option('--epochs <n>', 'training epochs', int(1, 10_000), d.epochs)
    .option('--batch-size <n>', 'mini-batch size', int(1, 1_000_000), d.batchSize)
    .option('--lr <rate>', 'Adam learning rate', float(0, 10, { open: true }), d.lr)
    .addOption(
      new Option('--noise <kind>', 'smoothing noise (prior = training class frequencies)')
        .choices(NOISE_KINDS)
        .default('uniform'),
    )
    .option(
      '--validation <fraction>',
      'fraction of the training pool held out to fit the temperature (at least 50 rows when the pool ' +
        'allows, at most a fifth of it; 0: no temperature scaling)',
      float(0, 0.9),
      d.validation,
    )
    .option(
      '--train-size <n>',
      "training examples: a stratified subset of what the validation split leaves, or 'all'",
      sizeOrAll,
      d.trainSize,
    )
    .option('--test-size <n>', "test examples: a stratified subset, or 'all' (default: all)", sizeOrAll)
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(BACKENDS).default('wasm'))
    .option('--name <name>', 'run name (default: from the options that differ from defaults)', runName)
    .option('--runs-dir <dir>', 'where run directories go', 'runs')
    .option('--force', 'replace an existing run of the same name', false)
    .option('--json', 'print the results as JSON on stdout', false)
    .option('--quiet', 'no progress or per-epoch lines', false);
}

/** The label-smoothing family's parameters and the ε schedule (compare, sweep and train). */
function familyOptions(cmd: Command): Command {
  const d = FAMILY_DEFAULTS;
  // every parameter a run's configuration stores (olsEpsilon is compare's and sweep's: see gridOptions)
  for (const key of CONFIG_PARAMETERS) cmd.addOption(parameterOption(LOSS_PARAMETERS[key]));
  return cmd
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

/** The version of this package (the nearest package.json above the CLI; the one a sweep checks). */
function version(): string {
  try {
    return packageVersion();
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

/**
 * A comparison of losses (`--losses`) trains ls at ε = 0.1 unless `--epsilons` is given: the ε grid of
 * `npm start` is for label smoothing alone. Sets `opts.epsilons` and the default the run name is made from.
 */
function gridContext(opts: { losses?: unknown; epsilons: number[] }, ctx: CliContext): CliContext {
  if (opts.losses === undefined || ctx.given.has('epsilons')) return ctx;
  opts.epsilons = LOSSES_EPSILONS;
  return { ...ctx, defaults: { ...ctx.defaults, epsilons: LOSSES_EPSILONS } };
}

/**
 * The commander program with its commands (exported for tests and embedding). Errors throw instead of
 * exiting the process, in every subcommand (they inherit the settings when created); `--help` shows
 * defaults and choices as they are typed.
 */
export function program(): Command {
  const p = new Command('labelsmooth')
    .description('Label smoothing experiments: train, compare ε, evaluate calibration, report')
    .version(version(), '-V, --version')
    .configureOutput({ outputError: (s, write) => write(oneLine(s)) })
    .configureHelp({ optionDescription: optionHelp })
    .exitOverride()
    .hook('preAction', (_program, action) => resolveAll(action));
  for (const define of [
    compareCommand,
    sweepCommand,
    workerCommand,
    trainCommand,
    distillCommand,
    evaluateCommand,
    reportCommand,
  ])
    define(p);
  return p;
}

/** `--workers`, defaulting to the number of cores. */
function workersOption(description: string): Option {
  return shownDefault(
    '--workers <n>',
    description,
    int(1, 1024),
    availableParallelism(),
    'the number of cores',
  );
}

/** The options of `compare` and `sweep`, after their own: the grid, the data and training, the family. */
function gridCommand(cmd: Command): Command {
  return familyOptions(trainingOptions(gridOptions(cmd), COMPARE_DEFAULTS));
}

/**
 * The action of `compare` and `sweep`: the model's default from the data, the first seed as the run's,
 * and the grid's context (see gridContext), then the command.
 */
function gridAction<O>(command: (o: O, ctx: CliContext) => Promise<unknown>) {
  return async (
    opts: O & { model?: string; dataset: string; seeds: number[]; epsilons: number[] },
    cmd: Command,
  ) => {
    const model = opts.model ?? defaultModel(opts.dataset);
    const ctx = gridContext(opts, contextOf(cmd, { model: defaultModel(opts.dataset) }));
    // `--budget-epsilon none` parses to null, which commander stores as '' for an option with a value.
    const budget = (opts as { budgetEpsilon?: unknown }).budgetEpsilon === '' ? { budgetEpsilon: null } : {};
    await command({ ...opts, ...budget, model, seed: opts.seeds[0] }, ctx);
  };
}

/** `--budget-epsilon`, the same for compare and sweep (their grids are one). */
function budgetOption() {
  return shownDefault(
    '--budget-epsilon <ε|none>',
    'ε of the budget-matched run: label smoothing trained on train ∪ validation, against ε = 0 with its temperature fitted on validation',
    budgetEpsilon,
    BUDGET_EPSILON as number | null,
    String(BUDGET_EPSILON),
  );
}

/** `labelsmooth compare`. */
function compareCommand(p: Command): void {
  gridCommand(
    p
      .command('compare')
      .description('train the same model for each ε (and seed) and compare accuracy and calibration')
      .addOption(workersOption('trial processes, one run each at a time (1: every run in this process)'))
      .addOption(budgetOption()),
  ).action(gridAction(async (o, ctx) => (await import('./compare.js')).compare(o, ctx)));
}

/** `labelsmooth sweep`. */
function sweepCommand(p: Command): void {
  const seconds = int(1, Math.floor(MAX_TIMER / 1000));
  gridCommand(
    p
      .command('sweep')
      .description("run compare's grid as independent trials: local processes, or a Redis queue of workers")
      .addOption(workersOption('local trial processes'))
      .addOption(budgetOption())
      .option('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT: enqueue the trials for `labelsmooth worker`s')
      .option('--insecure', 'allow a Redis without a password on a non-loopback host', false)
      .option(
        '--redis-timeout <s>',
        "stop (resumable) when the queue's Redis stays unreachable this many seconds",
        seconds,
        120,
      )
      .option(
        '--worker-timeout <s>',
        'stop (resumable) when no `labelsmooth worker` serves the queue this many seconds',
        seconds,
        600,
      ),
  ).action(gridAction(async (o, ctx) => (await import('./sweep.js')).sweep(o, ctx)));
}

/** `labelsmooth worker`. */
function workerCommand(p: Command): void {
  p.command('worker')
    .description('train the trials that `labelsmooth sweep --queue` enqueues (until SIGINT/SIGTERM)')
    .requiredOption('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT')
    .option('--insecure', 'allow a Redis without a password on a non-loopback host', false)
    .option('--concurrency <n>', 'trials trained at once (one process each)', int(1, 1024), 1)
    .option(
      '--lock-duration <ms>',
      "job lock lifetime: a dead worker's trial is retried after it",
      int(100, MAX_TIMER),
      30000,
    )
    .option('--stalled-interval <ms>', 'how often expired locks are looked for', int(100, MAX_TIMER), 30000)
    .option('--quiet', 'no per-epoch lines', false)
    .action(async (opts) => {
      const { workerCommand } = await import('./worker.js');
      await workerCommand(opts);
    });
}

/** `labelsmooth train`. */
function trainCommand(p: Command): void {
  familyOptions(
    trainingOptions(
      p
        .command('train')
        .description('one training run with checkpoints; saves the model in TF.js format')
        .option('--epsilon <ε>', 'label smoothing ε', float(0, 1), 0.1)
        .option('--seed <n>', 'random seed', int(0, MAX_SEED), 1)
        .option('--resume', 'continue the run in <runs-dir>/<name> from its last checkpoint', false)
        .option('--loss <name>', `${LOSS_LIST} (default: label smoothing with --epsilon)`, loss),
    ),
  ).action(async (opts, cmd: Command) => {
    const { trainCommand } = await import('./train.js');
    await trainCommand(opts, contextOf(cmd));
  });
}

/** `labelsmooth distill`. */
function distillCommand(p: Command): void {
  const d = DISTILL_DEFAULTS;
  trainingOptions(
    p
      .command('distill')
      .description('teachers at ε = 0 and ε > 0, each distilled into a small student at temperature T')
      .option('--epsilon <ε>', "the smoothed teacher's ε", float(0, 1, { open: true }), d.epsilon)
      .option('--temperature <T>', 'distillation temperature', float(0, 100, { open: true }), d.temperature)
      .option('--student-epochs <n>', 'student training epochs', int(1, 10_000), d.studentEpochs)
      .option('--student-hidden <n>', 'hidden units of the student', int(1, 100_000), d.studentHidden)
      .addOption(seedsOption(d.seeds)),
    d,
  ).action(async (opts, cmd: Command) => {
    const { distill } = await import('./distill.js');
    const model = opts.model ?? defaultModel(opts.dataset);
    await distill(
      { ...opts, model, seed: opts.seeds[0] },
      contextOf(cmd, { model: defaultModel(opts.dataset) }),
    );
  });
}

/** `labelsmooth evaluate`. */
function evaluateCommand(p: Command): void {
  p.command('evaluate')
    .description('calibration of saved predictions (.npy, .csv or .json logits or probabilities)')
    .requiredOption('--predictions <file>', 'N×K logits or probabilities')
    .requiredOption('--labels <file>', 'N class indices')
    .addOption(
      new Option('--from <kind>', 'what the predictions hold')
        .choices(['auto', 'logits', 'probs'])
        .default('auto'),
    )
    .option('--bins <n>', 'confidence bins', int(1, 100_000), 15)
    .option(
      '--resamples <n>',
      'bootstrap resamples for the 95 % intervals (0: no intervals)',
      int(0, 1_000_000),
      1000,
    )
    .option('--seed <n>', 'seed of the bootstrap', int(0, MAX_SEED), 0)
    .option('--ignore-index <n>', 'label of rows to leave out', int(-(2 ** 31), 2 ** 31 - 1), -100)
    .option('--name <name>', 'run name: outputs go to <runs-dir>/<name>', runName)
    .option('--runs-dir <dir>', 'where run directories go', 'runs')
    .option('--force', 'replace an existing run of the same name', false)
    .option('--json', 'print the results as JSON on stdout', false)
    .action(async (opts, cmd: Command) => {
      const { evaluate } = await import('./evaluate.js');
      await evaluate(opts, contextOf(cmd));
    });
}

/** `labelsmooth report`. */
function reportCommand(p: Command): void {
  p.command('report')
    .description('regenerate <run-dir>/report.html from <run-dir>/results.json')
    .argument('<run-dir>', 'a directory written by compare, sweep, train, distill or evaluate')
    .action(async (dir: string) => {
      const { reportCommand } = await import('./results.js');
      await reportCommand(dir);
    });
}

/** Run the CLI; returns the exit code. Every error is one line on stderr (stack with LABELSMOOTH_DEBUG=1). */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
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

/**
 * Run the command as a process: `argv` without the node and script paths. Sets the exit code; a closed
 * stdout ends the command quietly. The `labelsmooth` bin (bin/labelsmooth.js) calls it.
 */
export function run(argv: string[]): void {
  quietOnEpipe(process.stdout, 'exit');
  quietOnEpipe(process.stderr, 'continue');
  // No SIGINT handler: training blocks the event loop for a whole epoch, and Ctrl-C must stop it at once.
  // The lock a killed process leaves names a dead PID, and the next command takes it over.
  main(argv).then((code) => {
    process.exitCode = code;
  });
}

// `node packages/experiments/dist/cli/main.js …` (what `npm start` runs) runs the command too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) run(process.argv.slice(2));
