// npm run bench: forward + gradient of label-smoothed cross-entropy (ε = 0.1), in one process, against
// TF.js' cpu and wasm backends (tf.losses.softmaxCrossEntropy under tf.valueAndGrad), a plain copy of the
// logits (memory roofline), and PyTorch when /usr/bin/python3 has torch. Medians of several runs; ratios.
//
// Usage: npm run bench [-- --shapes 8192x10,512x1000 --runs 5 --skip-tfjs-cpu]
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients tf.valueAndGrad needs
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { crossEntropy } from '../src/index.js';

const EPS = 0.1;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const shapes = arg('shapes', '8192x10,512x1000,1024x32000')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);
const RUNS = Number(arg('runs', '5'));
/** An anchor slower than this per call gets fewer runs (never under 3) so the bench finishes. */
const SLOW_MS = 3000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall time (ms) of `f` over RUNS runs after one warm-up. */
function time(f: () => void): { ms: number; runs: number } {
  f();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
    if (times.length >= 3 && times[times.length - 1] > SLOW_MS) break;
  }
  return { ms: median(times), runs: times.length };
}

function torchTimes(n: number, k: number): number | null {
  const code = `
import time, torch, torch.nn.functional as F
torch.set_num_threads(2); torch.manual_seed(0)
z = torch.randn(${n}, ${k}, requires_grad=True); y = torch.randint(0, ${k}, (${n},))
def step():
    z.grad = None
    F.cross_entropy(z, y, label_smoothing=${EPS}).backward()
step(); ts = []
for _ in range(${RUNS}):
    t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1000)
ts.sort(); print(ts[len(ts) // 2])`;
  try {
    return Number(
      execFileSync('/usr/bin/python3', ['-c', code], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
  } catch {
    return null;
  }
}

const rows: Record<string, string | number>[] = [];
for (const [n, k] of shapes) {
  const logits = new Float32Array(n * k);
  let seed = 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let j = 0; j < logits.length; j++) logits[j] = 4 * (rand() - 0.5);
  const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * k));
  const grad = new Float32Array(n * k);

  const results: Record<string, { ms: number; runs: number }> = {};
  results.copy = time(() => grad.set(logits));
  results['labelsmooth WASM'] = time(() => {
    crossEntropy(logits, labels, { classes: k, labelSmoothing: EPS, grad, kernel: 'wasm' });
  });
  results['labelsmooth JS'] = time(() => {
    crossEntropy(logits, labels, { classes: k, labelSmoothing: EPS, grad, kernel: 'js' });
  });
  for (const backend of ['wasm', 'cpu']) {
    if (backend === 'cpu' && args.includes('--skip-tfjs-cpu')) continue;
    await tf.setBackend(backend);
    await tf.ready();
    const zt = tf.tensor2d(logits, [n, k]);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
    const vg = tf.valueAndGrad(
      (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, l, undefined, EPS) as tf.Scalar,
    );
    results[`TF.js ${backend}`] = time(() => {
      const { value, grad: g } = vg(zt);
      value.dataSync();
      g.dataSync();
      value.dispose();
      g.dispose();
    });
    zt.dispose();
    onehot.dispose();
  }
  const torchMs = args.includes('--skip-torch') ? null : torchTimes(n, k);
  if (torchMs !== null) results['PyTorch (2 threads)'] = { ms: torchMs, runs: RUNS };

  const ours = results['labelsmooth JS'].ms;
  for (const [name, r] of Object.entries(results)) {
    rows.push({
      shape: `${n}×${k}`,
      implementation: name,
      'median ms': Number(r.ms.toFixed(2)),
      runs: r.runs,
      'time / labelsmooth JS': Number((r.ms / ours).toFixed(2)),
    });
  }
}
console.log(`label-smoothed CE forward+gradient, ε=${EPS}, float32 logits; Node ${process.version}; medians`);
console.table(rows);
