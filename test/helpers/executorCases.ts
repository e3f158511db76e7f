// Random executor cases shared by the executor's property tests: a shape (N, K, the options the kernel
// takes, rows it declines) made into a problem, and one call on a copy of it with a kind of gradient.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type CrossEntropyOptions, crossEntropy, noiseMatrix } from '../../packages/labelsmooth/src/index.js';
import { sharedKernel } from '../../packages/labelsmooth/src/kernels/memory.js';
import { threadStats } from '../../packages/labelsmooth/src/kernels/threads.js';
import { lcg } from './lcg.js';

/** The family of options a case runs with (S: class-conditional noise, and where S lives). */
export type Family =
  | 'plain'
  | 'penalty'
  | 'focal'
  | 'flsd'
  | 'penalty+focal'
  | 'lm'
  | 'S:matrix'
  | 'S:shared'
  | 'S:plain';

/** A random case: N, K, the options, and whether some rows are ones the float32 kernel declines. */
export interface Shape {
  seed: number;
  n: number;
  k: number;
  family: Family;
  eps: number;
  noise: 'uniform' | 'non-target' | 'prior';
  reduction: 'mean' | 'sum' | 'none';
  sampleWeight: boolean;
  weightMode: 'none' | 'per-class' | 'per-example';
  ignored: boolean;
  masked: boolean;
  declined: boolean;
}

/** Random cases. */
export const shape = fc.record<Shape>({
  seed: fc.integer({ min: 1, max: 1e9 }),
  n: fc.integer({ min: 2, max: 300 }),
  k: fc.oneof(
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 200, max: 3000 }),
    fc.integer({ min: 60000, max: 70000 }),
  ),
  family: fc.constantFrom<Family>(
    'plain',
    'penalty',
    'focal',
    'flsd',
    'penalty+focal',
    'lm',
    'S:matrix',
    'S:shared',
    'S:plain',
  ),
  eps: fc.constantFrom(0, 0.1, 0.3),
  noise: fc.constantFrom('uniform', 'non-target', 'prior'),
  reduction: fc.constantFrom('mean', 'sum', 'none'),
  sampleWeight: fc.boolean(),
  weightMode: fc.constantFrom('none', 'per-class', 'per-example'),
  ignored: fc.boolean(),
  masked: fc.boolean(),
  declined: fc.boolean(),
});

/** A K×K noise matrix (rows of positive, uneven mass), in a SharedArrayBuffer when `shared`. */
export function matrixS(k: number, shared: boolean): Float32Array {
  const S = shared ? new Float32Array(new SharedArrayBuffer(4 * k * k)) : new Float32Array(k * k);
  for (let a = 0; a < k; a++) {
    let sum = 0;
    for (let b = 0; b < k; b++) sum += S[a * k + b] = ((a * 7 + b * 13) % 11) + 1;
    for (let b = 0; b < k; b++) S[a * k + b] /= sum;
  }
  return S;
}

/** A problem of shape `p` with at least `minLogits` logits (N grown, or cut to keep it under 4M). */
export function problem(p: Shape, minLogits: number) {
  const k = p.k;
  let n = Math.min(p.n, Math.max(2, Math.floor(4e6 / k)));
  if (n * k < minLogits) n = Math.ceil(minLogits / k);
  const r = lcg(p.seed);
  const z = Float32Array.from({ length: n * k }, () => (r() - 0.5) * 12);
  const masked = p.masked && k >= 4;
  // labels avoid masked classes (a label on one is an error)
  const y = Int32Array.from({ length: n }, (_, i) => {
    if (p.ignored && i % 7 === 3) return -100;
    const c = Math.floor(r() * k);
    return masked && c % 3 === 1 ? c - 1 : c;
  });
  if (p.declined && k >= 3) {
    // z_2 − z_y overflows float32: the kernel declines the row (the float64 reference recomputes it) where
    // its float32 passes cannot finish it
    for (const i of [n - 1, Math.floor(n / 2)]) {
      y[i] = 0;
      z[i * k] = -3e38;
      z[i * k + 2] = 3.2e38;
    }
  }
  const o: CrossEntropyOptions = {
    classes: k,
    labelSmoothing: p.eps,
    reduction: p.reduction,
    kernel: 'wasm',
  };
  if (masked) o.classMask = Array.from({ length: k }, (_, c) => c % 3 !== 1);
  if (p.noise === 'prior') {
    const raw = Array.from({ length: k }, (_, c) => 1 + (c % 5));
    const mass = raw.reduce((a, b) => a + b, 0);
    o.noise = raw.map((x) => x / mass);
  } else if (p.noise === 'non-target' && k >= 4) o.noise = 'non-target';
  if (p.sampleWeight) o.sampleWeight = Array.from({ length: n }, (_, i) => 0.5 + (i % 4));
  if (p.weightMode !== 'none') {
    o.weight = Array.from({ length: k }, (_, c) => 1 + (c % 3) * 0.5);
    o.weightMode = p.weightMode;
  }
  const f = p.family;
  if (f === 'penalty' || f === 'penalty+focal') o.confidencePenalty = 0.2;
  if (f === 'focal' || f === 'penalty+focal') Object.assign(o, { focalGamma: 2, focalAlpha: 0.7 });
  if (f === 'flsd') o.focalGamma = 'flsd-53';
  if (f === 'lm') Object.assign(o, { softcap: 15, zLoss: 1e-3, lse: true });
  if (f.startsWith('S:') && k <= 3000 && p.eps > 0) {
    const S = matrixS(k, f === 'S:shared');
    o.noise = { matrix: f === 'S:matrix' ? noiseMatrix(S) : f === 'S:plain' ? Array.from(S) : S };
  }
  return { n, k, z, y, o, unshared: f === 'S:plain' && k <= 3000 && p.eps > 0 };
}

/** The kind of gradient a call gets. */
export type Grad = 'f32' | 'f64' | 'true' | 'in place' | 'none';

/** One call on a copy of z with gradient kind `g`: the result, the gradient, the array passed as logits. */
export function run(z: Float32Array, y: Int32Array, o: CrossEntropyOptions, g: Grad) {
  const logits = z.slice();
  const grad =
    g === 'f32'
      ? new Float32Array(z.length).fill(9)
      : g === 'f64'
        ? new Float64Array(z.length).fill(9)
        : g === 'in place'
          ? logits
          : g === 'true';
  const r = crossEntropy(logits, y, g === 'none' ? o : { ...o, grad });
  return { r, grad: g === 'true' ? r.grad : grad, logits };
}

/** The same bits (NaN equal to NaN, 0 apart from −0). */
export function sameBits(a: unknown, b: unknown, what: string): void {
  assert.deepEqual(a, b, what);
}

/**
 * A case of shape `p` (at least 2¹⁶ logits) on ordinary arrays with gradient kind `g`, on `threads` threads
 * and on one: the same loss, parts, lse and gradient to the last bit, the logits intact (but in the in-place
 * mode), no region of the kernel memory left behind.
 */
export function threadsAsOneThread(p: Shape, g: Grad, threads: number): void {
  const { z, y, o, unshared } = problem(p, 1 << 16);
  const held = sharedKernel()!.live.size;
  const one = run(z, y, { ...o, threads: false }, g);
  const many = run(z, y, { ...o, threads: true }, g);
  assert.equal(sharedKernel()!.live.size, held, 'no region of the kernel memory is left behind');
  assert.equal(threadStats.chunks.length, unshared ? 1 : threads, 'the call ran on every thread');
  sameBits(many.r.loss, one.r.loss, 'loss');
  sameBits(many.r.nll, one.r.nll, 'nll');
  sameBits(many.r.smoothing, one.r.smoothing, 'smoothing');
  sameBits(many.r.entropy, one.r.entropy, 'entropy');
  sameBits(many.r.zLoss, one.r.zLoss, 'zLoss');
  sameBits(many.r.lse, one.r.lse, 'lse');
  if (g !== 'none') sameBits(many.grad, one.grad, 'gradient');
  if (g !== 'in place') {
    sameBits(many.logits, z, 'the logits are intact');
    sameBits(one.logits, z, 'the logits are intact (one thread)');
  }
}
