// kernelWorkspace: logits and gradient in the kernel's shared memory, computed in place on every thread.
// The results must be those of the ordinary path to the last bit (same kernel, same row order), the
// logits must stay intact, and misuse (disposed buffers, bad sizes) must be an error.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CrossEntropyOptions,
  crossEntropy,
  initKernels,
  kernelInfo,
  kernelWorkspace,
  LabelSmoothingError,
  noiseMatrix,
  onKernelEvent,
} from '../packages/labelsmooth/src/index.js';
import { threadStats } from '../packages/labelsmooth/src/kernels/threads.js';

/** A workspace of N×K filled with deterministic logits, and labels with some ignored rows. */
function filled(n: number, k: number, seed = 1, allowed: (c: number) => boolean = () => true) {
  const ws = kernelWorkspace(n, k);
  for (let j = 0; j < n * k; j++) ws.logits[j] = Math.sin(j * 0.37 + seed) * 6;
  const labels = Int32Array.from({ length: n }, (_, i) => {
    if (i % 7 === 3) return -100;
    let y = (i * 131 + seed) % k;
    while (!allowed(y)) y = (y + 1) % k;
    return y;
  });
  return { ws, labels };
}

/** How the last workspace call of {@link sameAsOrdinary} was shared out (chunks per thread). */
let lastChunks: number[] = [];

/** The workspace call and the ordinary call on copies of the same values; asserts bit-identical results. */
function sameAsOrdinary(
  n: number,
  k: number,
  options: CrossEntropyOptions,
  seed = 1,
  allowed?: (c: number) => boolean,
): string {
  const { ws, labels } = filled(n, k, seed, allowed);
  try {
    const logits = ws.logits.slice();
    const onWs = crossEntropy(ws.logits, labels, { ...options, classes: k, grad: ws.grad });
    const path = kernelInfo().last!.reason;
    lastChunks = [...threadStats.chunks];
    const plain = crossEntropy(logits, labels, { ...options, classes: k, grad: true });
    assert.deepEqual(onWs.loss, plain.loss);
    assert.equal(onWs.nll.toString(), plain.nll.toString());
    assert.equal(onWs.smoothing.toString(), plain.smoothing.toString());
    assert.ok(onWs.grad === ws.grad, 'the gradient is the workspace buffer');
    assert.deepEqual(ws.grad, plain.grad);
    assert.deepEqual(ws.logits, logits, 'the logits are intact');
    return path;
  } finally {
    ws.dispose();
  }
}

describe('kernelWorkspace', () => {
  before(async () => {
    assert.equal((await initKernels()).threads, true, 'the worker pool runs on this machine');
  });

  it('buffers in shared memory, of N×K floats', () => {
    const ws = kernelWorkspace(3, 5);
    assert.equal(ws.shared, true);
    assert.equal(ws.logits.length, 15);
    assert.equal(ws.grad.length, 15);
    assert.ok(ws.logits.buffer instanceof SharedArrayBuffer);
    ws.dispose();
  });

  it('large batch: every thread, in place, bit-identical to the ordinary path (mean, sum, none)', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const path = sameAsOrdinary(96, 12000, { labelSmoothing: 0.1, reduction });
      assert.match(path, /in place in the kernel's memory, on every thread/);
      assert.equal(kernelInfo().last!.path, 'wasm-threads');
      assert.ok(lastChunks.length >= 2, 'the workers took part');
      assert.equal(
        lastChunks.reduce((a, b) => a + b, 0),
        Math.ceil(
          96 / Math.min(Math.floor((1 << 18) / (4 * 12000)), Math.ceil(96 / (8 * lastChunks.length))),
        ),
        'every chunk ran exactly once',
      );
    }
  });

  it('small batch: the calling thread alone, in place', () => {
    const path = sameAsOrdinary(40, 300, { labelSmoothing: 0.2 });
    assert.match(path, /in place in the kernel's memory$/);
    assert.equal(kernelInfo().last!.path, 'wasm');
  });

  it('every option of the kernel: random shapes and options give the ordinary path’s bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 2, max: 3000 }),
        fc.constantFrom('uniform', 'non-target', 'prior'),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('mean', 'sum', 'none'),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (n, k, noiseKind, weighted, sampleWeighted, masked, reduction, threads, seed) => {
          if (n * k < 2048) return; // the reference's territory (kernel: 'auto')
          const prior = Array.from({ length: k }, (_, c) => 1 + (c % 5));
          const mass = prior.reduce((a, b) => a + b, 0);
          const noise = noiseKind === 'prior' ? prior.map((p) => p / mass) : noiseKind;
          const options: CrossEntropyOptions = {
            labelSmoothing: 0.15,
            noise,
            reduction,
            threads,
            weight: weighted ? Array.from({ length: k }, (_, c) => 0.5 + (c % 3)) : undefined,
            sampleWeight: sampleWeighted ? Array.from({ length: n }, (_, i) => 1 + (i % 4)) : undefined,
            classMask: masked ? Array.from({ length: k }, (_, c) => (c % 11 === 5 ? 0 : 1)) : undefined,
          };
          // a label on a masked class is an error: the labels avoid them
          const path = sameAsOrdinary(n, k, options, seed, (c) => !masked || c % 11 !== 5);
          assert.match(path, /in place in the kernel's memory/);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it('without a gradient: the loss, and the workspace gradient buffer is not touched', () => {
    const { ws, labels } = filled(64, 4096);
    ws.grad.fill(7);
    const a = crossEntropy(ws.logits, labels, { classes: 4096, labelSmoothing: 0.1 });
    const b = crossEntropy(ws.logits.slice(), labels, { classes: 4096, labelSmoothing: 0.1 });
    assert.equal(a.loss, b.loss);
    assert.ok(ws.grad.every((x) => x === 7));
    ws.dispose();
  });

  it('views on fewer rows (a last, smaller batch) stay in place', () => {
    const { ws, labels } = filled(64, 4096);
    const n = 40;
    const z = ws.logits.subarray(0, n * 4096);
    const g = ws.grad.subarray(0, n * 4096);
    const a = crossEntropy(z, labels.subarray(0, n), { classes: 4096, labelSmoothing: 0.1, grad: g });
    assert.match(kernelInfo().last!.reason, /in place/);
    const b = crossEntropy(z.slice(), labels.subarray(0, n), {
      classes: 4096,
      labelSmoothing: 0.1,
      grad: true,
    });
    assert.equal(a.loss, b.loss);
    assert.deepEqual(g, b.grad);
    ws.dispose();
  });

  it('rows the float32 kernel cannot finish are recomputed by the reference, from intact logits', () => {
    const k = 4096;
    const { ws, labels } = filled(32, k);
    ws.logits[5 * k + 1] = 3e38; // |z_c − z_y| beyond float32 in rows 5 and 9
    ws.logits[9 * k + 2] = -3e38;
    labels[5] = 0;
    labels[9] = 2;
    const events: string[] = [];
    const off = onKernelEvent((e) => e.type === 'fallback' && events.push(e.reason));
    const logits = ws.logits.slice();
    const a = crossEntropy(ws.logits, labels, {
      classes: k,
      labelSmoothing: 0.1,
      grad: ws.grad,
      reduction: 'none',
    });
    off();
    const b = crossEntropy(logits, labels, {
      classes: k,
      labelSmoothing: 0.1,
      grad: true,
      reduction: 'none',
    });
    assert.deepEqual(events, ['rows-declined']);
    assert.equal(kernelInfo().last!.path, 'wasm+js');
    assert.deepEqual(a.loss, b.loss);
    assert.deepEqual(ws.grad, b.grad);
    assert.ok(Number.isFinite(a.loss[5]) && a.loss[5] > 1e38);
    ws.dispose();
  });

  it('in-place mode (grad: the workspace logits) and an ordinary gradient buffer are staged, not in place', () => {
    const { ws, labels } = filled(16, 4096);
    const logits = ws.logits.slice();
    const plain = crossEntropy(logits, labels, { classes: 4096, labelSmoothing: 0.1, grad: true });
    const grad = new Float32Array(16 * 4096);
    const a = crossEntropy(ws.logits, labels, { classes: 4096, labelSmoothing: 0.1, grad });
    assert.doesNotMatch(kernelInfo().last!.reason, /in place in the kernel/);
    assert.equal(a.loss, plain.loss);
    assert.deepEqual(grad, plain.grad);
    const b = crossEntropy(ws.logits, labels, { classes: 4096, labelSmoothing: 0.1, grad: ws.logits });
    assert.equal(b.loss, plain.loss);
    assert.deepEqual(ws.logits, plain.grad);
    ws.dispose();
  });

  it('ordinary arrays of 2¹⁶ logits and more are staged through the shared memory, on every thread', () => {
    for (const [n, k] of [
      [8192, 10],
      [512, 1000],
    ]) {
      const z = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j * 0.37) * 6);
      z[7 * k + 3] = -3e38; // row 7: z_4 − z_y = 6e38 overflows float32, the reference recomputes the row
      z[7 * k + 4] = 3e38;
      const y = Int32Array.from({ length: n }, (_, i) => (i % 9 === 4 ? -100 : (i * 131) % k));
      y[7] = 3;
      const before = z.slice();
      for (const reduction of ['mean', 'none'] as const) {
        const o = {
          classes: k,
          labelSmoothing: 0.1,
          reduction,
          weight: Array.from({ length: k }, (_, c) => 1 + (c % 3)),
        };
        const grad = new Float64Array(n * k); // a float64 gradient buffer for float32 logits
        const many = crossEntropy(z, y, { ...o, grad });
        assert.equal(kernelInfo().last!.path, 'wasm+js');
        const one = crossEntropy(z, y, { ...o, grad: new Float64Array(n * k), threads: false });
        assert.deepEqual(many.loss, one.loss);
        assert.deepEqual(grad, one.grad);
        assert.deepEqual(z, before, 'the logits are intact');
      }
      z[7 * k + 3] = 0;
      z[7 * k + 4] = 0;
      crossEntropy(z, y, { classes: k, labelSmoothing: 0.1, grad: true });
      assert.equal(
        kernelInfo().last!.reason,
        `${n} rows staged through the kernel's shared memory, on every thread`,
      );
    }
  });

  it('the family options on workspace buffers run on every thread, as one thread to the last bit', () => {
    const extras = [
      { confidencePenalty: 0.2 },
      { focalGamma: 2 },
      { focalGamma: 'flsd-53' as const },
      { focalGamma: 1.5, confidencePenalty: 0.1 },
    ];
    // 4095: rows that do not end on a vector (each chunk's last row runs in a thread's scratch)
    for (const k of [4096, 4095])
      for (const extra of extras) {
        const { ws, labels } = filled(64, k);
        const o = { classes: k, labelSmoothing: 0.1, ...extra };
        const what = `K = ${k}, ${JSON.stringify(extra)}`;
        const logits = ws.logits.slice();
        const a = crossEntropy(ws.logits, labels, { ...o, grad: ws.grad });
        assert.equal(kernelInfo().last!.reason, "64 rows in place in the kernel's memory, on every thread");
        assert.deepEqual(ws.logits, logits, `the logits are intact (${what})`);
        const b = crossEntropy(logits, labels, { ...o, grad: true, threads: false });
        assert.equal(kernelInfo().last!.reason, '64 rows on the calling thread');
        assert.equal(a.loss, b.loss, what);
        assert.deepEqual(ws.grad, b.grad, what);
        const noGrad = crossEntropy(ws.logits, labels, o);
        assert.equal(kernelInfo().last!.reason, "64 rows in place in the kernel's memory, on every thread");
        assert.equal(noGrad.loss, b.loss, `without a gradient (${what})`);
        assert.deepEqual(ws.logits, logits, `the logits are intact without a gradient (${what})`);
        ws.dispose();
      }
  });

  it('focal loss with a noise vector on every thread: the same bits as one thread, call after call', () => {
    // Focal rows zero v_y while they run; the call's noise vector is one copy in shared memory, so each
    // thread takes its own (one thread zeroing it under another gave 194 differing calls of 200).
    const k = 1000;
    const n = 512;
    const weight = Array.from({ length: k }, (_, c) => 1 + (c % 7));
    const total = weight.reduce((a, b) => a + b, 0);
    const prior = weight.map((x) => x / total);
    const { ws, labels } = filled(n, k, 5);
    for (const extra of [{ noise: prior }, { weight }, { noise: prior, confidencePenalty: 0.1 }]) {
      const o = { classes: k, labelSmoothing: 0.3, focalGamma: 2, ...extra };
      const one = crossEntropy(ws.logits.slice(), labels, { ...o, grad: true, threads: false });
      for (let t = 0; t < 20; t++) {
        const many = crossEntropy(ws.logits, labels, { ...o, grad: ws.grad });
        assert.equal(kernelInfo().last!.reason, `${n} rows in place in the kernel's memory, on every thread`);
        assert.equal(many.loss, one.loss, `${JSON.stringify(Object.keys(extra))}, call ${t}`);
        assert.deepEqual(ws.grad, one.grad, `${JSON.stringify(Object.keys(extra))}, call ${t}`);
      }
    }
    ws.dispose();
  });

  it('calls whose memory lies above 2 GiB of the shared memory give the same bits', () => {
    // 2 GiB of workspace first (never touched: the memory's pages stay unallocated), then the call's
    // buffers, per-call area and S above it, where byte addresses no longer fit in an int32.
    const low = kernelWorkspace(1, 2 ** 28);
    try {
      const k = 1001;
      const n = 64;
      const S = noiseMatrix(
        Array.from({ length: k * k }, (_, j) => (j % (k + 1) === 0 ? 0.5 : 0.5 / (k - 1))),
      );
      for (const extra of [{}, { confidencePenalty: 0.2 }, { noise: { matrix: S } }]) {
        const { ws, labels } = filled(n, k, 3);
        assert.ok(ws.logits.byteOffset >= 2 ** 31, 'the buffers lie above 2 GiB');
        const o = {
          classes: k,
          labelSmoothing: 0.1,
          weight: Array.from({ length: k }, (_, c) => 1 + (c % 2)),
          ...extra,
        };
        const what = JSON.stringify(Object.keys(extra));
        const logits = ws.logits.slice();
        const a = crossEntropy(ws.logits, labels, { ...o, grad: ws.grad });
        const b = crossEntropy(logits, labels, { ...o, grad: true, threads: false, kernel: 'wasm' });
        assert.equal(a.loss, b.loss, what);
        assert.deepEqual(ws.grad, b.grad, what);
        const ref = crossEntropy(Float64Array.from(logits), labels, { ...o, kernel: 'js' });
        assert.ok(
          Math.abs((a.loss as number) - (ref.loss as number)) < 1e-6 * Math.abs(ref.loss as number),
          what,
        );
        ws.dispose();
      }
    } finally {
      low.dispose();
    }
  });

  it('a disposed workspace’s buffers are refused by name; its memory is reused', () => {
    const ws = kernelWorkspace(8, 512);
    const { logits, grad } = ws;
    ws.dispose();
    ws.dispose(); // twice is harmless
    const labels = new Int32Array(8);
    assert.throws(
      () => crossEntropy(logits, labels, { classes: 512 }),
      (e: unknown) =>
        e instanceof LabelSmoothingError && /crossEntropy: logits .*disposed kernelWorkspace/.test(e.message),
    );
    // A smaller workspace takes the start of the freed memory (an old view that falls inside a live
    // workspace cannot be told apart from it: the TSDoc says not to keep them).
    const other = kernelWorkspace(8, 256);
    assert.equal(other.logits.byteOffset, logits.byteOffset, 'the freed region is handed out again');
    assert.ok(grad.byteOffset >= other.grad.byteOffset + other.grad.byteLength);
    // Same size: the new workspace takes exactly the old memory; the old arrays are still refused.
    const same = kernelWorkspace(8, 512);
    assert.throws(
      () => crossEntropy(logits, labels, { classes: 512, grad }),
      (e: unknown) =>
        e instanceof LabelSmoothingError && /crossEntropy: logits .*disposed kernelWorkspace/.test(e.message),
    );
    same.dispose();
    assert.throws(
      () => crossEntropy(other.logits, labels, { classes: 256, grad: grad.subarray(0, 8 * 256) }),
      (e: unknown) => e instanceof LabelSmoothingError && /options\.grad/.test(e.message),
    );
    other.dispose();
  });

  it('bad sizes are LabelSmoothingErrors naming the argument', () => {
    const cases: [number, number, RegExp][] = [
      [0, 10, /kernelWorkspace: rows = 0: must be an integer ≥ 1/],
      [10, 1.5, /kernelWorkspace: classes = 1\.5: must be an integer ≥ 1/],
      [Number.NaN, 10, /kernelWorkspace: rows = NaN/],
      [100000, 100000, /kernelWorkspace: rows = 100000: 100000×100000 logits and gradient do not fit/],
    ];
    for (const [n, k, message] of cases)
      assert.throws(
        () => kernelWorkspace(n, k),
        (e: unknown) => e instanceof LabelSmoothingError && message.test(e.message),
      );
    // 2.5 GB of logits fit, the gradient then does not: the logits' memory is given back.
    const probe = kernelWorkspace(4, 4);
    const at = probe.logits.byteOffset;
    probe.dispose();
    assert.throws(() => kernelWorkspace(25000, 25000), /do not fit/);
    const after = kernelWorkspace(4, 4);
    assert.equal(after.logits.byteOffset, at);
    after.dispose();
  });
});
