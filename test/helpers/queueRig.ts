// The set-up the queue tests share: a real Redis (flushed before each test), a tiny CSV and its local-pool
// reference run, and the worker and sweep processes a test starts, all stopped by stopAll().
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { Redis } from 'ioredis';
import { cli, tempDir } from './cli.js';
import { killIfAlive, type Running, start, stop, trialPids, waitGone } from './processes.js';
import { type RedisServer, startRedis } from './redis.js';
import { grid, writeCsv } from './sweep.js';

/** Short locks so that a dead worker's trial is back in the queue within ~2 s. */
export const FAST_LOCKS = ['--lock-duration', '1000', '--stalled-interval', '500'];

/** What a queue test works with; `redis` is set once the suite's `before` hook ran. */
export interface QueueRig {
  redis: RedisServer;
  dir: string;
  /** A 3-class CSV (helpers/sweep.ts). */
  csv: string;
  runs: string;
  /** Processes started by the test (stopAll() stops them). */
  started: Running[];
  /** Start a `labelsmooth worker` on the queue (short locks). */
  worker(...extra: string[]): Running;
  /** Start a 6-epoch 2 ε × 2 seeds sweep named `name` on the queue. */
  sweep(name: string, ...extra: string[]): Running;
  /** Start `labelsmooth ...args`, stopped by stopAll(). */
  start(args: string[]): Running;
  /** Stop every process the test started, and the trial processes they named. */
  stopAll(): Promise<void>;
}

/**
 * Register the suite's hooks (call inside `describe`): before, a Redis and the local reference run
 * `<runs>/local`; before each test, a flushed Redis (restarted on its port if a test killed it); after,
 * everything stopped.
 */
export function queueRig(prefix: string): QueueRig {
  const dir = tempDir(prefix);
  const pids: number[] = [];
  const rig: QueueRig = {
    redis: undefined as unknown as RedisServer,
    dir,
    csv: join(dir, 'data.csv'),
    runs: join(dir, 'runs'),
    started: [],
    start(args) {
      const r = start(args);
      rig.started.push(r);
      return r;
    },
    worker: (...extra) => rig.start(['worker', '--queue', rig.redis.url, ...FAST_LOCKS, ...extra]),
    sweep: (name, ...extra) =>
      rig.start(['sweep', ...grid(rig.csv, rig.runs, 6), '--name', name, '--queue', rig.redis.url, ...extra]),
    async stopAll() {
      const running = rig.started.splice(0);
      for (const r of running) pids.push(...trialPids(r.stderr));
      await Promise.all(running.map((r) => stop(r)));
      for (const pid of pids) killIfAlive(pid);
      await Promise.all(pids.splice(0).map((pid) => waitGone(pid, 5000)));
    },
  };
  before(async () => {
    writeCsv(rig.csv);
    rig.redis = await startRedis();
    // The reference: the local pool (whose equality to compare is tested in sweep.test.ts).
    const r = cli(['sweep', ...grid(rig.csv, rig.runs, 6), '--name', 'local', '--workers', '2', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
  });
  beforeEach(async () => {
    const { redis } = rig;
    if (redis.process.exitCode !== null || redis.process.signalCode !== null)
      rig.redis = await startRedis(redis.port);
    const client = new Redis(rig.redis.url);
    await client.flushall();
    client.disconnect();
  });
  after(async () => {
    await rig.stopAll();
    await rig.redis?.stop();
  });
  return rig;
}
