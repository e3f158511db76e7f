import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataFileError } from '../data/errors.js';
import { recoverLeftovers } from '../train/files.js';
import { claim, foreignPath, MANIFEST, readManifest, removeOwned } from '../train/manifest.js';
import { acquireLock, lockedError, lockHolder } from './lock.js';
import { UsageError } from './usage.js';

/** A run directory held by this process. */
export interface RunDir {
  dir: string;
  /** What the directory held when it was opened. */
  state: 'empty' | 'started' | 'finished';
  release(): void;
}

/** How a command opens its run directory. */
export interface OpenOptions {
  /**
   * `new`: a fresh run (refused over an existing one without force); `resume`: continue a started run;
   * `ledger`: a sweep, which continues its own trial ledger (trials.jsonl) but not another command's run.
   */
  mode: 'new' | 'resume' | 'ledger';
  force?: boolean;
}

/** `--runs-dir` must be a directory (it is created when missing). */
export function checkRunsDir(runsDir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(runsDir).isDirectory();
  } catch {
    try {
      mkdirSync(runsDir, { recursive: true });
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`--runs-dir ${runsDir}: cannot create it (${code}); choose another directory`);
    }
  }
  if (!isDir) throw new UsageError(`--runs-dir ${runsDir} is a file, not a directory; choose a directory`);
}

function stateOf(dir: string): RunDir['state'] {
  if (existsSync(join(dir, 'results.json'))) return 'finished';
  return existsSync(join(dir, 'config.json')) ? 'started' : 'empty';
}

/** Whether this command may write in a directory in `state`; throws a {@link UsageError} saying what to do. */
function decide(dir: string, state: RunDir['state'], o: OpenOptions): void {
  if (o.mode === 'ledger') {
    if (state === 'empty' || o.force || existsSync(join(dir, 'trials.jsonl'))) return;
    throw new UsageError(
      `${dir} holds a run of another command (no trials.jsonl): give the sweep another --name, or add --force to replace it`,
    );
  }
  if (o.mode === 'resume') {
    if (state === 'empty') {
      const others = unfinishedRuns(dirname(dir));
      throw new UsageError(
        `${dir}: nothing to resume (no config.json); a run's name comes from its options, so resume with ` +
          `the options it was started with, or its --name${others.length ? ` (unfinished here: ${others.join(', ')})` : ''}`,
      );
    }
    if (state === 'finished')
      throw new UsageError(
        `${dir} is finished (results.json): nothing to resume; to train it again, use --force instead`,
      );
  } else if (state !== 'empty' && !o.force) {
    const what = state === 'finished' ? 'a finished run (results.json)' : 'an unfinished run';
    const hint = state === 'started' ? 'continue it with --resume, ' : '';
    throw new UsageError(
      `${dir} already holds ${what}: ${hint}choose another --name, or add --force to replace it`,
    );
  }
}

/** Names of the started, unfinished runs in `runsDir` (what `--resume` can continue). */
function unfinishedRuns(runsDir: string): string[] {
  try {
    return readdirSync(runsDir)
      .filter((n) => stateOf(join(runsDir, n)) === 'started')
      .sort()
      .slice(0, 5);
  } catch {
    return [];
  }
}

/**
 * Refuse a run directory holding anything this program did not write there (not in its manifest),
 * naming one such path: whatever the command, it is never removed, replaced or written into.
 */
function checkOwnership(dir: string): void {
  const foreign = foreignPath(dir);
  if (foreign === undefined) return;
  throw new UsageError(
    `${dir} holds ${foreign}, which labelsmooth did not write (not in its ${MANIFEST}) and so never ` +
      'touches: move it away, or choose another --name',
  );
}

/**
 * The checks of {@link openRunDir} without taking anything: run before slow work (loading a dataset) so
 * that a refusal comes first. Nothing is created except `runsDir`.
 */
export function checkRunDir(runsDir: string, name: string, o: OpenOptions): void {
  checkRunsDir(runsDir);
  const dir = join(runsDir, name);
  const holder = lockHolder(join(dir, '.lock'));
  if (holder !== undefined) throw lockedError(dir, holder, join(dir, '.lock'));
  checkOwnership(dir);
  decide(dir, stateOf(dir), o);
}

/**
 * Create `dir` (its parent exists) unless it exists; whether it was created. Not `recursive`: Node's
 * recursive mkdir reports a read-only file system as ENOENT.
 */
function makeDir(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir).isDirectory()) return false;
    throw e;
  }
}

/** Undo the interrupted atomic writes of the run's own files (top level and checkpoints/). */
function recoverRun(dir: string): void {
  const listed = readManifest(dir) ?? new Set<string>();
  const mine = (rel: string) => (name: string) =>
    listed.has(`${rel}${name}`) || listed.has(`${rel}${name}/`) || (rel === '' && name === MANIFEST);
  recoverLeftovers(dir, mine(''));
  recoverLeftovers(join(dir, 'checkpoints'), mine('checkpoints/'));
}

/**
 * Open `<runsDir>/<name>` for writing: take its lock (a second writer is told which process holds it),
 * repair what an interrupted write left, refuse a directory holding anything not in its manifest, and
 * decide whether this command may write there: a finished run (results.json) or a started one
 * (config.json) is only replaced with `--force` (which removes the files the manifest lists, and nothing
 * else), and `--resume` needs a started, unfinished run. The directory gets its manifest here; each
 * writer then lists its files in it ({@link claim}) before creating them.
 */
export function openRunDir(runsDir: string, name: string, o: OpenOptions): RunDir {
  checkRunsDir(runsDir);
  const dir = join(runsDir, name);
  const created = makeDir(dir);
  let release: (() => void) | undefined;
  try {
    release = acquireLock(join(dir, '.lock'), dir);
    recoverRun(dir);
    checkOwnership(dir);
    const state = stateOf(dir);
    decide(dir, state, o);
    // A sweep's --force also clears an unfinished sweep (its trials.jsonl and sweep.json: state 'empty').
    if ((o.mode === 'new' && state !== 'empty') || (o.mode === 'ledger' && o.force)) removeOwned(dir);
    claim(dir, []);
    return { dir, state, release };
  } catch (e) {
    // Only a directory this call made and locked is taken back, and only while it is empty: without the
    // lock another process may be writing there, and anything left in it is not ours to delete.
    if (release) {
      release();
      if (created) removeIfEmpty(dir);
    }
    throw e;
  }
}

/**
 * Read the JSON configuration a run started with (train's config.json, a sweep's sweep.json): unreadable,
 * not JSON, or not `what` (by `looksRight`) is a {@link DataFileError} naming the file, with the way out.
 */
export function readRunConfig<T>(
  file: string,
  what: string,
  looksRight: (v: Record<string, unknown>) => boolean,
): T {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    if (v && typeof v === 'object' && looksRight(v)) return v as T;
    throw new Error(`not a ${what}`);
  } catch (e) {
    throw new DataFileError(
      file,
      undefined,
      `corrupt run configuration (${(e as Error).message}); start over with --force`,
    );
  }
}

/** Remove `dir` if it is empty; a directory that holds anything (or is gone) is left as it is. */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty or already gone: not ours to remove
  }
}
