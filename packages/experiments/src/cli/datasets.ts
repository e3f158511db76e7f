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
}

/**
 * Load `mnist`, `fashion-mnist` or `csv:PATH` and split it: a stratified validation fraction of the
 * training set (for temperature scaling), then optional stratified subsets of train and test. CSV data is
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
  if (o.validation > 0) {
    const { first, second } = stratifiedSplit(train.y, k, Math.round(train.rows * o.validation), o.seed + 1);
    validation = take(train, second, `${train.name} (validation)`);
    train = take(train, first);
  }
  checkSize('--train-size', o.trainSize, train.rows, given.has('trainSize'), o.validation);
  checkSize('--test-size', o.testSize, test.rows, given.has('testSize'), 0);
  const subset = o.trainSize !== undefined && o.trainSize < train.rows;
  if (o.trainSize !== undefined && o.trainSize < train.rows) {
    train = take(train, stratifiedSplit(train.y, k, o.trainSize, o.seed + 2).second);
  }
  if (o.testSize !== undefined && o.testSize < test.rows) {
    test = take(test, stratifiedSplit(test.y, k, o.testSize, o.seed + 3).second);
  }
  checkClasses(o, train, test, subset);
  return { dataset: o.dataset, train, validation, test };
}

/** A size given explicitly must exist: `--train-size 100000` on 54,000 rows is refused, not shrunk. */
function checkSize(flag: string, size: number | undefined, rows: number, given: boolean, split: number) {
  if (!given || size === undefined || size <= rows) return;
  const after = split > 0 ? ` after the ${split * 100} % validation split` : '';
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
