import { createHash } from 'node:crypto';
import { loadCsv } from '../data/csv.js';
import { concat, type Dataset, stratifiedSplit, take } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashionMnist.js';
import { loadMnist } from '../data/mnist.js';
import type { DataOptions } from '../results/schema.js';
import type { TrainedOn } from '../train/experiment.js';

export type { DataOptions };

import { UsageError } from './usage.js';

/** Train / validation / test sets of one seed of an experiment. */
export interface Splits {
  dataset: string;
  train: Dataset;
  validation: Dataset | null;
  test: Dataset;
  /** What the user should know about the splits (a validation split raised to a usable size). */
  notes: string[];
  /**
   * The row selection of this seed: the first 16 hex digits of the SHA-256 of the training, validation
   * and test rows' indices (into the pool and the full test set). Runs of one seed share it; seeds differ.
   */
  split: string;
}

/**
 * The fewest validation rows a temperature is fitted on when the training pool allows: below ~50 rows
 * the fitted T follows a handful of examples. A fraction that gives fewer (e.g. the default 2 % of a
 * small CSV) is raised to 50 rows, or to a fifth of the pool when that is less.
 */
export const MIN_VALIDATION_ROWS = 50;

/** Rows of the validation split for a training pool of `pool` rows and `--validation` = `fraction`. */
export function validationRows(pool: number, fraction: number): number {
  if (fraction <= 0) return 0;
  const rows = Math.round(pool * fraction);
  if (rows >= MIN_VALIDATION_ROWS) return rows;
  return Math.max(rows, Math.min(MIN_VALIDATION_ROWS, Math.round(pool / 5)));
}

/** The data before a seed draws from it: the pool of training rows and the fixed test set. */
export interface DataPool {
  dataset: string;
  /** The rows training and validation sets are drawn from. */
  pool: Dataset;
  test: Dataset;
  /** Indices of `test` in the full test split (for the split id). */
  testRows: Int32Array;
}

/**
 * Seed of the draws every seed shares: the train/test split of Fashion-MNIST and CSV data, the test subset
 * (`--test-size`) and the per-epoch test subset. The test set stays the same whatever seeds are listed,
 * so that seeds differ in their training data and initialisation only.
 */
export const DATA_SEED = 1;

/**
 * Load `mnist`, `fashion-mnist` or `csv:PATH` and fix its test set: CSV data is split 80/20 into train/test
 * first, Fashion-MNIST 60,000/10,000, both stratified with {@link DATA_SEED}; `--test-size` takes a
 * stratified subset. `--test-size` larger than the test set (when `given`) is refused.
 */
export function loadPool(o: DataOptions, given: ReadonlySet<string> = new Set()): DataPool {
  let pool: Dataset;
  let test: Dataset;
  if (o.dataset === 'mnist') ({ train: pool, test } = loadMnist());
  else if (o.dataset === 'fashion-mnist') ({ train: pool, test } = loadFashionMnist(DATA_SEED));
  else if (o.dataset.startsWith('csv:')) {
    const all = loadCsv(o.dataset.slice(4), { labelColumn: o.labelColumn });
    if (Math.round(all.rows * 0.2) === 0)
      throw new UsageError(
        `${o.dataset.slice(4)}: ${all.rows} data row(s) leave no test rows (the test set is 20 % of the ` +
          'rows); it needs at least 3 rows, and many more for meaningful calibration numbers',
      );
    const { first, second } = stratifiedSplit(
      all.y,
      all.classNames.length,
      Math.round(all.rows * 0.2),
      DATA_SEED,
    );
    pool = take(all, first, `${all.name}/train`);
    test = take(all, second, `${all.name}/test`);
  } else throw new UsageError(`--dataset ${o.dataset}: unknown (expected mnist, fashion-mnist or csv:PATH)`);
  checkSize('--test-size', o.testSize, test.rows, given.has('testSize'), 0);
  let testRows: Int32Array = Int32Array.from({ length: test.rows }, (_, i) => i);
  if (o.testSize !== undefined && o.testSize < test.rows) {
    testRows = stratifiedSplit(test.y, test.classNames.length, o.testSize, DATA_SEED + 3).second;
    test = take(test, testRows);
  }
  return { dataset: o.dataset, pool, test, testRows };
}

/**
 * One seed's splits of a pool: a stratified validation fraction of the pool (for temperature scaling),
 * then the optional stratified training subset (`--train-size`), both drawn with `seed`, so that each
 * seed is a replicate with its own training data; the test set is the pool's. Sizes that cannot be
 * honoured are refused (a size given on the command line — in `given` — larger than what is there; a
 * training set missing a class), never silently shrunk to something else.
 */
export function drawSplits(
  p: DataPool,
  o: DataOptions,
  seed: number,
  given: ReadonlySet<string> = new Set(),
): Splits {
  const k = p.pool.classNames.length;
  let train = p.pool;
  let trainRows: Int32Array = Int32Array.from({ length: p.pool.rows }, (_, i) => i);
  let validation: Dataset | null = null;
  let heldRows: Int32Array = new Int32Array(0);
  const notes: string[] = [];
  const held = validationRows(p.pool.rows, o.validation);
  if (held > 0) {
    if (held !== Math.round(p.pool.rows * o.validation))
      notes.push(
        `validation: ${held} rows instead of ${Math.round(p.pool.rows * o.validation)} (--validation ` +
          `${o.validation} of the ${p.pool.rows}-row training pool), too few to fit a temperature on`,
      );
    const { first, second } = stratifiedSplit(p.pool.y, k, held, seed + 1);
    validation = take(p.pool, second, `${p.pool.name} (validation)`);
    heldRows = second;
    trainRows = first;
    train = take(p.pool, first);
  }
  checkSize('--train-size', o.trainSize, train.rows, given.has('trainSize'), held);
  const subset = o.trainSize !== undefined && o.trainSize < train.rows;
  if (subset) {
    const picked = stratifiedSplit(train.y, k, o.trainSize as number, seed + 2).second;
    trainRows = picked.map((i) => trainRows[i]);
    train = take(train, picked);
  }
  checkClasses(o, train, p.test, subset);
  const split = splitId([trainRows, heldRows, p.testRows]);
  return { dataset: p.dataset, train, validation, test: p.test, notes, split };
}

/**
 * The seed's splits for the budget-matched run: training on train ∪ validation (every labelled row the
 * seed's temperature-scaled baseline sees), no validation left, the same test set and split id (the
 * same row selection, so the run pairs with that seed's others).
 */
export function budgetSplits(s: Splits): Splits & { trainedOn: TrainedOn } {
  if (!s.validation || s.validation.rows === 0)
    throw new Error('budgetSplits: the seed has no validation split to train on');
  const train = concat(s.train, s.validation, `${s.train.name} ∪ validation`);
  return { ...s, train, validation: null, trainedOn: 'train+validation' };
}

/** The split id of a row selection: SHA-256 (first 16 hex digits) of its index arrays. */
export function splitId(parts: Int32Array[]): string {
  const h = createHash('sha256');
  for (const rows of parts) {
    h.update(String(rows.length));
    h.update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** {@link loadPool}, then {@link drawSplits} with `o.seed`: the splits of one run. */
export function loadSplits(o: DataOptions, given: ReadonlySet<string> = new Set()): Splits {
  return drawSplits(loadPool(o, given), o, o.seed, given);
}

/** A size given explicitly must exist: `--train-size 100000` on 54,000 rows is refused, not shrunk. */
function checkSize(flag: string, size: number | undefined, rows: number, given: boolean, held: number) {
  if (!given || size === undefined || size <= rows) return;
  const after = held > 0 ? ` after the validation split (${held} rows)` : '';
  throw new UsageError(
    `${flag} ${size}: only ${rows} examples are there${after}; use ${rows}, less, or 'all'`,
  );
}

/** Every class needs a training example, and the test set cannot be empty. */
function checkClasses(o: DataOptions, train: Dataset, test: Dataset, subset: boolean): void {
  const k = train.classNames.length;
  const seen = new Uint8Array(k);
  for (const y of train.y) seen[y] = 1;
  const missing = train.classNames.filter((_, c) => !seen[c]);
  const where = o.dataset.startsWith('csv:') ? o.dataset.slice(4) : o.dataset;
  if (missing.length > 0) {
    if (subset)
      throw new UsageError(
        `--train-size ${o.trainSize} leaves ${missing.length} of the ${k} classes of ${where} without a ` +
          `training example (e.g. '${missing[0]}'); use a larger --train-size`,
      );
    throw new UsageError(
      `${where}: class '${missing[0]}' has no training example after the splits; ` +
        'it needs more rows of that class (or a smaller --validation)',
    );
  }
  if (test.rows === 0) throw new UsageError(`${where}: the test set is empty; it needs more rows`);
}

/** {@link dataHash} of a pool: its rows and its test set (what every seed of a sweep draws from). */
export const poolHash = (p: DataPool) => dataHash({ train: p.pool, validation: null, test: p.test });

/**
 * SHA-256 of the data a run trains and is evaluated on (features, labels, class names of every split),
 * stored in config.json: `--resume` refuses to continue on data that changed since the run started.
 */
export function dataHash(s: Pick<Splits, 'train' | 'validation' | 'test'>): string {
  const h = createHash('sha256');
  for (const d of [s.train, s.validation, s.test]) {
    if (!d) {
      h.update('none');
      continue;
    }
    h.update(JSON.stringify([d.rows, d.features, d.classNames]));
    h.update(new Uint8Array(d.x.buffer, d.x.byteOffset, d.x.byteLength));
    h.update(new Uint8Array(d.y.buffer, d.y.byteOffset, d.y.byteLength));
  }
  return h.digest('hex');
}
