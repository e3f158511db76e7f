import { createHash } from 'node:crypto';
import type { ModelKind } from '../../train/kinds.js';
import type { TrainConfig } from '../../train/trainer.js';
import type { BackendName } from '../backend.js';
import type { DataOptions } from '../datasets.js';
import { type FamilyParameters, runConfig, storedVariant } from '../family.js';
import type { Trial } from './grid.js';

/**
 * Everything besides the trial's own (dataset, ε, noise, loss, seed) that determines its result, plus
 * what a worker checks before it accepts the trial: the coordinator's package version, the hash of the
 * data splits it loaded and the name of its TF.js backend (`wasm (SIMD)`).
 */
export interface SweepSpec {
  data: DataOptions;
  /** Seed of the per-epoch test subset (`DATA_SEED`, as in compare), so that trials train as compare's do. */
  monitorSeed: number;
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  /** The loss parameters and the ε schedule: a trial's loss and ε come from the trial. */
  family: FamilyParameters;
  backend: BackendName;
  backendName: string;
  version: string;
  dataHash: string;
}

/** JSON with object keys sorted (and undefined fields dropped): one text per value. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** SHA-256 (first 16 hex digits) of the spec's canonical JSON: equal specs, equal hashes. */
export function specHash(spec: SweepSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

/**
 * The training configuration of one trial: compare's for the same variant (the loss and ε of the trial,
 * the loss parameters and schedule of the spec).
 */
export function trainConfig(spec: SweepSpec, t: Trial): TrainConfig {
  const loss = t.loss === 'cross-entropy' ? undefined : t.loss;
  return runConfig(
    { ...spec, noise: t.noise },
    t.seed,
    storedVariant({ ...spec.family, epsilon: t.epsilon, loss }),
  );
}
