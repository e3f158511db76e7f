// Console and results.json output shared by `compare`, `sweep` and `train` (not a command: commands do
// not import each other).
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { compareClaims } from '../report/claims.js';
import { methodName, tableOrder } from '../report/report.js';
import type { CompareResults } from '../results/schema.js';
import type { PairedAnalysis } from '../train/analysis.js';
import { type RunResult, type SummaryRow, summarize } from '../train/experiment.js';
import type { Splits } from './datasets.js';
import { writeResults } from './results.js';
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

/** What {@link experimentResults} makes results.json of. */
export interface ExperimentOutput {
  kind: CompareResults['kind'];
  /** The run name. */
  name: string;
  /** The TF.js backend the runs trained on. */
  backend: string;
  splits: Splits;
  config: CompareResults['config'];
  runs: RunResult[];
  /** The per-epoch test subset (recorded when smaller than the test set). */
  monitor?: Dataset;
  /** Paired differences between the runs. */
  paired?: PairedAnalysis[];
}

/** The results.json of a compare, sweep or train run. */
export function experimentResults(o: ExperimentOutput): CompareResults {
  const { kind, name, backend, splits, config, runs } = o;
  const results: CompareResults = {
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
  // The per-epoch test metrics were measured on a subset: say how large, so the report does not call it
  // the test set.
  if (o.monitor && o.monitor.rows !== splits.test.rows) results.monitor = o.monitor.rows;
  if (o.paired?.length) results.paired = o.paired;
  results.claims = compareClaims(runs);
  return results;
}

/**
 * The table in the shape of Müller, Kornblith & Hinton 2019, Table 3: ECE and NLL of the baseline, label
 * smoothing, temperature scaling and both; mean ± sd over seeds, then the 95 % interval when known.
 */
export function mullerTable(rows: SummaryRow[]): string {
  const iv = (x?: [number, number]) => (x ? ` [${x[0].toFixed(3)}, ${x[1].toFixed(3)}]` : '');
  return formatTable(
    ['method', 'ECE', 'NLL', 'accuracy'],
    tableOrder(rows).map((r) => [
      methodName(r),
      pm(r.ece, r.runs) + iv(r.intervals?.ece),
      pm(r.nll, r.runs) + iv(r.intervals?.nll),
      pm(r.accuracy, r.runs) + iv(r.intervals?.accuracy),
    ]),
  );
}

/**
 * Write `<dir>/results.json` and report.html, then print the summary table, the table in Müller et al.'s
 * shape and the fitted temperatures (or the results as one JSON line with `json`), then where the files
 * are (`model`: the saved model's path, for `train`). Shared by `compare`, `sweep` and `train`.
 */
export async function publishResults(
  dir: string,
  results: CompareResults,
  json: boolean,
  files: { model?: string } = {},
): Promise<void> {
  const reportFile = await writeResults(dir, results);
  if (json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
    return;
  }
  process.stdout.write(`\n${summaryTable(results.summary)}\n\n`);
  process.stdout.write(`${mullerTable(results.summary)}\n\n`);
  for (const r of results.runs) {
    if (r.temperature)
      process.stdout.write(
        `${r.label} seed ${r.seed}: temperature T = ${r.temperature.temperature.toFixed(3)} fitted on validation\n`,
      );
  }
  if (files.model) process.stdout.write(`model: ${files.model}\n`);
  process.stdout.write(`results: ${join(dir, 'results.json')}\nreport: ${reportFile}\n`);
}
