import { basename, join } from 'node:path';
import { type CalibrationReport, calibration, SUM_TOLERANCE } from 'labelsmooth';
import { DataFileError } from '../data/errors.js';
import { readTable } from '../data/predictions.js';
import type { EvaluateResults } from '../results/schema.js';
import { writeResults } from './results.js';
import { formatTable } from './table.js';

/** Options of `labelsmooth evaluate`. */
export interface EvaluateOptions {
  predictions: string;
  labels: string;
  from: 'auto' | 'logits' | 'probs';
  bins: number;
  name?: string;
  runsDir: string;
  json: boolean;
}

/** Probabilities when every row is in [0, 1] and sums to 1 (±1e−4); logits otherwise. */
export function detectFrom(data: Float64Array, rows: number, k: number): 'logits' | 'probs' {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = data[i * k + c];
      if (v < 0 || v > 1) return 'logits';
      s += v;
    }
    if (Math.abs(s - 1) > SUM_TOLERANCE) return 'logits';
  }
  return 'probs';
}

/** Calibration of saved predictions (logits or probabilities) against labels. */
export async function evaluate(o: EvaluateOptions): Promise<EvaluateResults> {
  const pred = readTable(o.predictions);
  const lab = readTable(o.labels);
  if (pred.columns < 2)
    throw new DataFileError(
      o.predictions,
      undefined,
      `expected N×K predictions with K ≥ 2, got ${pred.columns} column(s)`,
    );
  if (lab.columns !== 1)
    throw new DataFileError(o.labels, undefined, `expected one label per row, got ${lab.columns} columns`);
  if (lab.rows !== pred.rows) {
    throw new DataFileError(
      o.labels,
      undefined,
      `${lab.rows} labels for the ${pred.rows} rows of ${o.predictions}`,
    );
  }
  const labels = new Int32Array(lab.rows);
  for (let i = 0; i < lab.rows; i++) {
    const y = lab.data[i];
    if (!Number.isInteger(y) || y < 0 || y >= pred.columns) {
      throw new DataFileError(
        o.labels,
        undefined,
        `row ${i}: label ${y} is not a class index in [0, ${pred.columns})`,
      );
    }
    labels[i] = y;
  }
  const from = o.from === 'auto' ? detectFrom(pred.data, pred.rows, pred.columns) : o.from;
  let report: CalibrationReport;
  try {
    report = calibration(pred.data, labels, { classes: pred.columns, from, bins: o.bins });
  } catch (e) {
    throw new DataFileError(o.predictions, undefined, (e as Error).message);
  }
  const name = o.name ?? `evaluate-${basename(o.predictions).replace(/[^\w.-]+/g, '_')}`;
  const results: EvaluateResults = {
    kind: 'evaluate',
    name,
    createdAt: new Date().toISOString(),
    predictions: o.predictions,
    labels: o.labels,
    from,
    rows: pred.rows,
    classes: pred.columns,
    report,
  };
  const dir = join(o.runsDir, name);
  const reportFile = await writeResults(dir, results);
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else {
    const r = report;
    process.stdout.write(
      `${formatTable(
        ['metric', 'value'],
        [
          ['rows × classes', `${pred.rows} × ${pred.columns} (${from})`],
          ['accuracy', r.accuracy.toFixed(4)],
          ['NLL', r.nll.toFixed(4)],
          ['Brier', r.brier.toFixed(4)],
          [`ECE (${o.bins} bins)`, r.ece.toFixed(4)],
          ['MCE', r.mce.toFixed(4)],
          ['RMSCE', r.rmsce.toFixed(4)],
          ['adaptive ECE', r.adaptiveEce.toFixed(4)],
          ['mean confidence', r.meanConfidence.toFixed(4)],
          ['over-confidence', r.overconfidence.toFixed(4)],
          ['mean entropy', r.meanEntropy.toFixed(4)],
        ],
      )}\n\nresults: ${join(dir, 'results.json')}\nreport: ${reportFile}\n`,
    );
  }
  return results;
}
