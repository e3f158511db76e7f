import type { TrialOutcome } from './execute.js';
import type { Trial } from './grid.js';
import type { SweepSpec } from './spec.js';

/** Parent → trial process: train this trial. */
export interface TrialRequest {
  type: 'trial';
  spec: SweepSpec;
  trial: Trial;
  quiet: boolean;
}

/** Trial process → parent: the outcome, or why there is none. */
export type TrialReply =
  | { type: 'ready' }
  | { type: 'done'; outcome: TrialOutcome }
  | {
      type: 'failed';
      /** The worker would not reproduce the coordinator's trial (version, data, backend). */
      refused: boolean;
      /** A bug rather than an error that names its file, flag or argument. */
      internal: boolean;
      /** What went wrong, on one line (prefixed `internal error:` for a bug). */
      message: string;
      /** The trial process's stack of the error. */
      stack?: string;
    };
