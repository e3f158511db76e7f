import { type Job, Queue, QueueEvents } from 'bullmq';
import { UsageError } from '../backend.js';
import type { TrialOutcome } from './execute.js';
import { type Trial, trialKey } from './grid.js';
import type { QueueTarget } from './redisUrl.js';
import { type SweepSpec, specHash } from './spec.js';

/** The BullMQ queue every `labelsmooth worker` takes trials from. */
export const QUEUE_NAME = 'labelsmooth-trials';

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

/** ioredis options for BullMQ (workers block on Redis, so no per-request retry limit). */
export function connectionOptions(target: QueueTarget) {
  return { url: target.url, maxRetriesPerRequest: null };
}

/** Resolve when `p` does, fail with `message` after `ms`. */
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
}

/**
 * Enqueue `trials` (job id = spec hash + trial key, so a restarted coordinator reattaches instead of
 * duplicating; failed jobs of an earlier attempt are retried) and wait until every one has finished. Each
 * result is handed to `onOutcome`, then its job is removed. Throws after all trials settle if any failed
 * (a worker refused it, or training threw), naming each.
 */
export async function runOnQueue(
  target: QueueTarget,
  spec: SweepSpec,
  trials: Trial[],
  o: QueueRunOptions,
): Promise<void> {
  if (trials.length === 0) return;
  const connection = connectionOptions(target);
  const queue = new Queue<TrialJob, TrialOutcome>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  // Every waiting job listens for the queue's 'closing': one listener per trial is expected, not a leak.
  queue.setMaxListeners(trials.length + 10);
  try {
    await within(
      Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
      10_000,
      `cannot reach the Redis at ${target.display} within 10 s`,
    );
    let added = 0;
    let attached = 0;
    const jobs: Job<TrialJob, TrialOutcome>[] = [];
    for (const trial of trials) {
      const id = jobId(spec, trial);
      const existing = await queue.getJob(id);
      if (existing) {
        attached++;
        if (await existing.isFailed()) {
          o.log(`sweep: retrying ${trialKey(trial)}, which failed before: ${existing.failedReason}`);
          await existing.retry('failed');
        }
        jobs.push(existing);
      } else {
        added++;
        jobs.push(
          await queue.add(
            'trial',
            { spec, trial },
            { jobId: id, removeOnComplete: false, removeOnFail: false },
          ),
        );
      }
    }
    o.log(
      `sweep: ${added} trials enqueued on ${target.display} (queue ${QUEUE_NAME}), ${attached} already there (reattached); ` +
        `waiting for \`labelsmooth worker --queue ${target.display}\` processes to train them`,
    );
    const failures: string[] = [];
    await Promise.all(
      jobs.map(async (job, i) => {
        try {
          const outcome = await job.waitUntilFinished(events);
          if (outcome?.key !== trialKey(trials[i]))
            throw new Error(`job ${job.id} returned ${JSON.stringify(outcome?.key)}, not its trial`);
          o.onOutcome(outcome);
          await job.remove();
        } catch (e) {
          failures.push(`${trialKey(trials[i])}: ${(e as Error).message}`);
        }
      }),
    );
    if (failures.length > 0)
      throw new UsageError(
        `${failures.length} of ${trials.length} trials failed on the queue (the others are recorded; run the same command again to retry):\n  ${failures.join('\n  ')}`,
      );
  } finally {
    await events.close();
    await queue.close();
  }
}
