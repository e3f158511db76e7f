// labelsmooth distill end to end, tiny: two teachers per seed, a student of each, results and report.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers/cli.js';
import { writeCsv } from './helpers/sweep.js';

/** A small distill: 300 MNIST images, 2 epochs each, 2 seeds, ε = 0.2, T = 3. */
const args = (dir: string) => [
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
];

describe('labelsmooth distill', () => {
  it('trains ε = 0 and ε > 0 teachers, distills each into a student, reports all four per seed', () => {
    const dir = tempDir();
    const r = cli([...args(dir), '--name', 'd']);
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
    const again = cli([...args(dir), '--name', 'd2', '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    const res2 = JSON.parse(readFileSync(join(dir, 'd2', 'results.json'), 'utf8'));
    assert.deepEqual(
      res2.models.map((m: { test: { nll: number } }) => m.test.nll),
      res.models.map((m: { test: { nll: number } }) => m.test.nll),
    );
    assert.equal(cli(['report', join(dir, 'd')]).code, 0);
  });
});

describe('distill frees its models when a step throws', () => {
  /**
   * Run distill with the n-th optimizer step (1-based, over teacher and student) throwing, and return the
   * tensors alive after it failed minus before it started. With --epochs 2 and one batch per epoch, steps
   * 1–2 train the first teacher and 3–4 its student.
   */
  const leakedWhenStepThrows = async (n: number) => {
    const tf = await import('@tensorflow/tfjs-core');
    const { useBackend } = await import('../packages/experiments/src/cli/backend.js');
    const { distill } = await import('../packages/experiments/src/cli/distill.js');
    await useBackend('wasm');
    const dir = tempDir();
    writeCsv(join(dir, 'toy.csv'), 90); // one batch per epoch at --batch-size 128
    const proto = tf.AdamOptimizer.prototype;
    const minimize = proto.minimize;
    let steps = 0;
    proto.minimize = function (this: typeof proto, ...args: Parameters<typeof minimize>) {
      if (++steps === n) throw new Error(`forced failure of step ${n}`);
      return minimize.apply(this, args);
    };
    const before = tf.memory().numTensors;
    try {
      await assert.rejects(
        distill({
          dataset: `csv:${join(dir, 'toy.csv')}`,
          model: 'mlp',
          epochs: 2,
          batchSize: 128,
          lr: 0.003,
          validation: 0,
          seed: 1,
          seeds: [1],
          epsilon: 0.1,
          temperature: 2,
          studentEpochs: 2,
          studentHidden: 8,
          noise: 'uniform',
          backend: 'wasm',
          runsDir: dir,
          name: `fail${n}`,
          json: false,
          quiet: true,
        }),
        new RegExp(`forced failure of step ${n}`),
      );
    } finally {
      proto.minimize = minimize;
    }
    assert.equal(steps, n, 'the failure was forced where intended');
    return tf.memory().numTensors - before;
  };

  it('a teacher step: no tensor outlives the failure', async () => {
    assert.equal(await leakedWhenStepThrows(2), 0);
  });

  it('a student step: no tensor outlives the failure (the teacher, the student, its optimizer)', async () => {
    assert.equal(await leakedWhenStepThrows(4), 0);
  });
});
