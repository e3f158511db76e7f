import { LabelSmoothingError } from 'labelsmooth';
import { DataFileError } from '../data/errors.js';
import { TrainConfigError } from '../train/configError.js';
import { WriteError } from '../train/files.js';
import { UsageError } from './usage.js';

/** What a system error code means to a user. */
const SYSTEM: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is a file, not a directory',
  EISDIR: 'is a directory, not a file',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
};

/** How a full, read-only or forbidden file system is fixed in place (EFBIG cannot be). */
const FIX: Record<string, string> = {
  EACCES: 'allow this user to write there',
  EPERM: 'allow this user to write there',
  ENOSPC: 'free some space',
  EDQUOT: 'free some space',
  EROFS: 'make the file system writable',
};

/** What to do when a file cannot be written: fix the file system, or write elsewhere. */
const ON_WRITE: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FIX).map(([k, v]) => [k, `${v}, or give another --runs-dir`])),
  EFBIG: 'give another --runs-dir',
};

/**
 * The refusal of a started run that hit a full, read-only or forbidden file system: the files it wrote
 * are complete, and it continues with `--resume` once the file system is fixed.
 */
export function resumableWriteError(e: WriteError): UsageError {
  const todo = FIX[e.code]
    ? `${FIX[e.code]}, then continue the run with --resume (what it wrote so far is complete)`
    : 'start the run again with another --runs-dir';
  return new UsageError(`${e.path}: ${SYSTEM[e.code]} (${e.syscall ?? 'write'}): ${todo}`);
}

/** System calls that change the file system (an `open` may be a read: it gets no advice). */
const WRITES = /^(mkdir|rename|unlink|rmdir|link|symlink|write|fsync|ftruncate|copyfile)$/;

/**
 * Whether `e` is a write refused by a full, read-only or forbidden file system: the user's to fix (the
 * run directory holds only complete files: writes go to a temporary copy that is renamed into place).
 */
export function isStorageError(e: unknown): e is WriteError {
  return e instanceof WriteError && ON_WRITE[e.code] !== undefined;
}

/**
 * What an error says to a user, on one line, and whether it is internal (a bug: none of the errors that
 * name their file, flag or argument, nor a system error with a path).
 */
export function describeError(e: unknown): { text: string; internal: boolean } {
  if (
    e instanceof DataFileError ||
    e instanceof LabelSmoothingError ||
    e instanceof UsageError ||
    e instanceof TrainConfigError
  )
    return { text: oneLine(e.message), internal: false };
  if (isStorageError(e))
    return {
      text: `${e.path}: ${SYSTEM[e.code]} (${e.syscall ?? 'write'}): ${ON_WRITE[e.code]}`,
      internal: false,
    };
  const sys = e as NodeJS.ErrnoException;
  if (typeof sys?.code === 'string' && SYSTEM[sys.code] && typeof sys.path === 'string') {
    const todo = ON_WRITE[sys.code] && WRITES.test(sys.syscall ?? '') ? `: ${ON_WRITE[sys.code]}` : '';
    return { text: `${sys.path}: ${SYSTEM[sys.code]} (${sys.syscall ?? 'access'})${todo}`, internal: false };
  }
  // A write on a descriptor names no file; a full or read-only file system is still the user's to fix.
  if (typeof sys?.code === 'string' && ON_WRITE[sys.code])
    return {
      text: `${SYSTEM[sys.code]} (${sys.syscall ?? 'write'}): ${ON_WRITE[sys.code]}`,
      internal: false,
    };
  return { text: oneLine(e instanceof Error ? e.message : String(e)), internal: true };
}

/**
 * The one line printed for an error: `labelsmooth: error: <what>`. Errors of the data, the options and
 * the library already name the file / flag / argument; a system error gets its path and meaning; anything
 * else is an internal error, said so, with its stack only when `debug`.
 */
export function errorLine(e: unknown, debug = false): string {
  const prefix = 'labelsmooth: error:';
  const { text, internal } = describeError(e);
  const stack = e instanceof Error ? e.stack : undefined;
  if (!internal) return `${prefix} ${text}${debug && stack ? `\n${stack}` : ''}`;
  return debug && stack
    ? `${prefix} internal error: ${stack}`
    : `${prefix} internal error: ${text} (LABELSMOOTH_DEBUG=1 prints the stack; please report it)`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
