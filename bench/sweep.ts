// Figures for `labelsmooth sweep` (README "Sweeps"):
//  1. wall time of one sweep with --workers 1 and --workers 2 (median of --runs fresh runs each);
//  2. per-trial overhead of the local pool and of the BullMQ queue (one warm `labelsmooth worker`, a
//     redis-server started here on a free port and stopped after), median of --runs sweeps each: over a
//     sweep of --overhead-trials tiny trials, (time of the last result − time of the first result − Σ
//     training seconds of trials 2..N) / (N − 1), from the coordinator's stderr lines as they arrive and the
//     ledger's per-trial seconds. The start-up of the processes (TF.js, data) is outside that window.
//
// Usage: node --import tsx bench/sweep.ts [--grid "--dataset mnist --train-size 2000 ..."] [--runs 3]
//        [--overhead-trials 30] [--skip-walltime] [--skip-overhead]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = new URL('../packages/experiments/src/cli/main.ts', import.meta.url).pathname;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(arg('runs', '3'));
const GRID = arg(
  'grid',
  '--dataset mnist --train-size 2000 --test-size 1000 --epochs 3 --epsilons 0,0.1 --seeds 3',
).split(/\s+/);
const dir = mkdtempSync(join(tmpdir(), 'labelsmooth-bench-sweep-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run the CLI; resolves with the arrival time (ms) of every stderr line and the exit code. */
function run(cliArgs: string[]): {
  child: ChildProcess;
  done: Promise<{ lines: [number, string][]; code: number }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...cliArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: [number, string][] = [];
  let rest = '';
  child.stderr?.on('data', (d) => {
    const now = performance.now();
    const parts = (rest + d).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) lines.push([now, p]);
  });
  return {
    child,
    done: new Promise((resolve) => child.on('exit', (code) => resolve({ lines, code: code ?? -1 }))),
  };
}

async function must(cliArgs: string[]): Promise<[number, string][]> {
  const { lines, code } = await run(cliArgs).done;
  if (code !== 0)
    throw new Error(`labelsmooth ${cliArgs.join(' ')} failed:\n${lines.map((l) => l[1]).join('\n')}`);
  return lines;
}

async function wallTimes(): Promise<void> {
  console.log(`wall time of labelsmooth sweep ${GRID.join(' ')} (median of ${RUNS}):`);
  for (const workers of [1, 2]) {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      await must([
        'sweep',
        ...GRID,
        '--workers',
        String(workers),
        '--runs-dir',
        dir,
        '--name',
        `w${workers}-${r}`,
        '--quiet',
      ]);
      times.push((performance.now() - t0) / 1000);
    }
    console.log(
      `  --workers ${workers}: ${median(times).toFixed(1)} s  (runs: ${times.map((t) => t.toFixed(1)).join(', ')} s)`,
    );
  }
}

/** Per-trial overhead in steady state, from the coordinator's "done by" lines and the ledger. */
function overhead(lines: [number, string][], ledger: string): { perTrial: number; trial: number } {
  const done = lines.filter(([, l]) => / done by /.test(l)).map(([t]) => t);
  const seconds = new Map<string, number>();
  for (const l of readFileSync(ledger, 'utf8').trim().split('\n')) {
    const e = JSON.parse(l) as { key: string; seconds: number };
    seconds.set(e.key, e.seconds);
  }
  const order = lines
    .filter(([, l]) => / done by /.test(l))
    .map(([, l]) => l.match(/sweep: (\S+) done by/)?.[1] ?? '');
  const training = order.slice(1).reduce((a, k) => a + (seconds.get(k) ?? 0), 0);
  const n = done.length;
  return { perTrial: ((done[n - 1] - done[0]) / 1000 - training) / (n - 1), trial: training / (n - 1) };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function queueOverhead(): Promise<void> {
  const n = Number(arg('overhead-trials', '30'));
  const csv = join(dir, 'tiny.csv');
  const rows = ['f1,f2,f3,label'];
  for (let i = 0; i < 240; i++)
    rows.push(`${(i % 3) * 2 + ((i * 7919) % 101) / 101},${(i % 7) / 7},${(i % 5) / 5},${i % 3}`);
  writeFileSync(csv, `${rows.join('\n')}\n`);
  const grid = [
    '--dataset',
    `csv:${csv}`,
    '--epochs',
    '1',
    '--epsilons',
    '0.1',
    '--seeds',
    String(n),
    '--runs-dir',
    dir,
  ]; // not --quiet: the "done by" lines are the clock
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  await new Promise((r) => setTimeout(r, 500));
  const worker = run(['worker', '--queue', url, '--quiet']);
  try {
    console.log(
      `per-trial overhead, ${n} trials of 1 epoch on a 240-row CSV, 1 worker, steady state (median of ${RUNS}):`,
    );
    await must(['sweep', ...grid, '--queue', url, '--name', 'warm-up']); // the worker loads TF.js and the data
    const local: number[] = [];
    const queued: number[] = [];
    const training: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const l = overhead(
        await must(['sweep', ...grid, '--workers', '1', '--name', `local-${r}`]),
        join(dir, `local-${r}`, 'trials.jsonl'),
      );
      const q = overhead(
        await must(['sweep', ...grid, '--queue', url, '--name', `queue-${r}`]),
        join(dir, `queue-${r}`, 'trials.jsonl'),
      );
      local.push(l.perTrial * 1000);
      queued.push(q.perTrial * 1000);
      training.push(l.trial * 1000, q.trial * 1000);
    }
    const show = (xs: number[]) =>
      `${median(xs).toFixed(0)} ms per trial (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
    console.log(`  local pool:   ${show(local)}`);
    console.log(`  BullMQ queue: ${show(queued)}`);
    console.log(`  (training itself: median ${median(training).toFixed(0)} ms per trial)`);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.done;
    redis.kill('SIGTERM');
  }
}

console.log(
  `${cpus().length} × ${cpus()[0]?.model}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
if (!args.includes('--skip-walltime')) await wallTimes();
if (!args.includes('--skip-overhead')) await queueOverhead();
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
