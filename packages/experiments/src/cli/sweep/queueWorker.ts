import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { type TrialOutcome, workerId } from './execute.js';
import { trialKey } from './grid.js';
import { connectionOptions, QUEUE_NAME, type TrialJob, within } from './queue.js';
import { RedisLink } from './redisLink.js';
import type { QueueTarget } from './redisUrl.js';
import { TrialFailure, TrialProcess } from './trialProcess.js';

/** How long Redis may be gone before a stopping worker gives up storing its running trials' results. */
const CLOSE_WITHOUT_REDIS_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions {
  /** Trials trained at once (one child process each). */
  concurrency: number;
  /** How long a job's lock lasts without renewal (ms); the worker renews it every half. */
  lockDuration: number;
  /** How often BullMQ looks for jobs whose lock expired (a dead worker's) and puts them back (ms). */
  stalledInterval: number;
  quiet: boolean;
  log: (line: string) => void;
}

/**
 * A running `labelsmooth worker`: `close()` stops taking trials, waits for the running ones (unless Redis
 * is unreachable for 5 s: their results could not be stored), stops.
 */
export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * BullMQ's errors about a job that is no longer this worker's: its key or lock is gone (Redis restarted
 * empty, or the lock expired and another worker has the job), so its result cannot be stored.
 */
const LOST_JOB = /^(?:Missing (?:key|lock) for job (.+)\. \w+|could not renew lock for job (.+))$/;

/**
 * The 'error' handler of a queue worker: one line when Redis goes away (and one when it is back, from
 * the 'ready' event), one line per job lost with Redis, the message of anything else.
 */
function errorLine(link: RedisLink, log: (line: string) => void): (e: Error) => void {
  const lost = new Set<string>();
  return (e) => {
    if (link.failed(e)) return;
    const m = LOST_JOB.exec(e.message);
    if (!m) return log(`worker ${workerId()}: ${e.message}`);
    const id = m[1] ?? m[2];
    if (lost.has(id)) return;
    lost.add(id);
    log(
      `worker ${workerId()}: job ${id} is no longer ours on the queue (Redis restarted empty, or its lock expired): ` +
        'its result is dropped, and the trial is trained again',
    );
  };
}

/**
 * Close a BullMQ worker: it waits for the running trials and stores their results, which it cannot do
 * without Redis. Once Redis has been gone for a while, stop anyway: those results could not be stored,
 * and their jobs go back to the queue when their locks expire.
 */
async function stopTaking(worker: Worker, link: RedisLink, log: (line: string) => void): Promise<void> {
  let closed = false;
  const closing = worker.close().finally(() => {
    closed = true;
  });
  closing.catch(() => {}); // awaited below once it settles
  while (!closed && link.downFor < CLOSE_WITHOUT_REDIS_MS) await sleep(250);
  if (closed) return closing;
  log(
    `worker ${workerId()}: Redis unreachable: stopping without the running trials (another worker retries them)`,
  );
  worker.disconnect().catch(() => {});
}

/**
 * Take trials from the queue and train each in a child process (so this process's event loop stays free
 * to renew the job locks while training runs). A worker killed mid-trial (even kill -9) stops renewing:
 * BullMQ's stalled-job check puts the trial back for another worker after `lockDuration`, and its trial
 * process ends within a moment (it watches its parent). A trial process that dies under a trial fails the
 * job's attempt, and another attempt trains it again. A trial this worker would not reproduce exactly
 * (other version, data or backend), or whose training throws, fails unrecoverably: another attempt would
 * do the same. While Redis is unreachable the worker says so once, retries, and says when it is back.
 */
export async function startQueueWorker(target: QueueTarget, o: QueueWorkerOptions): Promise<RunningWorker> {
  // The trial processes start now (TF.js takes seconds to load), not when the first trial arrives.
  const idle: TrialProcess[] = Array.from({ length: o.concurrency }, () => new TrialProcess());
  const all = new Set<TrialProcess>(idle);
  for (const p of idle) o.log(`worker ${workerId()}: started trial process ${p.pid}`);
  const acquire = () => {
    let p = idle.pop();
    if (!p) {
      p = new TrialProcess();
      o.log(`worker ${workerId()}: started trial process ${p.pid}`);
    }
    all.add(p);
    return p;
  };
  const processor = async (job: Job<TrialJob, TrialOutcome>): Promise<TrialOutcome> => {
    const { spec, trial } = job.data;
    const key = trialKey(trial);
    const proc = acquire();
    o.log(`worker ${workerId()}: training ${key} (job ${job.id}, trial process ${proc.pid})`);
    try {
      const outcome = await proc.run(spec, trial, o.quiet);
      idle.push(proc);
      o.log(`worker ${workerId()}: done ${key} in ${outcome.seconds.toFixed(1)} s`);
      return outcome;
    } catch (e) {
      if (e instanceof TrialFailure) {
        idle.push(proc);
        o.log(`worker ${workerId()}: ${e.refused ? '' : `trial ${key} failed: `}${e.message}`);
        throw new UnrecoverableError(e.message);
      }
      all.delete(proc); // the trial process died: start a fresh one for the next trial
      await proc.close();
      o.log(`worker ${workerId()}: ${(e as Error).message} (attempt ${job.attemptsMade + 1})`);
      throw e;
    }
  };
  const worker = new Worker<TrialJob, TrialOutcome>(QUEUE_NAME, processor, {
    connection: connectionOptions(target, 'worker'),
    concurrency: o.concurrency,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
    maxStalledCount: 3,
    autorun: false,
  });
  const link = new RedisLink(`worker ${workerId()}`, target.display, o.log);
  worker.on('error', errorLine(link, o.log));
  worker.getBackend().on('ready', () => link.reached());
  try {
    await within(worker.waitUntilReady(), 10_000, `cannot reach the Redis at ${target.display} within 10 s`);
  } catch (e) {
    // Nothing may outlive the error: the reconnecting client and the trial processes would keep the
    // process running after its one line. Without Redis, close() cannot finish: disconnect, don't wait.
    await Promise.all([...all].map((p) => p.close()));
    await within(worker.close(true), 2000, 'close').catch(() => {
      worker.disconnect().catch(() => {});
    });
    throw e;
  }
  void worker.run();
  o.log(
    `worker ${workerId()}: waiting for trials on ${target.display} (queue ${QUEUE_NAME}, ${o.concurrency} at a time)`,
  );
  return {
    async close() {
      await stopTaking(worker, link, o.log);
      await Promise.all([...all].map((p) => p.close()));
    },
  };
}
