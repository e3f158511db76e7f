import { loadCsv } from '../data/csv.js';
import { type Dataset, stratifiedSplit, take } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashionMnist.js';
import { loadMnist } from '../data/mnist.js';
import type { DataOptions } from '../results/schema.js';

export type { DataOptions };

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
 * split 80/20 into train/test first. Every split is seeded.
 */
export function loadSplits(o: DataOptions): Splits {
  let train: Dataset;
  let test: Dataset;
  if (o.dataset === 'mnist') ({ train, test } = loadMnist());
  else if (o.dataset === 'fashion-mnist') ({ train, test } = loadFashionMnist(o.seed));
  else if (o.dataset.startsWith('csv:')) {
    const all = loadCsv(o.dataset.slice(4), { labelColumn: o.labelColumn });
    const { first, second } = stratifiedSplit(
      all.y,
      all.classNames.length,
      Math.round(all.rows * 0.2),
      o.seed,
    );
    train = take(all, first, `${all.name}/train`);
    test = take(all, second, `${all.name}/test`);
  } else throw new Error(`unknown dataset '${o.dataset}' (expected mnist, fashion-mnist or csv:PATH)`);
  const k = train.classNames.length;
  let validation: Dataset | null = null;
  if (o.validation > 0) {
    const { first, second } = stratifiedSplit(train.y, k, Math.round(train.rows * o.validation), o.seed + 1);
    validation = take(train, second, `${train.name} (validation)`);
    train = take(train, first);
  }
  if (o.trainSize !== undefined && o.trainSize < train.rows) {
    train = take(train, stratifiedSplit(train.y, k, o.trainSize, o.seed + 2).second);
  }
  if (o.testSize !== undefined && o.testSize < test.rows) {
    test = take(test, stratifiedSplit(test.y, k, o.testSize, o.seed + 3).second);
  }
  return { dataset: o.dataset, train, validation, test };
}
