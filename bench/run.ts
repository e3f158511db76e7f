// npm run bench: forward + gradient of label-smoothed cross-entropy (ε = 0.1, float32 logits, class-index
// targets, mean). Timings are medians of ≥ 5 runs after warm-up, all in one run of this script:
//   - a copy of the logits into the gradient buffer (the memory roofline: read N×K, write N×K);
//   - our WASM kernel on a kernelWorkspace (logits and gradient in the kernel's shared memory: the
//     headline, the README's first example), on all threads and on one, and with the logits copied into
//     the workspace on every call (a model that hands over an ordinary array);
//   - our WASM kernel on ordinary arrays: with the worker threads and a gradient buffer the caller keeps,
//     on one thread, with logits and gradient in SharedArrayBuffers, and with `grad: true` (a fresh
//     buffer per call, as a loop that does not keep one pays);
//   - our JS reference path, TF.js' wasm and cpu backends (tf.losses.softmaxCrossEntropy under
//     tf.valueAndGrad);
//   - PyTorch F.cross_entropy(label_smoothing=0.1) forward + backward (2 threads) under three allocator
//     setups, when /usr/bin/python3 has torch: glibc's defaults, glibc tuned (PyTorch's performance guide
//     settings below) and tcmalloc (LD_PRELOAD, Debian package libtcmalloc-minimal4; skipped with a note
//     when the library is missing — nothing is installed at run time).
// Ratios are against the fastest PyTorch setup of the same shape in this run, and against the copy.
// Peak memory is measured separately, one short child process per implementation and shape: after a
// warm-up call, the peak RSS mark is reset (/proc/self/clear_refs) and the growth of the peak over the
// current RSS during one more call is reported (the gradient buffer, preallocated for our paths and the
// copy, is part of the inputs; PyTorch allocates z.grad in the call).
//
// Then the language-model options on the kernel against the plain kernel at 1024×32000 (ε = 0.1, a gradient
// buffer kept), on one thread and with the worker threads, timed interleaved (bench/interleaved.ts): softcap
// 30 (Gemma 2's; these logits all lie under 0.625·c, where tanh is its polynomial alone), softcap 1 (most
// logits past it: the exp branch of tanh), zLoss 1e−4 (PaLM's), and softcap 30 + zLoss + lse.
//
// The run's table and a met/missed line per target replace the section `bench-run` of BENCHMARKS.md
// (--out FILE: another file). --quick times each implementation once after one warm-up call: for checking
// the script and the generated section, not for numbers.
//
// Usage: npm run bench [-- --shapes 8192x10,512x1000 --runs 5 --skip-tfjs --skip-tfjs-cpu --skip-torch
//                          --skip-rss --skip-lm --quick --out BENCHMARKS.md]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients tf.valueAndGrad needs
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { crossEntropy, initKernels, kernelWorkspace } from '../packages/labelsmooth/src/index.js';
import { threadStats } from '../packages/labelsmooth/src/kernels/threads.js';
import { interleaved } from './interleaved.js';
import { markdownTable, runHeader, writeSection } from './markdown.js';

const EPS = 0.1;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name: string) => args.includes(`--${name}`);
const parseShapes = (s: string) => s.split(',').map((x) => x.split('x').map(Number) as [number, number]);
const QUICK = flag('quick');
const RUNS = QUICK ? 1 : Math.max(5, Number(arg('runs', '5')));
/** An anchor slower than this per call gets 3 runs instead (TF.js cpu at large K takes ~20 s a call). */
const SLOW_MS = 3000;
/** Timed runs continue (past RUNS, up to 1000) until this much time has passed: many runs for short calls. */
const TIMED_MS = QUICK ? 0 : 500;
/** Warm-up before timing: at least 3 calls and 1 s (one call with --quick). */
const WARM = QUICK ? { calls: 1, ms: 0 } : { calls: 3, ms: 1000 };
const OURS = 'labelsmooth WASM (threads, grad kept)';
const ONE_THREAD = 'labelsmooth WASM, 1 thread';
const SHARED = 'labelsmooth WASM, shared buffers';
const GRAD_TRUE = 'labelsmooth WASM, grad: true';
const WORKSPACE = 'labelsmooth WASM, workspace (threads)';
const WORKSPACE_ONE = 'labelsmooth WASM, workspace, 1 thread';
const WORKSPACE_COPY = 'labelsmooth WASM, workspace + logits copied in';
const IMPLS = [
  'copy',
  WORKSPACE,
  WORKSPACE_ONE,
  WORKSPACE_COPY,
  OURS,
  ONE_THREAD,
  SHARED,
  GRAD_TRUE,
  'labelsmooth JS',
  'TF.js wasm',
  'TF.js cpu',
] as const;
type Impl = (typeof IMPLS)[number];

/** PyTorch's allocator setups: environment for the child process (null: skipped, with the reason). */
const TCMALLOC = [
  '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4',
  '/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4',
  '/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4',
].find((p) => existsSync(p));
const TORCH_SETUPS: { name: string; env: Record<string, string> | null; note: string }[] = [
  { name: 'PyTorch, glibc default', env: {}, note: '' },
  {
    name: 'PyTorch, glibc tuned',
    env: {
      MALLOC_MMAP_THRESHOLD_: '100000000000',
      MALLOC_TRIM_THRESHOLD_: '100000000000',
      MALLOC_TOP_PAD_: '1000000000',
    },
    note: '',
  },
  {
    name: 'PyTorch, tcmalloc',
    env: TCMALLOC ? { LD_PRELOAD: TCMALLOC } : null,
    note: TCMALLOC
      ? ''
      : 'tcmalloc skipped: libtcmalloc_minimal.so.4 not found (Debian/Ubuntu: apt-get install libtcmalloc-minimal4)',
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Warm up (≥ 3 calls or ≥ 1 s, so that WASM reaches its optimizing tier), then the median of at least RUNS
 * runs and of as many as fit in TIMED_MS (at most 1000): a median of 5 single calls of ~1 ms moved by ±30 %
 * between runs. The PyTorch child times its calls the same way.
 */
function time(f: () => void): { ms: number; runs: number } {
  const w0 = performance.now();
  for (let i = 0; i < WARM.calls || performance.now() - w0 < WARM.ms; i++) {
    const t = performance.now();
    f();
    if (performance.now() - t > SLOW_MS) break;
  }
  const times: number[] = [];
  const start = performance.now();
  for (let r = 0; r < RUNS || (r < 1000 && performance.now() - start < TIMED_MS); r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
    if (times.length >= 3 && times[times.length - 1] > SLOW_MS) break;
  }
  return { ms: median(times), runs: times.length };
}

function inputs(n: number, k: number, shared = false) {
  const alloc = (len: number) =>
    new Float32Array(shared ? new SharedArrayBuffer(4 * len) : new ArrayBuffer(4 * len));
  const logits = alloc(n * k);
  let seed = 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let j = 0; j < logits.length; j++) logits[j] = 4 * (rand() - 0.5);
  const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * k));
  // Touch the gradient buffer now: the OS commits its pages lazily, and it is an input here.
  return { logits, labels, grad: alloc(n * k).fill(0) };
}

/** A callable for one implementation (TF.js tensors are made once, outside the timed region). */
async function prepare(impl: Impl, n: number, k: number): Promise<{ run: () => void; dispose: () => void }> {
  const { logits, labels, grad } = inputs(n, k, impl === SHARED);
  const options = { classes: k, labelSmoothing: EPS };
  const ours = (o: object) => ({
    run: () => void crossEntropy(logits, labels, { ...options, ...o }),
    dispose: () => {},
  });
  if (impl === 'copy') return { run: () => grad.set(logits), dispose: () => {} };
  if (impl === WORKSPACE || impl === WORKSPACE_ONE || impl === WORKSPACE_COPY) {
    // The logits are written into the kernel's memory once (a model writing its outputs there), or on
    // every call (a model that hands over an ordinary array).
    const ws = kernelWorkspace(n, k);
    ws.logits.set(logits);
    const o = { ...options, grad: ws.grad, kernel: 'wasm' as const, threads: impl !== WORKSPACE_ONE };
    const call = () => void crossEntropy(ws.logits, labels, o);
    const copyIn = () => {
      ws.logits.set(logits);
      call();
    };
    return { run: impl === WORKSPACE_COPY ? copyIn : call, dispose: () => ws.dispose() };
  }
  if (impl === OURS || impl === SHARED) return ours({ grad, kernel: 'wasm' });
  if (impl === ONE_THREAD) return ours({ grad, kernel: 'wasm', threads: false });
  if (impl === GRAD_TRUE) return ours({ grad: true, kernel: 'wasm' });
  if (impl === 'labelsmooth JS') return ours({ grad, kernel: 'js' });
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

/** PyTorch forward + backward in a child process under `env`: the median ms (or peak MB), null if unavailable. */
function torch(n: number, k: number, env: Record<string, string>, rss: boolean): string | null {
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
    ts = []; start = time.perf_counter()
    while len(ts) < ${RUNS} or (len(ts) < 1000 and time.perf_counter() - start < ${TIMED_MS / 1000}):
        t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1000)
    ts.sort(); print(ts[len(ts) // 2], len(ts))`;
  try {
    return execFileSync('/usr/bin/python3', ['-c', code], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

function torchVersion(): string | null {
  try {
    return execFileSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], {
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
 * the first call (one-time costs included: WASM memory, worker threads and their rings, TF.js' heap) and
 * during a second call (steady state), as "first/steady" in MB. The peak mark is reset by writing 5 to
 * /proc/self/clear_refs.
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

const fmt = (x: number, digits = 2) => Number(x.toFixed(digits));

/** One line per target, "met" or "missed", from the numbers of one shape. */
function verdicts(
  shape: string,
  large: boolean,
  r: Map<string, { ms: number; threads?: string }>,
  torchBest: string | null,
): string[] {
  const ms = (name: string) => r.get(name)?.ms ?? Number.NaN;
  const lines: string[] = [];
  const say = (what: string, value: number, limit: number, unit: string) =>
    lines.push(
      `${shape}: ${what} ${fmt(value)}${unit} (target ≤ ${limit}${unit}): ${value <= limit ? 'met' : 'MISSED'}`,
    );
  const threads = (name: string) => r.get(name)?.threads?.split('/').length ?? 1;
  // The headline is the workspace (the README's first example); the ordinary-array path is judged too.
  for (const [label, head, one] of [
    ['workspace', WORKSPACE, WORKSPACE_ONE],
    ['ordinary arrays', OURS, ONE_THREAD],
  ] as const) {
    if (torchBest) say(`ours (${label}) / ${torchBest}`, ms(head) / ms(torchBest), large ? 0.7 : 1, '×');
    if (!large) continue;
    say(`ours (${label}) / copy`, ms(head) / ms('copy'), 3, '×');
    const speedup = ms(one) / ms(head);
    lines.push(
      `${shape}: ${label}: threads speed-up (1 thread / ${threads(head)} threads) ${fmt(speedup)}× (target ≥ 1.7×): ${speedup >= 1.7 ? 'met' : 'MISSED'}`,
    );
  }
  if (large) say('grad: true / grad kept (ordinary arrays)', ms(GRAD_TRUE) / ms(OURS), 1.2, '×');
  return lines;
}

/** The language-model options timed against the plain kernel (see the header). */
const LM_OPTIONS: [string, object][] = [
  ['plain (ε = 0.1)', {}],
  ['softcap 30', { softcap: 30 }],
  ['softcap 1 (logits past 0.625·c)', { softcap: 1 }],
  ['zLoss 1e−4', { zLoss: 1e-4 }],
  ['softcap 30 + zLoss 1e−4 + lse', { softcap: 30, zLoss: 1e-4, lse: true }],
];

/**
 * The language-model options against the plain kernel at n×k, interleaved rounds, one thread and the
 * worker threads: a table row per option (--quick: 64×2048, one round, not a measurement).
 */
function languageModelRows(): Record<string, string | number>[] {
  const [n, k] = QUICK ? [64, 2048] : [1024, 32000];
  const { logits, labels, grad } = inputs(n, k);
  const rows: Record<string, string | number>[] = [];
  for (const threads of [false, true]) {
    const variants = LM_OPTIONS.map(([name, o]) => ({
      name,
      run: () =>
        void crossEntropy(logits, labels, {
          classes: k,
          labelSmoothing: EPS,
          grad,
          kernel: 'wasm',
          threads,
          ...o,
        }),
    }));
    for (const t of interleaved(variants, QUICK ? 1 : 9, QUICK ? 0 : 2))
      rows.push({
        shape: `${n}×${k}`,
        threads: threads ? 'workers' : 'one',
        option: t.name,
        'median ms': fmt(t.ms),
        '× plain (median of rounds)': fmt(t.ratio),
        // CPU time: less moved by other processes on a shared machine (with workers it is not a speed)
        '× plain, CPU time': threads ? '–' : fmt(t.cpuRatio),
        path: t.path,
      });
  }
  return rows;
}

async function main(): Promise<void> {
  if (args[0] === '--rss-child') {
    const [n, k] = parseShapes(args[2])[0];
    return rssChild(args[1] as Impl, n, k);
  }
  tf.env().set('PROD', true);
  const loadBefore = loadavg();
  const status = await initKernels();
  const shapes = parseShapes(arg('shapes', '8192x10,512x1000,1024x32000,256x128000'));
  const tv = flag('skip-torch') ? null : torchVersion();
  console.log(
    `labelsmooth bench: forward + gradient, ε = ${EPS}, float32 logits, class-index targets, mean; Node ${process.version}; ${cpus().length} × ${cpus()[0]?.model}`,
  );
  console.log(
    `kernel: wasm ${status.wasm}, threads ${status.threads}; medians of ≥ ${RUNS} runs and ≥ ${TIMED_MS / 1000} s after warm-up (3 runs for calls over ${SLOW_MS / 1000} s)`,
  );
  if (!flag('skip-torch')) {
    if (tv === null)
      console.log('PyTorch skipped: /usr/bin/python3 has no torch (Debian: apt-get install python3-torch)');
    else
      console.log(
        `PyTorch ${tv} (2 threads) under ${TORCH_SETUPS.filter((s) => s.env).length} allocator setups`,
      );
    for (const s of TORCH_SETUPS) if (s.note) console.log(s.note);
  }
  console.log('');
  const rows: Record<string, string | number>[] = [];
  const summary: string[] = [];
  for (const [n, k] of shapes) {
    const shape = `${n}×${k}`;
    const results = new Map<string, { ms: number; runs: number; mb: string | null; threads?: string }>();
    for (const impl of IMPLS) {
      if (impl.startsWith('TF.js') && flag('skip-tfjs')) continue;
      if (impl === 'TF.js cpu' && flag('skip-tfjs-cpu')) continue;
      const p = await prepare(impl, n, k);
      threadStats.chunks = [];
      const t = time(p.run);
      const split = threadStats.chunks.length ? threadStats.chunks.join('/') : undefined;
      p.dispose();
      results.set(impl, { ...t, mb: flag('skip-rss') ? null : rss(impl, n, k), threads: split });
    }
    if (tv !== null) {
      for (const s of TORCH_SETUPS) {
        if (!s.env) continue;
        const ms = torch(n, k, s.env, false);
        if (ms !== null)
          results.set(s.name, {
            ms: Number(ms.split(' ')[0]),
            runs: Number(ms.split(' ')[1]),
            mb: flag('skip-rss') ? null : torch(n, k, s.env, true),
          });
      }
    }
    const torchNames = [...results.keys()].filter((name) => name.startsWith('PyTorch'));
    const torchBest = torchNames.length
      ? torchNames.reduce((a, b) => (results.get(a)!.ms <= results.get(b)!.ms ? a : b))
      : null;
    const copy = results.get('copy')!.ms;
    for (const [impl, r] of results) {
      rows.push({
        shape,
        implementation: impl + (impl === torchBest ? ' *' : ''),
        'median ms': fmt(r.ms),
        runs: r.runs,
        '× best PyTorch': torchBest ? fmt(r.ms / results.get(torchBest)!.ms) : '–',
        '× copy': fmt(r.ms / copy, 1),
        'peak MB over inputs (first/steady)': r.mb ?? '–',
        'chunks per thread': r.threads ?? '–',
      });
    }
    // The issue's targets: at the two large shapes, and "no slower than PyTorch" at the two small ones.
    const large = shape === '1024×32000' || shape === '256×128000';
    if (large || shape === '8192×10' || shape === '512×1000')
      summary.push(...verdicts(shape, large, results, torchBest));
  }
  console.table(rows);
  console.log('* the fastest PyTorch setup of the shape in this run: the "best PyTorch" of the ratios');
  console.log('chunks per thread: how the last timed call was shared out (the calling thread first)');
  console.log(
    `inputs + gradient at N×K: 8 bytes per logit (e.g. 1024×32000: ${((1024 * 32000 * 8) / 2 ** 20).toFixed(0)} MB)`,
  );
  if (summary.length) console.log('\nTargets:');
  for (const line of summary) console.log(`  ${line}`);
  const lm = flag('skip-lm') ? [] : languageModelRows();
  if (lm.length) {
    console.log('\nsoftcap, zLoss and lse against the plain kernel, interleaved rounds:');
    console.table(lm);
  }
  const out = arg('out', new URL('../BENCHMARKS.md', import.meta.url).pathname);
  writeSection(
    out,
    'bench-run',
    [
      runHeader('bench/run.ts', args, loadBefore),
      QUICK ? '\n**--quick: one call per implementation, not a measurement.**' : '',
      '',
      markdownTable(rows),
      '',
      '`*` the fastest PyTorch setup of the shape in this run, the "best PyTorch" of the ratios. Chunks per',
      'thread: how the last timed call was shared out (the calling thread first). Peak MB: growth of the peak',
      'resident memory over the inputs and gradient (8 bytes per logit) in the first and a later call.',
      '',
      summary.length
        ? 'Targets in this run:\n'
        : 'No target was judged in this run (they are set at 8192×10, 512×1000, 1024×32000 and 256×128000).',
      ...summary.map((line) => `- ${line.replace(/: (met|MISSED)$/, (_, v) => `: **${v}**`)}`),
      ...(lm.length
        ? [
            '',
            'softcap, zLoss and lse on the kernel against the plain kernel of the same shape, forward + gradient',
            '(ε = 0.1, a gradient buffer kept), timed interleaved: each round runs every option once; the ratio is',
            'the median of the per-round ratios (of wall time; on one thread also of CPU time, which other processes',
            'move less). softcap 30 keeps these logits (|z| < 2) under 0.625·c, where the',
            "kernel's tanh is its polynomial; softcap 1 sends most of them through its exp branch.",
            '',
            markdownTable(lm),
          ]
        : []),
    ].join('\n'),
  );
  console.log(`\n${out}: section bench-run replaced`);
}

await main();
