// `labelsmooth evaluate`: the new metrics and their intervals, the same numbers as the library's calibration().
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { calibration } from '../packages/labelsmooth/src/index.js';
import { cli, tempDir } from './helpers/cli.js';

const N = 300;
const K = 5;
const logits = Array.from({ length: N }, (_, i) =>
  Array.from({ length: K }, (_, c) => Math.sin(i * 2.3 + c * 0.9) * 4 + (c === i % K ? 1.5 : 0)),
);
const labels = Array.from({ length: N }, (_, i) => (i % 7 === 0 ? (i + 2) % K : i % K));

describe('labelsmooth evaluate: smooth ECE, classwise ECE, AURC, intervals', () => {
  const dir = tempDir();
  const p = join(dir, 'p.json');
  const y = join(dir, 'y.json');
  writeFileSync(p, JSON.stringify(logits));
  writeFileSync(y, JSON.stringify(labels));
  const run = (...extra: string[]) =>
    cli(['evaluate', '--predictions', p, '--labels', y, '--runs-dir', dir, '--from', 'logits', ...extra]);

  it('--json: same names and numbers as calibration(..., { intervals: true, curves: true })', () => {
    const r = run('--json', '--resamples', '200', '--seed', '5', '--name', 'a');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout).report;
    const lib = calibration(logits, labels, { intervals: true, resamples: 200, seed: 5, curves: true });
    assert.deepEqual(report, JSON.parse(JSON.stringify(lib)));
    for (const key of ['smoothEce', 'smoothEceBandwidth', 'classwiseEce', 'aurc', 'intervals', 'bootstrap'])
      assert.ok(key in report, key);
  });

  it('the table prints every interval; --resamples 0 prints none', () => {
    const r = run('--resamples', '100', '--name', 'b');
    assert.equal(r.code, 0, r.stderr);
    const lib = calibration(logits, labels, { intervals: true, resamples: 100 });
    const [lo, hi] = lib.intervals!.smoothEce;
    assert.match(
      r.stdout,
      new RegExp(
        `smooth ECE \\(σ = ${lib.smoothEceBandwidth.toFixed(4)}\\)\\s+${lib.smoothEce.toFixed(4)}\\s+\\[${lo.toFixed(4)}, ${hi.toFixed(4)}\\]`,
      ),
    );
    assert.match(r.stdout, /95 % interval/);
    assert.match(r.stdout, /intervals: percentile bootstrap, 100 resamples of the 300 rows, seed 0/);
    assert.match(r.stdout, new RegExp(`AURC\\s+${lib.aurc.toFixed(4)}\\s+\\[`));
    const none = run('--resamples', '0', '--name', 'c');
    assert.equal(none.code, 0, none.stderr);
    assert.doesNotMatch(none.stdout, /interval/);
    assert.match(
      none.stdout,
      new RegExp(`classwise ECE \\(15 bins\\)\\s+${lib.classwiseEce.toFixed(4)}\\s*\\n`),
    );
  });

  it('--ignore-index leaves rows out and says so', () => {
    const yi = join(dir, 'yi.json');
    writeFileSync(yi, JSON.stringify(labels.map((v, i) => (i < 10 ? -1 : v))));
    const r = cli([
      'evaluate',
      '--predictions',
      p,
      '--labels',
      yi,
      '--runs-dir',
      dir,
      '--ignore-index',
      '-1',
      '--resamples',
      '0',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout).report;
    assert.equal(report.rows, N - 10);
    assert.equal(report.ignored, 10);
    assert.equal(report.accuracy, calibration(logits.slice(10), labels.slice(10)).accuracy);
    const bad = run('--ignore-index', '-1', '--resamples', '0', '--name', 'd');
    assert.equal(bad.code, 0, 'no label is -1 in y.json: nothing ignored');
    const t = cli(['evaluate', '--predictions', p, '--labels', yi, '--runs-dir', dir, '--resamples', '0']);
    assert.notEqual(t.code, 0);
    assert.match(
      t.stderr,
      /yi\.json: row 0: label -1 is not a class index in \[0, 5\) nor the ignore index -100/,
    );
  });
});
