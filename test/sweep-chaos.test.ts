// Sweeps off the happy path, with real components: a real redis-server on a free port (killed, and
// restarted empty on the same port), real worker and trial processes (kill -9). Every scenario ends with
// each trial recorded exactly once and results.json equal to an undisturbed run's, or with one clear line
// and a non-zero exit; every wait is bounded and everything a test starts, it stops.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../packages/experiments/src/cli/sweep/queue.js';
import { tempDir } from './helpers/cli.js';
import { killIfAlive, type Running, start, stop, trialPids, waitGone } from './helpers/processes.js';
import { FAST_LOCKS, queueRig } from './helpers/queueRig.js';
import { freePort, type RedisServer, redisSkip, startRedis } from './helpers/redis.js';
import { deterministicResults, grid, ledgerLines, testSpec, writeCsv } from './helpers/sweep.js';

const skip = redisSkip('chaos tests');

/** No test may take longer (each scenario takes seconds on an idle machine). */
const TIMEOUT = { timeout: 180_000 };
/** A line of a stack trace. */
const STACK = /^\s+at /m;

/** The exit code of `r`, or 'still running' after `ms` (then it is killed). */
async function exitWithin(r: Running, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  const code = await Promise.race([r.exited, late]);
  clearTimeout(timer);
  await stop(r);
  return code;
}

const count = (text: string, re: RegExp) => [...text.matchAll(new RegExp(re, 'g'))].length;

describe('sweep chaos: Redis, workers and trial processes killed (real redis-server)', { skip }, () => {
  const rig = queueRig('labelsmooth-chaos-');
  const { runs, worker, sweep, stopAll } = rig;
  /** kill -9 the Redis and wait until it is gone. */
  const killRedis = async () => {
    const gone = new Promise((resolve) => rig.redis.process.once('exit', resolve));
    rig.redis.process.kill('SIGKILL');
    await gone;
  };
  /** Every trial recorded exactly once, and results equal to the undisturbed local pool's. */
  const assertComplete = (name: string) => {
    const keys = ledgerLines(join(runs, name)).map((l) => l.key);
    assert.equal(keys.length, 4, keys.join(' '));
    assert.equal(new Set(keys).size, 4);
    assert.deepEqual(deterministicResults(join(runs, name)), deterministicResults(join(runs, 'local')));
  };

  it(
    'Redis killed and restarted empty mid-sweep: lost trials are enqueued again, one line each way, no stack',
    TIMEOUT,
    async (t) => {
      try {
        const w = worker('--quiet');
        await w.waitFor(/waiting for trials/);
        const s = sweep('redis-restarted');
        await Promise.all([s.waitFor(/sweep: 4 trials enqueued/), w.waitFor(/: training \S+ \(job/)]);
        await killRedis();
        await Promise.all([s.waitFor(/unreachable/), w.waitFor(/unreachable/)]);
        rig.redis = await startRedis(rig.redis.port); // empty: no persistence
        const t0 = performance.now();
        assert.equal(await s.exited, 0, s.stderr);
        t.diagnostic(
          `sweep finished ${((performance.now() - t0) / 1000).toFixed(1)} s after Redis came back`,
        );
        assert.equal(count(s.stderr, /sweep: Redis at \S+ unreachable \(\w+\), retrying…/), 1, s.stderr);
        assert.equal(count(s.stderr, /sweep: Redis at \S+ back after [\d.]+ s/), 1, s.stderr);
        assert.match(
          s.stderr,
          /sweep: [1-4] unfinished trials were gone from the queue .* enqueued them again/,
        );
        assert.doesNotMatch(s.stderr, STACK);
        assert.doesNotMatch(s.stderr, /ECONNREFUSED\n/);
        // The worker recovered: one line each way, none about BullMQ's missing keys, and it trained the rest.
        assert.equal(count(w.stderr, /worker \S+: Redis at \S+ unreachable \(\w+\), retrying…/), 1, w.stderr);
        assert.equal(count(w.stderr, /worker \S+: Redis at \S+ back after/), 1, w.stderr);
        assert.doesNotMatch(w.stderr, /Missing key|Missing lock|could not renew/);
        assert.doesNotMatch(w.stderr, STACK);
        assertComplete('redis-restarted');
      } finally {
        await stopAll();
      }
    },
  );

  it(
    'Redis gone for longer than --redis-timeout: one line, exit 1; the same command resumes once it is back',
    TIMEOUT,
    async (t) => {
      try {
        const w = worker('--quiet');
        await w.waitFor(/waiting for trials/);
        const s = sweep('redis-gone', '--redis-timeout', '2');
        await s.waitFor(/sweep: \d+ trials enqueued/);
        await killRedis();
        const t0 = performance.now();
        assert.equal(await s.exited, 1, s.stderr);
        const seconds = (performance.now() - t0) / 1000;
        t.diagnostic(`the sweep stopped ${seconds.toFixed(1)} s after Redis died (--redis-timeout 2)`);
        assert.ok(seconds < 15, `${seconds} s`);
        const errors = s.stderr.split('\n').filter((l) => /error/i.test(l));
        assert.equal(errors.length, 1, s.stderr);
        assert.match(
          errors[0],
          /^labelsmooth: error: Redis at \S+ unreachable for \d+ s: stopped with [1-4] trials unfinished; the finished ones are in the ledger: once Redis is back, run the same command again to train the rest$/,
        );
        assert.doesNotMatch(s.stderr, STACK);
        rig.redis = await startRedis(rig.redis.port);
        const again = sweep('redis-gone');
        assert.equal(await again.exited, 0, again.stderr);
        assert.doesNotMatch(w.stderr, STACK);
        assertComplete('redis-gone');
      } finally {
        await stopAll();
      }
    },
  );

  it(
    "kill -9 of a queue worker's trial process mid-trial: the trial is trained again, the sweep finishes",
    TIMEOUT,
    async () => {
      try {
        const w = worker(); // not quiet: the epoch lines show the trial process is mid-training
        await w.waitFor(/waiting for trials/);
        const s = sweep('trial-process-killed');
        await w.waitFor(/seed \d+ epoch 1\/\d+:/);
        const victim = trialPids(w.stderr).at(-1) as number;
        process.kill(victim, 'SIGKILL');
        assert.equal(await s.exited, 0, s.stderr);
        assert.match(
          w.stderr,
          new RegExp(`trial process ${victim} exited \\(SIGKILL\\) while training \\S+ \\(attempt 1\\)`),
        );
        assertComplete('trial-process-killed');
      } finally {
        await stopAll();
      }
    },
  );

  it(
    'SIGTERM to a worker mid-trial while Redis is down: it stops within seconds, its trial process too',
    TIMEOUT,
    async (t) => {
      try {
        const w = worker('--quiet');
        await w.waitFor(/waiting for trials/);
        sweep('worker-stopped');
        await w.waitFor(/: training \S+ \(job/);
        await killRedis();
        await w.waitFor(/unreachable/);
        const t0 = performance.now();
        w.child.kill('SIGTERM');
        assert.equal(await exitWithin(w, 30_000), 0, w.stderr);
        t.diagnostic(`the worker stopped ${((performance.now() - t0) / 1000).toFixed(1)} s after SIGTERM`);
        assert.match(w.stderr, /Redis unreachable: stopping without the running trials/);
        for (const pid of trialPids(w.stderr))
          assert.ok(await waitGone(pid, 5000), `trial process ${pid} runs`);
        assert.doesNotMatch(w.stderr, STACK);
      } finally {
        await stopAll();
      }
    },
  );

  it(
    "kill -9 of a local pool's trial process mid-trial: the trial is trained again, the sweep finishes",
    TIMEOUT,
    async () => {
      const s = rig.start([
        'sweep',
        ...grid(rig.csv, runs, 6),
        '--name',
        'pool-child-killed',
        '--workers',
        '1',
      ]);
      try {
        // One trial process: at its first epoch line it is mid-trial (one of two might be between trials).
        await s.waitFor(/seed \d+ epoch 1\/\d+:/);
        const victim = trialPids(s.stderr)[0];
        process.kill(victim, 'SIGKILL');
        assert.equal(await s.exited, 0, s.stderr);
        assert.match(
          s.stderr,
          new RegExp(
            `trial process ${victim} exited \\(SIGKILL\\) while training \\S+; training it again in process \\d+ \\(attempt 2 of 3\\)`,
          ),
        );
        assertComplete('pool-child-killed');
      } finally {
        await stopAll();
      }
    },
  );
});

describe('a trial process whose parent is killed -9 while it is busy', { skip }, () => {
  // Its data is a FIFO whose writer never writes: the trial process blocks in a synchronous read, its
  // event loop stopped (as loading a large data set or evaluating would), so neither an IPC 'disconnect'
  // nor a check between batches can notice the parent is gone.
  let redis: RedisServer;
  const dir = tempDir('labelsmooth-orphan-');
  const fifo = join(dir, 'never.csv');
  const spec = testSpec(fifo);
  const trial = { dataset: `csv:${fifo}`, epsilon: 0, noise: 'uniform', loss: 'cross-entropy', seed: 1 };

  /** Wait (≤ 60 s) until a process reads the FIFO; returns the write end, held open so the read blocks. */
  const blockedReader = async (): Promise<number> => {
    for (let i = 0; i < 600; i++) {
      try {
        return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // ENXIO: nobody reads it yet
      }
    }
    throw new Error(`no process opened ${fifo} within 60 s`);
  };
  /** kill -9 `parent` once its trial process `child` blocks; returns how long `child` outlived it (ms). */
  const orphan = async (parent: Running, child: number): Promise<number> => {
    const fd = await blockedReader();
    try {
      parent.child.kill('SIGKILL');
      await parent.exited;
      const t0 = performance.now();
      assert.ok(await waitGone(child, 5000), `trial process ${child} still runs 5 s after its parent died`);
      return performance.now() - t0;
    } finally {
      closeSync(fd);
      killIfAlive(child);
    }
  };

  before(async () => {
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('under a queue worker: it exits within 2 s', TIMEOUT, async (t) => {
    const w = start(['worker', '--queue', redis.url, ...FAST_LOCKS]);
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    try {
      await w.waitFor(/waiting for trials/);
      await queue.add('trial', { spec, trial }, { jobId: 'orphan' });
      await w.waitFor(/: training \S+ \(job orphan/);
      const ms = await orphan(w, trialPids(w.stderr).at(-1) as number);
      t.diagnostic(`the trial process outlived its worker by ${ms.toFixed(0)} ms`);
      assert.ok(ms < 2000, `${ms} ms`);
      assert.doesNotMatch(w.stderr, STACK);
    } finally {
      await queue.close();
      await stop(w);
    }
  });

  it('under a local pool: it exits within 2 s', TIMEOUT, async (t) => {
    const helper = new URL('./helpers/poolParent.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', helper, JSON.stringify({ spec, trial })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const parent: Running = {
      child,
      get stderr() {
        return stderr;
      },
      stdout: '',
      exited,
      waitFor: () => Promise.reject(new Error('unused')),
    };
    try {
      for (let i = 0; i < 600 && trialPids(stderr).length === 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      const pid = trialPids(stderr)[0];
      assert.ok(pid, stderr);
      const ms = await orphan(parent, pid);
      t.diagnostic(`the trial process outlived its pool by ${ms.toFixed(0)} ms`);
      assert.ok(ms < 2000, `${ms} ms`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('no Redis at all: the worker and the coordinator stop with one line, leaving nothing running', () => {
  const dir = tempDir('labelsmooth-noredis-');
  const csv = join(dir, 'data.csv');
  writeCsv(csv);

  it('a worker whose Redis is unreachable exits 1 after 10 s, its trial process too', TIMEOUT, async (t) => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const w = start(['worker', '--queue', url, '--quiet']);
    const t0 = performance.now();
    try {
      assert.equal(await exitWithin(w, 60_000), 1, w.stderr);
      t.diagnostic(`the worker exited ${((performance.now() - t0) / 1000).toFixed(1)} s after it started`);
      const errors = w.stderr.split('\n').filter((l) => /error/i.test(l));
      assert.deepEqual(errors, [`labelsmooth: error: cannot reach the Redis at ${url} within 10 s`]);
      assert.equal(count(w.stderr, /unreachable \(ECONNREFUSED\), retrying…/), 1, w.stderr);
      assert.doesNotMatch(w.stderr, STACK);
      const trial = trialPids(w.stderr)[0];
      assert.ok(await waitGone(trial, 5000), `trial process ${trial} still runs`);
    } finally {
      await stop(w);
      for (const pid of trialPids(w.stderr)) killIfAlive(pid);
    }
  });

  it('a sweep whose Redis is unreachable exits 1 after 10 s', TIMEOUT, async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const s = start(['sweep', ...grid(csv, join(dir, 'runs'), 1), '--name', 'no-redis', '--queue', url]);
    try {
      assert.equal(await exitWithin(s, 60_000), 1, s.stderr);
      const errors = s.stderr.split('\n').filter((l) => /error/i.test(l));
      assert.deepEqual(errors, [`labelsmooth: error: cannot reach the Redis at ${url} within 10 s`]);
      assert.doesNotMatch(s.stderr, STACK);
    } finally {
      await stop(s);
    }
  });
});
