import { UsageError } from '../backend.js';

/** A checked `--queue` URL. */
export interface QueueTarget {
  /** The URL as given (with its password) for the Redis client. */
  url: string;
  /** The URL without its password, for messages. */
  display: string;
}

/** Loopback hosts: a Redis there is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Check a `--queue redis://[:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://`, TLS) URL. A queue on another
 * host without a password lets anyone who reaches it read the trials and inject results, so it is refused
 * unless `insecure`.
 */
export function checkQueueUrl(url: string, insecure: boolean): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--queue '${url}' is not a URL (expected redis://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new UsageError(`--queue '${url}': expected a redis:// or rediss:// URL, got ${u.protocol}`);
  if (!u.hostname) throw new UsageError(`--queue '${url}': no host`);
  const shown = new URL(u.href);
  if (shown.password) shown.password = '***';
  const display = shown.href;
  if (!u.password && !isLoopback(u.hostname) && !insecure)
    throw new UsageError(
      `--queue ${display}: refusing a Redis without a password on a non-loopback host (anyone who can reach it can read the trials and forge results); use redis://:PASSWORD@${u.host} or add --insecure`,
    );
  return { url: u.href, display };
}
