// The label-smoothing family in the trainer: ε schedules, loss configuration checks, and online
// label smoothing's state through a checkpoint (resume = uninterrupted run, bit for bit).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deriveRunName } from '../packages/experiments/src/cli/naming.js';
import { flagName } from '../packages/experiments/src/cli/options.js';
import type { Dataset } from '../packages/experiments/src/data/dataset.js';
import { isBaselineLabel, runLabel } from '../packages/experiments/src/train/experiment.js';
import {
  CONFIG_PARAMETERS,
  checkLossConfig,
  fitsTemperature,
  isCrossEntropyLoss,
  isFocal,
  isPlainCrossEntropy,
  LOSS_PARAMETERS,
  LOSSES,
  type LossParameter,
  lossOptions,
} from '../packages/experiments/src/train/losses.js';
import { epsilonAt } from '../packages/experiments/src/train/schedule.js';
import { checkpoints, type TrainConfig, Trainer } from '../packages/experiments/src/train/trainer.js';
import { tempDir } from './helpers/cli.js';
import { blobs, useBackend } from './helpers/tf.js';

describe('epsilonAt: ε schedules', () => {
  it('constant is ε₀ every epoch', () => {
    for (const e of [0, 3, 9]) assert.equal(epsilonAt('constant', 0.1, 0, e, 10), 0.1);
  });
  it('linear: ε₀ at the first epoch, the midpoint half-way, ε_final at the last', () => {
    assert.equal(epsilonAt('linear', 0.2, 0, 0, 11), 0.2);
    assert.ok(Math.abs(epsilonAt('linear', 0.2, 0, 5, 11) - 0.1) < 1e-15);
    assert.ok(Math.abs(epsilonAt('linear', 0.2, 0.05, 2, 5) - 0.125) < 1e-15); // t = 1/2
    assert.ok(Math.abs(epsilonAt('linear', 0.2, 0, 1, 11) - 0.18) < 1e-15); // t = 1/10
    assert.equal(epsilonAt('linear', 0.2, 0, 10, 11), 0);
    assert.equal(epsilonAt('linear', 0.2, 0.05, 4, 5), 0.05);
  });
  it('cosine: (ε₀ + ε_final)/2 half-way, (1 + cos πt)/2 in between, ε_final at the last', () => {
    assert.equal(epsilonAt('cosine', 0.2, 0, 0, 11), 0.2);
    assert.ok(Math.abs(epsilonAt('cosine', 0.2, 0, 5, 11) - 0.1) < 1e-15);
    // t = 1/4: (1 + cos π/4)/2 = (2 + √2)/4 ≈ 0.8536
    const quarter = 0.05 + 0.15 * ((2 + Math.SQRT2) / 4);
    assert.ok(Math.abs(epsilonAt('cosine', 0.2, 0.05, 1, 5) - quarter) < 1e-15);
    assert.equal(epsilonAt('cosine', 0.2, 0.05, 4, 5), 0.05);
    // cosine stays above linear in the first half of a decay
    assert.ok(epsilonAt('cosine', 0.2, 0, 2, 11) > epsilonAt('linear', 0.2, 0, 2, 11));
  });
  it('one epoch trains with ε₀', () => {
    assert.equal(epsilonAt('linear', 0.3, 0, 0, 1), 0.3);
    assert.equal(epsilonAt('cosine', 0.3, 0, 0, 1), 0.3);
  });
});

const BASE: TrainConfig = {
  epsilon: 0,
  noise: 'uniform',
  seed: 1,
  model: 'mlp',
  epochs: 2,
  batchSize: 16,
  lr: 0.01,
};

describe('checkLossConfig', () => {
  const ok = (c: Partial<TrainConfig>) => assert.doesNotThrow(() => checkLossConfig({ ...BASE, ...c }));
  const refused = (c: Partial<TrainConfig>, pattern: RegExp) =>
    assert.throws(() => checkLossConfig({ ...BASE, ...c } as TrainConfig), {
      name: 'TrainConfigError',
      message: pattern,
    });
  it('accepts each loss with its own parameters', () => {
    ok({});
    ok({ epsilon: 0.1 });
    ok({ loss: 'ce' });
    ok({ loss: 'ls', epsilon: 0.1 });
    ok({ loss: 'cp', confidencePenalty: 0.1 });
    ok({ loss: 'cp', confidencePenalty: 0.1, epsilon: 0.1 });
    ok({ loss: 'focal', focalGamma: 3 });
    ok({ loss: 'focal', focalGamma: 2, focalAlpha: 0.25, epsilon: 0.1 });
    ok({ loss: 'flsd-53' });
    ok({ loss: 'ols', epsilon: 0.5 });
    ok({ epsilon: 0.2, epsilonSchedule: 'cosine', epsilonFinal: 0 });
    ok({ epsilon: 0.2, epsilonSchedule: 'constant' });
  });
  it('refuses unknown losses, parameters of other losses and out-of-range values, naming them', () => {
    refused(
      { loss: 'hinge' as never },
      /unknown loss 'hinge' \(expected one of ce, ls, cp, focal, flsd-53, ols\)/,
    );
    refused(
      { loss: 'focal', focalGamma: 3, confidencePenalty: 0.1 },
      /--confidence-penalty 0\.1 does not apply to loss 'focal'/,
    );
    refused({ loss: 'flsd-53', focalGamma: 3 }, /--focal-gamma 3 does not apply to loss 'flsd-53'/);
    refused({ confidencePenalty: 0.1 }, /--confidence-penalty 0\.1 does not apply to loss 'ls'/);
    refused(
      { loss: 'cp' },
      /loss 'cp' needs the confidence penalty β in \[0, 100\] \(--confidence-penalty\), got undefined/,
    );
    refused(
      { loss: 'cp', confidencePenalty: -1 },
      /needs the confidence penalty β in \[0, 100\] \(--confidence-penalty\), got -1/,
    );
    refused(
      { loss: 'focal', focalGamma: Number.NaN },
      /loss 'focal' needs the focusing exponent γ in \[0, 100\] \(--focal-gamma\), got NaN/,
    );
    refused(
      { loss: 'focal', focalGamma: 2, focalAlpha: 0 },
      /loss 'focal' needs the focal factor α in \(0, 100\] \(--focal-alpha\), got 0/,
    );
    refused({ loss: 'ce', epsilon: 0.1 }, /loss 'ce' is plain cross-entropy: ε must be 0/);
    refused({ loss: 'ols' }, /loss 'ols' needs ε > 0/);
    refused({ loss: 'ols', epsilon: 0.5, noise: 'prior' }, /--noise must be uniform, got prior/);
    refused({ epsilon: 1.5 }, /ε = 1\.5 is not in \[0, 1\]/);
    refused({ epsilonFinal: 0 }, /--epsilon-final 0 needs --epsilon-schedule linear or cosine/);
    refused({ epsilonSchedule: 'step' as never }, /unknown ε schedule 'step'/);
    refused(
      { epsilon: 0.1, epsilonSchedule: 'linear' },
      /--epsilon-final must be in \[0, 1\], got undefined/,
    );
  });
  it('one table: every parameter is accepted in its range by the losses that take it, and refused by the rest and out of range', () => {
    for (const key of CONFIG_PARAMETERS) {
      const p: LossParameter = LOSS_PARAMETERS[key];
      const edge = p.open ? p.max : p.min;
      for (const loss of LOSSES) {
        const base: Partial<TrainConfig> = { loss, epsilon: loss === 'ols' ? 0.5 : 0 };
        const required = Object.fromEntries(
          CONFIG_PARAMETERS.filter((q) => LOSS_PARAMETERS[q].requiredBy.includes(loss as never)).map((q) => [
            q,
            LOSS_PARAMETERS[q].default,
          ]),
        );
        const c = { ...base, ...required, [key]: edge };
        if (p.losses.includes(loss as never)) {
          ok(c);
          refused({ ...c, [key]: p.max * 2 }, new RegExp(`needs ${p.what} in .* \\(${p.flag}\\)`));
          refused({ ...c, [key]: p.open ? p.min : p.min - 1 }, new RegExp(`\\(${p.flag}\\)`));
        } else refused(c, new RegExp(`${p.flag} ${edge} does not apply to loss '${loss}'`));
      }
      assert.equal(flagName(key), p.flag, 'commander stores the flag under the table’s key');
    }
  });
  it("one table: run labels, run names and docs/cli.md's table of losses show each parameter as the table says", () => {
    // an escaped pipe (`u(·\|y)`) is not a cell border
    const cliDoc = join(import.meta.dirname, '..', 'docs', 'cli.md');
    const doc = readFileSync(cliDoc, 'utf8').replaceAll('\\|', '¦');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-z0-9-]+)` \|[^|]*\|([^|]*)\|$/gm)].map((m) => [m[1], m[2]] as const),
    );
    assert.deepEqual([...rows.keys()], [...LOSSES], 'docs/cli.md lists every loss, in order');
    for (const [key, p] of Object.entries(LOSS_PARAMETERS) as [
      keyof typeof LOSS_PARAMETERS,
      LossParameter,
    ][]) {
      for (const loss of LOSSES) {
        const cell = rows.get(loss) ?? '';
        assert.equal(
          cell.includes(`\`${p.flag} ${p.default}\``),
          p.losses.includes(loss),
          `${loss}: ${p.flag}`,
        );
      }
      const name = deriveRunName('train', 'toy', { [key]: 2.5 }, { [key]: p.default });
      assert.equal(name, `train-toy-${p.nameTag}2.5`);
      if (key === 'olsEpsilon') continue; // stored as the run's ε
      const loss = p.losses[0];
      const label = runLabel({ ...BASE, loss, epsilon: loss === 'ols' ? 0.5 : 0, [key]: 2.5 });
      assert.ok(label.includes(`${p.symbol}=2.5`), label);
      const atDefault = runLabel({ ...BASE, loss, epsilon: 0, [key]: p.default });
      assert.equal(atDefault.includes(`${p.symbol}=`), p.requiredBy.includes(loss), atDefault);
    }
  });
  it('the baseline, cross-entropy and focal runs: one rule each, read by the trainer and the report', () => {
    const configs: TrainConfig[] = [
      { ...BASE, epsilon: 0 },
      { ...BASE, epsilon: 0, noise: 'non-target' },
      { ...BASE, epsilon: 0.1 },
      { ...BASE, epsilon: 0, epsilonSchedule: 'linear', epsilonFinal: 0.1 },
      ...LOSSES.map((loss) => ({
        ...BASE,
        loss,
        epsilon: loss === 'ls' || loss === 'ols' ? 0.1 : 0,
        ...(loss === 'cp' ? { confidencePenalty: 0.1 } : loss === 'focal' ? { focalGamma: 2 } : {}),
      })),
    ];
    const labels = configs.map(runLabel);
    assert.deepEqual(
      labels.filter(isBaselineLabel),
      ['ε=0', 'ε=0', 'ce'],
      'the unsmoothed runs without a loss, and ce',
    );
    assert.deepEqual(configs.filter((c) => isCrossEntropyLoss(c.loss)).map(runLabel), [
      'ε=0',
      'ε=0',
      'ε=0.1',
      'ε=0→0.1 linear',
      'ce',
      'ls ε=0.1',
    ]);
    for (const c of configs) assert.equal(fitsTemperature(c), isCrossEntropyLoss(c.loss));
    assert.deepEqual(
      configs.filter(isFocal).map((c) => c.loss),
      ['focal', 'flsd-53'],
    );
  });
  it('maps each loss to the op options, and only plain cross-entropy gets temperature scaling', () => {
    assert.deepEqual(lossOptions({ ...BASE, loss: 'flsd-53', focalAlpha: 0.25 }), {
      focalGamma: 'flsd-53',
      focalAlpha: 0.25,
    });
    assert.deepEqual(lossOptions({ ...BASE, loss: 'cp', confidencePenalty: 0.2 }), {
      confidencePenalty: 0.2,
    });
    assert.deepEqual(lossOptions({ ...BASE, loss: 'ols', epsilon: 0.5 }), {});
    assert.deepEqual(lossOptions({ ...BASE, epsilon: 0.1 }), {});
    assert.equal(isPlainCrossEntropy(BASE), true);
    assert.equal(isPlainCrossEntropy({ ...BASE, loss: 'ce' }), true);
    assert.equal(isPlainCrossEntropy({ ...BASE, loss: 'flsd-53' }), false);
    assert.equal(isPlainCrossEntropy({ ...BASE, loss: 'cp', confidencePenalty: 0.1 }), false);
    assert.equal(isPlainCrossEntropy({ ...BASE, epsilonSchedule: 'linear', epsilonFinal: 0.1 }), false);
  });
  it('labels runs by loss and parameters; without a loss, exactly as before', () => {
    assert.equal(runLabel({ ...BASE, epsilon: 0.1 }), 'ε=0.1');
    assert.equal(runLabel({ ...BASE, epsilon: 0.1, noise: 'non-target' }), 'ε=0.1 (non-target)');
    assert.equal(runLabel({ ...BASE, loss: 'ce' }), 'ce');
    assert.equal(runLabel({ ...BASE, loss: 'ls', epsilon: 0.1 }), 'ls ε=0.1');
    assert.equal(runLabel({ ...BASE, loss: 'cp', confidencePenalty: 0.1 }), 'cp β=0.1');
    assert.equal(runLabel({ ...BASE, loss: 'focal', focalGamma: 3, focalAlpha: 0.25 }), 'focal γ=3 α=0.25');
    assert.equal(runLabel({ ...BASE, loss: 'flsd-53' }), 'flsd-53');
    assert.equal(runLabel({ ...BASE, loss: 'ols', epsilon: 0.5 }), 'ols ε=0.5');
    assert.equal(
      runLabel({ ...BASE, epsilon: 0.2, epsilonSchedule: 'cosine', epsilonFinal: 0 }),
      'ε=0.2→0 cosine',
    );
  });
});

/** Three Gaussian blobs as a dataset. */
function blobSet(n: number, seed: number): Dataset {
  const { x, y } = blobs(n, seed);
  return { name: 'blobs', x, y, rows: n, features: 2, classNames: ['a', 'b', 'c'] };
}

describe('Trainer with the family of losses', () => {
  it('online label smoothing: S is checkpointed, and a resumed run equals the uninterrupted one bit for bit', async () => {
    await useBackend('cpu');
    const train = blobSet(96, 3);
    const test = blobSet(30, 5);
    const config: TrainConfig = { ...BASE, loss: 'ols', epsilon: 0.5, epochs: 3 };
    const full = new Trainer(config, train, test);
    for (let e = 0; e < 3; e++) await full.runEpoch();
    const fullState = (full as unknown as { ols: { state(): unknown } }).ols.state();
    const fullLogits = full.predict(test);
    full.dispose();

    const dir = tempDir();
    const first = new Trainer(config, train, test);
    await first.runEpoch();
    await checkpoints.save(dir, first);
    const afterOne = (first as unknown as { ols: { state(): { matrix: number[] } } }).ols.state();
    first.dispose();
    // After an epoch on well-separated blobs S is no longer uniform: the checkpoint carries information.
    assert.ok(
      afterOne.matrix.some((v) => Math.abs(v - 1 / 3) > 0.05),
      JSON.stringify(afterOne.matrix),
    );

    const resumed = new Trainer(config, train, test);
    const ckpt = checkpoints.latest(dir)!;
    await resumed.loadCheckpoint(ckpt.dir, ckpt.epoch);
    assert.deepEqual((resumed as unknown as { ols: { state(): unknown } }).ols.state(), afterOne);
    for (let e = 1; e < 3; e++) await resumed.runEpoch();
    assert.deepEqual((resumed as unknown as { ols: { state(): unknown } }).ols.state(), fullState);
    assert.deepEqual(resumed.predict(test), fullLogits);
    resumed.dispose();
  });

  it('a checkpoint whose S is damaged is refused', async () => {
    await useBackend('cpu');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const train = blobSet(48, 3);
    const test = blobSet(15, 5);
    const config: TrainConfig = { ...BASE, loss: 'ols', epsilon: 0.5 };
    const t = new Trainer(config, train, test);
    await t.runEpoch();
    const dir = tempDir();
    await checkpoints.save(dir, t);
    t.dispose();
    const ckpt = checkpoints.latest(dir)!;
    const file = join(ckpt.dir, 'state.json');
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.ols.matrix[0] = 7;
    writeFileSync(file, JSON.stringify(state));
    const again = new Trainer(config, train, test);
    await assert.rejects(again.loadCheckpoint(ckpt.dir, ckpt.epoch), {
      name: 'DataFileError',
      message: /online label smoothing state: .*row 0 sums to .*the checkpoint is damaged/,
    });
    again.dispose();
  });

  it('every loss trains to finite metrics; the schedule is recorded per epoch; cp records H(q)', async () => {
    await useBackend('cpu');
    const train = blobSet(64, 3);
    const test = blobSet(30, 5);
    const configs: Partial<TrainConfig>[] = [
      { loss: 'ce' },
      { loss: 'ls', epsilon: 0.1, epsilonSchedule: 'linear', epsilonFinal: 0 },
      { loss: 'cp', confidencePenalty: 0.1 },
      // γ = 2: with 3 classes q_y starts near 1/3 ≥ 0.2, where flsd-53 takes γ = 3 — the same loss as γ = 3.
      { loss: 'focal', focalGamma: 2 },
      { loss: 'flsd-53' },
      { loss: 'ols', epsilon: 0.5 },
    ];
    const losses: number[] = [];
    for (const c of configs) {
      const t = new Trainer({ ...BASE, ...c }, train, test);
      const m1 = await t.runEpoch();
      const m2 = await t.runEpoch();
      t.dispose();
      for (const m of [m1, m2])
        for (const [key, v] of Object.entries(m)) assert.ok(Number.isFinite(v), `${c.loss} ${key} = ${v}`);
      if (c.epsilonSchedule) assert.deepEqual([m1.epsilon, m2.epsilon], [0.1, 0]);
      else assert.equal(m1.epsilon, undefined);
      if (c.loss === 'cp') {
        assert.ok(m1.trainEntropy! > 0);
        // loss = (1−ε)·H(p,q) + ε·H(u,q) − β·H(q) with ε = 0
        assert.ok(Math.abs(m1.trainLoss - (m1.trainNll - 0.1 * m1.trainEntropy!)) < 1e-9);
      } else assert.equal(m1.trainEntropy, undefined);
      losses.push(m1.trainLoss);
    }
    assert.equal(new Set(losses).size, losses.length, `losses should differ: ${losses}`);
  });
});
