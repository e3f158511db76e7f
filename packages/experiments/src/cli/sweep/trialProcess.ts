import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrialOutcome } from './execute.js';
import { type Trial, trialKey } from './grid.js';
import type { TrialReply, TrialRequest } from './protocol.js';
import type { SweepSpec } from './spec.js';

/** A trial that did not produce a result: refused by the worker, or failed while training. */
export class TrialFailure extends Error {
  override name = 'TrialFailure';
  constructor(
    message: string,
    readonly refused: boolean,
    /** A bug in the trial process (its message starts `internal error:`). */
    readonly internal = false,
    /** The stack in the trial process. */
    readonly trialStack?: string,
  ) {
    super(message);
  }
}

/** The trial process module beside this one (`child.ts` under tsx, `child.js` once compiled). */
function childModule(): { path: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  return {
    path: fileURLToPath(new URL(ts ? './child.ts' : './child.js', import.meta.url)),
    execArgv: ts ? ['--import', 'tsx'] : [],
  };
}

/**
 * A child process that trains trials one at a time (see child.ts). Its stderr (the epoch lines) goes to
 * ours; results come back over IPC, so a trial's numbers are the same as in-process (JSON keeps every
 * double exactly).
 */
export class TrialProcess {
  readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private pending: {
    key: string;
    resolve: (o: TrialOutcome) => void;
    reject: (e: Error) => void;
  } | null = null;
  private exited: string | null = null;

  constructor() {
    const { path, execArgv } = childModule();
    // Our pid, so that the child knows whom to outlive by no more than a moment (see child.ts).
    this.child = fork(path, [String(process.pid)], {
      execArgv,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let onReady: () => void = () => {};
    let onFail: (e: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.ready.catch(() => {}); // observed through run()
    this.child.on('message', (m: TrialReply) => {
      if (m.type === 'ready') return onReady();
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (m.type === 'done') p.resolve(m.outcome);
      else p.reject(new TrialFailure(m.message, m.refused, m.internal, m.stack));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `trial process ${this.child.pid} exited (${signal ?? `code ${code}`})`;
      const err = new Error(this.exited);
      onFail(err);
      const p = this.pending;
      this.pending = null;
      p?.reject(new Error(`${this.exited} while training ${p.key}`));
    });
    this.child.on('error', (e) => onFail(e));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Train `trial` in the child; resolves with its outcome. One trial at a time. */
  async run(spec: SweepSpec, trial: Trial, quiet: boolean): Promise<TrialOutcome> {
    await this.ready;
    if (this.exited) throw new Error(this.exited);
    if (this.pending) throw new Error('TrialProcess.run: a trial is already running');
    const key = trialKey(trial);
    return new Promise<TrialOutcome>((resolve, reject) => {
      this.pending = { key, resolve, reject };
      const request: TrialRequest = { type: 'trial', spec, trial, quiet };
      this.child.send(request);
    });
  }

  /** Stop the child: disconnect (it exits at once when idle), SIGKILL if it is still there after `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    if (this.exited || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
