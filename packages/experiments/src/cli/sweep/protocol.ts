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
  | { type: 'failed'; refused: boolean; message: string };
