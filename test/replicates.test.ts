// Seeds are replicates: each seed draws its own training/validation split (shared by every run of that
// seed), the test set is fixed, and a seed's result does not depend on the other seeds listed. compare
// gives the same results on its local pool of trial processes as in one process.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { drawSplits, loadPool } from '../packages/experiments/src/cli/datasets.js';
import { escapeHtml } from '../packages/experiments/src/report/escape.js';
import { cli, tempDir } from './helpers/cli.js';
import { deterministicResults, writeCsv } from './helpers/sweep.js';

describe('seeds are replicates', () => {
  const dir = tempDir('labelsmooth-replicates-');
  const csv = join(dir, 'data.csv');
  writeCsv(csv, 300);
  const data = { dataset: `csv:${csv}`, validation: 0.2, trainSize: 150, seed: 1 };

  it('each seed draws its own validation split and training subset; the test set is the same', () => {
    const pool = loadPool(data);
    const [a, b, a2] = [1, 2, 1].map((s) => drawSplits(pool, data, s));
    assert.notEqual(a.split, b.split);
    assert.equal(a.split, a2.split);
    assert.match(a.split, /^[0-9a-f]{16}$/);
    assert.notDeepEqual(a.train.x, b.train.x);
    assert.notDeepEqual(a.validation?.y, b.validation?.y);
    assert.deepEqual(a.test.x, b.test.x);
    assert.equal(a.train.rows, 150);
    assert.equal(b.validation?.rows, 48);
    // The test set does not depend on the seed given as the data seed (it once came from the first seed).
    assert.deepEqual(loadPool({ ...data, seed: 7 }).test.y, pool.test.y);
  });

  it("compare: runs of a seed share its split id, and seed 2's results do not depend on the seeds listed", () => {
    const runs = join(dir, 'runs');
    const args = ['--dataset', `csv:${csv}`, '--epochs', '2', '--epsilons', '0,0.1', '--train-size', '150'];
    const one = cli([
      'compare',
      ...args,
      '--seeds',
      '1,2',
      '--runs-dir',
      runs,
      '--name',
      'a',
      '--quiet',
      '--workers',
      '1',
    ]);
    assert.equal(one.code, 0, one.stderr);
    const two = cli([
      'compare',
      ...args,
      '--seeds',
      '2,3',
      '--runs-dir',
      runs,
      '--name',
      'b',
      '--quiet',
      '--workers',
      '1',
    ]);
    assert.equal(two.code, 0, two.stderr);
    const read = (name: string) => JSON.parse(readFileSync(join(runs, name, 'results.json'), 'utf8'));
    const a = read('a');
    const b = read('b');
    const splits = (r: { runs: { seed: number; split: string }[] }, seed: number) =>
      new Set(r.runs.filter((x) => x.seed === seed).map((x) => x.split));
    assert.equal(splits(a, 1).size, 1);
    assert.equal(splits(a, 2).size, 1);
    assert.notDeepEqual(splits(a, 1), splits(a, 2));
    const seed2 = (r: { runs: { seed: number; test: unknown; temperature?: unknown; split: string }[] }) =>
      r.runs.filter((x) => x.seed === 2).map((x) => [x.split, x.test, x.temperature]);
    assert.deepEqual(seed2(b), seed2(a));
    // The budget-matched run of each seed: label smoothing (ε = 0.1) on train ∪ validation, no temperature
    // (no validation rows left), the seed's split id (checked above), and its claims against ε = 0 + TS.
    const budget = a.runs.filter((x: { trainedOn?: string }) => x.trainedOn === 'train+validation');
    assert.deepEqual(
      budget.map((x: { seed: number; label: string }) => [x.seed, x.label]),
      [
        [1, 'ε=0.1 on train ∪ validation'],
        [2, 'ε=0.1 on train ∪ validation'],
      ],
    );
    assert.ok(budget.every((x: { temperature?: unknown }) => x.temperature === undefined));
    assert.equal(a.config.budgetEpsilon, 0.1);
    for (const metric of ['ece', 'debiasedEce', 'nll', 'accuracy'])
      assert.ok(
        a.claims.some(
          (c: { metric: string; a: string; b: string }) =>
            c.metric === metric &&
            c.a === 'ε=0 + temperature scaling' &&
            c.b === 'ε=0.1 on train ∪ validation',
        ),
        metric,
      );
    // Claims are stored with the sentence the report prints.
    assert.ok(a.claims.length > 0);
    const html = readFileSync(join(runs, 'a', 'report.html'), 'utf8');
    for (const c of a.claims) assert.ok(html.includes(escapeHtml(c.text)), c.text);
  });

  it('compare on 2 trial processes gives the results of 1 process, bit for bit', () => {
    const runs = join(dir, 'runs');
    const args = [
      '--dataset',
      `csv:${csv}`,
      '--epochs',
      '2',
      '--epsilons',
      '0,0.1',
      '--seeds',
      '2',
      '--runs-dir',
      runs,
    ];
    const one = cli(['compare', ...args, '--name', 'w1', '--quiet', '--workers', '1']);
    assert.equal(one.code, 0, one.stderr);
    const two = cli(['compare', ...args, '--name', 'w2', '--workers', '2']);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(deterministicResults(join(runs, 'w2')), deterministicResults(join(runs, 'w1')));
  });
});
