import { UsageError } from '../backend.js';

/** How long the coordinator waits for a worker before its first line says so (ms). */
const FIRST_NOTICE = 5000;
/** The second line comes after this long without a worker (ms), each later one after twice the wait before. */
const SECOND_NOTICE = 30_000;

/**
 * When the `n`th "waiting for workers" line (from 0) is due, in ms without a worker: 5 s, 30 s, 1 min,
 * 2 min, 4 min…: a worker that is not there is said at once, then rarely.
 */
export function noticeAt(n: number): number {
  return n === 0 ? FIRST_NOTICE : SECOND_NOTICE * 2 ** (n - 1);
}

/** What the coordinator does after a reading of the queue. */
export type WaitStep = 'wait' | 'notice' | 'stop';

/**
 * The coordinator's wait for workers: how long no worker has served the queue, when to say so, and when
 * to give up. The clock starts when the wait starts and restarts whenever a worker is seen.
 */
export class WorkerWait {
  private since: number;
  private notices = 0;

  constructor(
    /** How long the queue may go without a worker before the sweep stops (ms). */
    readonly timeout: number,
    private readonly now: () => number = Date.now,
  ) {
    this.since = now();
  }

  /** A reading found a worker: the wait is over (and starts again from zero if the workers go). */
  seen(): void {
    this.since = this.now();
    this.notices = 0;
  }

  /** A reading found no worker: whether to go on waiting, say so, or stop. */
  missing(): WaitStep {
    const idle = this.idleFor;
    if (idle >= this.timeout) return 'stop';
    if (idle < noticeAt(this.notices)) return 'wait';
    this.notices++;
    return 'notice';
  }

  /** Milliseconds without a worker. */
  get idleFor(): number {
    return this.now() - this.since;
  }
}

/** The line said while no worker serves the queue. */
export function waitingLine(display: string, queued: number, idleMs: number, timeoutMs: number): string {
  return (
    `sweep: waiting for workers: ${queued} trials queued on ${display}, no worker for ${seconds(idleMs)}; ` +
    `start one with \`labelsmooth worker --queue ${display}\` (the sweep stops after ${seconds(timeoutMs)} ` +
    'without one: --worker-timeout)'
  );
}

/** The error a sweep stops with when no worker came within the bound. */
export function noWorkers(display: string, queued: number, timeoutMs: number): UsageError {
  return new UsageError(
    `no worker served the queue on ${display} for ${seconds(timeoutMs)}: stopped with ${queued} trials unfinished ` +
      `(they stay queued; the finished ones are in the ledger): start \`labelsmooth worker --queue ${display}\`, ` +
      'then run the same command again to collect the rest',
  );
}

/** `5000` → `5 s`, `600000` → `10 min`, `90000` → `90 s`. */
function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}
