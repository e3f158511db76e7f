import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseCsvRecords } from './csv.js';
import { DataFileError } from './errors.js';
import { parseNpy } from './npy.js';

/** A numeric table read from a predictions or labels file. */
export interface Table {
  rows: number;
  columns: number;
  data: Float64Array;
}

/** What a table holds: predictions are real numbers, labels are class indices. */
export type TableKind = 'predictions' | 'labels';

/** The `.npy` dtypes each kind accepts (a boolean or integer array is no logit, a float array no index). */
const DTYPES: Record<TableKind, { kinds: string; what: string; fix: string }> = {
  predictions: { kinds: 'f', what: 'a float dtype (f2, f4, f8)', fix: '.astype(np.float32)' },
  labels: { kinds: 'iu', what: 'an integer dtype (i1–i8, u1–u8)', fix: '.astype(np.int64)' },
};

/** Refuse a `.npy` dtype that `kind` cannot hold, naming the file and the dtype. */
function checkDtype(file: string, dtype: string, kind: TableKind): void {
  const want = DTYPES[kind];
  if (want.kinds.includes(dtype[0])) return;
  const what = dtype[0] === 'b' ? 'a boolean array' : `dtype ${dtype}`;
  throw new DataFileError(
    file,
    undefined,
    `${what} cannot be ${kind}: they need ${want.what}; save them with ${want.fix}`,
  );
}

/**
 * Read a numeric matrix (predictions N×K) or vector (labels N) from `.npy`, `.csv` (no header, or a header
 * of non-numbers that is skipped) or `.json` (an array of rows, or an array of numbers). Errors name the
 * file and the line (CSV) or row (JSON); a `.npy` dtype that does not fit `kind` is refused.
 */
export function readTable(file: string, kind: TableKind): Table {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new DataFileError(file, undefined, `cannot read: ${(e as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.npy') {
    const a = parseNpy(file, buf);
    checkDtype(file, a.dtype, kind);
    if (a.shape.length > 2 || a.shape.length === 0)
      throw new DataFileError(file, undefined, `expected a 1-D or 2-D array, shape (${a.shape.join(', ')})`);
    checkFinite(file, a.data, a.shape[1] ?? 1, 'row');
    return { rows: a.shape[0], columns: a.shape[1] ?? 1, data: a.data };
  }
  if (ext === '.json') return fromRows(file, parseJson(file, buf.toString('utf8')), 'row');
  if (ext === '.csv' || ext === '.txt') return fromCsv(file, buf.toString('utf8'));
  throw new DataFileError(file, undefined, `unknown extension '${ext}' (expected .npy, .csv or .json)`);
}

function parseJson(file: string, text: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DataFileError(file, undefined, `not valid JSON: ${(e as Error).message}`);
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    v = o.predictions ?? o.logits ?? o.probs ?? o.labels;
  }
  if (!Array.isArray(v))
    throw new DataFileError(file, undefined, 'expected an array (of rows or of numbers)');
  return v;
}

function fromCsv(file: string, text: string): Table {
  let parsed = parseCsvRecords(file, text);
  if (parsed.length > 0 && parsed[0].record.every((c) => c !== '' && !Number.isFinite(Number(c))))
    parsed = parsed.slice(1);
  const rows = parsed.map((p) => p.record.map((c) => (c === '' ? Number.NaN : Number(c))));
  return fromRows(
    file,
    rows,
    'line',
    parsed.map((p) => p.line),
  );
}

function fromRows(file: string, rows: unknown[], unit: 'row' | 'line', lines?: number[]): Table {
  if (rows.length === 0) throw new DataFileError(file, undefined, 'is empty');
  const columns = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : 1;
  const data = new Float64Array(rows.length * columns);
  rows.forEach((row, i) => {
    const at = unit === 'line' ? lines![i] : i;
    const cells = Array.isArray(row) ? row : [row];
    if (cells.length !== columns)
      throw new DataFileError(file, at, `${unit} ${at} has ${cells.length} values, expected ${columns}`);
    cells.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new DataFileError(
          file,
          at,
          `${unit} ${at}, column ${j + 1}: not a finite number (${JSON.stringify(v)})`,
        );
      }
      data[i * columns + j] = v;
    });
  });
  return { rows: rows.length, columns, data };
}

function checkFinite(file: string, data: Float64Array, columns: number, unit: string): void {
  for (let j = 0; j < data.length; j++) {
    if (!Number.isFinite(data[j])) {
      throw new DataFileError(
        file,
        undefined,
        `${unit} ${Math.floor(j / columns)}, column ${(j % columns) + 1}: not a finite number (${data[j]})`,
      );
    }
  }
}
