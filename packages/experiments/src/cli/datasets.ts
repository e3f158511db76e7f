import { createHash } from 'node:crypto';
import { loadCsv } from '../data/csv.js';
import { type Dataset, stratifiedSplit, take } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashionMnist.js';
import { loadMnist } from '../data/mnist.js';
import type { DataOptions } from '../results/schema.js';

export type { DataOptions };

import { UsageError } from './usage.js';

/** Train / validation / test sets of an experiment. */
export interface Splits {
  dataset: string;
  train: Dataset;
  validation: Dataset | null;
  test: Dataset;
  /** What the user should know about the splits (a validation split raised to a usable size). */
  notes: string[];
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

/**
 * Load `mnist`, `fashion-mnist` or `csv:PATH` and split it: a stratified validation fraction of the
 * training pool (for temperature scaling; at least {@link validationRows}), then optional stratified
 * subsets of train and test. CSV data is
 * split 80/20 into train/test first. Every split is seeded. Sizes that cannot be honoured are refused
 * (a size given on the command line — in `given` — larger than what is there; a training set missing a
 * class; an empty test set), never silently shrunk to something else.
 */
export function loadSplits(o: DataOptions, given: ReadonlySet<string> = new Set()): Splits {
  let train: Dataset;
  let test: Dataset;
  if (o.dataset === 'mnist') ({ train, test } = loadMnist());
  else if (o.dataset === 'fashion-mnist') ({ train, test } = loadFashionMnist(o.seed));
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
      o.seed,
    );
    train = take(all, first, `${all.name}/train`);
    test = take(all, second, `${all.name}/test`);
  } else throw new UsageError(`--dataset ${o.dataset}: unknown (expected mnist, fashion-mnist or csv:PATH)`);
  const k = train.classNames.length;
  let validation: Dataset | null = null;
  const notes: string[] = [];
  const held = validationRows(train.rows, o.validation);
  if (held > 0) {
    if (held !== Math.round(train.rows * o.validation))
      notes.push(
        `validation: ${held} rows instead of ${Math.round(train.rows * o.validation)} (--validation ` +
          `${o.validation} of the ${train.rows}-row training pool), too few to fit a temperature on`,
      );
    const { first, second } = stratifiedSplit(train.y, k, held, o.seed + 1);
    validation = take(train, second, `${train.name} (validation)`);
    train = take(train, first);
  }
  checkSize('--train-size', o.trainSize, train.rows, given.has('trainSize'), held);
  checkSize('--test-size', o.testSize, test.rows, given.has('testSize'), 0);
  const subset = o.trainSize !== undefined && o.trainSize < train.rows;
  if (o.trainSize !== undefined && o.trainSize < train.rows) {
    train = take(train, stratifiedSplit(train.y, k, o.trainSize, o.seed + 2).second);
  }
  if (o.testSize !== undefined && o.testSize < test.rows) {
    test = take(test, stratifiedSplit(test.y, k, o.testSize, o.seed + 3).second);
  }
  checkClasses(o, train, test, subset);
  return { dataset: o.dataset, train, validation, test, notes };
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

/**
 * SHA-256 of the data a run trains and is evaluated on (features, labels, class names of every split),
 * stored in config.json: `--resume` refuses to continue on data that changed since the run started.
 */
export function dataHash(s: Splits): string {
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
