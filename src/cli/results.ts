import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../data/errors.js';
import { type ReportInput, renderReport } from '../report/report.js';
import { writeFileAtomic } from '../train/files.js';

/** Write a run directory's results.json and report.html (each atomically). Returns the report's path. */
export async function writeResults(dir: string, results: ReportInput): Promise<string> {
  writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  return writeReport(dir, results);
}

/** Render and write `<dir>/report.html`. */
export async function writeReport(dir: string, results: ReportInput): Promise<string> {
  const file = join(dir, 'report.html');
  writeFileAtomic(file, await renderReport(results));
  return file;
}

/** `labelsmooth report <run-dir>`: regenerate report.html from results.json. */
export async function reportCommand(dir: string): Promise<string> {
  const file = join(dir, 'results.json');
  let results: ReportInput;
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as ReportInput;
  } catch (e) {
    throw new DataFileError(file, undefined, `cannot read results: ${(e as Error).message}`);
  }
  if (
    !results ||
    !['compare', 'train', 'evaluate', 'distill'].includes((results as { kind?: string }).kind ?? '')
  ) {
    throw new DataFileError(
      file,
      undefined,
      'not a labelsmooth results file (no kind compare/train/evaluate/distill)',
    );
  }
  const out = await writeReport(dir, results);
  process.stdout.write(`report: ${out}\n`);
  return out;
}
