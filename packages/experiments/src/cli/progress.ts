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

/** Where the job stood when its last epoch (or model) finished: steps done and milliseconds since start. */
interface Mark {
  done: number;
  ms: number;
}

/**
 * The job's time left, stable from epoch to epoch. Once an epoch has finished, the rate is the time per
 * step of the finished epochs, evaluation and checkpoints included, and the estimate counts down with the
 * clock until the next epoch ends; the batch-by-batch rate alone would leave out the evaluation and
 * jump up after every epoch. Before the first epoch ends: the batch rate ({@link eta}).
 */
export function stableEta(
  done: number,
  total: number,
  start: number,
  elapsedMs: number,
  mark: Mark | null,
): string {
  if (!mark || mark.done <= start) return eta(done, total, start, elapsedMs);
  const perStep = mark.ms / (mark.done - start);
  return formatDuration((perStep * (total - mark.done) - (elapsedMs - mark.ms)) / 1000);
}

function fit(label: string, width: number): string {
  return label.length <= width ? label : `${label.slice(0, width - 1)}…`;
}

/** Without a terminal, a progress line at least this often even when no epoch ends (long epochs). */
const HEARTBEAT_MS = 60_000;

/**
 * Progress on `stream` (stderr by default, so that stdout stays clean for `--json`) of a job of `total`
 * steps, `start` of which were done before (a resumed run). Each {@link Progress.log} line marks the end
 * of an epoch (or model) for the ETA ({@link stableEta}). On a terminal: a bar. Otherwise (CI, pipes,
 * files): after each logged line, one line with the job's percentage and ETA, and a line a minute in an
 * epoch that takes longer. `now` is the clock (tests).
 */
export function progress(
  mode: 'auto' | 'quiet',
  total: number,
  start = 0,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  if (mode === 'quiet') return { update() {}, log() {}, stop() {} };
  const t0 = now();
  let done = start;
  let mark: Mark | null = null;
  const left = () => stableEta(done, total, start, now() - t0, mark);
  const endEpoch = () => {
    mark = { done, ms: now() - t0 };
  };
  return stream.isTTY
    ? barProgress(stream, total, start, { left, endEpoch, set: (d) => (done = d) })
    : lineProgress(stream, total, now, { left, endEpoch, set: (d) => (done = d), done: () => done });
}

interface Clock {
  left(): string;
  endEpoch(): void;
  set(done: number): void;
}

/** The bar on a terminal; 100 columns: label ≤ 52, bar 22, percentage 5, ETA ≤ 20. */
function barProgress(stream: NodeJS.WriteStream, total: number, start: number, clock: Clock): Progress {
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
  let payload = { label: '', left: '…' };
  let done = start;
  let running = false;
  return {
    update(d, label) {
      done = d;
      clock.set(d);
      payload = { label: fit(label, 52), left: clock.left() };
      if (running) bar.update(d, payload);
      else {
        bar.start(total, d, payload);
        running = true;
      }
    },
    // The bar is cleared, the line printed, the bar drawn again below it.
    log(line) {
      clock.endEpoch();
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

/** Plain lines (CI, pipes): one per finished epoch, and a heartbeat in long epochs. */
function lineProgress(
  stream: NodeJS.WriteStream,
  total: number,
  now: () => number,
  clock: Clock & { done(): number },
): Progress {
  let last = now();
  let label = '';
  const status = (prefix: string) => {
    last = now();
    const pct = Math.floor((100 * clock.done()) / total);
    stream.write(`${fit(`${prefix}job ${pct}% done, ETA ${clock.left()}`, WIDTH)}\n`);
  };
  return {
    update(done, l) {
      clock.set(done);
      label = l;
      if (now() - last >= HEARTBEAT_MS && done < total) status(`${label}: `);
    },
    log(line) {
      clock.endEpoch();
      stream.write(`${line}\n`);
      last = now();
      if (label !== '' && clock.done() < total) status('  ');
    },
    stop() {},
  };
}
