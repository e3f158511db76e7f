// The coordinator's wait for workers, on a fake clock: when it says so, and when it gives up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noticeAt, WorkerWait, waitingLine } from '../packages/experiments/src/cli/sweep/workerWait.js';

/** Readings every 0.5 s without a worker: the times (s) of each notice, and when the wait stops. */
function readings(timeoutMs: number): { notices: number[]; stop: number } {
  let now = 0;
  const wait = new WorkerWait(timeoutMs, () => now);
  const notices: number[] = [];
  for (;;) {
    now += 500;
    const step = wait.missing();
    if (step === 'notice') notices.push(now / 1000);
    if (step === 'stop') return { notices, stop: now / 1000 };
  }
}

describe('WorkerWait', () => {
  it('says it waits after 5 s, then rarely (the interval doubles), and stops at the bound', () => {
    assert.deepEqual(readings(600_000), { notices: [5, 30, 60, 120, 240, 480], stop: 600 });
    assert.deepEqual(readings(8000), { notices: [5], stop: 8 });
    assert.deepEqual(readings(1000), { notices: [], stop: 1 });
    assert.deepEqual([0, 1, 2, 3].map(noticeAt), [5000, 30_000, 60_000, 120_000]);
  });

  it('a worker seen restarts the clock and the notices', () => {
    let now = 0;
    const wait = new WorkerWait(60_000, () => now);
    now = 5000;
    assert.equal(wait.missing(), 'notice');
    now = 59_000;
    wait.seen();
    now = 63_000;
    assert.equal(wait.missing(), 'wait');
    assert.equal(wait.idleFor, 4000);
    now = 64_000;
    assert.equal(wait.missing(), 'notice');
    now = 119_000;
    assert.equal(wait.missing(), 'stop');
  });

  it('the line names the queued trials, the command that starts a worker and the bound', () => {
    assert.equal(
      waitingLine('redis://127.0.0.1:6379', 4, 5000, 600_000),
      'sweep: waiting for workers: 4 trials queued on redis://127.0.0.1:6379, no worker for 5 s; start one with `labelsmooth worker --queue redis://127.0.0.1:6379` (the sweep stops after 10 min without one: --worker-timeout)',
    );
  });
});
