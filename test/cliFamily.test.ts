// The label-smoothing family on the command line: `compare --losses`, `train --loss`, the ε
// schedule flags, and their refusals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Option } from 'commander';
import {
  compareVariants,
  FAMILY_DEFAULTS,
  loss,
  losses,
  trainVariant,
} from '../packages/experiments/src/cli/family.js';
import { program } from '../packages/experiments/src/cli/main.js';
import { MODEL_KINDS, NOISE_KINDS } from '../packages/experiments/src/train/kinds.js';
import { LOSS_PARAMETERS, type LossParameter } from '../packages/experiments/src/train/losses.js';
import { toyCsv } from './helpers/builtCli.js';
import { cli, tempDir } from './helpers/cli.js';

const OPTS = { ...FAMILY_DEFAULTS, epsilons: [0, 0.1], noise: 'uniform' };

describe('the flags of the one table of loss parameters', () => {
  it("compare, sweep and train take each parameter's flag with the table's symbol, default and range", () => {
    const table: Record<string, LossParameter> = LOSS_PARAMETERS;
    for (const name of ['compare', 'sweep', 'train']) {
      const cmd = program().commands.find((c) => c.name() === name);
      assert.ok(cmd, name);
      for (const [key, p] of Object.entries(table)) {
        const option: Option | undefined = cmd.options.find((o) => o.long === p.flag);
        // ols' ε is a grid setting; a train run stores it as its ε
        if (key === 'olsEpsilon' && name === 'train') {
          assert.equal(option, undefined);
          continue;
        }
        assert.ok(option, `${name} ${p.flag}`);
        assert.equal(option.flags, `${p.flag} <${p.symbol}>`);
        assert.equal(option.description, p.help);
        assert.equal(option.defaultValue, p.default);
        assert.equal(option.attributeName(), key);
        const parse = (v: number): unknown => option.parseArg?.(String(v), undefined);
        assert.equal(parse(p.max), p.max);
        assert.throws(() => parse(p.max * 2), new RegExp(String(p.max)));
        if (p.open) assert.throws(() => parse(p.min));
        else assert.equal(parse(p.min), p.min);
      }
    }
  });
});

describe("the trainer's lists on the command line", () => {
  it('--model and --noise offer the models and noises the trainer builds, on every training command', () => {
    for (const name of ['compare', 'sweep', 'train']) {
      const cmd = program().commands.find((c) => c.name() === name);
      const choices = (flag: string) => cmd?.options.find((o) => o.long === flag)?.argChoices;
      assert.deepEqual(choices('--model'), [...MODEL_KINDS], name);
      assert.deepEqual(choices('--noise'), [...NOISE_KINDS], name);
    }
  });
});

describe('compareVariants / trainVariant: the runs of the family flags', () => {
  it('without --losses: one run per ε, exactly the configuration of before', () => {
    assert.deepEqual(compareVariants(OPTS, new Set()), [{ epsilon: 0 }, { epsilon: 0.1 }]);
  });
  it('with --losses: ce unsmoothed, ls per ε > 0, cp/focal/flsd-53 with their parameters, ols with its ε', () => {
    const all = losses('ce,ls,cp,focal,flsd-53,ols');
    assert.deepEqual(compareVariants({ ...OPTS, epsilons: [0, 0.05, 0.1], losses: all }, new Set()), [
      { epsilon: 0, loss: 'ce' },
      { epsilon: 0.05, loss: 'ls' },
      { epsilon: 0.1, loss: 'ls' },
      { epsilon: 0, loss: 'cp', confidencePenalty: 0.1 },
      { epsilon: 0, loss: 'focal', focalGamma: 3 },
      { epsilon: 0, loss: 'flsd-53' },
      { epsilon: 0.5, loss: 'ols' },
    ]);
    const tuned = { ...OPTS, losses: all, focalAlpha: 0.25, olsEpsilon: 0.3, confidencePenalty: 0.2 };
    assert.deepEqual(
      compareVariants(tuned, new Set(['focalAlpha', 'olsEpsilon', 'confidencePenalty'])).slice(2),
      [
        { epsilon: 0, loss: 'cp', confidencePenalty: 0.2 },
        { epsilon: 0, loss: 'focal', focalGamma: 3, focalAlpha: 0.25 },
        { epsilon: 0, loss: 'flsd-53', focalAlpha: 0.25 },
        { epsilon: 0.3, loss: 'ols' },
      ],
    );
  });
  it('a schedule goes on the runs that smooth only', () => {
    const o = {
      ...OPTS,
      losses: losses('ce,ls,ols'),
      epsilonSchedule: 'cosine' as const,
      epsilonFinal: 0.01,
    };
    assert.deepEqual(compareVariants(o, new Set(['epsilonSchedule', 'epsilonFinal'])), [
      { epsilon: 0, loss: 'ce' },
      { epsilon: 0.1, loss: 'ls', epsilonSchedule: 'cosine', epsilonFinal: 0.01 },
      { epsilon: 0.5, loss: 'ols', epsilonSchedule: 'cosine', epsilonFinal: 0.01 },
    ]);
    assert.deepEqual(compareVariants({ ...o, losses: undefined }, new Set()), [
      { epsilon: 0 },
      { epsilon: 0.1, epsilonSchedule: 'cosine', epsilonFinal: 0.01 },
    ]);
  });
  it('refuses flags that would be ignored, and contradictions', () => {
    assert.throws(
      () => compareVariants(OPTS, new Set(['confidencePenalty'])),
      /--confidence-penalty applies to --losses cp/,
    );
    assert.throws(
      () => compareVariants({ ...OPTS, losses: losses('ce,cp') }, new Set(['focalGamma'])),
      /--focal-gamma applies to --losses focal/,
    );
    assert.doesNotThrow(() =>
      compareVariants({ ...OPTS, losses: losses('flsd-53') }, new Set(['focalAlpha'])),
    );
    assert.throws(
      () => compareVariants({ ...OPTS, losses: losses('ls'), epsilons: [0] }, new Set()),
      /--losses ls trains each ε > 0 of --epsilons, and --epsilons 0 has none/,
    );
    assert.throws(
      () => compareVariants(OPTS, new Set(['epsilonFinal'])),
      /--epsilon-final needs --epsilon-schedule/,
    );
    assert.throws(
      () => compareVariants({ ...OPTS, losses: losses('ce,cp'), epsilonSchedule: 'linear' }, new Set()),
      /--epsilon-schedule linear applies to runs with ε > 0, and this command trains none/,
    );
    assert.throws(
      () => trainVariant({ ...FAMILY_DEFAULTS, noise: 'uniform', epsilon: 0.1, loss: 'ce' }, new Set()),
      /--loss ce is plain cross-entropy: give --epsilon 0 \(ε is 0\.1, the default\)/,
    );
    assert.deepEqual(trainVariant({ ...FAMILY_DEFAULTS, noise: 'uniform', epsilon: 0.1 }, new Set()), {
      epsilon: 0.1,
    });
    assert.deepEqual(
      trainVariant(
        { ...FAMILY_DEFAULTS, noise: 'uniform', epsilon: 0.1, loss: 'focal', focalGamma: 2 },
        new Set(['focalGamma']),
      ),
      {
        epsilon: 0.1,
        loss: 'focal',
        focalGamma: 2,
      },
    );
  });
  it('checks every run before the first trains: ols with a non-uniform noise is refused up front', () => {
    assert.throws(() => compareVariants({ ...OPTS, noise: 'prior', losses: losses('ce,ols') }, new Set()), {
      name: 'TrainConfigError',
      message: /loss 'ols' learns its noise S\[y\]: --noise must be uniform, got prior/,
    });
  });
  it('losses: unknown names get a suggestion, repeats are refused', () => {
    assert.throws(
      () => losses('ce,focla'),
      /unknown loss 'focla'; did you mean focal\? \(expected ce, ls, cp, focal, flsd-53, ols\)/,
    );
    // FLSD-53 has one spelling, the library's: the name without its hyphen is pointed to it.
    assert.throws(() => losses('ce,flsd53'), /unknown loss 'flsd53'; did you mean flsd-53\?/);
    assert.throws(() => loss('FLSD-53'), /unknown loss 'FLSD-53'; did you mean flsd-53\?/);
    assert.throws(() => losses('ce,ls,ce'), /loss ce appears twice in 'ce,ls,ce'/);
  });
});

describe('labelsmooth compare --losses (end to end, tiny CSV)', () => {
  it('trains every loss on the same data and seed, with finite metrics; ce and ls differ', () => {
    const dir = tempDir();
    const data = toyCsv(join(dir, 'toy.csv'));
    const r = cli([
      'compare',
      '--dataset',
      `csv:${data}`,
      '--epochs',
      '1',
      '--seeds',
      '1',
      '--runs-dir',
      dir,
      '--quiet',
      '--json',
      '--losses',
      'ce,ls,cp,focal,flsd-53,ols',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout);
    assert.equal(results.name, 'compare-toy-ce_ls_cp_focal_flsd-53_ols-seeds1-epochs1');
    assert.deepEqual(
      results.runs.map((x: { label: string }) => x.label),
      ['ce', 'ls ε=0.1', 'cp β=0.1', 'focal γ=3', 'flsd-53', 'ols ε=0.5'],
    );
    assert.deepEqual(
      results.runs.map((x: { loss: string }) => x.loss),
      ['ce', 'ls', 'cp', 'focal', 'flsd-53', 'ols'],
    );
    for (const run of results.runs) {
      assert.equal(run.seed, 1);
      for (const m of ['accuracy', 'nll', 'ece', 'brier'] as const)
        assert.ok(Number.isFinite(run.test[m]), `${run.label} ${m} = ${run.test[m]}`);
      assert.ok(Number.isFinite(run.epochs[0].trainLoss), run.label);
    }
    const [ce, ls] = results.runs;
    assert.notEqual(ce.test.nll, ls.test.nll);
    assert.notEqual(ce.epochs[0].trainLoss, ls.epochs[0].trainLoss);
    // Cross-entropy and label smoothing get their temperature-scaled twins (Müller et al.'s Table 3); the
    // other regularizers are compared as trained.
    assert.deepEqual(
      results.summary.map((s: { label: string }) => s.label),
      [
        'ce',
        'ls ε=0.1',
        'cp β=0.1',
        'focal γ=3',
        'flsd-53',
        'ols ε=0.5',
        'ce + temperature scaling',
        'ls ε=0.1 + temperature scaling',
      ],
    );
    assert.deepEqual(results.config.losses, ['ce', 'ls', 'cp', 'focal', 'flsd-53', 'ols']);
    assert.equal(results.config.confidencePenalty, 0.1);
    const report = readFileSync(join(dir, results.name, 'report.html'), 'utf8');
    for (const label of ['focal γ=3', 'flsd-53', 'ols ε=0.5']) assert.ok(report.includes(label), label);
  });

  it('an unknown loss is a one-line usage error with a suggestion', () => {
    const r = cli(['compare', '--losses', 'ce,lss', '--dataset', 'csv:nowhere.csv']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /labelsmooth: error: .*unknown loss 'lss'; did you mean ls\?/);
  });

  it('train --epsilon-schedule records and prints the ε of each epoch', () => {
    const dir = tempDir();
    const data = toyCsv(join(dir, 'toy.csv'));
    const r = cli([
      'train',
      '--dataset',
      `csv:${data}`,
      '--epochs',
      '3',
      '--runs-dir',
      dir,
      '--json',
      '--epsilon',
      '0.2',
      '--epsilon-schedule',
      'linear',
      '--epsilon-final',
      '0',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout);
    assert.equal(results.name, 'train-toy-eps0.2-linear-epochs3');
    assert.deepEqual(
      results.runs[0].epochs.map((m: { epsilon: number }) => m.epsilon),
      [0.2, 0.1, 0],
    );
    assert.equal(results.runs[0].label, 'ε=0.2→0 linear');
    assert.match(r.stderr, /ε=0\.2→0 linear seed 1 epoch 2\/3: ε 0\.1000 loss/);
    assert.equal(results.config.epsilonSchedule, 'linear');
  });
});
