import type { TrialOutcome } from './execute.js';
import type { Trial } from './grid.js';
import type { SweepSpec } from './spec.js';
import { TrialProcess } from './trialProcess.js';

/** Options of {@link runLocalPool}. */
export interface PoolOptions {
  workers: number;
  quiet: boolean;
  log: (line: string) => void;
  /** Called once per finished trial, in completion order (the caller records it in the ledger). */
  onOutcome: (o: TrialOutcome) => void;
}

/**
 * Train `trials` in `workers` child processes, each taking the next trial when it is free. A trial's
 * result depends only on its config and the data, not on which process trains it or what that process
 * trained before (compare trains them all in one process; the tests check the results are equal). The
 * first failure stops the pool (all children are stopped) and is rethrown; finished trials were already
 * handed to `onOutcome`.
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
  const loop = async (p: TrialProcess) => {
    while (!failure && next < trials.length) {
      const trial = trials[next++];
      o.onOutcome(await p.run(spec, trial, o.quiet));
    }
  };
  try {
    await Promise.all(
      procs.map((p) =>
        loop(p).catch((e: Error) => {
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
