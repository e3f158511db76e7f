import { hostname } from 'node:os';
import {
  metricsAnalyzer,
  monitorSet,
  type RunLogits,
  type RunResult,
  runLabel,
} from '../../train/experiment.js';
import { runTrial } from '../../train/trial.js';
import { useBackend } from '../backend.js';
import { budgetEpochs } from '../budget.js';
import { budgetSplits, type DataPool, drawSplits, loadPool, type Splits } from '../datasets.js';
import { epochLine } from '../epochLine.js';
import { packageVersion, sweepDataHash } from './fingerprint.js';
import { TRIAL_LOSSES, type Trial, trialKey } from './grid.js';
import { type SweepSpec, specHash, trainConfig } from './spec.js';

/** What a worker sends back for a trial. */
export interface TrialOutcome {
  key: string;
  result: RunResult;
  /** The test logits (and the temperature-scaled ones): the coordinator pairs the trials with them. */
  logits: EncodedLogits;
  /** `host/pid` of the process that trained it. */
  worker: string;
  /** Wall time of the training and evaluation (not of the data loading). */
  seconds: number;
}

/** A worker that cannot train a trial exactly as the coordinator would (version, data, backend). */
export class TrialRefused extends Error {
  override name = 'TrialRefused';
}

/** The identity of this process in messages: `host/pid`. */
export function workerId(): string {
  return `${hostname()}/${process.pid}`;
}

let cached: { hash: string; pool: DataPool; dataHash: string } | null = null;

/**
 * Load (once per spec) the data pool the spec names and check it, the version and the backend; then draw
 * the trial seed's splits from it (each seed is a replicate with its own training and validation rows).
 */
async function prepare(spec: SweepSpec, seed: number): Promise<Splits> {
  const version = packageVersion();
  if (version !== spec.version)
    throw new TrialRefused(
      `worker ${workerId()} refuses the trial: its labelsmooth is version ${version}, the coordinator's is ${spec.version}`,
    );
  const backendName = await useBackend(spec.backend);
  if (backendName !== spec.backendName)
    throw new TrialRefused(
      `worker ${workerId()} refuses the trial: its TF.js backend is '${backendName}', the coordinator's is '${spec.backendName}' (results would differ)`,
    );
  const hash = specHash(spec);
  if (cached?.hash !== hash) {
    cached = null;
    const pool = loadPool(spec.data);
    cached = { hash, pool, dataHash: sweepDataHash(pool) };
  }
  if (cached.dataHash !== spec.dataHash) {
    const theirs = cached.dataHash;
    cached = null; // the files may be fixed before the next trial: load them again then
    throw new TrialRefused(
      `worker ${workerId()} refuses the trial: its data '${spec.data.dataset}' hashes to ${theirs}, the coordinator's to ${spec.dataHash}`,
    );
  }
  return drawSplits(cached.pool, spec.data, seed);
}

/**
 * Train and evaluate one trial in this process, exactly as `compare` would (same splits, same config,
 * same runner). Throws {@link TrialRefused} when this process would not reproduce the coordinator's data,
 * version or backend. `onBatch` is called after every mini-batch.
 */
export async function executeTrial(
  spec: SweepSpec,
  trial: Trial,
  log: (line: string) => void,
  onBatch: () => void = () => {},
): Promise<TrialOutcome> {
  if (!(TRIAL_LOSSES as readonly string[]).includes(trial.loss))
    throw new TrialRefused(`worker ${workerId()} refuses the trial: it has no loss '${trial.loss}'`);
  if (trial.dataset !== spec.data.dataset)
    throw new TrialRefused(
      `worker ${workerId()} refuses the trial: dataset '${trial.dataset}' is not the sweep's '${spec.data.dataset}'`,
    );
  if (trial.trainedOn !== undefined && trial.trainedOn !== 'train+validation')
    throw new TrialRefused(
      `worker ${workerId()} refuses the trial: it has no training data '${trial.trainedOn}'`,
    );
  const drawn = await prepare(spec, trial.seed);
  const splits = trial.trainedOn === undefined ? drawn : budgetSplits(drawn);
  const config = trainConfig(spec, trial);
  if (trial.trainedOn !== undefined) {
    const held = drawn.validation?.rows ?? 0;
    config.epochs = budgetEpochs(config.epochs, config.batchSize, drawn.train.rows, held);
  }
  const label = runLabel(config);
  const t0 = performance.now();
  // The same per-epoch test subset and metrics as compare.
  const monitor = monitorSet(splits.test, spec.monitorSeed);
  const { result, logits } = await runTrial(
    config,
    { ...splits, monitor },
    {
      onBatch: () => onBatch(),
      onEpoch: (m) => log(epochLine(label, config.seed, m, config.epochs, config.loss)),
    },
    metricsAnalyzer(),
  );
  return {
    key: trialKey(trial),
    result,
    logits: encodeLogits(logits),
    worker: workerId(),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** A trial's float32 logits as base64 text (exact bits), for IPC, the queue and the ledger. */
export interface EncodedLogits {
  test: string;
  scaled?: string;
}

const toBase64 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const fromBase64 = (s: string) => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** {@link EncodedLogits} of a trained run. */
export function encodeLogits(l: RunLogits): EncodedLogits {
  return l.scaled ? { test: toBase64(l.test), scaled: toBase64(l.scaled) } : { test: toBase64(l.test) };
}

/** The run's logits back from a recorded outcome. */
export function decodeLogits(out: TrialOutcome): RunLogits {
  const l: RunLogits = { label: out.result.label, seed: out.result.seed, test: fromBase64(out.logits.test) };
  if (out.result.trainedOn !== undefined) l.budget = true;
  if (out.logits.scaled) l.scaled = fromBase64(out.logits.scaled);
  return l;
}
