// Console and results.json output shared by `compare` and `train` (not a command: commands do not import
// each other).
import type { CompareResults } from '../results/schema.js';
import { type RunResult, type SummaryRow, summarize } from '../train/experiment.js';
import type { Splits } from './datasets.js';
import { formatTable, pm } from './table.js';

/** The summary table printed at the end. */
export function summaryTable(rows: SummaryRow[]): string {
  return formatTable(
    ['run', 'accuracy', 'NLL', 'ECE', 'MCE', 'Brier', 'confidence', 'over-confidence'],
    rows.map((r) => [
      r.label,
      pm(r.accuracy, r.runs),
      pm(r.nll, r.runs),
      pm(r.ece, r.runs),
      pm(r.mce, r.runs),
      pm(r.brier, r.runs),
      pm(r.meanConfidence, r.runs),
      pm(r.overconfidence, r.runs),
    ]),
  );
}

/** The results.json of a compare or train run. */
export function experimentResults(
  kind: CompareResults['kind'],
  name: string,
  backend: string,
  splits: Splits,
  config: CompareResults['config'],
  runs: RunResult[],
): CompareResults {
  return {
    kind,
    name,
    createdAt: new Date().toISOString(),
    backend,
    dataset: {
      name: splits.dataset,
      classNames: splits.train.classNames,
      train: splits.train.rows,
      validation: splits.validation?.rows ?? 0,
      test: splits.test.rows,
    },
    config,
    runs,
    summary: summarize(runs),
  };
}
