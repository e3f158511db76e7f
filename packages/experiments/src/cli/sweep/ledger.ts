import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../../data/errors.js';
import type { TrialOutcome } from './execute.js';

/** One line of the ledger. */
export interface LedgerEntry extends TrialOutcome {
  /** {@link specHash} of the sweep the trial belongs to. */
  spec: string;
}

/**
 * The durable record of a sweep's finished trials: `<run-dir>/trials.jsonl`, one JSON line per trial,
 * appended and fsync'ed before the trial counts as done. A sweep killed at any point (even kill -9, even
 * mid-line) resumes from it and never trains a recorded trial again: a torn last line is cut off on open.
 * Lines of another spec (other epochs, data, version…) are kept in the file but not used.
 */
export class TrialLedger {
  readonly file: string;
  /** Finished trials of this spec, by trial key. */
  readonly done = new Map<string, LedgerEntry>();
  /** Lines recorded for another spec (ignored). */
  readonly foreign: number = 0;
  /** Bytes of a torn last line that were cut off on open (0 normally). */
  readonly repaired: number = 0;
  private fd: number;

  constructor(
    dir: string,
    readonly spec: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'trials.jsonl');
    const existed = existsSync(this.file);
    this.fd = openSync(this.file, 'a+');
    if (!existed) fsyncDir(dir);
    const text = existed ? readFileSync(this.file, 'utf8') : '';
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      // A crash mid-append leaves a line without its newline: it never counted as done.
      ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, end)));
      fsyncSync(this.fd);
      this.repaired = Buffer.byteLength(text.slice(end));
    }
    let foreign = 0;
    text
      .slice(0, end)
      .split('\n')
      .forEach((line, i) => {
        if (line === '') return;
        let entry: LedgerEntry;
        try {
          entry = JSON.parse(line) as LedgerEntry;
        } catch (e) {
          throw new DataFileError(this.file, i + 1, `corrupt ledger line: ${(e as Error).message}`);
        }
        if (entry.spec !== spec) foreign++;
        else if (!this.done.has(entry.key)) this.done.set(entry.key, entry);
      });
    this.foreign = foreign;
  }

  /** Record a finished trial durably (write + fsync) before anything else counts it as done. */
  record(outcome: TrialOutcome): void {
    if (this.done.has(outcome.key)) return;
    const entry: LedgerEntry = { spec: this.spec, ...outcome };
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(this.fd);
    this.done.set(outcome.key, entry);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** fsync a directory so a newly created file's name survives a crash. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
