import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Dataset } from './dataset.js';
import { DataFileError } from './errors.js';

/** The largest finite float32; features are stored as float32, where larger values become Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Options of {@link loadCsv}. */
export interface CsvOptions {
  /** Name of the label column; default `label` if present, else the last column. */
  labelColumn?: string;
}

/**
 * A CSV file with a header row: numeric feature columns and one label column. Class names are the
 * distinct label values, sorted (numerically when they are all numbers). Errors name the file and line.
 */
export function loadCsv(file: string, options: CsvOptions = {}): Dataset {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataFileError(file, undefined, `cannot read: ${(e as Error).message}`);
  }
  const parsed = parseCsvRecords(file, text);
  const records = parsed.map((p) => p.record);
  const lineOf = parsed.map((p) => p.line);
  if (records.length < 2)
    throw new DataFileError(file, undefined, 'needs a header row and at least one data row');
  const header = records[0];
  const labelIndex =
    options.labelColumn !== undefined
      ? header.indexOf(options.labelColumn)
      : header.includes('label')
        ? header.indexOf('label')
        : header.length - 1;
  if (labelIndex < 0)
    throw new DataFileError(file, lineOf[0], `no column named '${options.labelColumn}' in the header`);
  if (header.length < 2)
    throw new DataFileError(file, lineOf[0], 'needs at least one feature column and a label column');
  const rows = records.length - 1;
  const features = header.length - 1;
  const x = new Float32Array(rows * features);
  const raw: string[] = [];
  for (let r = 0; r < rows; r++) {
    const rec = records[r + 1];
    const line = lineOf[r + 1];
    if (rec.length !== header.length) {
      throw new DataFileError(
        file,
        line,
        `row ${r + 1} has ${rec.length} columns, the header has ${header.length}`,
      );
    }
    let f = 0;
    for (let c = 0; c < rec.length; c++) {
      if (c === labelIndex) continue;
      const v = rec[c] === '' ? Number.NaN : Number(rec[c]);
      if (!Number.isFinite(v)) {
        throw new DataFileError(
          file,
          line,
          `column '${header[c]}' (row ${r + 1}) is not a number: ${JSON.stringify(rec[c])}`,
        );
      }
      if (Math.abs(v) > FLOAT32_MAX) {
        throw new DataFileError(
          file,
          line,
          `column '${header[c]}' (row ${r + 1}) = ${rec[c]} is outside the float32 range ` +
            '(±3.4e38) that training uses; rescale that column',
        );
      }
      x[r * features + f++] = v;
    }
    if (rec[labelIndex] === '') throw new DataFileError(file, line, `row ${r + 1} has an empty label`);
    raw.push(rec[labelIndex]);
  }
  const distinct = [...new Set(raw)];
  const numeric = distinct.every((v) => Number.isFinite(Number(v)));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  if (distinct.length < 2)
    throw new DataFileError(
      file,
      undefined,
      `the label column '${header[labelIndex]}' has fewer than 2 classes`,
    );
  const index = new Map(distinct.map((v, i) => [v, i]));
  const y = Int32Array.from(raw, (v) => index.get(v)!);
  return { name: file, x, y, rows, features, classNames: distinct };
}

/** One CSV record with the (1-based) line it ends on. */
export interface CsvRecord {
  record: string[];
  line: number;
}

/** Parse CSV text into trimmed records (empty lines skipped); a syntax error names the file and line. */
export function parseCsvRecords(file: string, text: string): CsvRecord[] {
  try {
    const parsed = parse(text, {
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      info: true,
    }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    return parsed.map((p) => ({ record: p.record, line: p.info.lines }));
  } catch (e) {
    throw new DataFileError(file, (e as { lines?: number }).lines, `not valid CSV: ${(e as Error).message}`);
  }
}
