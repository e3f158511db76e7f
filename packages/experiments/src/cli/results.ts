import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../data/errors.js';
import { type ReportInput, renderReport } from '../report/report.js';
import { writeFileAtomic } from '../train/files.js';
import { claim, isOwned, MANIFEST } from '../train/manifest.js';
import { acquireLock } from './lock.js';
import { UsageError } from './usage.js';

/**
 * Write a run directory's report.html, then its results.json (each atomically, each listed in the run's
 * manifest first). results.json comes last: it marks the run finished, so a kill or a full disk in
 * between leaves an unfinished run (which `--resume` completes), never results without their report.
 * Returns the report's path.
 */
export async function writeResults(dir: string, results: ReportInput): Promise<string> {
  claim(dir, ['results.json', 'report.html']);
  const report = await writeReport(dir, results);
  writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  return report;
}

/** Render and write `<dir>/report.html`. */
export async function writeReport(dir: string, results: ReportInput): Promise<string> {
  const file = join(dir, 'report.html');
  writeFileAtomic(file, await renderReport(results));
  return file;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * What is wrong with a parsed results.json, or null: the fields the report reads must be there with the
 * right types (a hand-edited or foreign file gets a message, not a TypeError from deep in the renderer).
 */
export function resultsProblem(v: unknown): string | null {
  if (!isObject(v)) return 'not a JSON object';
  if (v.kind === 'evaluate') {
    const r = v.report;
    if (!isObject(r) || !Array.isArray(r.bins)) return "'report.bins' is missing";
    if (!Number.isFinite(r.accuracy)) return "'report.accuracy' is missing";
    return null;
  }
  if (v.kind === 'distill') {
    if (!isObject(v.dataset) || !Array.isArray(v.dataset.classNames))
      return "'dataset.classNames' is missing";
    if (!Array.isArray(v.models) || v.models.length === 0) return "'models' is missing or empty";
    if (!Array.isArray(v.summary)) return "'summary' is missing";
    return null;
  }
  if (v.kind !== 'compare' && v.kind !== 'train') return "'kind' is not compare, train, distill or evaluate";
  if (!isObject(v.dataset) || !Array.isArray(v.dataset.classNames)) return "'dataset.classNames' is missing";
  if (!Array.isArray(v.runs) || v.runs.length === 0) return "'runs' is missing or empty";
  for (const [i, run] of v.runs.entries()) {
    if (!isObject(run) || !Array.isArray(run.epochs) || !isObject(run.test) || !Array.isArray(run.test.bins))
      return `'runs[${i}]' lacks epochs or test.bins`;
  }
  if (!Array.isArray(v.summary)) return "'summary' is missing";
  return null;
}

/** `labelsmooth report <run-dir>`: regenerate report.html from results.json. */
export async function reportCommand(dir: string): Promise<string> {
  const file = join(dir, 'results.json');
  let results: unknown;
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new DataFileError(file, undefined, `cannot read results (${why}); give a run directory`);
  }
  const problem = resultsProblem(results);
  if (problem) throw new DataFileError(file, undefined, `not a labelsmooth results file: ${problem}`);
  const release = acquireLock(join(dir, '.lock'), dir);
  try {
    let html: string;
    try {
      html = await renderReport(results as ReportInput);
    } catch (e) {
      throw new DataFileError(file, undefined, `cannot make a report of it: ${(e as Error).message}`);
    }
    const out = join(dir, 'report.html');
    if (existsSync(out) && !isOwned(dir, 'report.html'))
      throw new UsageError(
        `${out} was not written by labelsmooth (it is not in ${join(dir, MANIFEST)}); ` +
          'labelsmooth never overwrites what it did not write: move it away, then run the report again',
      );
    claim(dir, ['report.html']);
    writeFileAtomic(out, html);
    process.stdout.write(`report: ${out}\n`);
    return out;
  } finally {
    release();
  }
}
