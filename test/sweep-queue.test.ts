// labelsmooth sweep --queue with a real Redis (Debian's redis-server on a free port, stopped after):
// results equal the local pool's with 2 workers; a worker killed mid-trial loses only that trial; a
// restarted coordinator reattaches without duplicates; a worker of another version or data refuses.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { FAMILY_DEFAULTS } from '../packages/experiments/src/cli/family.js';
import { packageVersion } from '../packages/experiments/src/cli/sweep/fingerprint.js';
import { QUEUE_NAME } from '../packages/experiments/src/cli/sweep/queue.js';
import type { SweepSpec } from '../packages/experiments/src/cli/sweep/spec.js';
import { cli, tempDir } from './helpers/cli.js';
import { killIfAlive, type Running, start, stop, trialPids, waitGone } from './helpers/processes.js';
import { type RedisServer, redisServerPath, startRedis } from './helpers/redis.js';
import { deterministicResults, grid, ledgerLines, writeCsv } from './helpers/sweep.js';

const installed = redisServerPath() !== null;
const skip = installed
  ? false
  : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it): the queue tests did NOT run';
if (!installed) {
  if (process.env.LABELSMOOTH_REQUIRE_REDIS === '1')
    throw new Error(`LABELSMOOTH_REQUIRE_REDIS=1 but ${skip}`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! SKIPPED: ${skip}\n${'!'.repeat(100)}\n\n`);
}

/** Short locks so that a killed worker's trial is back in the queue within ~2 s. */
const FAST_LOCKS = ['--lock-duration', '1000', '--stalled-interval', '500'];

describe('labelsmooth sweep --queue (BullMQ on a real Redis)', { skip }, () => {
  let redis: RedisServer;
  const dir = tempDir('labelsmooth-queue-');
  const csv = join(dir, 'data.csv');
  const runs = join(dir, 'runs');
  const started: Running[] = [];
  const pids: number[] = [];
  const worker = (...extra: string[]) => {
    const w = start(['worker', '--queue', redis.url, ...FAST_LOCKS, ...extra]);
    started.push(w);
    return w;
  };
  const sweep = (name: string, epochs = 6) => {
    const s = start(['sweep', ...grid(csv, runs, epochs), '--name', name, '--queue', redis.url]);
    started.push(s);
    return s;
  };
  /** Stop every process a test started (and the trial processes they named). */
  const stopAll = async () => {
    const running = started.splice(0);
    for (const r of running) pids.push(...trialPids(r.stderr));
    await Promise.all(running.map((r) => stop(r)));
    for (const pid of pids) killIfAlive(pid);
    await Promise.all(pids.splice(0).map((pid) => waitGone(pid, 5000)));
  };

  before(async () => {
    writeCsv(csv);
    redis = await startRedis();
    // The reference: the local pool (whose equality to compare is tested in sweep.test.ts).
    const r = cli(['sweep', ...grid(csv, runs, 6), '--name', 'local', '--workers', '2', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
  });
  beforeEach(async () => {
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
  });
  after(async () => {
    await stopAll();
    await redis?.stop();
  });

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
      'ce,ls,cp,flsd53',
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
      const s = start([...args, '--name', 'family-queue', '--queue', redis.url]);
      started.push(s);
      assert.equal(await s.exited, 0, s.stderr);
      assert.match(s.stderr, /4 trials enqueued/);
      const results = deterministicResults(join(runs, 'family-queue')) as { runs: { label: string }[] };
      assert.deepEqual(
        results.runs.map((r) => r.label),
        ['ce', 'ls ε=0.2→0 cosine', 'cp β=0.25', 'flsd53 α=0.5'],
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
      const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
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
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    const events = new QueueEvents(QUEUE_NAME, { connection: { url: redis.url } });
    const csv2 = join(dir, 'changing.csv');
    writeCsv(csv2);
    const args = (name: string) => ['sweep', ...grid(csv2, runs, 1), '--name', name, '--queue', redis.url];
    try {
      const w = worker('--quiet');
      await w.waitFor(/waiting for trials/);
      // A job from a coordinator of another version (added directly).
      const spec: SweepSpec = {
        data: { dataset: `csv:${csv}`, validation: 0.1, seed: 1 },
        monitorSeed: 1,
        model: 'mlp',
        epochs: 1,
        batchSize: 128,
        lr: 0.001,
        family: { ...FAMILY_DEFAULTS },
        backend: 'wasm',
        backendName: 'wasm (SIMD)',
        version: '0.0.0-other',
        dataHash: '0000000000000000',
      };
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
      const first = start(args('refused'));
      started.push(first);
      await first.waitFor(/4 trials enqueued/);
      writeCsv(csv2, 300);
      await queue.resume();
      assert.equal(await first.exited, 1);
      assert.match(
        first.stderr,
        /labelsmooth: error: 4 of 4 trials failed on the queue .*run the same command again to retry\):\s+dataset=\S+: worker \S+ refuses the trial: its data 'csv:\S+changing\.csv' hashes to [0-9a-f]{16}, the coordinator's to [0-9a-f]{16}/,
      );
      writeCsv(csv2); // fixed: the same command retries the failed trials
      const second = start(args('refused'));
      started.push(second);
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
