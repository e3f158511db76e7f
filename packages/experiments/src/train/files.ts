import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file that could not be written, by the file system's error `code` (ENOSPC, EROFS, EACCES…). */
export class WriteError extends Error {
  override name = 'WriteError';

  constructor(
    /** The file the user knows (not a temporary copy of it). */
    readonly path: string,
    readonly code: string,
    readonly syscall: string | undefined,
    cause: Error,
  ) {
    super(`${path}: ${cause.message}`, { cause });
  }
}

/**
 * A file-system error of a write as a {@link WriteError} naming the file the user knows: `path` when the
 * error names none (a write or fsync on a descriptor), and `path` in place of the temporary copy `tmp`
 * (`tmp/x` → `path/x` for a directory filled aside). Other errors are returned as they are.
 */
export function namePath(e: unknown, path: string, tmp?: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string') return e;
  const at = typeof err.path === 'string' ? err.path : undefined;
  const named =
    at === undefined ? path : tmp !== undefined && at.startsWith(tmp) ? path + at.slice(tmp.length) : at;
  const cause = e instanceof WriteError ? (e.cause as Error) : err;
  return new WriteError(named, err.code, err.syscall, cause);
}

/** Write `data` to `path` and flush it to the disk before returning (a rename after it is then safe). */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  try {
    const fd = openSync(path, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw namePath(e, path);
  }
}

/**
 * Flush a directory's entries (the names created or renamed in it). Databases do this after a rename so
 * that a power loss cannot undo it; some systems refuse fsync on a directory, which is then skipped.
 */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL/EPERM on systems without directory fsync: nothing more can be done there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write a file atomically and durably: a temporary file in the same directory, flushed, renamed over the
 * target, then the directory flushed. Readers see the old or the new content, never a mix.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileDurable(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw namePath(e, path, tmp);
  }
  syncDir(dirname(path));
}

/**
 * Replace directory `dir` by one filled by `fill(tmpDir)` (which should write with
 * {@link writeFileDurable}): readers see the old or the new directory, never a half-written one. A new
 * directory appears in one rename. An existing one is moved aside to `dir.old-PID` first; a kill between
 * the two renames leaves that complete copy, which {@link recoverLeftovers} puts back on the next start.
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    syncDir(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw namePath(e, dir, tmp);
  }
  let moved = false;
  if (existsSync(dir)) {
    renameSync(dir, old);
    moved = true;
  }
  renameSync(tmp, dir);
  syncDir(dirname(dir));
  if (moved) rmSync(old, { recursive: true, force: true });
}

/** The largest process id Linux hands out (2²²): a larger suffix is a user's name, not our leftover. */
const PID_MAX = 4_194_304;

/**
 * The parts of `X.tmp-PID` / `X.old-PID`, the temporary and set-aside copies an atomic write makes, or
 * null for any other name (including a suffix no process id can have, e.g. a dated backup `X.old-20240101`).
 */
export function leftoverOf(name: string): { target: string; kind: 'tmp' | 'old'; pid: number } | null {
  const m = /^(.+)\.(tmp|old)-(\d+)$/.exec(name);
  if (!m || Number(m[3]) > PID_MAX) return null;
  return { target: m[1], kind: m[2] as 'tmp' | 'old', pid: Number(m[3]) };
}

/** Whether process `pid` exists: its temporary files may still be in use (e.g. a lock being taken). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Clean what an interrupted {@link writeFileAtomic} / {@link writeDirAtomic} of another process left in
 * `dir` (not recursive), skipping those of processes still running: a `X.old-PID` whose `X` is missing is
 * the last complete copy and is renamed back; every other `*.tmp-PID` / `*.old-PID` is removed. Only the
 * leftovers of targets `X` for which `mine(X)` holds are touched (a run's own files). Call it only while
 * holding the directory's lock. Returns the names it restored or removed.
 */
export function recoverLeftovers(dir: string, mine: (target: string) => boolean = () => true): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const done: string[] = [];
  for (const name of names) {
    const m = leftoverOf(name);
    if (!m || running(m.pid) || !mine(m.target)) continue;
    const target = join(dir, m.target);
    if (m.kind === 'old' && !existsSync(target)) renameSync(join(dir, name), target);
    else rmSync(join(dir, name), { recursive: true, force: true });
    done.push(basename(name));
  }
  if (done.length > 0) syncDir(dir);
  return done;
}
