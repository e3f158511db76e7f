import { linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { namePath, writeFileDurable } from '../train/files.js';
import { UsageError } from './usage.js';

/** Whether process `pid` exists (EPERM: it exists but belongs to another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Take the lock file `file` for this process, or throw a {@link UsageError} naming the live process that
 * holds it. The lock appears with its content in one step (a PID file hard-linked into place, which fails
 * if the lock exists); a lock whose process is gone (kill -9) is taken over at once. Returns `release`,
 * which is also run when the process exits.
 *
 * Hand-made rather than `proper-lockfile`: that library detects stale locks by age (≥ 2 s of mtime), so a
 * `--resume` right after a `kill -9` would be refused, and it cannot name the holder.
 */
export function acquireLock(file: string, what: string): () => void {
  if (held.has(file)) throw new UsageError(`${what} is already open in this process (lock ${file})`);
  const mine = `${file}.tmp-${process.pid}`;
  try {
    writeFileDurable(mine, `${process.pid}\n`);
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        linkSync(mine, file);
        return releaser(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = holderOf(file);
      if (holder !== undefined && holder !== process.pid && alive(holder))
        throw lockedError(what, holder, file);
      // Stale: move it out of the way. Only one contender's rename succeeds; if what it moved was a lock
      // a faster contender had just taken, it is linked back and the loop looks again.
      const stale = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, stale);
      } catch {
        continue;
      }
      const moved = holderOf(stale);
      if (moved !== holder && moved !== undefined && alive(moved)) {
        try {
          linkSync(stale, file);
        } catch {
          // a third process holds it now; the next attempt reads its PID
        }
      }
      rmSync(stale, { force: true });
    }
    throw new UsageError(`${what}: could not take the lock ${file}; try again`);
  } catch (e) {
    throw namePath(e, file, mine);
  } finally {
    rmSync(mine, { force: true });
  }
}

/** The live process holding lock `file` (not this one), if any. */
export function lockHolder(file: string): number | undefined {
  const pid = holderOf(file);
  return pid !== undefined && pid !== process.pid && alive(pid) ? pid : undefined;
}

/** The refusal when another process holds the lock. */
export function lockedError(what: string, pid: number, file: string): UsageError {
  return new UsageError(
    `${what} is being written by process ${pid} (lock ${file}): wait for it to finish, ` +
      'or delete the lock file if that process is not labelsmooth',
  );
}

/** Locks this process holds (its own PID in a lock file means "held" only if it is in here). */
const held = new Set<string>();

function releaser(file: string): () => void {
  held.add(file);
  const release = () => {
    if (!held.has(file)) return;
    held.delete(file);
    process.off('exit', release);
    if (holderOf(file) === process.pid) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return release;
}
