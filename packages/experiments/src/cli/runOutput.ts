// Console and results.json output shared by `compare` and `train` (not a command: commands do not import
// each other).
import type { CompareResults } from '../results/schema.js';
import { type RunResult, type SummaryRow, summarize } from '../train/experiment.js';
import type { EpochMetrics } from '../train/trainer.js';
import type { Splits } from './datasets.js';
import { formatTable, pm } from './table.js';

/** One line per epoch: the loss decomposition and the test calibration. */
export function epochLine(label: string, seed: number, m: EpochMetrics): string {
  return (
    `${label} seed ${seed} epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} = (1−ε)H(p,q) ${m.trainNllPart.toFixed(4)} + εH(u,q) ${m.trainSmoothingPart.toFixed(4)} [H(u,q) ${m.trainSmoothing.toFixed(2)}]` +
    ` | train acc ${m.trainAccuracy.toFixed(4)} | test acc ${m.testAccuracy.toFixed(4)} NLL ${m.testNll.toFixed(4)} ECE ${m.testEce.toFixed(4)}` +
    ` conf ${m.testMeanConfidence.toFixed(4)} over-conf ${m.testOverconfidence >= 0 ? '+' : ''}${m.testOverconfidence.toFixed(4)} (${m.seconds.toFixed(1)} s)`
  );
}

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
