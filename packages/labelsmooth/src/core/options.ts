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
 * Check that `options` is undefined or an object whose keys are all in `known`; return its own properties
 * as a new record (read once: a getter is not asked twice, and nothing inherited is ever read). An unknown
 * key throws a {@link LabelSmoothingError} naming it and suggesting the right one, e.g.
 * `crossEntropy: options.label_smoothing = 0.1: unknown option; did you mean labelSmoothing?`. So does a
 * symbol key, and a key the object inherits from a prototype other than `Object.prototype` (it would be
 * dropped by a spread and read by a property access: two different calls).
 *
 * @param fn - the public function, for the message
 * @param options - what the caller passed
 * @param known - every option name `fn` accepts (empty: the function takes no options)
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
  return ownOptions(fn, 'options', options, known) as Partial<T>;
}

/**
 * The own string-keyed properties of the object `bag` (the argument `name` of `fn`), each in `known`, copied
 * into a new record; a symbol key, an inherited key or an unknown key is an error naming it.
 */
export function ownOptions(
  fn: string,
  name: string,
  bag: object,
  known: readonly string[],
): Record<string, unknown> {
  refuseInherited(fn, name, bag);
  const copy: Record<string, unknown> = Object.create(null); // no prototype: nothing inherited to read
  for (const key of Reflect.ownKeys(bag)) {
    if (typeof key === 'symbol')
      fail(fn, `${name}[${String(key)}]`, undefined, Reflect.get(bag, key), 'a symbol key is not an option');
    const value = (bag as Record<string, unknown>)[key];
    if (!known.includes(key))
      fail(fn, `${name}.${key}`, undefined, value, `unknown option; ${hint(key, known)}`);
    copy[key] = value;
  }
  return copy;
}

/** What to say about an unknown key: the likely option, or the list of options. */
function hint(key: string, known: readonly string[]): string {
  if (known.length === 0) return 'this function takes no options';
  const guess = suggestOption(key, known);
  return guess === undefined ? `known options: ${known.join(', ')}` : `did you mean ${guess}?`;
}

/** Refuse keys `bag` inherits from its prototypes (up to `Object.prototype` or null, not included). */
export function refuseInherited(fn: string, name: string, bag: object): void {
  for (
    let p = Object.getPrototypeOf(bag);
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const key of Reflect.ownKeys(p)) {
      if (key === 'constructor') continue;
      const where = typeof key === 'symbol' ? `${name}[${String(key)}]` : `${name}.${key}`;
      const value = Object.getOwnPropertyDescriptor(p, key)?.value;
      fail(fn, where, undefined, value, 'inherited from a prototype; options must be own properties');
    }
  }
}
