// noiseMatrix(S): class-conditional noise checked and copied once (core/noiseMatrix.ts), and its kernel paths:
// in place in the kernel's shared memory on every thread (workspace buffers, mid-size staging), staged per
// chunk by the workers from shared memory (ring), and the observable single-thread fallback of a plain
// array. Every threaded result is compared with one thread to the last bit (per-row parts summed in row
// order), and every checked matrix with the same float32 values passed as a plain array.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  type CrossEntropyOptions,
  type CrossEntropyResult,
  crossEntropy,
  initKernels,
  kernelInfo,
  kernelWorkspace,
  LabelSmoothingError,
  noiseMatrix,
  OnlineLabelSmoothing,
  onKernelEvent,
  smoothLabels,
} from '../packages/labelsmooth/src/index.js';
import { sharedKernel } from '../packages/labelsmooth/src/kernels/memory.js';
import { threadStats } from '../packages/labelsmooth/src/kernels/threads.js';
import { softmaxCrossEntropy } from '../packages/labelsmooth/src/tfjs/index.js';
import { tf, useBackend } from './helpers/tf.js';

/** A K×K matrix whose rows are distributions (a peak on the diagonal, the rest spread unevenly). */
function randomS(k: number, seed = 1): Float64Array {
  const S = new Float64Array(k * k);
  for (let y = 0; y < k; y++) {
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const v = (c === y ? k : 0) + 1 + Math.sin(y * 1.7 + c * 0.31 + seed);
      S[y * k + c] = v;
      sum += v;
    }
    for (let c = 0; c < k; c++) S[y * k + c] /= sum;
  }
  return S;
}

function logits(n: number, k: number, seed = 1): Float32Array {
  return Float32Array.from({ length: n * k }, (_, j) => Math.sin(j * 0.37 + seed) * 5);
}

/** Labels with some ignored rows. */
function labels(n: number, k: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i % 9 === 4 ? -100 : (i * 131 + 7) % k));
}

/** Loss parts and gradient equal to the last bit. */
function sameBits(a: CrossEntropyResult, b: CrossEntropyResult, what: string): void {
  assert.deepEqual(a.loss, b.loss, `${what}: loss`);
  assert.deepEqual(a.nll, b.nll, `${what}: nll`);
  assert.deepEqual(a.smoothing, b.smoothing, `${what}: smoothing`);
  assert.deepEqual(a.entropy, b.entropy, `${what}: entropy`);
  assert.deepEqual(a.grad, b.grad, `${what}: gradient`);
}

/** Collect the fallback events of `run`. */
function fallbacks(run: () => void): string[] {
  const events: string[] = [];
  const off = onKernelEvent((e) => {
    if (e.type === 'fallback') events.push(`${e.reason}: ${e.detail}`);
  });
  try {
    run();
  } finally {
    off();
  }
  return events;
}

/** The option sets of the kernel's class-conditional paths: S[y] raw (mass folded in), normalized
 * first (class weights, focal loss, a mask), with the penalty, reductions, a normalizer. */
function optionSets(k: number): CrossEntropyOptions[] {
  const mask = Array.from({ length: k }, (_, c) => (c % 5 === 2 ? 0 : 1));
  const weight = Float32Array.from({ length: k }, (_, c) => 0.5 + (c % 3) * 0.25);
  return [
    { labelSmoothing: 0.1 },
    { labelSmoothing: 0.5, reduction: 'sum', confidencePenalty: 0.2 },
    { labelSmoothing: 0.3, weight },
    { labelSmoothing: 0.2, focalGamma: 2, reduction: 'none' },
    { labelSmoothing: 0.4, classMask: mask, weightMode: 'per-example', weight, normalizer: 7 },
  ];
}

/** Logits with −Infinity on the classes `o.classMask` masks (the labels of {@link labels} avoid them). */
function masked(z: Float32Array, k: number, o: CrossEntropyOptions): Float32Array {
  const mask = o.classMask as number[] | undefined;
  if (!mask) return z;
  const out = z.slice();
  for (let j = 0; j < out.length; j++) if (!mask[j % k]) out[j] = -Infinity;
  return out;
}

/** Labels on allowed classes only. */
function allowedLabels(n: number, k: number, o: CrossEntropyOptions): Int32Array {
  const y = labels(n, k);
  const mask = o.classMask as number[] | undefined;
  if (mask) for (let i = 0; i < n; i++) while (y[i] >= 0 && !mask[y[i]]) y[i] = (y[i] + 1) % k;
  return y;
}

describe('noiseMatrix: checked once', () => {
  it('refuses what is not a K×K matrix of distributions, naming the function, argument, index and value', () => {
    const bad: [unknown, unknown, RegExp][] = [
      [new Float32Array(5), undefined, /^noiseMatrix: S = Float32Array\(length 5\): length 5 is not K×K$/],
      [
        new Float32Array(9),
        { classes: 2 },
        /^noiseMatrix: S = Float32Array\(length 9\): length 9 is not K×K = 4$/,
      ],
      [
        Float64Array.of(0.5, 0.5, -0.1, 1.1),
        undefined,
        /^noiseMatrix: S\[2\] = -0.1: must be finite and ≥ 0 \(row 1, class 0\)$/,
      ],
      [
        [0.5, 0.5, Number.NaN, 1],
        undefined,
        /^noiseMatrix: S\[2\] = NaN: must be finite and ≥ 0 \(row 1, class 0\)$/,
      ],
      [
        [0.5, '0.5', 0, 1],
        undefined,
        /^noiseMatrix: S\[1\] = "0.5": must be finite and ≥ 0 \(row 0, class 1\)$/,
      ],
      [
        [
          [0.5, 0.5],
          [0.25, 0.5],
        ],
        undefined,
        /^noiseMatrix: S\[1\] = 0.75: row 1 must sum to 1 \(±0.0001\)$/,
      ],
      [[[1, 0]], undefined, /^noiseMatrix: S\[0\] = Array\(length 2\): row 0 must be an array of length 1$/],
      ['S', undefined, /^noiseMatrix: S = "S": expected a K×K matrix \(flat or rows\)$/],
      [[1], { klasses: 1 }, /^noiseMatrix: options.klasses = 1: unknown option; did you mean classes\?$/],
      [[1], { classes: 0 }, /^noiseMatrix: options.classes = 0: must be an integer ≥ 1$/],
    ];
    for (const [S, options, message] of bad)
      assert.throws(
        () => noiseMatrix(S as number[], options as { classes: number }),
        (e: unknown) => e instanceof LabelSmoothingError && message.test(e.message),
        String(message),
      );
  });

  it('crossEntropy refuses a matrix of another K and keys next to it; a look-alike object is not one', () => {
    const m = noiseMatrix(randomS(4));
    const z = logits(2, 3);
    assert.throws(
      () => crossEntropy(z, [0, 1], { classes: 3, labelSmoothing: 0.1, noise: { matrix: m } }),
      /crossEntropy: options\.noise\.matrix = 4: a noise matrix of K = 4, the call has K = 3$/,
    );
    const extra = { matrix: noiseMatrix(randomS(3)), rows: 3 } as unknown as { matrix: number[] };
    assert.throws(
      () => crossEntropy(z, [0, 1], { classes: 3, labelSmoothing: 0.1, noise: extra }),
      /crossEntropy: options\.noise\.rows = 3: unknown key; expected \{ matrix \}$/,
    );
    const fake = { classes: 3, toArray: () => new Float32Array(9) };
    assert.throws(
      () => crossEntropy(z, [0, 1], { classes: 3, labelSmoothing: 0.1, noise: { matrix: fake } }),
      /crossEntropy: options\.noise\.matrix = \[object Object\]: expected a K×K matrix \(flat or rows\)$/,
    );
  });

  it('keeps its own float32 copy: the caller’s array is neither modified nor read later; toArray copies', () => {
    const k = 64;
    const S = randomS(k);
    const before = S.slice();
    const m = noiseMatrix(S);
    assert.deepEqual(S, before, 'the caller’s S is not modified');
    assert.deepEqual(m.toArray(), Float32Array.from(S));
    const z = logits(100, k);
    const y = labels(100, k);
    const o = { classes: k, labelSmoothing: 0.3, grad: true as const, noise: { matrix: m } };
    const first = crossEntropy(z, y, o);
    S.fill(Number.NaN); // the caller reuses its array
    m.toArray().fill(7); // a copy
    const again = crossEntropy(z, y, o);
    sameBits(again, first, 'after the caller changed its arrays');
    assert.ok(Number.isFinite(again.loss as number));
  });

  it('flat typed arrays, number[] and number[][] give the same matrix', () => {
    const k = 5;
    const S = randomS(k);
    const rows = Array.from({ length: k }, (_, y) => Array.from(S.subarray(y * k, (y + 1) * k)));
    const expected = Float32Array.from(S);
    assert.deepEqual(noiseMatrix(rows).toArray(), expected);
    assert.deepEqual(noiseMatrix(Array.from(S), { classes: k }).toArray(), expected);
    assert.deepEqual(noiseMatrix(Float32Array.from(S)).toArray(), expected);
    assert.equal(noiseMatrix(rows).classes, k);
  });

  it('its rows are all checked when it is made, so a row no batch uses cannot be bad either', () => {
    const S = randomS(3);
    S[2 * 3 + 1] = Number.NaN; // a plain array may hold this as long as no label 2 comes
    const z = logits(2, 3);
    const r = crossEntropy(z, [0, 1], { classes: 3, labelSmoothing: 0.1, noise: { matrix: S } });
    assert.ok(Number.isFinite(r.loss as number));
    assert.throws(
      () => noiseMatrix(S),
      /noiseMatrix: S\[7\] = NaN: must be finite and ≥ 0 \(row 2, class 1\)$/,
    );
  });
});

describe('noiseMatrix: the same results as the plain array, to the last bit', () => {
  before(async () => {
    await initKernels();
  });

  it('on the reference (small batches, float64 logits) and on the kernel, one thread', () => {
    const k = 40;
    const S32 = Float32Array.from(randomS(k, 2));
    const m = noiseMatrix(S32);
    for (const o of optionSets(k)) {
      for (const [n, z] of [
        [30, masked(logits(30, k), k, o)], // 1200 logits: the reference
        [300, masked(logits(300, k), k, o)], // the kernel
        [30, Float64Array.from(masked(logits(30, k), k, o))], // float64 logits: the reference
      ] as const) {
        const y = allowedLabels(n, k, o);
        const plain = crossEntropy(z, y, {
          ...o,
          classes: k,
          grad: true,
          threads: false,
          noise: { matrix: S32 },
        });
        const checked = crossEntropy(z, y, {
          ...o,
          classes: k,
          grad: true,
          threads: false,
          noise: { matrix: m },
        });
        sameBits(checked, plain, `${JSON.stringify(Object.keys(o))} n = ${n} ${z.constructor.name}`);
      }
    }
  });

  it('probability targets and smoothLabels read it like the plain array', () => {
    const k = 12;
    const S32 = Float32Array.from(randomS(k, 16));
    const m = noiseMatrix(S32);
    const n = 20;
    const p = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      p[i * k + (i % k)] = 0.7;
      p[i * k + ((i * 5 + 1) % k)] += 0.3;
    }
    const z = logits(n, k, 17);
    const o = { classes: k, labelSmoothing: 0.3, grad: true as const };
    sameBits(
      crossEntropy(z, p, { ...o, noise: { matrix: m } }),
      crossEntropy(z, p, { ...o, noise: { matrix: S32 } }),
      'probability targets',
    );
    const y = labels(n, k);
    assert.deepEqual(
      smoothLabels(y, { classes: k, labelSmoothing: 0.2, noise: { matrix: m } }),
      smoothLabels(y, { classes: k, labelSmoothing: 0.2, noise: { matrix: S32 } }),
    );
  });

  it('a float64 S gives the kernel the same float32 values as its checked copy', () => {
    const k = 300;
    const S = randomS(k, 3);
    const z = logits(64, k);
    const y = labels(64, k);
    const o = { classes: k, labelSmoothing: 0.2, grad: true as const, threads: false };
    const plain = crossEntropy(z, y, { ...o, noise: { matrix: S } });
    assert.equal(kernelInfo().last?.path, 'wasm');
    sameBits(crossEntropy(z, y, { ...o, noise: { matrix: noiseMatrix(S) } }), plain, 'float64 S');
  });
});

describe('noiseMatrix: threads give one thread’s results to the last bit', () => {
  before(async () => {
    await initKernels();
  });

  it('mid-size batches: staged in the kernel’s shared memory, S[yᵢ] read in place on every thread', () => {
    for (const k of [1000, 1001]) {
      // 1001: rows that do not end on a vector (each chunk's last row runs apart)
      const n = 200; // 2·10⁵ logits: between 2¹⁶ and 2²⁰
      const m = noiseMatrix(randomS(k, 4));
      for (const o of optionSets(k)) {
        const z = masked(logits(n, k, 5), k, o);
        const y = allowedLabels(n, k, o);
        const one = crossEntropy(z, y, {
          ...o,
          classes: k,
          grad: true,
          threads: false,
          noise: { matrix: m },
        });
        assert.deepEqual(kernelInfo().last, {
          path: 'wasm',
          reason: `${n} rows on the calling thread, S read in place`,
        });
        const many = crossEntropy(z, y, { ...o, classes: k, grad: true, noise: { matrix: m } });
        assert.deepEqual(kernelInfo().last, {
          path: 'wasm-threads',
          reason: `${n} rows staged through the kernel's shared memory, on every thread, S read in place`,
        });
        assert.ok(threadStats.chunks.length >= 2);
        sameBits(many, one, JSON.stringify(Object.keys(o)));
      }
    }
  });

  it('workspace buffers: in place, the logits intact, and without a gradient too', () => {
    for (const k of [1000, 1001]) {
      // 1001: rows that do not end on a vector (each chunk's last row runs apart)
      const n = 150;
      const m = noiseMatrix(randomS(k, 6));
      for (const o of optionSets(k)) {
        const ws = kernelWorkspace(n, k);
        ws.logits.set(masked(logits(n, k, 7), k, o));
        const z = ws.logits.slice();
        const y = allowedLabels(n, k, o);
        const base = { ...o, classes: k, noise: { matrix: m } };
        const one = crossEntropy(z, y, { ...base, grad: true, threads: false });
        const many = crossEntropy(ws.logits, y, { ...base, grad: ws.grad });
        assert.deepEqual(kernelInfo().last, {
          path: 'wasm-threads',
          reason: `${n} rows in place in the kernel's memory, on every thread, S read in place`,
        });
        assert.deepEqual(ws.logits, z, 'the logits are intact');
        sameBits({ ...many, grad: ws.grad.slice() }, one, JSON.stringify(Object.keys(o)));
        const noGrad = crossEntropy(ws.logits, y, base);
        assert.deepEqual(noGrad.loss, one.loss);
        assert.deepEqual(ws.logits, z, 'the logits are intact without a gradient too');
        ws.dispose();
      }
    }
  });

  it('large batches (≥ 2²⁰ logits): S read in place in the kernel’s memory, else its rows staged', () => {
    const k = 1100;
    const n = 960;
    const S = randomS(k, 8);
    // A plain Float32Array on a SharedArrayBuffer: outside the kernel's memory, readable by the workers.
    const sab = new Float32Array(new SharedArrayBuffer(4 * k * k));
    sab.set(S);
    const o = { classes: k, labelSmoothing: 0.3, grad: true as const, reduction: 'sum' as const };
    for (const matrix of [noiseMatrix(S), sab]) {
      const z = logits(n, k, 9);
      const y = labels(n, k);
      const one = crossEntropy(z, y, { ...o, threads: false, noise: { matrix } });
      const events = fallbacks(() => {
        const many = crossEntropy(z, y, { ...o, noise: { matrix } });
        // S in the kernel's shared memory: every thread reads it in place; a SharedArrayBuffer: staged.
        const kernelMemory = matrix !== sab;
        assert.deepEqual(kernelInfo().last, {
          path: 'wasm-threads',
          reason: `${n} rows staged through the kernel's shared memory, on every thread${kernelMemory ? ', S read in place' : ''}`,
        });
        assert.ok(threadStats.chunks.length >= 2);
        assert.deepEqual(
          threadStats.matrixInPlace,
          threadStats.chunks.map(() => kernelMemory),
        );
        sameBits(many, one, kernelMemory ? 'noiseMatrix' : 'SharedArrayBuffer S');
      });
      assert.deepEqual(events, []);
    }
  });
});

describe('noiseMatrix: S outside the kernel’s memory, and the fallback of an ordinary array', () => {
  before(async () => {
    await initKernels();
  });

  it('S in a SharedArrayBuffer outside the kernel’s memory: rows staged per chunk by every thread', () => {
    for (const k of [1000, 1001]) {
      // 1001: rows that do not end on a vector (each chunk's last row runs apart)
      const n = 200;
      const sab = new Float32Array(new SharedArrayBuffer(4 * k * k));
      sab.set(randomS(k, 10));
      for (const o of optionSets(k)) {
        const z = masked(logits(n, k, 11), k, o);
        const y = allowedLabels(n, k, o);
        const base = { ...o, classes: k, noise: { matrix: sab } };
        const one = crossEntropy(z, y, { ...base, grad: true, threads: false });
        const events = fallbacks(() => {
          const many = crossEntropy(z, y, { ...base, grad: true });
          assert.deepEqual(kernelInfo().last, {
            path: 'wasm-threads',
            reason: `${n} rows staged through the kernel's shared memory, on every thread`,
          });
          sameBits(many, one, `mid-size, ${JSON.stringify(Object.keys(o))}`);
          const ws = kernelWorkspace(n, k);
          ws.logits.set(z);
          const onWs = crossEntropy(ws.logits, y, { ...base, grad: ws.grad });
          assert.equal(
            kernelInfo().last?.reason,
            `${n} rows in place in the kernel's memory, on every thread`,
          );
          sameBits({ ...onWs, grad: ws.grad.slice() }, one, `workspace, ${JSON.stringify(Object.keys(o))}`);
          assert.deepEqual(crossEntropy(ws.logits, y, base).loss, one.loss, 'workspace without a gradient');
          assert.deepEqual(ws.logits, z, 'the logits are intact');
          ws.dispose();
        });
        assert.deepEqual(events, []);
      }
    }
  });

  it('S in an ordinary array runs on one thread and says why (mid-size and large calls)', () => {
    const k = 1000;
    const S = Float32Array.from(randomS(k, 12));
    const why =
      'class-conditional noise in an ordinary array is not threaded: noiseMatrix(S) keeps S in shared memory';
    for (const n of [200, 1100]) {
      const z = logits(n, k, 11);
      const y = labels(n, k);
      const o = { classes: k, labelSmoothing: 0.1, grad: true as const, noise: { matrix: S } };
      const before = kernelInfo().fallbacks['noise-not-shared'];
      const events = fallbacks(() => crossEntropy(z, y, o));
      assert.deepEqual(events, [`noise-not-shared: ${why}`]);
      assert.deepEqual(kernelInfo().last, {
        path: 'wasm',
        reason: `${n} rows on the calling thread (${why})`,
      });
      assert.equal(kernelInfo().fallbacks['noise-not-shared'], before + 1);
      // threads: false asks for one thread: nothing to report
      assert.deepEqual(
        fallbacks(() => crossEntropy(z, y, { ...o, threads: false })),
        [],
      );
    }
  });
});

describe('noiseMatrix: S in a SharedArrayBuffer on one thread, rows staged', () => {
  before(async () => {
    await initKernels();
  });

  it('the bits of an ordinary array’s rows, every option set, the in-place mode too', () => {
    for (const k of [1000, 1001]) {
      // 1001: rows that do not end on a vector (the vector loops read past S's last row, masked)
      const n = 40;
      const shared = new Float32Array(new SharedArrayBuffer(4 * k * k));
      shared.set(randomS(k, 13));
      const ordinary = shared.slice();
      for (const o of optionSets(k)) {
        const z = masked(logits(n, k, 14), k, o);
        const y = allowedLabels(n, k, o);
        const base = { ...o, classes: k, grad: true as const, threads: false };
        const before = z.slice();
        const fromShared = crossEntropy(z, y, { ...base, noise: { matrix: shared } });
        assert.deepEqual(kernelInfo().last, { path: 'wasm', reason: `${n} rows on the calling thread` });
        const fromOrdinary = crossEntropy(z, y, { ...base, noise: { matrix: ordinary } });
        sameBits(fromShared, fromOrdinary, `K = ${k}, ${JSON.stringify(Object.keys(o))}`);
        assert.deepEqual(z, before, 'the logits are intact');
        // the in-place mode (the gradient over the logits)
        const zz = z.slice();
        crossEntropy(zz, y, { ...base, grad: zz, noise: { matrix: shared } });
        assert.deepEqual(zz, fromOrdinary.grad, `in-place mode, K = ${k}`);
      }
    }
  });
});

describe('OnlineLabelSmoothing hands out its matrix checked', () => {
  it('one NoiseMatrix per epoch, equal to S_t in float32, with the plain array’s results', () => {
    const k = 20;
    const ols = new OnlineLabelSmoothing(k);
    const first = ols.noiseMatrix;
    assert.equal(ols.noiseMatrix, first, 'the same object within the epoch');
    assert.deepEqual(first.toArray(), new Float32Array(k * k).fill(1 / k));
    const z = logits(200, k, 12);
    const y = Int32Array.from({ length: 200 }, (_, i) => {
      let arg = 0;
      for (let c = 1; c < k; c++) if (z[i * k + c] > z[i * k + arg]) arg = c;
      return i % 3 === 0 ? (arg + 1) % k : arg; // two thirds classified correctly
    });
    ols.update(z, y, { classes: k });
    const S1 = ols.nextEpoch();
    const second = ols.noiseMatrix;
    assert.notEqual(second, first, 'a new matrix for the next epoch');
    assert.deepEqual(second.toArray(), Float32Array.from(S1));
    assert.deepEqual(first.toArray(), new Float32Array(k * k).fill(1 / k), 'the old one is unchanged');
    const o = { classes: k, labelSmoothing: 0.5, grad: true as const };
    sameBits(
      crossEntropy(z, y, { ...o, noise: { matrix: second } }),
      crossEntropy(z, y, { ...o, noise: { matrix: Float32Array.from(ols.matrix) } }),
      'OLS matrix',
    );
    const restored = OnlineLabelSmoothing.restore(ols.state());
    assert.deepEqual(restored.noiseMatrix.toArray(), second.toArray());
  });
});

describe('noiseMatrix: the kernel memory of a dropped matrix is given back', () => {
  it('making and dropping 60 matrices of 4 MB does not grow the shared kernel memory by 240 MB', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const memory = sharedKernel()?.memory;
    if (!memory) return; // no shared memory here: the copies are ordinary arrays
    const S = randomS(1024, 13);
    const z = logits(64, 1024);
    const y = labels(64, 1024);
    const start = memory.buffer.byteLength;
    for (let round = 0; round < 6; round++) {
      for (let j = 0; j < 10; j++)
        crossEntropy(z, y, { classes: 1024, labelSmoothing: 0.1, noise: { matrix: noiseMatrix(S) } });
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20)); // finalizers run after the collection
    }
    const grown = memory.buffer.byteLength - start;
    assert.ok(grown < 100 * 2 ** 20, `the kernel memory grew by ${grown} bytes`);
  });
});

describe('the TF.js op takes a noiseMatrix', () => {
  before(() => useBackend('cpu'));

  it('value and gradient equal the core with the same float32 S as a plain array, to the last bit', () => {
    const k = 30;
    const n = 100;
    const S = Float32Array.from(randomS(k, 14));
    const z = logits(n, k, 15);
    const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % k);
    const zt = tf.tensor2d(z, [n, k]);
    const yt = tf.tensor1d(y, 'int32');
    const { value, grad } = tf.valueAndGrad(
      (l: tf.Tensor) =>
        softmaxCrossEntropy(yt, l, { labelSmoothing: 0.4, noise: { matrix: noiseMatrix(S) } }) as tf.Scalar,
    )(zt);
    const core = crossEntropy(z, y, { classes: k, labelSmoothing: 0.4, noise: { matrix: S }, grad: true });
    assert.equal(value.dataSync()[0], Math.fround(core.loss as number));
    assert.deepEqual(grad.dataSync(), core.grad);
    tf.dispose([zt, yt, value, grad]);
  });
});
