import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { LOSS_PARAMETERS, type LossParameter } from '../train/losses.js';

/** A loss parameter's part of a name: its ASCII tag and value (`gamma2`), from the one table of them. */
const parameter =
  (p: LossParameter) =>
  (v: unknown): string =>
    `${p.nameTag}${v}`;

/**
 * How each option shows in a derived run name, when it differs from its default. The order here is the
 * order in the name. Options absent from this table (output, verbosity) never change the name.
 */
const PARTS: Record<string, (v: unknown) => string> = {
  model: (v) => String(v),
  epsilons: (v) => `eps${(v as number[]).join('_')}`,
  epsilon: (v) => `eps${v}`,
  noise: (v) => String(v),
  losses: (v) => (v as string[]).join('_'),
  loss: (v) => String(v),
  confidencePenalty: parameter(LOSS_PARAMETERS.confidencePenalty),
  focalGamma: parameter(LOSS_PARAMETERS.focalGamma),
  focalAlpha: parameter(LOSS_PARAMETERS.focalAlpha),
  olsEpsilon: parameter(LOSS_PARAMETERS.olsEpsilon),
  epsilonSchedule: (v) => String(v),
  epsilonFinal: (v) => `to${v}`,
  seeds: (v) => {
    const s = v as number[];
    return s.every((x, i) => x === i + 1) ? `seeds${s.length}` : `seeds${s.join('_')}`;
  },
  seed: (v) => `seed${v}`,
  epochs: (v) => `epochs${v}`,
  batchSize: (v) => `batch${v}`,
  lr: (v) => `lr${v}`,
  validation: (v) => `val${v}`,
  trainSize: (v) => `train${v ?? 'all'}`,
  testSize: (v) => `test${v ?? 'all'}`,
  labelColumn: (v) => `label-${v}`,
  backend: (v) => String(v),
  from: (v) => String(v),
  bins: (v) => `bins${v}`,
  resamples: (v) => `resamples${v}`,
  ignoreIndex: (v) => `ignore${v}`,
  temperature: (v) => `T${v}`,
  studentEpochs: (v) => `student-epochs${v}`,
  studentHidden: (v) => `student-hidden${v}`,
};

/** Longest derived name; longer ones keep their start and end in a short hash of the whole. */
const MAX_LENGTH = 64;

/** A file's name without directories and extension: `/tmp/evaldata/toy.csv` → `toy`. */
export function stem(path: string): string {
  return basename(path, extname(path)) || 'data';
}

/** The short name of a `--dataset` value: `mnist`, `fashion-mnist`, or the CSV file's stem. */
export function datasetName(dataset: string): string {
  return dataset.startsWith('csv:') ? stem(dataset.slice(4)) : dataset;
}

/**
 * The run directory name for `command` from the options that differ from their defaults, e.g.
 * `compare-mnist`, `compare-mnist-eps0_0.05_0.1_0.2-seeds3`, `compare-fashion-mnist-non-target`,
 * `train-toy-eps0.3-epochs3`, `evaluate-logits`. Two runs with different settings get different names;
 * the same command gives the same name (so that an existing run is found, not overwritten).
 */
export function deriveRunName(
  command: string,
  subject: string,
  values: Record<string, unknown>,
  defaults: Record<string, unknown>,
): string {
  const parts = [command, subject];
  for (const [key, show] of Object.entries(PARTS)) {
    if (!(key in values) || !(key in defaults)) continue; // not an option of this command
    if (JSON.stringify(values[key]) === JSON.stringify(defaults[key])) continue;
    parts.push(show(values[key]));
  }
  const name = parts
    .map((p) => p.replace(/[^\w.-]+/g, '_'))
    .join('-')
    .replace(/^\.+/, '_');
  if (name.length <= MAX_LENGTH) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_LENGTH - 9)}-${hash}`;
}
