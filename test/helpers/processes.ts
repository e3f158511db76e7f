// Long-running CLI processes for the sweep tests: their stderr collected, lines awaited, and every process
// (and every trial process it names) stopped by the test.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliAsync } from './cli.js';

/** A CLI process started by a test. */
export interface Running {
  child: ChildProcess;
  /** stderr and stdout so far. */
  readonly stderr: string;
  readonly stdout: string;
  /** Resolves with the first match of `re` in stderr (waiting for it), rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
}

/** Start `labelsmooth ...args`. */
export function start(args: string[]): Running {
  const child = cliAsync(args);
  let stderr = '';
  let stdout = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = stderr.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stderr?.on('data', (d) => {
    stderr += d;
    check();
  });
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    get stderr() {
      return stderr;
    },
    get stdout() {
      return stdout;
    },
    exited,
    waitFor(re, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const m = stderr.match(re);
        if (m) return resolve(m);
        const timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms waiting for ${re} in:\n${stderr}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (x) => {
            clearTimeout(timer);
            resolve(x);
          },
        });
        exited.then(() => {
          check();
          setTimeout(() => reject(new Error(`process exited before ${re} appeared:\n${stderr}`)), 100);
        });
      });
    },
  };
}

/** Whether process `pid` runs (a zombie waiting to be reaped does not count). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Wait up to `ms` for `pid` to end; true if it did. */
export async function waitGone(pid: number, ms = 15_000): Promise<boolean> {
  for (let t = 0; t < ms; t += 100) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/** SIGKILL a pid if it still runs (cleanup of what a test started). */
export function killIfAlive(pid: number | undefined): void {
  if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Stop a started CLI process: SIGTERM, then SIGKILL after `ms`; resolves when it is gone. */
export async function stop(r: Running, ms = 10_000): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), ms);
  await r.exited;
  clearTimeout(timer);
}

/** pids of trial processes named in a log (`is process N`, `trial process N`). */
export function trialPids(log: string): number[] {
  return [...log.matchAll(/(?:is process|trial process) (\d+)/g)].map((m) => Number(m[1]));
}
