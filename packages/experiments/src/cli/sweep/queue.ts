import { type Job, Queue } from 'bullmq';
import { UsageError } from '../backend.js';
import type { TrialOutcome } from './execute.js';
import { type Trial, trialKey } from './grid.js';
import { RedisLink } from './redisLink.js';
import type { QueueTarget } from './redisUrl.js';
import { type SweepSpec, specHash } from './spec.js';
import { noWorkers, WorkerWait, waitingLine } from './workerWait.js';

/** The BullMQ queue every `labelsmooth worker` takes trials from. */
export const QUEUE_NAME = 'labelsmooth-trials';

/**
 * Times a queued trial is trained when the process training it dies under it (a trial process killed, out
 * of memory) before the sweep reports it failed. A refusal or a training error is final at once.
 */
export const QUEUE_ATTEMPTS = 3;

/** What a queued job carries. */
export interface TrialJob {
  spec: SweepSpec;
  trial: Trial;
}

/**
 * The job id of a trial: the sweep's spec hash and the trial key. A coordinator restarted with the same
 * command computes the same ids, and BullMQ ignores an add whose id exists, so nothing is enqueued twice.
 */
export function jobId(spec: SweepSpec, trial: Trial): string {
  return `${specHash(spec)}.${trialKey(trial)}`;
}

/** ioredis reconnects after 0.1, 0.2, … then every 1 s: an outage ends for us within a second of Redis's. */
const retryStrategy = (times: number) => Math.min(100 * times, 1000);

/**
 * ioredis options for BullMQ. A worker's commands (it blocks on Redis for jobs) wait through an outage,
 * as BullMQ requires; the coordinator's fail at once (or after 5 s without an answer) and its next poll
 * tries again, so that it can count how long Redis has been gone.
 */
export function connectionOptions(target: QueueTarget, role: 'worker' | 'coordinator') {
  return role === 'worker'
    ? { url: target.url, maxRetriesPerRequest: null, retryStrategy }
    : {
        url: target.url,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        commandTimeout: 5000,
        retryStrategy,
      };
}

/** Resolve when `p` does, fail with a {@link UsageError} saying `message` after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UsageError(message)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link runOnQueue}. */
export interface QueueRunOptions {
  log: (line: string) => void;
  /** Called once per finished trial (the caller records it in the ledger before the job is removed). */
  onOutcome: (o: TrialOutcome) => void;
  /** How long Redis may stay unreachable before the sweep stops (ms). */
  redisTimeout: number;
  /** How long the queue may go without a worker before the sweep stops (ms). */
  workerTimeout: number;
  /**
   * How often the jobs' states are read (ms); by default every 0.5 s, or 1 ms per unfinished trial when
   * there are more than 500 (each reading asks Redis about every one).
   */
  pollInterval?: number;
}

/** What one reading of the queue found and did. */
interface Settled {
  /** Trials (re-)enqueued because their job was not on the queue. */
  added: number;
  /** Trials whose job was there. */
  attached: number;
  /** Jobs a worker was training, or had finished since the last reading. */
  taken: number;
}

/**
 * One reading of the queue: record and remove every completed job of `pending`, note every failed one
 * (on the first reading, retry it instead: it failed in an earlier attempt of the sweep), and enqueue
 * every job that is not there — on the first reading, those never enqueued; later, those Redis lost (it
 * restarted empty). A job's result is taken once: `pending` is checked and updated synchronously.
 */
async function settle(
  queue: Queue<TrialJob, TrialOutcome>,
  spec: SweepSpec,
  pending: Map<string, Trial>,
  run: { first: boolean; failures: string[]; o: QueueRunOptions },
): Promise<Settled> {
  const ids = [...pending.keys()];
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
  const missing: string[] = [];
  let taken = 0;
  for (const [i, id] of ids.entries()) {
    const trial = pending.get(id);
    if (!trial) continue;
    const state = states[i];
    if (state === 'unknown') missing.push(id);
    if (state === 'active' || state === 'completed' || state === 'failed') taken++;
    if (state !== 'completed' && state !== 'failed') continue;
    const job = await queue.getJob(id);
    if (!job || !pending.has(id)) continue;
    if (state === 'completed') {
      pending.delete(id);
      if (job.returnvalue?.key !== trialKey(trial))
        run.failures.push(`${trialKey(trial)}: job ${id} returned ${JSON.stringify(job.returnvalue?.key)}`);
      else run.o.onOutcome(job.returnvalue);
      await job.remove();
    } else if (run.first) {
      run.o.log(`sweep: retrying ${trialKey(trial)}, which failed before: ${job.failedReason}`);
      await job.retry('failed');
    } else {
      pending.delete(id);
      run.failures.push(`${trialKey(trial)}: ${job.failedReason}`);
    }
  }
  for (const id of missing) await enqueue(queue, id, { spec, trial: pending.get(id) as Trial });
  return { added: missing.length, attached: ids.length - missing.length, taken };
}

/** What BullMQ lists instead of the clients when the Redis refuses CLIENT LIST (some hosted ones do). */
const NO_CLIENT_LIST = 'GCP does not support client list';

/**
 * Whether a worker serves the queue: a `labelsmooth worker` connected to it (CLIENT LIST), or, where the
 * Redis does not list its clients, a job of this reading taken by one.
 */
async function served(queue: Queue<TrialJob, TrialOutcome>, s: Settled): Promise<boolean> {
  const workers = await queue.getWorkers();
  if (workers.some((w) => w.name === NO_CLIENT_LIST)) return s.taken > 0;
  return workers.length > 0;
}

/** After a reading: note whether a worker serves the queue; say so rarely while none does, stop after the bound. */
async function awaitWorkers(
  queue: Queue<TrialJob, TrialOutcome>,
  s: Settled,
  left: number,
  w: { wait: WorkerWait; display: string; log: (line: string) => void },
): Promise<void> {
  if (left === 0 || (await served(queue, s))) return w.wait.seen();
  const step = w.wait.missing();
  if (step === 'notice') w.log(waitingLine(w.display, left, w.wait.idleFor, w.wait.timeout));
  if (step === 'stop') throw noWorkers(w.display, left, w.wait.timeout);
}

/** Add a trial's job (an id that exists already is left alone by BullMQ). */
function enqueue(queue: Queue<TrialJob, TrialOutcome>, id: string, data: TrialJob): Promise<Job> {
  return queue.add('trial', data, {
    jobId: id,
    removeOnComplete: false,
    removeOnFail: false,
    attempts: QUEUE_ATTEMPTS,
    backoff: { type: 'fixed', delay: 1000 },
  });
}

/**
 * Enqueue `trials` (job id = spec hash + trial key, so a restarted coordinator reattaches instead of
 * duplicating; failed jobs of an earlier attempt are retried) and wait until every one has finished,
 * reading the jobs' states every `pollInterval`. Each result is handed to `onOutcome`, then its job is
 * removed. A job Redis lost (it restarted empty) is enqueued again. While Redis is unreachable, one line
 * says so and one says when it is back; after `redisTimeout` the sweep stops with a line saying how to
 * resume. While no worker serves the queue, a line says so (after 5 s, then rarely); after
 * `workerTimeout` without one the sweep stops, saying how to resume. Throws after all trials settle if any failed (a worker refused it, or training threw), naming each.
 */
export async function runOnQueue(
  target: QueueTarget,
  spec: SweepSpec,
  trials: Trial[],
  o: QueueRunOptions,
): Promise<void> {
  if (trials.length === 0) return;
  const link = new RedisLink('sweep', target.display, o.log);
  const queue = new Queue<TrialJob, TrialOutcome>(QUEUE_NAME, {
    connection: connectionOptions(target, 'coordinator'),
  });
  queue.on('error', (e) => {
    if (!link.failed(e)) o.log(`sweep: ${e.message}`);
  });
  // A promise of the Redis client that never settles holds no handle open: were one awaited here, the
  // process would end with exit code 0 and the sweep unfinished. Every wait below is bounded; this is
  // the guard that such a bug shows as a wait, never as a silent success.
  const alive = setInterval(() => {}, 60_000);
  try {
    await within(queue.waitUntilReady(), 10_000, `cannot reach the Redis at ${target.display} within 10 s`);
    const pending = new Map(trials.map((t) => [jobId(spec, t), t]));
    const run = { first: true, failures: [] as string[], o };
    const workers = { wait: new WorkerWait(o.workerTimeout), display: target.display, log: o.log };
    while (run.first || pending.size > 0) {
      let settled: Settled;
      try {
        settled = await settle(queue, spec, pending, run);
        await awaitWorkers(queue, settled, pending.size, workers);
      } catch (e) {
        if (!link.failed(e)) throw e;
        if (link.downFor > o.redisTimeout) throw unreachable(target, link.downFor, pending.size);
        await sleep(o.pollInterval ?? Math.max(500, pending.size));
        continue;
      }
      link.reached();
      report(target, settled, run.first, o.log);
      run.first = false;
      if (pending.size > 0) await sleep(o.pollInterval ?? Math.max(500, pending.size));
    }
    if (run.failures.length > 0)
      throw new UsageError(
        `${run.failures.length} of ${trials.length} trials failed on the queue (the others are recorded; run the same command again to retry):\n  ${run.failures.join('\n  ')}`,
      );
  } finally {
    clearInterval(alive);
    // Without Redis, close() fails (QUIT cannot be sent) and disconnect() would wait for an 'end' event
    // that never comes, holding nothing open: the process would exit 0 mid-sweep. Disconnect, don't wait.
    await within(queue.close(), 5000, 'close').catch(() => {
      queue.disconnect().catch(() => {});
    });
  }
}

/** The line of a reading that enqueued something: the first one's, or one after Redis lost jobs. */
function report(target: QueueTarget, s: Settled, first: boolean, log: (line: string) => void): void {
  if (first)
    log(
      `sweep: ${s.added} trials enqueued on ${target.display} (queue ${QUEUE_NAME}), ${s.attached} already there (reattached); ` +
        `waiting for \`labelsmooth worker --queue ${target.display}\` processes to train them`,
    );
  else if (s.added > 0)
    log(
      `sweep: ${s.added} unfinished trials were gone from the queue on ${target.display} (Redis restarted empty?): enqueued them again; the finished ones are in the ledger`,
    );
}

/** The error a sweep stops with when Redis stays unreachable. */
function unreachable(target: QueueTarget, ms: number, left: number): UsageError {
  return new UsageError(
    `Redis at ${target.display} unreachable for ${(ms / 1000).toFixed(0)} s: stopped with ${left} trials unfinished; ` +
      'the finished ones are in the ledger: once Redis is back, run the same command again to train the rest',
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
