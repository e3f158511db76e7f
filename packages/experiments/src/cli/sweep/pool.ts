import { UsageError } from '../usage.js';
import type { TrialOutcome } from './execute.js';
import { type Trial, trialKey } from './grid.js';
import type { SweepSpec } from './spec.js';
import { TrialFailure, TrialProcess } from './trialProcess.js';

/**
 * The error a failed trial stops the sweep with, on one line: the trial, the trial process, the cause as
 * the trial process saw it (an internal error says so), and what to do; the trial process's stack goes
 * after the sweep's (printed with LABELSMOOTH_DEBUG=1).
 */
export function failedTrial(key: string, pid: number | undefined, e: Error): UsageError {
  const failure = e instanceof TrialFailure;
  const report = failure && e.internal ? ' (LABELSMOOTH_DEBUG=1 prints its stack; please report it)' : '';
  const err = new UsageError(
    `trial ${key} failed${failure ? ` in trial process ${pid}` : ''}: ${e.message}${report}; ` +
      'the trials finished before it are recorded: run the same command again to train the rest',
  );
  if (failure && e.trialStack) err.stack = `${err.stack}\nin the trial process: ${e.trialStack}`;
  return err;
}

/** Options of {@link runLocalPool}. */
export interface PoolOptions {
  workers: number;
  quiet: boolean;
  log: (line: string) => void;
  /** Called once per finished trial, in completion order (the caller records it in the ledger). */
  onOutcome: (o: TrialOutcome) => void;
}

/** Times a trial is trained when its process dies under it (killed, out of memory) before the sweep stops. */
export const TRIAL_ATTEMPTS = 3;

/**
 * Train `trials` in `workers` child processes, each taking the next trial when it is free. A trial's
 * result depends only on its config and the data, not on which process trains it or what that process
 * trained before (compare trains them all in one process; the tests check the results are equal). A trial
 * whose process dies under it is trained again in a fresh process, up to {@link TRIAL_ATTEMPTS} times in
 * all. A trial that fails (or runs out of attempts) stops the pool (all children are stopped) and is
 * rethrown; finished trials were already handed to `onOutcome`.
 */
export async function runLocalPool(spec: SweepSpec, trials: Trial[], o: PoolOptions): Promise<void> {
  const n = Math.max(1, Math.min(o.workers, trials.length));
  if (trials.length === 0) return;
  const procs = Array.from({ length: n }, () => new TrialProcess());
  procs.forEach((p, i) => {
    o.log(`sweep: worker ${i + 1}/${n} is process ${p.pid}`);
  });
  let next = 0;
  let failure: Error | null = null;
  const train = async (slot: number, trial: Trial): Promise<TrialOutcome> => {
    const key = trialKey(trial);
    for (let attempt = 1; ; attempt++) {
      const p = procs[slot];
      try {
        return await p.run(spec, trial, o.quiet);
      } catch (e) {
        if (e instanceof TrialFailure || failure || attempt >= TRIAL_ATTEMPTS)
          throw failedTrial(key, p.pid, e as Error);
        procs[slot] = new TrialProcess();
        o.log(
          `sweep: ${(e as Error).message}; training it again in process ${procs[slot].pid} (attempt ${attempt + 1} of ${TRIAL_ATTEMPTS})`,
        );
      }
    }
  };
  const loop = async (slot: number) => {
    while (!failure && next < trials.length) o.onOutcome(await train(slot, trials[next++]));
  };
  try {
    await Promise.all(
      procs.map((_, slot) =>
        loop(slot).catch((e: Error) => {
          failure ??= e;
          // Stop the others at once: their trials are lost anyway when the sweep fails.
          for (const q of procs) q.child.kill('SIGKILL');
        }),
      ),
    );
  } finally {
    await Promise.all(procs.map((p) => p.close()));
  }
  if (failure) throw failure;
}
