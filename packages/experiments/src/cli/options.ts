import { type Command, InvalidArgumentError } from 'commander';
import { suggestOption } from 'labelsmooth';

// Numbers on the command line are read by strict patterns, not Number(): Number('0x10') = 16,
// Number('1e3') = 1000, Number(' 7 ') = 7 and Number('') = 0 would each be a silent surprise.
const INTEGER = /^-?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Largest seed: seeds are 32-bit generator states. */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * Commander parser of a whole number in [min, max], rejecting anything else with a message naming the
 * value. Every count has an upper bound: `--epochs 99999999999` would otherwise start a job that never
 * ends, and a value past 2^31 wraps in the typed arrays and timers it reaches.
 */
export function int(min: number, max: number) {
  return (v: string): number => {
    const n = INTEGER.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `expected a whole number from ${min} to ${max} (${min < 0 ? 'a minus sign and ' : ''}digits only), got '${v}'`,
      );
    return n;
  };
}

/** A decimal number in [min, max] (or (min, max] with `open`). */
export function float(min: number, max: number, { open = false } = {}) {
  return (v: string): number => {
    const n = DECIMAL.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || n < min || n > max || (open && n === min)) {
      throw new InvalidArgumentError(`expected a number in ${open ? '(' : '['}${min}, ${max}], got '${v}'`);
    }
    return n;
  };
}

/** A comma-separated list of distinct ε values in [0, 1]. */
export function epsilons(v: string): number[] {
  const parse = float(0, 1);
  const list = v.split(',').map((s) => parse(s.trim()));
  if (new Set(list).size !== list.length) throw new InvalidArgumentError(`repeated ε in '${v}'`);
  return list;
}

/** Most seeds of one job (each is a full training run). */
export const MAX_SEEDS = 1000;

/** `--seeds 3` → [1, 2, 3]; `--seeds 7,11` → [7, 11]. A seed given twice would be one run counted twice. */
export function seeds(v: string): number[] {
  if (!v.includes(',')) return Array.from({ length: int(1, MAX_SEEDS)(v) }, (_, i) => i + 1);
  const list = v.split(',').map((s) => int(0, MAX_SEED)(s.trim()));
  if (list.length > MAX_SEEDS)
    throw new InvalidArgumentError(`${list.length} seeds in '${v}': at most ${MAX_SEEDS}`);
  const twice = list.find((s, i) => list.indexOf(s) !== i);
  if (twice !== undefined)
    throw new InvalidArgumentError(`seed ${twice} appears twice in '${v}': each seed is one run`);
  return list;
}

/**
 * What {@link sizeOrAll} stores for `all`. Commander cannot store `undefined` (a parser returning it
 * leaves `''`), so `all` is this marker until {@link resolveAll} turns it into `undefined` (= every row)
 * before a command's action runs.
 */
export const ALL = Symbol('all');

/** Largest `--train-size` / `--test-size`: beyond any dataset held in memory. */
export const MAX_SIZE = 100_000_000;

/** A positive count, or `all` ({@link ALL}). */
export function sizeOrAll(v: string): number | typeof ALL {
  return v === 'all' ? ALL : int(1, MAX_SIZE)(v);
}

/** Replace every {@link ALL} among `cmd`'s option values by `undefined`, keeping where it came from. */
export function resolveAll(cmd: Command): void {
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (cmd.getOptionValue(key) === ALL)
      cmd.setOptionValueWithSource(key, undefined, cmd.getOptionValueSource(key));
  }
}

/** A run name usable as a directory name. */
export function runName(v: string): string {
  if (!/^[\w.-]+$/.test(v) || v === '.' || v === '..')
    throw new InvalidArgumentError(`use letters, digits, '.', '_' or '-', got '${v}'`);
  return v;
}

/** The built-in datasets of `--dataset` (besides `csv:PATH`). */
export const DATASETS = ['mnist', 'fashion-mnist'] as const;

/**
 * `--dataset`: `mnist`, `fashion-mnist` or `csv:PATH`. A typo gets a suggestion (`mnsit` → mnist,
 * `CSV:x.csv` → csv:x.csv); `csv:` without a path is refused here rather than as a failed `open('')`.
 */
export function dataset(v: string): string {
  if ((DATASETS as readonly string[]).includes(v)) return v;
  const colon = v.indexOf(':');
  if (colon >= 0 && v.slice(0, colon).toLowerCase() === 'csv') {
    const path = v.slice(colon + 1);
    if (path.trim() === '') throw new InvalidArgumentError('csv: needs a path, e.g. csv:data/iris.csv');
    if (v.startsWith('csv:')) return v;
    throw new InvalidArgumentError(`write the prefix in lower case: csv:${path}`);
  }
  if (/\.(csv|txt)$/i.test(v)) throw new InvalidArgumentError(`a CSV file needs the csv: prefix: csv:${v}`);
  const guess = suggestOption(v, DATASETS);
  throw new InvalidArgumentError(
    `unknown dataset${guess ? `; did you mean ${guess}?` : ''} (expected mnist, fashion-mnist or csv:PATH)`,
  );
}

/** The flag of an option's camelCase name: `batchSize` → `--batch-size`. */
export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
