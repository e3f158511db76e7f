// The budget-matched row: label smoothing trained on train ∪ validation against ε = 0 trained on train
// with its temperature fitted on validation (the same labelled rows of each seed), paired per seed. Its
// claims and sentences on adversarial result sets (it worse, it better, signs that disagree across seeds,
// one seed, the row absent), and the CLI pieces that make the run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUDGET_EPSILON,
  budgetEpochs,
  budgetEpsilon,
  budgetRun,
} from '../packages/experiments/src/cli/budget.js';
import { budgetSplits, type Splits } from '../packages/experiments/src/cli/datasets.js';
import type { CompareOptions } from '../packages/experiments/src/cli/runOptions.js';
import { expandGrid, trialKey } from '../packages/experiments/src/cli/sweep/grid.js';
import { UsageError } from '../packages/experiments/src/cli/usage.js';
import type { Dataset } from '../packages/experiments/src/data/dataset.js';
import { compareClaims } from '../packages/experiments/src/report/claims.js';
import { budgetSentences, helpsSentence, takeaway } from '../packages/experiments/src/report/insights.js';
import { methodName, renderReport, tableOrder } from '../packages/experiments/src/report/report.js';
import type { Claim, CompareResults } from '../packages/experiments/src/results/schema.js';
import { pageText } from './helpers/pageText.js';
import { type SeedNumbers, seedResults } from './helpers/results.js';

const B = 'ε=0.1 on train ∪ validation';
const TS = 'ε=0 + temperature scaling';
const m = (acc: number, ece: number, nll: number, debiasedEce?: number): SeedNumbers => ({
  acc,
  conf: acc + ece,
  ece,
  nll,
  ...(debiasedEce === undefined ? {} : { debiasedEce }),
});

/** ε = 0 (with its TS twin `ts[i]`), ε = 0.1 and the budget-matched run `budget[i]`, one entry a seed. */
function results(ts: SeedNumbers[], budget: SeedNumbers[] | null): CompareResults {
  const base = ts.map((x) => m(x.acc, 0.08, 0.65));
  const models: Record<string, SeedNumbers[]> = { 'ε=0': base, 'ε=0.1': ts.map((x) => m(x.acc, 0.05, 0.62)) };
  if (budget) models[B] = budget;
  const r = seedResults(models, { 'ε=0': ts });
  r.config = { ...r.config, budgetEpsilon: budget ? 0.1 : null };
  // As compare writes them.
  r.claims = compareClaims(r.runs);
  return r;
}

const claim = (r: CompareResults, metric: string) =>
  (r.claims as Claim[]).find((c) => c.metric === metric && c.a === TS && c.b === B);

const ts5 = [0.02, 0.021, 0.019, 0.022, 0.018].map((e, i) => m(0.8 + i * 0.002, e, 0.56 + e));

describe('budget-matched claims', () => {
  it('are made on ECE, debiased ECE, NLL and accuracy against ε = 0 + TS, paired per seed', () => {
    const r = results(
      ts5,
      ts5.map((x, i) => m(x.acc + 0.01, 0.05 + i * 0.001, 0.6 + i * 0.002)),
    );
    for (const metric of ['ece', 'debiasedEce', 'nll', 'accuracy']) {
      const c = claim(r, metric) as Claim;
      assert.ok(c, metric);
      assert.deepEqual(c.seeds, [1, 2, 3, 4, 5]);
    }
    // It is not compared with the raw ε = 0 (it trained on more rows), nor counted as a point of the ε grid.
    assert.ok(!(r.claims as Claim[]).some((c) => c.b === B && c.a === 'ε=0'));
    assert.ok(!(helpsSentence(r, 'ε=0') as string).includes('train ∪ validation'));
  });

  it('label smoothing on train ∪ validation worse: "higher ECE/NLL", never "lower"', () => {
    const r = results(
      ts5,
      ts5.map((x, i) => m(x.acc, 0.05 + i * 0.001, 0.62 + i * 0.001)),
    );
    const ece = claim(r, 'ece') as Claim;
    assert.equal(ece.holds, true);
    assert.ok(ece.estimate > 0);
    assert.match(
      ece.text,
      /^ε = 0\.1 on train ∪ validation has higher ECE than ε = 0 \+ temperature scaling: \+0\.03/,
    );
    const nll = claim(r, 'nll') as Claim;
    assert.match(nll.text, /has higher NLL than/);
    const s = budgetSentences(r).join(' ');
    assert.ok(!/lower (ECE|NLL)/.test(s), s);
    assert.ok(s.includes(ece.text) && s.includes(nll.text));
  });

  it('label smoothing on train ∪ validation better: "lower", with the claim that holds', () => {
    const r = results(
      ts5,
      ts5.map((x, i) => m(x.acc, 0.005 + i * 0.0005, 0.5 + i * 0.001)),
    );
    assert.match((claim(r, 'ece') as Claim).text, /has lower ECE than ε = 0 \+ temperature scaling/);
    assert.match((claim(r, 'nll') as Claim).text, /has lower NLL than/);
  });

  it('signs that disagree across seeds: not shown, with the interval', () => {
    const r = results(
      ts5,
      ts5.map((x, i) =>
        m(
          x.acc,
          x.ece + [0.01, -0.012, 0.008, -0.009, 0.002][i],
          x.nll + [0.02, -0.03, 0.01, -0.02, 0.015][i],
        ),
      ),
    );
    for (const metric of ['ece', 'nll']) {
      const c = claim(r, metric) as Claim;
      assert.equal(c.holds, false, metric);
      assert.ok(c.perSeed.some((d) => d > 0) && c.perSeed.some((d) => d < 0));
      assert.match(c.text, /, not shown \(95 % interval \[−[\d.]+, \+[\d.]+\] over 5 seeds\)\.$/);
    }
    assert.ok(!/has (lower|higher) (ECE|NLL)/.test(budgetSentences(r).join(' ')));
  });

  it('one seed: nothing holds, no interval is made up', () => {
    const r = results([ts5[0]], [m(0.82, 0.01, 0.5)]);
    for (const metric of ['ece', 'nll', 'accuracy']) {
      const c = claim(r, metric) as Claim;
      assert.equal(c.holds, false);
      assert.equal(c.interval, null);
      assert.match(c.text, /not shown \(one seed gives no interval over seeds\)/);
    }
  });

  it('the row absent: no budget claim, no budget sentence, nothing in the report about it', async () => {
    const r = results(ts5, null);
    assert.ok(!(r.claims as Claim[]).some((c) => c.b.includes('train ∪ validation')));
    assert.deepEqual(budgetSentences(r), []);
    const page = pageText(await renderReport(r));
    assert.ok(!page.includes('Budget-matched') && !page.includes('train ∪ validation'));
  });

  it('the report says which comparison it is and why that ε, and prints each claim as results.json has it', async () => {
    const r = results(
      ts5,
      ts5.map((x, i) => m(x.acc, 0.05 + i * 0.001, 0.62 + i * 0.001)),
    );
    for (const run of r.runs) if (run.trainedOn) run.epochs = run.epochs.slice(0, 2);
    const s = takeaway(r).join(' ');
    // Each side's rows, epochs and gradient steps, from the runs (batch 32; 6,000 validation rows).
    const all = r.dataset.train + r.dataset.validation;
    assert.ok(
      s.includes(
        `(${all} rows, 2 epochs: ${2 * Math.ceil(all / 32)} gradient steps; ε = 0: ${r.dataset.train} rows, 3 epochs: ${3 * Math.ceil(r.dataset.train / 32)} steps)`,
      ),
      s,
    );
    assert.match(
      s,
      /Budget-matched comparison: ε = 0\.1 on train ∪ validation trains label smoothing on each seed's training and validation rows \(.*\), ε = 0 \+ temperature scaling trains on the training rows and fits its temperature on the validation rows/,
    );
    assert.match(
      s,
      /ε = 0\.1 is fixed before any run \(the value of Szegedy et al\. 2016 and Müller et al\. 2019\), not chosen on test results/,
    );
    const page = pageText(await renderReport(r));
    for (const metric of ['ece', 'debiasedEce', 'nll', 'accuracy'])
      assert.ok(page.includes((claim(r, metric) as Claim).text), metric);
    // Its table row has its own name, after the ε grid and temperature scaling.
    const rows = tableOrder(r.summary);
    assert.equal(methodName(rows[rows.length - 1]), 'label smoothing (ε = 0.1) on train ∪ validation');
    assert.ok(page.includes('label smoothing (ε = 0.1) on train ∪ validation'));
  });

  it('claims of a results file without debiased ECE (an older version) are left out, not NaN', () => {
    const r = results(
      ts5,
      ts5.map((x) => m(x.acc, 0.05, 0.62)),
    );
    for (const run of r.runs) delete (run.test as Partial<typeof run.test>).debiasedEce;
    const cs = compareClaims(r.runs);
    assert.ok(!cs.some((c) => c.metric === 'debiasedEce'));
    assert.ok(cs.every((c) => Number.isFinite(c.estimate)));
  });
});

describe('budget-matched run: the CLI pieces', () => {
  const options = (over: Partial<CompareOptions> = {}) =>
    ({
      epsilons: [0, 0.05, 0.1, 0.2],
      epsilonSchedule: 'constant',
      budgetEpsilon: BUDGET_EPSILON,
      ...over,
    }) as CompareOptions;

  it('its epochs: as many gradient steps as a run on the training split, in whole epochs', () => {
    // npm start: 20 epochs × ⌈1000/64⌉ = 320 steps; ⌈2200/64⌉ = 35 a epoch: 9 epochs (315 steps).
    assert.equal(budgetEpochs(20, 64, 1000, 1200), 9);
    assert.equal(budgetEpochs(2, 64, 150, 38), 2);
    assert.equal(budgetEpochs(1, 10, 10, 1000), 1);
    for (const [e, b, t, v] of [
      [20, 64, 1000, 1200],
      [7, 32, 500, 50],
      [30, 128, 10000, 1200],
    ]) {
      const steps = e * Math.ceil(t / b);
      const per = Math.ceil((t + v) / b);
      const got = budgetEpochs(e, b, t, v);
      assert.ok(Math.abs(got * per - steps) <= per / 2, `${[e, b, t, v]}: ${got} epochs`);
    }
  });

  it('the default is ε = 0.1; none turns it off; anything else is refused', () => {
    assert.equal(BUDGET_EPSILON, 0.1);
    assert.equal(budgetEpsilon('0.05'), 0.05);
    assert.equal(budgetEpsilon('none'), null);
    for (const bad of ['0', '1', '-0.1', 'x', ''])
      assert.throws(() => budgetEpsilon(bad), /expected an ε in \(0, 1\), or none/);
  });

  it('a grid with ε = 0 and a validation split gets it; without one, a note, or a refusal when asked for', () => {
    const notes: string[] = [];
    assert.deepEqual(
      budgetRun(options(), 1200, new Set(), (s) => notes.push(s)),
      {
        loss: 'cross-entropy',
        epsilon: 0.1,
        trainedOn: 'train+validation',
      },
    );
    assert.equal(
      budgetRun(options({ budgetEpsilon: null }), 1200, new Set(), (s) => notes.push(s)),
      null,
    );
    assert.equal(notes.length, 0);
    assert.equal(
      budgetRun(options(), 0, new Set(), (s) => notes.push(s)),
      null,
    );
    assert.match(notes[0], /no budget-matched run .*: it needs a validation split/);
    assert.equal(
      budgetRun(options({ epsilons: [0.1] }), 1200, new Set(), (s) => notes.push(s)),
      null,
    );
    assert.match(notes[1], /it needs ε = 0 in --epsilons/);
    assert.equal(
      budgetRun(options({ losses: ['ce', 'ls'] }), 1200, new Set(), (s) => notes.push(s)),
      null,
    );
    assert.throws(
      () => budgetRun(options(), 0, new Set(['budgetEpsilon']), () => {}),
      (e: unknown) =>
        e instanceof UsageError && /--budget-epsilon 0\.1: it needs a validation split/.test(e.message),
    );
  });

  it("its splits: train ∪ validation, no validation left, the same test set and split id; the seed's own untouched", () => {
    const ds = (rows: number, at: number): Dataset => ({
      name: 'd',
      x: Float32Array.from({ length: rows * 2 }, (_, i) => at + i),
      y: Int32Array.from({ length: rows }, (_, i) => i % 2),
      rows,
      features: 2,
      classNames: ['a', 'b'],
    });
    const s: Splits = {
      dataset: 'd',
      train: ds(5, 0),
      validation: ds(3, 100),
      test: ds(4, 200),
      notes: [],
      split: 'abc',
    };
    const before = Float32Array.from(s.train.x);
    const b = budgetSplits(s);
    assert.equal(b.train.rows, 8);
    assert.deepEqual([...b.train.x.subarray(10)], [...(s.validation as Dataset).x]);
    assert.deepEqual([...b.train.y], [...s.train.y, ...(s.validation as Dataset).y]);
    assert.equal(b.validation, null);
    assert.equal(b.test, s.test);
    assert.equal(b.split, 'abc');
    assert.equal(b.trainedOn, 'train+validation');
    assert.deepEqual(s.train.x, before);
    assert.throws(() => budgetSplits({ ...s, validation: null }), /no validation split/);
  });

  it('its trial has a key of its own; the other trials keep theirs', () => {
    const trials = expandGrid({
      datasets: ['d'],
      noises: ['uniform'],
      seeds: [1],
      runs: [
        { loss: 'cross-entropy', epsilon: 0.1 },
        { loss: 'cross-entropy', epsilon: 0.1, trainedOn: 'train+validation' },
      ],
    });
    assert.equal(trialKey(trials[0]), 'dataset=d,epsilon=0.1,noise=uniform,loss=cross-entropy,seed=1');
    assert.equal(trialKey(trials[1]), `${trialKey(trials[0])},trainedOn=train%2Bvalidation`);
    assert.equal('trainedOn' in trials[0], false);
  });
});
