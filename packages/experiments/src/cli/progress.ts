import cliProgress from 'cli-progress';

/** Progress of a long task: a bar with ETA on a TTY, plain periodic lines otherwise, nothing when quiet. */
export interface Progress {
  start(label: string, total: number): void;
  update(done: number, info?: string): void;
  stop(): void;
}

/** Progress on `stream` (stderr by default, so that stdout stays clean for `--json`). */
export function progress(mode: 'auto' | 'quiet', stream: NodeJS.WriteStream = process.stderr): Progress {
  if (mode === 'quiet') return { start() {}, update() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{label} [{bar}] {percentage}% | ETA {eta_formatted} | {info}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start: (label, total) => bar.start(total, 0, { label, info: '' }),
      update: (done, info = '') => bar.update(done, { info }),
      stop: () => bar.stop(),
    };
  }
  // Not a TTY (CI, pipes): one line every 10 s at most while the task runs.
  let label = '';
  let total = 0;
  let t0 = 0;
  let last = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
      t0 = Date.now();
      last = t0;
    },
    update(done, info = '') {
      const now = Date.now();
      if (now - last < 10_000 || done >= total) return; // the caller prints its own line at the end
      last = now;
      const eta = done > 0 ? ((now - t0) / done) * (total - done) : 0;
      stream.write(
        `${label}: ${Math.round((100 * done) / total)}% (ETA ${Math.round(eta / 1000)} s) ${info}\n`,
      );
    },
    stop() {},
  };
}
