// Option objects are checked key by key: a misspelled or foreign option name ({ label_smoothing: 0.1 },
// { labelsmoothing: 0.1 }) would otherwise be dropped and give a plausible, wrong result.
import { fail } from './errors.js';

/**
 * Names other libraries use for our options (PyTorch, Keras, Optax, TF.js), mapped to ours. Checked before
 * the edit-distance guess because some are far from our spelling (`mask` → `classMask`).
 */
const FOREIGN_NAMES: Readonly<Record<string, string>> = {
  label_smoothing: 'labelSmoothing',
  labelsmoothing: 'labelSmoothing',
  smoothing: 'labelSmoothing',
  epsilon: 'labelSmoothing',
  alpha: 'labelSmoothing',
  ignore_index: 'ignoreIndex',
  sample_weight: 'sampleWeight',
  sample_weights: 'sampleWeight',
  class_weight: 'weight',
  class_weights: 'weight',
  weights: 'weight',
  reduce: 'reduction',
  size_average: 'reduction',
  mask: 'classMask',
  where: 'classMask',
  num_classes: 'classes',
  numclasses: 'classes',
  from_logits: 'fromLogits',
  n_bins: 'bins',
  num_bins: 'bins',
  ignoreindex: 'ignoreIndex',
};

/** Levenshtein distance, case-insensitive (typos are mostly case or one key away). */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length];
}

/**
 * The known option closest to `key`: a foreign/alias name first, then the nearest by edit distance
 * (at most a third of the key's length, at least 2). `undefined` when nothing is close.
 */
export function suggestOption(key: string, known: readonly string[]): string | undefined {
  const alias = FOREIGN_NAMES[key] ?? FOREIGN_NAMES[key.toLowerCase()];
  if (alias !== undefined && known.includes(alias)) return alias;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const name of known) {
    const d = distance(key, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Check that `options` is undefined or a plain object whose keys are all in `known`; return it as a
 * record. An unknown key throws a {@link LabelSmoothingError} naming it and suggesting the right one,
 * e.g. `crossEntropy: options.label_smoothing = 0.1: unknown option; did you mean labelSmoothing?`.
 *
 * @param fn - the public function, for the message
 * @param options - what the caller passed
 * @param known - every option name `fn` accepts
 */
export function checkOptions<T extends object>(
  fn: string,
  options: T | undefined | null | unknown,
  known: readonly string[],
): Partial<T> {
  if (options === undefined) return {};
  if (
    options === null ||
    typeof options !== 'object' ||
    Array.isArray(options) ||
    ArrayBuffer.isView(options)
  ) {
    fail(fn, 'options', undefined, options, 'must be an object of options (or undefined)');
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = suggestOption(key, known);
    const hint = guess === undefined ? `known options: ${known.join(', ')}` : `did you mean ${guess}?`;
    fail(
      fn,
      `options.${key}`,
      undefined,
      (options as Record<string, unknown>)[key],
      `unknown option; ${hint}`,
    );
  }
  return options as Partial<T>;
}
