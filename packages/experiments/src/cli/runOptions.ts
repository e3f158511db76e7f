// Options shared by the commands that train (`compare`, `train`): a module of its own, since commands do not
// import each other.
import type { ExperimentConfig } from '../results/schema.js';
import type { ModelKind, NoiseKind } from '../train/kinds.js';
import type { BackendName } from './backend.js';
import type { DataOptions } from './datasets.js';
import type { FamilyOptions } from './family.js';

/** Where and how every training command writes (and its TF.js backend). */
export interface OutputOptions {
  backend: BackendName;
  name?: string;
  runsDir: string;
  /** Replace an existing run of the same name. */
  force?: boolean;
  json: boolean;
  quiet: boolean;
}

/** Options shared by `labelsmooth compare` and `labelsmooth train`. */
export interface RunOptions extends DataOptions, FamilyOptions, OutputOptions {
  model: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  noise: NoiseKind;
}

/** Options of `labelsmooth compare`. */
export interface CompareOptions extends RunOptions {
  epsilons: number[];
  seeds: number[];
  /** Trial processes (the sweep's local pool); 1 or absent: every run in this process. */
  workers?: number;
  /** ε of the budget-matched run (label smoothing on train ∪ validation); null or absent: none. */
  budgetEpsilon?: number | null;
}

/** Options that say where and how to write, not what was computed: never stored in results.json. */
const OUTPUT_OPTIONS = new Set([
  'json',
  'quiet',
  'runsDir',
  'name',
  'force',
  'workers',
  'queue',
  'insecure',
  'redisTimeout',
  'workerTimeout',
]);

/** The settings a comparison stores in results.json: every option but the output ones. */
export function storedConfig(o: CompareOptions): ExperimentConfig {
  return Object.fromEntries(
    Object.entries(o).filter(([key]) => !OUTPUT_OPTIONS.has(key)),
  ) as unknown as ExperimentConfig;
}
