// npm run bench: forward + gradient of label-smoothed cross-entropy (ε = 0.1, float32 logits, class-index
// targets). Timings are medians of ≥ 5 runs after warm-up, all in one process: our WASM kernel (threads
// on), our JS reference path, TF.js' wasm and cpu backends (tf.losses.softmaxCrossEntropy under
// tf.valueAndGrad), a copy of the logits into the gradient buffer (the memory roofline: read N×K, write
// N×K), and PyTorch F.cross_entropy(label_smoothing=0.1) forward + backward with 2 threads when
// /usr/bin/python3 has torch. Peak memory is measured separately, one short child process per
// implementation and shape: after a warm-up call, the peak RSS mark is reset (/proc/self/clear_refs) and
// the growth of the peak over the current RSS during one more call is reported (the gradient buffer,
// preallocated for our paths and the copy, is part of the inputs; PyTorch allocates z.grad in the call).
//
// Usage: npm run bench [-- --shapes 8192x10,512x1000 --runs 5 --skip-tfjs-cpu --skip-torch --skip-rss]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients tf.valueAndGrad needs
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { crossEntropy, initKernels } from '../packages/labelsmooth/src/index.js';

const EPS = 0.1;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const parseShapes = (s: string) => s.split(',').map((x) => x.split('x').map(Number) as [number, number]);
const RUNS = Math.max(5, Number(arg('runs', '5')));
/** An anchor slower than this per call gets 3 runs instead (TF.js cpu at large K takes ~20 s a call). */
const SLOW_MS = 3000;
const IMPLS = ['copy', 'labelsmooth WASM', 'labelsmooth JS', 'TF.js wasm', 'TF.js cpu'] as const;
type Impl = (typeof IMPLS)[number];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Warm up (≥ 3 calls or ≥ 1 s, so that WASM reaches its optimizing tier), then the median of RUNS runs. */
function time(f: () => void): { ms: number; runs: number } {
  const w0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - w0 < 1000; i++) {
    const t = performance.now();
    f();
    if (performance.now() - t > SLOW_MS) break;
  }
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
    if (times.length >= 3 && times[times.length - 1] > SLOW_MS) break;
  }
  return { ms: median(times), runs: times.length };
}

function inputs(n: number, k: number) {
  const logits = new Float32Array(n * k);
  let seed = 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let j = 0; j < logits.length; j++) logits[j] = 4 * (rand() - 0.5);
  const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * k));
  // Touch the gradient buffer now: the OS commits its pages lazily, and it is an input here.
  return { logits, labels, grad: new Float32Array(n * k).fill(0) };
}

/** A callable for one implementation (TF.js tensors are made once, outside the timed region). */
async function prepare(impl: Impl, n: number, k: number): Promise<{ run: () => void; dispose: () => void }> {
  const { logits, labels, grad } = inputs(n, k);
  if (impl === 'copy') return { run: () => grad.set(logits), dispose: () => {} };
  if (impl === 'labelsmooth WASM') {
    return {
      run: () => void crossEntropy(logits, labels, { classes: k, labelSmoothing: EPS, grad, kernel: 'wasm' }),
      dispose: () => {},
    };
  }
  if (impl === 'labelsmooth JS') {
    return {
      run: () => void crossEntropy(logits, labels, { classes: k, labelSmoothing: EPS, grad, kernel: 'js' }),
      dispose: () => {},
    };
  }
  await tf.setBackend(impl === 'TF.js wasm' ? 'wasm' : 'cpu');
  await tf.ready();
  const zt = tf.tensor2d(logits, [n, k]);
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
  const vg = tf.valueAndGrad(
    (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, l, undefined, EPS) as tf.Scalar,
  );
  return {
    run: () => {
      const { value, grad: g } = vg(zt);
      value.dataSync();
      g.dataSync();
      value.dispose();
      g.dispose();
    },
    dispose: () => tf.dispose([zt, onehot]),
  };
}

function torch(n: number, k: number, rss: boolean): string | null {
  const code = `
import time, torch, torch.nn.functional as F
torch.set_num_threads(2); torch.manual_seed(0)
z = torch.randn(${n}, ${k}, requires_grad=True); y = torch.randint(0, ${k}, (${n},))
def step():
    z.grad = None
    F.cross_entropy(z, y, label_smoothing=${EPS}).backward()
def kb(key):
    for line in open('/proc/self/status'):
        if line.startswith(key + ':'): return int(line.split()[1])
def growth():
    z.grad = None
    open('/proc/self/clear_refs', 'w').write('5'); before = kb('VmRSS')
    step(); return (kb('VmHWM') - before) / 1024
if ${rss ? 'True' : 'False'}:
    first = growth(); print('%.0f/%.0f' % (first, growth()))
else:
    t0 = time.perf_counter(); n = 0
    while n < 3 or time.perf_counter() - t0 < 1: step(); n += 1
    ts = []
    for _ in range(${RUNS}):
        t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1000)
    ts.sort(); print(ts[len(ts) // 2])`;
  try {
    return execFileSync('/usr/bin/python3', ['-c', code], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/** Current and peak resident set size in bytes, from /proc (Linux). */
function procRss(): { rss: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Child mode: allocate the inputs, then report by how much the peak RSS rises over the current RSS during
 * the first call (one-time costs included: WASM memory, worker threads, TF.js' heap) and during a second
 * call (steady state), as "first/steady" in MB. The peak mark is reset by writing 5 to /proc/self/clear_refs.
 */
async function rssChild(impl: Impl, n: number, k: number): Promise<void> {
  tf.env().set('PROD', true);
  await initKernels(); // the worker pool is running (idle) before the measurement, as in a long-lived process
  const p = await prepare(impl, n, k);
  const growth = () => {
    writeFileSync('/proc/self/clear_refs', '5');
    const before = procRss().rss;
    p.run();
    return Math.max(0, procRss().peak - before) / 2 ** 20;
  };
  const first = growth();
  const steady = impl === 'TF.js cpu' ? Number.NaN : growth(); // TF.js cpu takes ~20 s a call at large K
  process.stdout.write(`${first.toFixed(0)}/${Number.isNaN(steady) ? '–' : steady.toFixed(0)}\n`);
  process.exit(0);
}

function rss(impl: Impl, n: number, k: number): string | null {
  try {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, process.argv[1], '--rss-child', impl, `${n}x${k}`],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 600_000,
      },
    );
    return out.trim();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  if (args[0] === '--rss-child') {
    const [n, k] = parseShapes(args[2])[0];
    return rssChild(args[1] as Impl, n, k);
  }
  tf.env().set('PROD', true);
  const status = await initKernels();
  const shapes = parseShapes(arg('shapes', '8192x10,512x1000,1024x32000,256x128000'));
  console.log(
    `labelsmooth bench: forward + gradient, ε = ${EPS}, float32 logits; Node ${process.version}; ${cpus().length} × ${cpus()[0]?.model}`,
  );
  console.log(
    `kernel: wasm ${status.wasm}, threads ${status.threads}; medians of ≥ ${RUNS} runs after warm-up (3 runs for calls over ${SLOW_MS / 1000} s)\n`,
  );
  const rows: Record<string, string | number>[] = [];
  for (const [n, k] of shapes) {
    const results = new Map<string, { ms: number; runs: number; mb: string | null }>();
    for (const impl of IMPLS) {
      if (impl === 'TF.js cpu' && args.includes('--skip-tfjs-cpu')) continue;
      const p = await prepare(impl, n, k);
      const t = time(p.run);
      p.dispose();
      results.set(impl, { ...t, mb: args.includes('--skip-rss') ? null : rss(impl, n, k) });
    }
    if (!args.includes('--skip-torch')) {
      const ms = torch(n, k, false);
      if (ms !== null)
        results.set('PyTorch 1.13 (2 threads)', {
          ms: Number(ms),
          runs: RUNS,
          mb: args.includes('--skip-rss') ? null : torch(n, k, true),
        });
    }
    const ours = results.get('labelsmooth WASM')!.ms;
    const copy = results.get('copy')!.ms;
    for (const [impl, r] of results) {
      rows.push({
        shape: `${n}×${k}`,
        implementation: impl,
        'median ms': Number(r.ms.toFixed(2)),
        runs: r.runs,
        '× WASM kernel time': Number((r.ms / ours).toFixed(2)),
        '× copy time': Number((r.ms / copy).toFixed(1)),
        'peak MB over inputs (first/steady)': r.mb ?? '–',
      });
    }
  }
  console.table(rows);
  console.log(
    `inputs + gradient at N×K: 8 bytes per logit (e.g. 1024×32000: ${((1024 * 32000 * 8) / 2 ** 20).toFixed(0)} MB)`,
  );
}

await main();
