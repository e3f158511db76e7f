// labelsmooth distill end to end, tiny: two teachers per seed, a student of each, results and report.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers/cli.js';

describe('labelsmooth distill', () => {
  it('trains ε = 0 and ε > 0 teachers, distills each into a student, reports all four per seed', () => {
    const dir = tempDir();
    const r = cli([
      'distill',
      '--dataset',
      'mnist',
      '--train-size',
      '300',
      '--test-size',
      '300',
      '--epochs',
      '2',
      '--student-epochs',
      '2',
      '--seeds',
      '2',
      '--epsilon',
      '0.2',
      '--temperature',
      '3',
      '--runs-dir',
      dir,
      '--name',
      'd',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /student of the ε=0\.2 teacher, seed 2: accuracy 0\.\d{4}/);
    assert.match(r.stdout, /teacher ε=0 +0\.\d{4} ± 0\.\d{4}/);
    const res = JSON.parse(readFileSync(join(dir, 'd', 'results.json'), 'utf8'));
    assert.equal(res.kind, 'distill');
    assert.equal(res.models.length, 8);
    assert.deepEqual(
      res.summary.map((s: { role: string; teacherEpsilon: number; runs: number }) => [
        s.role,
        s.teacherEpsilon,
        s.runs,
      ]),
      [
        ['teacher', 0, 2],
        ['teacher', 0.2, 2],
        ['student', 0, 2],
        ['student', 0.2, 2],
      ],
    );
    for (const m of res.models) {
      assert.ok(m.test.accuracy > 0.2 && m.test.accuracy <= 1, `${m.role} accuracy ${m.test.accuracy}`);
      assert.ok(Number.isFinite(m.test.nll) && Number.isFinite(m.test.ece));
    }
    const html = readFileSync(join(dir, 'd', 'report.html'), 'utf8');
    assert.match(html, /Müller et al\.&#39;s Fig\. 6/);
    assert.match(html, /T = 3/);
    // The same run gives the same numbers.
    const again = cli([
      'distill',
      '--dataset',
      'mnist',
      '--train-size',
      '300',
      '--test-size',
      '300',
      '--epochs',
      '2',
      '--student-epochs',
      '2',
      '--seeds',
      '2',
      '--epsilon',
      '0.2',
      '--temperature',
      '3',
      '--runs-dir',
      dir,
      '--name',
      'd2',
      '--quiet',
    ]);
    assert.equal(again.code, 0, again.stderr);
    const res2 = JSON.parse(readFileSync(join(dir, 'd2', 'results.json'), 'utf8'));
    assert.deepEqual(
      res2.models.map((m: { test: { nll: number } }) => m.test.nll),
      res.models.map((m: { test: { nll: number } }) => m.test.nll),
    );
    assert.equal(cli(['report', join(dir, 'd')]).code, 0);
  });
});
