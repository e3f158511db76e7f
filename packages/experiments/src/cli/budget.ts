// The budget-matched row of a comparison. Temperature scaling of the ε = 0 model is fitted on the
// validation split: labelled rows that the label-smoothing runs never see. The budget-matched run trains
// label smoothing on train ∪ validation, so that both sides of the comparison use the same labelled rows
// of the seed.
import { InvalidArgumentError } from 'commander';
import type { TrainedOn } from '../train/experiment.js';
import type { CompareOptions } from './runOptions.js';
import type { GridRun } from './sweep/grid.js';
import { UsageError } from './usage.js';

/**
 * ε of the budget-matched run when `--budget-epsilon` is not given: 0.1, the value of Szegedy et al. 2016
 * and of Müller, Kornblith & Hinton 2019, fixed before any run (never chosen on test results).
 */
export const BUDGET_EPSILON = 0.1;

/** The training data of the budget-matched run. */
export const BUDGET_DATA: TrainedOn = 'train+validation';

/**
 * Epochs of the budget-matched run: as many gradient steps as a run on the training split alone
 * (`epochs` × ⌈train/batch⌉), rounded to whole epochs over train ∪ validation, at least 1. The two sides
 * then differ in their labelled rows' use only — neither gets more optimisation — and the run costs
 * about what one run of the ε grid costs.
 */
export function budgetEpochs(epochs: number, batchSize: number, train: number, validation: number): number {
  const steps = epochs * Math.ceil(train / batchSize);
  return Math.max(1, Math.round(steps / Math.ceil((train + validation) / batchSize)));
}

/** Why a comparison cannot have the budget-matched run, or null when it can. */
function missing(o: CompareOptions, validationRows: number): string | null {
  if (o.losses !== undefined) return 'a comparison of losses (--losses) has none';
  if (!o.epsilons.includes(0)) return 'it needs ε = 0 in --epsilons (the temperature-scaled baseline)';
  if (validationRows === 0)
    return 'it needs a validation split (--validation > 0) to train on and to fit the temperature';
  if (o.epsilonSchedule !== 'constant') return 'it is defined for a constant ε (no --epsilon-schedule)';
  return null;
}

/**
 * The budget-matched run of a comparison (label smoothing with `o.budgetEpsilon` on train ∪ validation),
 * or null: with `--budget-epsilon none`, or when the comparison cannot have one — refused when
 * `--budget-epsilon` was given, otherwise said in `log`.
 */
export function budgetRun(
  o: CompareOptions,
  validationRows: number,
  given: ReadonlySet<string>,
  log: (s: string) => void,
): GridRun | null {
  const epsilon = o.budgetEpsilon;
  if (epsilon === undefined || epsilon === null) return null;
  const why = missing(o, validationRows);
  if (why === null) return { loss: 'cross-entropy', epsilon, trainedOn: BUDGET_DATA };
  if (given.has('budgetEpsilon')) throw new UsageError(`--budget-epsilon ${epsilon}: ${why}`);
  log(`no budget-matched run (label smoothing on train ∪ validation): ${why}`);
  return null;
}

/** `--budget-epsilon`: an ε in (0, 1), or `none`. */
export function budgetEpsilon(v: string): number | null {
  if (v === 'none') return null;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0 || x >= 1)
    throw new InvalidArgumentError(`expected an ε in (0, 1), or none, got '${v}'`);
  return x;
}
