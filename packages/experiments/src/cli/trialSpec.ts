// The sweep spec of a comparison: what every trial process needs besides its own (ε, loss, seed) to train
// the trial exactly as `compare` would in process. Shared by `compare` (on its local pool) and `sweep`.
import { DATA_SEED, type DataPool } from './datasets.js';
import { familyParameters } from './family.js';
import type { CompareOptions } from './runOptions.js';
import { packageVersion, sweepDataHash } from './sweep/fingerprint.js';
import type { SweepSpec } from './sweep/spec.js';

/** The spec of `o`'s trials on `pool` with the TF.js backend `backendName` (as `useBackend` named it). */
export function trialSpec(o: CompareOptions, backendName: string, pool: DataPool): SweepSpec {
  return {
    data: {
      dataset: o.dataset,
      validation: o.validation,
      trainSize: o.trainSize,
      testSize: o.testSize,
      seed: DATA_SEED,
      labelColumn: o.labelColumn,
    },
    monitorSeed: DATA_SEED,
    model: o.model,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    family: familyParameters(o),
    backend: o.backend,
    backendName,
    version: packageVersion(),
    dataHash: sweepDataHash(pool),
  };
}
