/** Error codes and messages of a Redis that cannot be reached (or stopped answering), not of a bad command. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request|MaxRetriesPerRequest|Socket closed unexpectedly|Command timed out|LOADING/i;

/** Whether `e` says Redis is unreachable (rather than that a command or a job went wrong). */
export function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(e.message);
}

/** The short reason of a connection error, for one line: its code (ECONNREFUSED…), or what happened. */
function reason(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return code;
  if (/timed out/i.test(e.message)) return 'no answer';
  if (/LOADING/.test(e.message)) return 'loading its data';
  return 'connection lost';
}

/**
 * Whether Redis is reachable, as one process sees it, said once per change of state: "unreachable,
 * retrying…" at the first connection error, "back" at the first success after it. ioredis reports every
 * failed reconnection attempt; the lines in between are dropped, so an outage is two lines, never a stack.
 */
export class RedisLink {
  private downSince: number | null = null;

  constructor(
    /** Who speaks (`sweep`, `worker host/pid`). */
    private readonly who: string,
    /** The Redis URL without its password. */
    private readonly display: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Report an error: a connection error marks Redis down (a line if it was up) and returns true. */
  failed(e: unknown): boolean {
    if (!isConnectionError(e)) return false;
    if (this.downSince === null) {
      this.downSince = Date.now();
      this.log(`${this.who}: Redis at ${this.display} unreachable (${reason(e as Error)}), retrying…`);
    }
    return true;
  }

  /** Report a success: marks Redis up (a line if it was down). */
  reached(): void {
    if (this.downSince === null) return;
    const seconds = (Date.now() - this.downSince) / 1000;
    this.downSince = null;
    this.log(`${this.who}: Redis at ${this.display} back after ${seconds.toFixed(1)} s`);
  }

  /** Milliseconds since Redis became unreachable (0 while it is reachable). */
  get downFor(): number {
    return this.downSince === null ? 0 : Date.now() - this.downSince;
  }
}
