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
 * The one line printed for an error: `labelsmooth: error: <what>`. Errors of the data, the options and
 * the library already name the file / flag / argument; a system error gets its path and meaning; anything
 * else is an internal error, said so, with its stack only when `debug`.
 */
export function errorLine(e: unknown, debug = false): string {
  const prefix = 'labelsmooth: error:';
  if (
    e instanceof DataFileError ||
    e instanceof LabelSmoothingError ||
    e instanceof UsageError ||
    e instanceof TrainConfigError
  )
    return `${prefix} ${oneLine(e.message)}${debug ? `\n${e.stack}` : ''}`;
  const sys = e as NodeJS.ErrnoException;
  if (typeof sys?.code === 'string' && SYSTEM[sys.code] && typeof sys.path === 'string')
    return `${prefix} ${sys.path}: ${SYSTEM[sys.code]} (${sys.syscall ?? 'access'})${debug ? `\n${sys.stack}` : ''}`;
  const message = e instanceof Error ? e.message : String(e);
  return debug && e instanceof Error
    ? `${prefix} internal error: ${e.stack}`
    : `${prefix} internal error: ${oneLine(message)} (LABELSMOOTH_DEBUG=1 prints the stack; please report it)`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
