import { LabelSmoothingError } from 'labelsmooth';
import { DataFileError } from '../data/errors.js';
import { TrainConfigError } from '../train/configError.js';
import { UsageError } from './usage.js';

/** What a system error code means to a user. */
const SYSTEM: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is a file, not a directory',
  EISDIR: 'is a directory, not a file',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
};

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
  const sys = e as NodeJS.ErrnoException;
  if (typeof sys?.code === 'string' && SYSTEM[sys.code] && typeof sys.path === 'string')
    return { text: `${sys.path}: ${SYSTEM[sys.code]} (${sys.syscall ?? 'access'})`, internal: false };
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
