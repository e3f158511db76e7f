// The language-model options on the WASM kernel: soft-capping, the z-loss and the per-row lse. Against the
// torch float64 fixtures (scripts/make_lm_fixtures.py), the float64 reference on the same float32 logits,
// central differences of the reference's loss; threads and workspaces to the last bit of one thread.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CrossEntropyOptions,
  type CrossEntropyResult,
  crossEntropy,
  initKernels,
  type KernelEvent,
  kernelInfo,
  kernelWorkspace,
  LabelSmoothingError,
  onKernelEvent,
} from '../packages/labelsmooth/src/index.js';
import { threadStats } from '../packages/labelsmooth/src/kernels/threads.js';
import { loadLmFixtures } from './helpers/fixtures.js';
import {
  assertPartsClose,
  type ExpectedParts,
  float32Batch,
  lmFixtureCall,
} from './helpers/languageModel.js';
import { lcg } from './helpers/lcg.js';

const sum = (x: number | Float64Array | number[]) =>
  typeof x === 'number' ? x : Array.from(x).reduce((a, b) => a + b, 0);

/**
 * The kernel's result against an expected one (the reference's, or torch's): the loss and its parts within
 * 1e−5 relative (plus `slack`), lse within 1e−6·(1 + |lse|), gradient entries within 1e−5 relative or
 * 2e−6 of the row's gradient scale `rowScale` (as kernel.test.ts: the float32 exp is accurate to ~1e−7).
 */
function assertKernelClose(
  a: CrossEntropyResult,
  b: ExpectedParts,
  { rowScale, label, slack = 1e-9 }: { rowScale: number; label: string; slack?: number },
): void {
  assertPartsClose(
    a,
    b,
    (part, e) =>
      part === 'lse'
        ? 1e-6 * (1 + Math.abs(e))
        : part === 'grad'
          ? 1e-5 * Math.abs(e) + 2e-6 * rowScale
          : slack + 1e-5 * Math.abs(e),
    label,
  );
}

/** The gradient scale of a row: the reduction's factor × (1 + the z-loss's 2ζ·|lse|) × the weights. */
function gradScale(r: CrossEntropyResult, o: CrossEntropyOptions, rows: number): number {
  const mean = (o.reduction ?? 'mean') === 'mean';
  const g = mean ? 1 / Math.max(r.denominator, 1e-300) : 1;
  const zg = mean ? 1 / rows : 1;
  const lse = r.lse ? Math.max(...Array.from(r.lse, Math.abs)) : 30;
  const w = Math.max(1, ...((o.weight as number[]) ?? []), ...((o.sampleWeight as number[]) ?? []));
  return w * w * (g + 2 * (o.zLoss ?? 0) * lse * zg);
}

describe('WASM kernel with softcap, zLoss and lse: the torch fixtures', () => {
  for (const c of loadLmFixtures()) {
    it(c.name, () => {
      const { rows, y, options } = lmFixtureCall(c);
      const z = Float32Array.from(c.logits);
      const wasm = crossEntropy(z, y, { ...options, kernel: 'wasm' });
      assert.equal(kernelInfo().last?.path, 'wasm');
      const rowScale = gradScale(wasm, c.options, rows);
      // torch ran on the float64 logits; these are rounded to float32 (≤ 6e−8 relative): a few 1e−7 more.
      assertKernelClose(wasm, c, { rowScale: 2 * rowScale, label: 'torch' });
      assert.equal(wasm.denominator, c.denominator);
      // and the float64 reference on the same float32 logits, to the kernel tests' tolerance
      const js = crossEntropy(z, y, { ...options, kernel: 'js' });
      assertKernelClose(wasm, { ...js, lse: js.lse!, grad: js.grad! }, { rowScale, label: 'reference' });
    });
  }
});

/** One random problem with language-model options, through the kernel and the reference. */
function randomCase(
  n: number,
  k: number,
  seed: number,
  lm: { softcap: boolean; zLoss: boolean; lse: boolean },
  reduction: 'mean' | 'sum' | 'none',
  more: { masked: boolean; weighting: string; sampled: boolean; noise: string; eps: number },
): void {
  const rnd = lcg(seed);
  const mask = more.masked ? Array.from({ length: k }, (_, c) => (c < 2 || rnd() < 0.7 ? 1 : 0)) : undefined;
  const z = Float32Array.from({ length: n * k }, (_, j) =>
    mask && !mask[j % k] ? -Infinity : (rnd() - 0.5) * 40,
  );
  const y = Int32Array.from({ length: n }, () => (rnd() < 0.2 ? -100 : Math.floor(rnd() * (mask ? 2 : k))));
  const options: CrossEntropyOptions = {
    classes: k,
    labelSmoothing: more.eps,
    noise: more.noise as 'uniform',
    classMask: mask,
    weight: more.weighting === 'none' ? undefined : Array.from({ length: k }, () => 0.1 + 2 * rnd()),
    weightMode: more.weighting === 'per-example' ? 'per-example' : 'per-class',
    sampleWeight: more.sampled ? Array.from({ length: n }, () => rnd() * 2) : undefined,
    reduction,
    grad: true,
    softcap: lm.softcap ? 0.5 + rnd() * 30 : undefined,
    zLoss: lm.zLoss ? rnd() * 0.1 : undefined,
    lse: lm.lse,
  };
  const js = crossEntropy(z, y, { ...options, kernel: 'js' });
  const wasm = crossEntropy(z, y, { ...options, kernel: 'wasm' });
  assert.equal(kernelInfo().last?.path, 'wasm');
  // |z| ≤ 20 (or ≤ c): the smoothing part sums terms of that size, compared with 1e−9 of them per row
  const slack = 20e-9 * n * 4 * (1 + (options.zLoss ?? 0) * 400);
  const label = JSON.stringify({ n, k, seed, lm, reduction, more });
  const rowScale = gradScale(js, options, n);
  assertKernelClose(wasm, { ...js, lse: js.lse, grad: js.grad! }, { rowScale, label, slack });
  if (!lm.lse) assert.equal(wasm.lse, undefined);
}

describe('WASM kernel with softcap, zLoss and lse = the float64 reference', () => {
  it('random problems: every combination, noise, mask, both weight modes, sample weights, padding, reductions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 2, max: 70 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.record({ softcap: fc.boolean(), zLoss: fc.boolean(), lse: fc.boolean() }),
        fc.constantFrom('mean', 'sum', 'none'),
        fc.record({
          masked: fc.boolean(),
          weighting: fc.constantFrom('none', 'per-class', 'per-example'),
          sampled: fc.boolean(),
          noise: fc.constantFrom('uniform', 'non-target'),
          eps: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        (n, k, seed, lm, reduction, more) => {
          if (!lm.softcap && !lm.zLoss && !lm.lse) lm.zLoss = true;
          randomCase(n, k, seed, lm, reduction as 'mean', more);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rows of several blocks (V = 50 000) with a saturating cap and extreme logits', () => {
    const k = 50000;
    const z = Float32Array.from({ length: 3 * k }, (_, j) => Math.sin(j) * 20 + (j === 7 ? 1e4 : 0));
    const y = Int32Array.of(7, 49999, -100);
    for (const softcap of [30, 2]) {
      const o = { classes: k, labelSmoothing: 0.1, grad: true, softcap, zLoss: 1e-3, lse: true } as const;
      const js = crossEntropy(z, y, { ...o, kernel: 'js' });
      const wasm = crossEntropy(z, y, { ...o, kernel: 'wasm' });
      assertKernelClose(
        wasm,
        { ...js, lse: js.lse!, grad: js.grad! },
        {
          rowScale: gradScale(js, o, 3),
          label: `softcap ${softcap}`,
        },
      );
    }
  });

  it('the gradient against central differences of the float64 loss at the same float32 logits', () => {
    const k = 9;
    const n = 6;
    const z = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j * 1.3) * 6);
    const y = Int32Array.from([3, -100, 0, 8, 1, 5]);
    const o: CrossEntropyOptions = {
      classes: k,
      softcap: 4,
      zLoss: 0.02,
      labelSmoothing: 0.1,
      reduction: 'sum',
    };
    const wasm = crossEntropy(z, y, { ...o, grad: true, kernel: 'wasm' });
    assert.equal(kernelInfo().last?.path, 'wasm');
    const z64 = Float64Array.from(z);
    const h = 1e-6;
    for (let j = 0; j < z.length; j++) {
      const up = z64.slice();
      up[j] += h;
      const down = z64.slice();
      down[j] -= h;
      const fd =
        ((crossEntropy(up, y, o).loss as number) - (crossEntropy(down, y, o).loss as number)) / (2 * h);
      assert.ok(
        Math.abs(wasm.grad![j] - fd) <= 1e-5 * Math.abs(fd) + 2e-6,
        `grad[${j}] ${wasm.grad![j]} vs ${fd}`,
      );
    }
  });

  it('mean over rows whose target classes all weigh 0: the z-loss alone has a gradient', () => {
    const k = 4;
    const z = Float32Array.from({ length: 3 * k }, (_, j) => Math.cos(j) * 3);
    const y = Int32Array.from([1, 1, -100]);
    const o: CrossEntropyOptions = { classes: k, weight: [1, 0, 1, 1], zLoss: 0.05, grad: true };
    const js = crossEntropy(z, y, { ...o, kernel: 'js' });
    const wasm = crossEntropy(z, y, { ...o, kernel: 'wasm' });
    assert.equal(js.denominator, 0);
    assert.ok(
      js.grad!.some((g) => g !== 0),
      'the z-loss has a gradient',
    );
    assertKernelClose(wasm, { ...js, grad: js.grad! }, { rowScale: 1, label: 'zero weights' });
  });

  it('infinite logits of rows that are not ignored are capped to ±c, as on the reference', () => {
    const k = 16;
    const z = Float32Array.from({ length: 4 * k }, (_, j) => Math.sin(j) * 5);
    z[3] = Infinity;
    z[k + 5] = -Infinity;
    const y = Int32Array.from([3, 5, 0, 1]);
    const o = { classes: k, softcap: 2, zLoss: 0.01, lse: true, grad: true } as const;
    const js = crossEntropy(z, y, { ...o, kernel: 'js' });
    const wasm = crossEntropy(z, y, { ...o, kernel: 'wasm' });
    assert.equal(kernelInfo().last?.path, 'wasm');
    assertKernelClose(wasm, { ...js, lse: js.lse!, grad: js.grad! }, { rowScale: 1, label: '±Infinity' });
  });

  it('the in-place mode (grad: logits) through the kernel', () => {
    const k = 300;
    const z = Float32Array.from({ length: 40 * k }, (_, j) => Math.sin(j * 0.1) * 9);
    const y = Int32Array.from({ length: 40 }, (_, i) => (i % 6 === 1 ? -100 : (i * 37) % k));
    const o = { classes: k, softcap: 5, zLoss: 1e-3, lse: true, labelSmoothing: 0.1 } as const;
    const expected = crossEntropy(z, y, { ...o, grad: true, kernel: 'wasm' });
    const own = z.slice();
    const r = crossEntropy(own, y, { ...o, grad: own, kernel: 'wasm' });
    assert.equal(kernelInfo().last?.path, 'wasm');
    assert.deepEqual(own, expected.grad);
    assert.equal(r.loss, expected.loss);
    assert.deepEqual(r.lse, expected.lse);
  });
});

describe('WASM kernel with softcap, zLoss and lse: dispatch', () => {
  const { v, z, y } = float32Batch();

  it('float32 batches run on the kernel, kernelInfo says so', () => {
    for (const o of [{ zLoss: 1e-4 }, { softcap: 30 }, { lse: true }] as CrossEntropyOptions[]) {
      crossEntropy(z, y, { ...o, classes: v, grad: true });
      assert.equal(kernelInfo().last!.path, 'wasm', JSON.stringify(o));
    }
  });

  it('zLoss 0 on the kernel: a z-loss of 0 in the result, the plain loss and gradient to the bit', () => {
    const plain = crossEntropy(z, y, { classes: v, grad: true, kernel: 'wasm' });
    const r = crossEntropy(z, y, { classes: v, grad: true, kernel: 'wasm', zLoss: 0 });
    assert.equal(r.zLoss, 0);
    assert.equal(r.loss, plain.loss);
    assert.deepEqual(r.grad, plain.grad);
  });

  it('with the family options they take the reference; kernel: wasm is refused saying why', () => {
    crossEntropy(z, y, { classes: v, zLoss: 1e-4, focalGamma: 2 });
    const info = kernelInfo().last!;
    assert.equal(info.path, 'js');
    assert.match(
      info.reason,
      /softcap, zLoss and lse with the confidence penalty, focal loss or class-conditional/,
    );
    assert.throws(
      () => crossEntropy(z, y, { classes: v, softcap: 30, confidencePenalty: 0.1, kernel: 'wasm' }),
      (e: unknown) =>
        e instanceof LabelSmoothingError &&
        /^crossEntropy: options\.kernel = "wasm": softcap, zLoss and lse with the confidence penalty/.test(
          e.message,
        ),
    );
  });

  it('a cap or ζ outside the float32 range falls back to the reference, observably', () => {
    const events: KernelEvent[] = [];
    const off = onKernelEvent((e) => events.push(e));
    try {
      const r = crossEntropy(z, y, { classes: v, softcap: 1e-35, kernel: 'wasm' });
      const js = crossEntropy(z, y, { classes: v, softcap: 1e-35, kernel: 'js' });
      assert.equal(r.loss, js.loss);
      assert.equal(kernelInfo().last!.path, 'js');
      assert.ok(events.some((e) => e.type === 'fallback' && e.reason === 'float32-range'));
    } finally {
      off();
    }
  });

  it('bad values are refused on the kernel path as on the reference path, naming function, option and value', () => {
    const bad: [CrossEntropyOptions, RegExp][] = [
      [{ softcap: 0 }, /^crossEntropy: options\.softcap = 0: must be a finite number > 0/],
      [{ softcap: -3 }, /^crossEntropy: options\.softcap = -3: must be a finite number > 0/],
      [{ softcap: Number.NaN }, /^crossEntropy: options\.softcap = NaN/],
      [{ zLoss: -1e-4 }, /^crossEntropy: options\.zLoss = -0\.0001: must be a finite number ≥ 0/],
      [{ zLoss: Number.NaN }, /^crossEntropy: options\.zLoss = NaN/],
      [{ lse: 'yes' as unknown as boolean }, /^crossEntropy: options\.lse = "yes": must be a boolean/],
    ];
    for (const [o, message] of bad)
      for (const kernel of ['wasm', 'js'] as const)
        assert.throws(
          () => crossEntropy(z, y, { ...o, classes: v, kernel }),
          (e: unknown) => e instanceof LabelSmoothingError && message.test(e.message),
          `${JSON.stringify(o)} ${kernel}`,
        );
  });

  it('a NaN logit is reported as on the reference path (soft-capping does not hide it)', () => {
    const bad = z.slice();
    bad[70] = Number.NaN;
    assert.throws(
      () => crossEntropy(bad, y, { classes: v, softcap: 30, zLoss: 1e-4, kernel: 'wasm' }),
      (e: unknown) =>
        e instanceof LabelSmoothingError &&
        /logits\[70\] = NaN: must be finite \(row 1, class 6\)/.test(e.message),
    );
  });
});

describe('WASM kernel with softcap, zLoss and lse: threads and workspaces, bit for bit', () => {
  // [B, T, V] = [4, 128, 2048]: 2²⁰ logits, the threads' threshold; every fifth position is padding.
  const [B, T, V] = [4, 128, 2048];
  const N = B * T;
  const y = Int32Array.from({ length: N }, (_, i) => (i % 5 === 2 ? -100 : (i * 131) % V));
  const fill = (z: Float32Array) => {
    for (let j = 0; j < z.length; j++) z[j] = Math.sin(j * 0.37) * 12;
    return z;
  };
  const lm = { softcap: 10, zLoss: 1e-3, lse: true, labelSmoothing: 0.1 } as const;

  before(async () => {
    assert.equal((await initKernels()).threads, true, 'the worker pool runs on this machine');
  });

  const same = (a: CrossEntropyResult, b: CrossEntropyResult) => {
    assert.deepEqual(a.loss, b.loss);
    assert.deepEqual(a.zLoss, b.zLoss);
    assert.deepEqual(a.lse, b.lse);
    assert.deepEqual(a.grad, b.grad);
  };

  for (const reduction of ['mean', 'sum', 'none'] as const)
    for (const shared of [false, true])
      it(`${shared ? 'SharedArrayBuffer' : 'plain'} logits, ${reduction}: threads = one thread`, () => {
        const z = fill(
          new Float32Array(shared ? new SharedArrayBuffer(4 * N * V) : new ArrayBuffer(4 * N * V)),
        );
        const o = {
          ...lm,
          classes: V,
          reduction,
          grad: true,
          sampleWeight: Array.from({ length: N }, (_, i) => 1 + (i % 3)),
        };
        const one = crossEntropy(z, y, { ...o, threads: false });
        assert.equal(kernelInfo().last!.path, 'wasm');
        // A worker that wakes late may take no chunk on a loaded machine: a few calls until one does, each
        // compared to the last bit.
        let many = one;
        let workerChunks = 0;
        for (let call = 0; call < 20 && workerChunks === 0; call++) {
          many = crossEntropy(z, y, { ...o, threads: true });
          assert.equal(kernelInfo().last!.path, 'wasm-threads');
          same(many, one);
          workerChunks = threadStats.chunks.slice(1).reduce((a, b) => a + b, 0);
        }
        assert.ok(workerChunks > 0, 'a worker took chunks in one of 20 calls');
        // and the reference, to the kernel's tolerance
        const js = crossEntropy(z, y, { ...o, kernel: 'js' });
        assert.ok(Math.abs(sum(many.zLoss!) - sum(js.zLoss!)) <= 1e-5 * Math.abs(sum(js.zLoss!)));
        assert.ok(Math.abs(sum(many.loss) - sum(js.loss)) <= 1e-5 * Math.abs(sum(js.loss)));
      });

  it('a mid-size batch (staged through the shared memory, every thread) = one thread', () => {
    const n = 128;
    const z = fill(new Float32Array(n * V));
    const o = { ...lm, classes: V, grad: true };
    const one = crossEntropy(z, y.subarray(0, n), { ...o, threads: false });
    const many = crossEntropy(z, y.subarray(0, n), o);
    assert.match(kernelInfo().last!.reason, /staged through the kernel's shared memory/);
    same(many, one);
  });

  for (const threads of [true, false])
    it(`workspace buffers (${threads ? 'every thread' : 'one thread'}) = the ordinary path`, () => {
      const ws = kernelWorkspace(N, V);
      try {
        fill(ws.logits);
        const logits = ws.logits.slice();
        const o = { ...lm, classes: V, threads, reduction: 'none' as const };
        const onWs = crossEntropy(ws.logits, y, { ...o, grad: ws.grad });
        assert.match(kernelInfo().last!.reason, /in place in the kernel's memory/);
        assert.equal(kernelInfo().last!.path, threads ? 'wasm-threads' : 'wasm');
        const plain = crossEntropy(logits, y, { ...o, grad: true, threads: false });
        same({ ...onWs, grad: ws.grad }, plain);
        assert.deepEqual(ws.logits, logits, 'the logits are intact');
      } finally {
        ws.dispose();
      }
    });

  it('a workspace without a gradient (the scratch row keeps z′)', () => {
    const ws = kernelWorkspace(64, V);
    try {
      fill(ws.logits);
      const o = { ...lm, classes: V };
      const onWs = crossEntropy(ws.logits, y.subarray(0, 64), o);
      const plain = crossEntropy(ws.logits.slice(), y.subarray(0, 64), { ...o, threads: false });
      assert.deepEqual(onWs.loss, plain.loss);
      assert.deepEqual(onWs.lse, plain.lse);
    } finally {
      ws.dispose();
    }
  });
});
