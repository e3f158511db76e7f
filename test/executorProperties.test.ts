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
} from '../packages/labelsmooth/src/index.js';
import {
  allocate,
  type KernelMemory,
  release,
  sharedKernel,
} from '../packages/labelsmooth/src/kernels/memory.js';
import { poolWorkers } from '../packages/labelsmooth/src/kernels/threads.js';
import {
  type Grad,
  matrixS,
  problem,
  run,
  sameBits,
  shape,
  threadsAsOneThread,
} from './helpers/executorCases.js';
import { lcg } from './helpers/lcg.js';

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
        threadsAsOneThread(p, g, threads);
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
