import cliProgress from 'cli-progress';

/** Widest line the CLI prints (progress and epoch lines), so that an 100-column terminal never wraps. */
export const WIDTH = 100;

/**
 * Progress of a whole job (every run and epoch): a bar with the job's ETA on a TTY, a plain line every
 * 10 s otherwise, nothing when quiet. Finished lines (epoch summaries) go through {@link Progress.log}.
 */
export interface Progress {
  /** `done` of the job's total steps are done; `label` says where (e.g. `run 2/8 ε=0.1 epoch 3/12`). */
  update(done: number, label: string): void;
  /** Print a finished line above the bar. */
  log(line: string): void;
  stop(): void;
}

/** `95 s` → `1 min 35 s`; `4000 s` → `1 h 07 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * Time left for the job from the rate of this process (steps done before it started, e.g. by the run
 * it resumes, do not count toward the rate).
 */
export function eta(done: number, total: number, start: number, elapsedMs: number): string {
  if (done <= start || elapsedMs <= 0) return '…';
  return formatDuration(((elapsedMs / 1000) * (total - done)) / (done - start));
}

function fit(label: string, width: number): string {
  return label.length <= width ? label : `${label.slice(0, width - 1)}…`;
}

/**
 * Progress on `stream` (stderr by default, so that stdout stays clean for `--json`) of a job of `total`
 * steps, `start` of which were done before (a resumed run).
 */
export function progress(
  mode: 'auto' | 'quiet',
  total: number,
  start = 0,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (mode === 'quiet') return { update() {}, log() {}, stop() {} };
  const t0 = Date.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{label} [{bar}] {percentage}% | ETA {left}',
        barsize: 20,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    // 100 columns: label ≤ 52, bar 22, percentage 5, ETA ≤ 20.
    let payload = { label: '', left: '…' };
    let done = start;
    let running = false;
    return {
      update(d, label) {
        done = d;
        payload = { label: fit(label, 52), left: eta(d, total, start, Date.now() - t0) };
        if (running) bar.update(d, payload);
        else {
          bar.start(total, d, payload);
          running = true;
        }
      },
      // The bar is cleared, the line printed, the bar drawn again below it.
      log(line) {
        if (running) bar.stop();
        stream.write(`${line}\n`);
        if (running) bar.start(total, done, payload);
      },
      stop() {
        if (running) bar.stop();
        running = false;
      },
    };
  }
  // Not a TTY (CI, pipes): one line every 10 s at most.
  let last = t0;
  return {
    update(done, label) {
      const now = Date.now();
      if (now - last < 10_000 || done >= total) return;
      last = now;
      const pct = Math.floor((100 * done) / total);
      stream.write(`${fit(`${label}: job ${pct}% done, ETA ${eta(done, total, start, now - t0)}`, WIDTH)}\n`);
    },
    log: (line) => stream.write(`${line}\n`),
    stop() {},
  };
}
