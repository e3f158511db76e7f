// The executor off the happy path, by property: random shapes (chunks of one row, a last chunk that is
// partial, N and K not multiples of anything, K from 1 to 70 000) with every option the kernel takes — the
// family (confidence penalty, focal loss, FLSD-53, class-conditional noise from noiseMatrix(), a
// SharedArrayBuffer and a plain array), softcap / zLoss / lse, every reduction, sample and class weights in
// both modes, ignored rows, a class mask, rows the float32 kernel declines — and every kind of gradient
// (a Float32Array, a Float64Array, grad: true, the in-place mode, none). On the threads each call must give
// one thread's loss, parts, lse and gradient to the last bit, leave the caller's logits intact (but in the
// in-place mode) and leave no region of the kernel memory behind; on workspace buffers (views on fewer
// rows at any offset, the buffers swapped, an ordinary gradient, the in-place mode) the same as ordinary
// arrays on one thread. And the first-fit allocator that hands out every call's and workspace's region.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CrossEntropyOptions,
  crossEntropy,
  initKernels,
  kernelInfo,
  kernelWorkspace,
  noiseMatrix,
} from '../packages/labelsmooth/src/index.js';
import {
  allocate,
  type KernelMemory,
  release,
  sharedKernel,
} from '../packages/labelsmooth/src/kernels/memory.js';
import { poolWorkers, threadStats } from '../packages/labelsmooth/src/kernels/threads.js';
import { lcg } from './helpers/lcg.js';

type Family =
  | 'plain'
  | 'penalty'
  | 'focal'
  | 'flsd'
  | 'penalty+focal'
  | 'lm'
  | 'S:matrix'
  | 'S:shared'
  | 'S:plain';

interface Shape {
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

const shape = fc.record<Shape>({
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
function matrixS(k: number, shared: boolean): Float32Array {
  const S = shared ? new Float32Array(new SharedArrayBuffer(4 * k * k)) : new Float32Array(k * k);
  for (let a = 0; a < k; a++) {
    let sum = 0;
    for (let b = 0; b < k; b++) sum += S[a * k + b] = ((a * 7 + b * 13) % 11) + 1;
    for (let b = 0; b < k; b++) S[a * k + b] /= sum;
  }
  return S;
}

/** A problem of shape `p` with at least `minLogits` logits (N grown, or cut to keep it under 4M). */
function problem(p: Shape, minLogits: number) {
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

type Grad = 'f32' | 'f64' | 'true' | 'in place' | 'none';

/** One call on a copy of z with gradient kind `g`: the result, the gradient, the array passed as logits. */
function run(z: Float32Array, y: Int32Array, o: CrossEntropyOptions, g: Grad) {
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
function sameBits(a: unknown, b: unknown, what: string): void {
  assert.deepEqual(a, b, what);
}

/** The regions of the kernel memory in use now. */
const regions = () => sharedKernel()!.live.size;

describe('executor properties: threads as one thread, to the last bit', () => {
  before(async () => {
    assert.equal((await initKernels()).threads, true, 'the worker pool runs on this machine');
  });

  it('ordinary arrays: every option and kind of gradient, on the threads as on one thread; logits intact', () => {
    const threads = 1 + poolWorkers().length;
    const declined = kernelInfo().fallbacks['rows-declined'];
    fc.assert(
      fc.property(shape, fc.constantFrom<Grad>('f32', 'f64', 'true', 'in place', 'none'), (p, g) => {
        const { z, y, o, unshared } = problem(p, 1 << 16);
        const held = regions();
        const one = run(z, y, { ...o, threads: false }, g);
        const many = run(z, y, { ...o, threads: true }, g);
        assert.equal(regions(), held, 'no region of the kernel memory is left behind');
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
      }),
      { numRuns: 80, seed: 20261206 },
    );
    assert.ok(kernelInfo().fallbacks['rows-declined'] > declined, 'some calls had rows the kernel declined');
  });

  it('workspace views at any offset, on fewer rows, swapped, with an ordinary gradient, in the in-place mode: the ordinary bits', () => {
    type Where = 'workspace' | 'other rows' | 'swapped' | 'ordinary grad' | 'in place' | 'no grad';
    const kept: ReturnType<typeof kernelWorkspace>[] = [];
    fc.assert(
      fc.property(
        shape,
        fc.constantFrom<Where>('workspace', 'other rows', 'swapped', 'ordinary grad', 'in place', 'no grad'),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        (p, where, offset, fewer, threads, keep) => {
          const {
            n: total,
            k,
            z: values,
            y: labels,
            o,
          } = problem(
            { ...p, family: p.family === 'S:plain' ? 'S:shared' : p.family },
            threads ? 1 << 16 : 1,
          );
          const ws = kernelWorkspace(total, k);
          const off = Math.min(offset, total - 1);
          const n = Math.max(1, total - off - fewer);
          const rows = (a: Float32Array, from: number) => a.subarray(from * k, (from + n) * k);
          const y = labels.subarray(0, n);
          if (o.sampleWeight) o.sampleWeight = Array.from(o.sampleWeight).slice(0, n);
          const z = values.subarray(0, n * k);
          let logits = rows(ws.logits, off);
          let grad: Float32Array | undefined = rows(ws.grad, off);
          if (where === 'other rows') grad = ws.grad.subarray(0, n * k);
          if (where === 'swapped') [logits, grad] = [grad, logits];
          if (where === 'ordinary grad') grad = new Float32Array(n * k);
          if (where === 'in place') grad = logits;
          if (where === 'no grad') grad = undefined;
          logits.set(z);
          if (grad && grad !== logits) grad.fill(5);
          const untouched = ws.grad.slice();
          const one = run(z, y, { ...o, threads: false }, where === 'in place' ? 'in place' : 'f32');
          const r = crossEntropy(logits, y, { ...o, threads, ...(grad ? { grad } : {}) });
          sameBits(r.loss, one.r.loss, 'loss');
          sameBits(r.entropy, one.r.entropy, 'entropy');
          sameBits(r.zLoss, one.r.zLoss, 'zLoss');
          sameBits(r.lse, one.r.lse, 'lse');
          if (grad) sameBits(grad, one.grad, 'gradient');
          else sameBits(ws.grad, untouched, 'the workspace gradient is not touched without a gradient');
          if (where !== 'in place') sameBits(logits, z, 'the logits are intact');
          if (keep) kept.push(ws);
          else ws.dispose();
          if (kept.length > 4) kept.shift()!.dispose();
        },
      ),
      { numRuns: 80, seed: 61206 },
    );
    for (const ws of kept) ws.dispose();
  });

  it('calls of changing shapes, interleaved between workspaces and ordinary arrays, give their memory back', () => {
    const m = sharedKernel()!;
    const r = lcg(5);
    const held = regions();
    let top = 0;
    for (let call = 0; call < 120; call++) {
      const k = [3, 17, 999, 4096, 65537][Math.floor(r() * 5)];
      const n = Math.max(2, Math.ceil((2 ** (15 + Math.floor(r() * 5)) + Math.floor(r() * 999)) / k));
      const z = Float32Array.from({ length: n * k }, () => (r() - 0.5) * 10);
      const y = Int32Array.from({ length: n }, () => Math.floor(r() * k));
      const o: CrossEntropyOptions = { classes: k, labelSmoothing: 0.1, reduction: 'none', kernel: 'wasm' };
      if (k <= 999 && call % 3 === 0) o.noise = { matrix: matrixS(k, true) }; // rows staged by every thread
      const one = run(z, y, { ...o, threads: false }, 'f32');
      if (call % 2 === 0) {
        const ws = kernelWorkspace(n, k);
        ws.logits.set(z);
        const got = crossEntropy(ws.logits, y, { ...o, grad: ws.grad });
        sameBits(got.loss, one.r.loss, `call ${call}: loss`);
        sameBits(ws.grad, one.grad, `call ${call}: gradient`);
        ws.dispose();
      } else {
        const many = run(z, y, o, 'f32');
        sameBits(many.r.loss, one.r.loss, `call ${call}: loss`);
        sameBits(many.grad, one.grad, `call ${call}: gradient`);
      }
      assert.equal(regions(), held, `call ${call}: every region given back`);
      if (call === 40) top = m.top;
    }
    // Later calls of the same sizes fit in the memory given back (first fit): no growth call after call.
    assert.ok(m.top <= top + (64 << 20), `the kernel memory's regions grew from ${top} to ${m.top} bytes`);
  });

  it('the first-fit allocator: regions aligned, disjoint, inside the memory; freed ones merged; empty again at the end', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300000 }), fc.nat()), { maxLength: 200 }),
        (ops) => {
          // a private memory of its own, laid out like the kernel's: [0, 64 KB) static data
          const memory = new WebAssembly.Memory({ initial: 1, maximum: 1000 });
          const m = {
            memory,
            shared: false,
            free: [],
            top: 65536,
            live: new Map(),
          } as unknown as KernelMemory;
          const live: [number, number][] = [];
          for (const [take, size, pick] of ops) {
            if (take || live.length === 0) {
              const at = allocate(size, m);
              assert.ok(at % 64 === 0 && at >= 65536, `region at ${at}`);
              assert.ok(at + size <= memory.buffer.byteLength, 'inside the memory');
              for (const [a, s] of live)
                assert.ok(at >= a + s || a >= at + size, 'disjoint from live regions');
              live.push([at, size]);
            } else release(live.splice(pick % live.length, 1)[0][0], m);
            let end = -1;
            for (const f of m.free) {
              assert.ok(f.at > end, 'free regions sorted and merged');
              end = f.at + f.size;
              for (const [a, s] of live) assert.ok(f.at >= a + s || a >= end, 'free regions are not in use');
            }
            const highest = Math.max(65536, ...[...m.live].map(([a, s]) => a + s));
            assert.equal(m.top, highest, 'the top is the end of the highest live region');
          }
          for (const [a] of live) release(a, m);
          assert.deepEqual([m.top, m.free], [65536, []]);
        },
      ),
      { numRuns: 300, seed: 4 },
    );
  });
});
