import { join } from 'node:path';
import { type CalibrationReport, calibration, SUM_TOLERANCE } from 'labelsmooth';
import { DataFileError } from '../data/errors.js';
import { readTable } from '../data/predictions.js';
import { bootstrapNote, intervalHeader, tableRows } from '../report/evaluateTable.js';
import type { EvaluateResults } from '../results/schema.js';
import { type CliContext, DEFAULT_CONTEXT } from './context.js';
import { deriveRunName, stem } from './naming.js';
import { writeResults } from './results.js';
import { checkRunDir, openRunDir } from './runDir.js';
import { formatTable } from './table.js';
import { UsageError } from './usage.js';

/** Options of `labelsmooth evaluate`. */
export interface EvaluateOptions {
  predictions: string;
  labels: string;
  from: 'auto' | 'logits' | 'probs';
  bins: number;
  /** Bootstrap resamples for the intervals; 0 leaves them out. */
  resamples: number;
  seed: number;
  /** Label of rows to leave out (default −100). */
  ignoreIndex: number;
  name?: string;
  runsDir: string;
  force?: boolean;
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

/**
 * `--from logits` or `--from probs` against what the file holds: rows that are all probability
 * distributions read as logits (or the reverse) give plausible but wrong numbers, so a mismatch with the
 * detection is refused.
 */
export function checkFrom(file: string, from: EvaluateOptions['from'], detected: 'logits' | 'probs'): void {
  if (from === 'logits' && detected === 'probs')
    throw new DataFileError(
      file,
      undefined,
      'every row is in [0, 1] and sums to 1: these are probabilities, not logits; use --from probs (or auto)',
    );
  if (from === 'probs' && detected === 'logits')
    throw new DataFileError(
      file,
      undefined,
      'some row is outside [0, 1] or does not sum to 1: these are not probabilities; use --from logits (or auto)',
    );
}

/** The run name: `--name`, or `evaluate-<predictions file stem>` plus the options that differ from defaults. */
export function evaluateRunName(o: EvaluateOptions, cli: CliContext): string {
  return o.name ?? deriveRunName('evaluate', stem(o.predictions), { ...o }, cli.defaults);
}

/** Calibration of saved predictions (logits or probabilities) against labels. */
export async function evaluate(
  o: EvaluateOptions,
  cli: CliContext = DEFAULT_CONTEXT,
): Promise<EvaluateResults> {
  const name = evaluateRunName(o, cli);
  checkRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  const pred = readTable(o.predictions, 'predictions');
  const lab = readTable(o.labels, 'labels');
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
  const ignoreIndex = o.ignoreIndex ?? -100;
  const labels = new Int32Array(lab.rows);
  for (let i = 0; i < lab.rows; i++) {
    const y = lab.data[i];
    if (!Number.isInteger(y) || ((y < 0 || y >= pred.columns) && y !== ignoreIndex)) {
      throw new DataFileError(
        o.labels,
        undefined,
        `row ${i}: label ${y} is not a class index in [0, ${pred.columns}) nor the ignore index ${ignoreIndex}`,
      );
    }
    labels[i] = y;
  }
  const resamples = o.resamples ?? 1000;
  const seed = o.seed ?? 0;
  if (seed > 0xffffffff) throw new UsageError(`--seed ${seed}: expected an integer in [0, 4294967295]`);
  const detected = detectFrom(pred.data, pred.rows, pred.columns);
  checkFrom(o.predictions, o.from, detected);
  const from = o.from === 'auto' ? detected : o.from;
  let report: CalibrationReport;
  try {
    report = calibration(pred.data, labels, {
      classes: pred.columns,
      from,
      bins: o.bins,
      ignoreIndex,
      curves: true,
      ...(resamples > 0 && pred.rows - countOf(labels, ignoreIndex) >= 2
        ? { intervals: true, resamples, seed }
        : {}),
    });
  } catch (e) {
    throw new DataFileError(o.predictions, undefined, (e as Error).message);
  }
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
  const run = openRunDir(o.runsDir, name, { mode: 'new', force: o.force });
  const dir = run.dir;
  const reportFile = await writeResults(dir, results);
  run.release();
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else {
    process.stdout.write(
      `${formatTable(['metric', 'value', intervalHeader(report)], tableRows(report, pred.rows, pred.columns, from, o.bins))}\n\n${bootstrapNote(report, resamples)}results: ${join(dir, 'results.json')}\nreport: ${reportFile}\n`,
    );
  }
  return results;
}

function countOf(labels: Int32Array, value: number): number {
  let n = 0;
  for (const y of labels) if (y === value) n++;
  return n;
}
