import { startQueueWorker } from './sweep/queueWorker.js';
import { checkQueueUrl } from './sweep/redisUrl.js';

/** Options of `labelsmooth worker`. */
export interface WorkerOptions {
  queue: string;
  insecure: boolean;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  quiet: boolean;
}

/**
 * `labelsmooth worker --queue redis://HOST:PORT`: train the trials that `labelsmooth sweep --queue`
 * enqueues, until SIGINT or SIGTERM (then finish the running trials and stop).
 */
export async function workerCommand(o: WorkerOptions): Promise<void> {
  const target = checkQueueUrl(o.queue, o.insecure);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const running = await startQueueWorker(target, { ...o, log });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`worker: ${signal}: finishing the running trials, then stopping`);
      running.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  // The trials are stopped and their processes gone. A Redis client still reconnecting to a server that is
  // down (its disconnect cannot complete) would keep this process alive after its last line: exit now.
  // (stderr is a pipe or a terminal here: written synchronously, nothing is lost.)
  process.exit(process.exitCode ?? 0);
}
