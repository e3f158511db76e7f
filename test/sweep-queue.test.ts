// labelsmooth sweep --queue with a real Redis (Debian's redis-server on a free port, stopped after):
// results equal the local pool's with 2 workers; a worker killed mid-trial loses only that trial; a
// restarted coordinator reattaches without duplicates; a worker of another version or data refuses.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { packageVersion } from '../packages/experiments/src/cli/sweep/fingerprint.js';
import { QUEUE_NAME } from '../packages/experiments/src/cli/sweep/queue.js';
import { cli } from './helpers/cli.js';
import { trialPids, waitGone } from './helpers/processes.js';
import { queueRig } from './helpers/queueRig.js';
import { redisSkip } from './helpers/redis.js';
import { deterministicResults, grid, ledgerLines, testSpec, writeCsv } from './helpers/sweep.js';

const skip = redisSkip('queue tests');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('labelsmooth sweep --queue (BullMQ on a real Redis)', { skip }, () => {
  const rig = queueRig('labelsmooth-queue-');
  const { csv, dir, runs, worker, sweep, stopAll } = rig;

  it('2 workers give results identical to the local pool', async () => {
    try {
      const w1 = worker('--quiet');
      const w2 = worker('--quiet');
      await Promise.all([w1.waitFor(/waiting for trials/), w2.waitFor(/waiting for trials/)]);
      const s = sweep('queue');
      assert.equal(await s.exited, 0, s.stderr);
      assert.match(
        s.stderr,
        /4 trials enqueued on redis:\/\/127\.0\.0\.1:\d+\/? \(queue labelsmooth-trials\), 0 already there/,
      );
      assert.deepEqual(deterministicResults(join(runs, 'queue')), deterministicResults(join(runs, 'local')));
      const trained = [...(w1.stderr + w2.stderr).matchAll(/: training (\S+) \(job/g)].map((m) => m[1]);
      assert.equal(trained.length, 4);
      assert.equal(new Set(trained).size, 4);
    } finally {
      await stopAll();
    }
  });

  it('--losses with parameters and a schedule: the queue trains what the local pool trains', async () => {
    const family = [
      '--losses',
      'ce,ls,cp,flsd-53',
      '--epsilons',
      '0.2',
      '--seeds',
      '1',
      '--confidence-penalty',
      '0.25',
    ];
    const family2 = [
      ...family,
      '--focal-alpha',
      '0.5',
      '--epsilon-schedule',
      'cosine',
      '--epsilon-final',
      '0',
    ];
    const args = ['sweep', '--dataset', `csv:${csv}`, '--epochs', '2', '--runs-dir', runs, ...family2];
    const local = cli([...args, '--name', 'family-local', '--workers', '2', '--quiet']);
    assert.equal(local.code, 0, local.stderr);
    try {
      const w1 = worker('--quiet');
      const w2 = worker('--quiet');
      await Promise.all([w1.waitFor(/waiting for trials/), w2.waitFor(/waiting for trials/)]);
      const s = rig.start([...args, '--name', 'family-queue', '--queue', rig.redis.url]);
      assert.equal(await s.exited, 0, s.stderr);
      assert.match(s.stderr, /4 trials enqueued/);
      const results = deterministicResults(join(runs, 'family-queue')) as { runs: { label: string }[] };
      assert.deepEqual(
        results.runs.map((r) => r.label),
        ['ce', 'ls ε=0.2→0 cosine', 'cp β=0.25', 'flsd-53 α=0.5'],
      );
      assert.deepEqual(results, deterministicResults(join(runs, 'family-local')));
    } finally {
      await stopAll();
    }
  });

  it('kill -9 of a worker mid-trial: only that trial is lost, and another worker trains it', async () => {
    try {
      const w1 = worker(); // not quiet: its trial process's epoch lines show it is mid-training
      const w2 = worker('--quiet');
      await Promise.all([w1.waitFor(/waiting for trials/), w2.waitFor(/waiting for trials/)]);
      const s = sweep('worker-killed');
      await w1.waitFor(/seed \d+ epoch 1(\/\d+)?:/);
      w1.child.kill('SIGKILL');
      await w1.exited;
      // The trial w1 was training: its last one without a "done" line.
      const started = [...w1.stderr.matchAll(/: training (\S+) \(job/g)].map((m) => m[1]);
      const finished = [...w1.stderr.matchAll(/: done (\S+) in/g)].map((m) => m[1]);
      const key = started.filter((k) => !finished.includes(k)).at(-1);
      assert.ok(key, `w1 was not training when killed:\n${w1.stderr}`);
      const victim = trialPids(w1.stderr).at(-1) as number;
      assert.ok(await waitGone(victim), `the killed worker's trial process ${victim} still runs`);
      assert.equal(await s.exited, 0, s.stderr);
      // w2 trained the killed trial again (after its lock expired) and the rest; nothing lost or duplicated.
      const trained = [...w2.stderr.matchAll(/: training (\S+) \(job/g)].map((m) => m[1]);
      assert.ok(trained.includes(key), `${key} not retried: ${trained.join(' ')}`);
      assert.equal(trained.length + finished.length, 4, 'every other trial trained exactly once');
      assert.equal(new Set(ledgerLines(join(runs, 'worker-killed')).map((l) => l.key)).size, 4);
      assert.equal(ledgerLines(join(runs, 'worker-killed')).length, 4);
      assert.deepEqual(
        deterministicResults(join(runs, 'worker-killed')),
        deterministicResults(join(runs, 'local')),
      );
    } finally {
      await stopAll();
    }
  });

  it('no worker: one line says the sweep waits for workers; after --worker-timeout it stops, and the same command resumes', {
    timeout: 180_000,
  }, async (t) => {
    try {
      const s = sweep('no-worker', '--worker-timeout', '8');
      await s.waitFor(/4 trials enqueued/);
      const t0 = performance.now();
      const code = await Promise.race([s.exited, sleep(60_000).then(() => 'still running')]);
      const seconds = (performance.now() - t0) / 1000;
      t.diagnostic(`the sweep stopped ${seconds.toFixed(1)} s after enqueueing (--worker-timeout 8)`);
      assert.equal(code, 1, s.stderr);
      assert.ok(seconds > 7 && seconds < 20, `${seconds} s`);
      const waiting = s.stderr.split('\n').filter((l) => l.includes('waiting for workers'));
      assert.equal(waiting.length, 1, s.stderr);
      const url = rig.redis.url.replace(/\/$/, '');
      assert.match(
        waiting[0],
        new RegExp(
          `^sweep: waiting for workers: 4 trials queued on ${url}/?, no worker for [56] s; start one with \`labelsmooth worker --queue ${url}/?\` \\(the sweep stops after 8 s without one: --worker-timeout\\)$`,
        ),
      );
      const errors = s.stderr.split('\n').filter((l) => /error/i.test(l));
      assert.equal(errors.length, 1, s.stderr);
      assert.match(
        errors[0],
        /^labelsmooth: error: no worker served the queue on \S+ for 8 s: stopped with 4 trials unfinished \(they stay queued; the finished ones are in the ledger\): start `labelsmooth worker --queue \S+`, then run the same command again to collect the rest$/,
      );
      // The resume the line describes: a worker, then the same command.
      const w = worker('--quiet');
      await w.waitFor(/waiting for trials/);
      const again = sweep('no-worker');
      assert.equal(await again.exited, 0, again.stderr);
      assert.match(again.stderr, /0 trials enqueued on .*, 4 already there \(reattached\)/);
      assert.doesNotMatch(again.stderr, /waiting for workers/);
      assert.equal(ledgerLines(join(runs, 'no-worker')).length, 4);
      assert.deepEqual(
        deterministicResults(join(runs, 'no-worker')),
        deterministicResults(join(runs, 'local')),
      );
    } finally {
      await stopAll();
    }
  });

  it('a coordinator killed and restarted with the same command reattaches and enqueues nothing twice', async () => {
    try {
      const first = sweep('restarted');
      await first.waitFor(/4 trials enqueued/);
      first.child.kill('SIGKILL');
      await first.exited;
      // While no coordinator runs, a worker finishes some trials: their results wait in Redis.
      const w1 = worker('--quiet');
      await w1.waitFor(/: done \S+ in/);
      // The worker prints "done" before BullMQ records the job as completed: read the counts until it has
      // (or 10 s have passed), then check them.
      const queue = new Queue(QUEUE_NAME, { connection: { url: rig.redis.url } });
      let counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
      for (let t = 0; counts.completed < 1 && t < 100; t++) {
        await new Promise((r) => setTimeout(r, 100));
        counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
      }
      await queue.close();
      assert.equal(counts.waiting + counts.active + counts.completed, 4, JSON.stringify(counts));
      assert.ok(counts.completed >= 1, JSON.stringify(counts));
      const second = sweep('restarted');
      assert.equal(await second.exited, 0, second.stderr);
      assert.match(second.stderr, /0 trials enqueued on .*, 4 already there \(reattached\)/);
      const trained = [...w1.stderr.matchAll(/: training (\S+) \(job/g)].map((m) => m[1]);
      assert.equal(trained.length, 4, 'each trial trained exactly once');
      assert.equal(new Set(trained).size, 4);
      assert.equal(ledgerLines(join(runs, 'restarted')).length, 4);
      assert.deepEqual(
        deterministicResults(join(runs, 'restarted')),
        deterministicResults(join(runs, 'local')),
      );
    } finally {
      await stopAll();
    }
  });

  it('a worker of another version or data refuses; the coordinator names the trials, and the same command retries them', async () => {
    const queue = new Queue(QUEUE_NAME, { connection: { url: rig.redis.url } });
    const events = new QueueEvents(QUEUE_NAME, { connection: { url: rig.redis.url } });
    const csv2 = join(dir, 'changing.csv');
    writeCsv(csv2);
    const args = (name: string) => [
      'sweep',
      ...grid(csv2, runs, 1),
      '--name',
      name,
      '--queue',
      rig.redis.url,
    ];
    try {
      const w = worker('--quiet');
      await w.waitFor(/waiting for trials/);
      // A job from a coordinator of another version (added directly).
      const spec = testSpec(csv, {
        batchSize: 128,
        lr: 0.001,
        backend: 'wasm',
        backendName: 'wasm (SIMD)',
        version: '0.0.0-other',
      });
      const trial = { dataset: `csv:${csv}`, epsilon: 0, noise: 'uniform', loss: 'cross-entropy', seed: 1 };
      const old = await queue.add('trial', { spec, trial }, { jobId: 'refused-version' });
      await assert.rejects(
        old.waitUntilFinished(events, 60_000),
        new RegExp(
          `refuses the trial: its labelsmooth is version ${packageVersion().replace(/\./g, '\\.')}, the coordinator's is 0\\.0\\.0-other`,
        ),
      );
      assert.match(w.stderr, /refuses the trial: its labelsmooth is version/);
      // A real sweep whose data changes between the coordinator's load and the worker's: the queue is
      // paused while the coordinator enqueues, the file is rewritten, then the queue resumes.
      await queue.pause();
      const first = rig.start(args('refused'));
      await first.waitFor(/4 trials enqueued/);
      writeCsv(csv2, 300);
      await queue.resume();
      assert.equal(await first.exited, 1);
      assert.match(
        first.stderr,
        /labelsmooth: error: 4 of 4 trials failed on the queue .*run the same command again to retry\):\s+dataset=\S+: worker \S+ refuses the trial: its data 'csv:\S+changing\.csv' hashes to [0-9a-f]{16}, the coordinator's to [0-9a-f]{16}/,
      );
      writeCsv(csv2); // fixed: the same command retries the failed trials
      const second = rig.start(args('refused'));
      assert.equal(await second.exited, 0, second.stderr);
      assert.equal(
        [...second.stderr.matchAll(/sweep: retrying \S+, which failed before: worker .* refuses/g)].length,
        4,
      );
      assert.equal(ledgerLines(join(runs, 'refused')).length, 4);
      assert.equal([...w.stderr.matchAll(/: training (\S+) \(job/g)].length, 1 + 4 + 4);
    } finally {
      await events.close();
      await queue.close();
      await stopAll();
    }
  });
});
