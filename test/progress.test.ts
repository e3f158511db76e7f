// The job's progress without a terminal (CI, pipes, files): one line per finished epoch with an ETA that
// includes the evaluation and counts down with the clock, instead of a line every few seconds whose ETA
// jumps up after every epoch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progress, stableEta } from '../packages/experiments/src/cli/progress.js';

/** A job on a fake clock: `epochs` epochs of `batches` batches of 1 s each, then `evalSeconds` of evaluation. */
function simulate(epochs: number, batches: number, evalSeconds: number): string[] {
  let t = 0;
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write: (s: string) => lines.push(s.trimEnd()),
  } as unknown as NodeJS.WriteStream;
  const bar = progress('auto', epochs * batches, 0, stream, () => t * 1000);
  for (let e = 0; e < epochs; e++) {
    for (let b = 1; b <= batches; b++) {
      t += 1;
      bar.update(e * batches + b, `run 1/1 ε=0.1 seed 1 epoch ${e + 1}/${epochs}`);
    }
    t += evalSeconds;
    bar.log(`epoch ${e + 1}/${epochs}: loss …`);
  }
  bar.stop();
  return lines;
}

describe('progress without a terminal', () => {
  it('prints one line per epoch, whose ETA includes the evaluation and never jumps', () => {
    // 25 s of batches and 5 s of evaluation per epoch: a line every 10 s gave two or three lines per epoch.
    const lines = simulate(4, 25, 5);
    assert.deepEqual(lines, [
      'epoch 1/4: loss …',
      '  job 25% done, ETA 1 min 30 s',
      'epoch 2/4: loss …',
      '  job 50% done, ETA 1 min 00 s',
      'epoch 3/4: loss …',
      '  job 75% done, ETA 30 s',
      'epoch 4/4: loss …',
    ]);
  });

  it('an epoch longer than a minute gets a line a minute, with the rate of the finished epochs', () => {
    const lines = simulate(2, 150, 30);
    const status = lines.filter((l) => l.includes('job'));
    assert.deepEqual(status, [
      'run 1/1 ε=0.1 seed 1 epoch 1/2: job 20% done, ETA 4 min 00 s',
      'run 1/1 ε=0.1 seed 1 epoch 1/2: job 40% done, ETA 3 min 00 s',
      '  job 50% done, ETA 3 min 00 s',
      'run 1/1 ε=0.1 seed 1 epoch 2/2: job 70% done, ETA 2 min 00 s',
      'run 1/1 ε=0.1 seed 1 epoch 2/2: job 90% done, ETA 1 min 00 s',
    ]);
  });

  it('after an epoch, the ETA counts down with the clock, whatever the batches do', () => {
    const mark = { done: 10, ms: 30_000 }; // 10 steps in 30 s, evaluation included
    assert.equal(stableEta(10, 40, 0, 30_000, mark), '1 min 30 s');
    // 10 s later the estimate is 10 s less, even if the batches ran faster than the epoch average.
    assert.equal(stableEta(18, 40, 0, 40_000, mark), '1 min 20 s');
    // Steps done before this process (a resumed run) do not count toward the rate.
    assert.equal(stableEta(30, 40, 20, 30_000, { done: 30, ms: 30_000 }), '30 s');
    // No epoch finished yet: the batch rate.
    assert.equal(stableEta(10, 40, 0, 10_000, null), '30 s');
  });
});
