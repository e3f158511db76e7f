// The language-model options on the core: soft-capping, z-loss and the per-row log-sum-exp, on sequence
// batches [B, T, V] with padding. Fixtures from scripts/make_lm_fixtures.py (torch 1.13, float64); gradients
// also against central differences; every option checked with a message naming the function and the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CrossEntropyOptions,
  crossEntropy,
  crossEntropyAsync,
  kernelInfo,
  LabelSmoothingError,
} from '../packages/labelsmooth/src/index.js';
import { assertClose, loadLmFixtures } from './helpers/fixtures.js';
import { assertPartsClose, float32Batch, lmFixtureCall } from './helpers/languageModel.js';

const cases = loadLmFixtures();
const tight = { rtol: 1e-9, atol: 1e-12 };

describe('language-model fixtures (torch float64): loss, parts, z-loss, lse and gradient', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { rows, classes, y, options } = lmFixtureCall(c);
      assert.equal(c.logits.length, rows * classes);
      const r = crossEntropy(Float64Array.from(c.logits), y, options);
      assertPartsClose(r, c, (_, e) => tight.atol + tight.rtol * Math.abs(e), c.name);
      assert.equal(r.denominator, c.denominator);
    });
  }
});

/** Central differences of the summed loss of `options` at z, every element. */
function finiteDifferences(z: Float64Array, y: Int32Array, options: CrossEntropyOptions): Float64Array {
  const h = 1e-6;
  const f = (a: Float64Array) => {
    const l = crossEntropy(a, y, options).loss;
    return typeof l === 'number' ? l : (l as Float64Array).reduce((s: number, x: number) => s + x, 0);
  };
  return Float64Array.from(z, (_, j) => {
    const up = z.slice();
    up[j] += h;
    const down = z.slice();
    down[j] -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

describe('gradients of soft-capping and z-loss against central differences', () => {
  const k = 6;
  const z = Float64Array.from({ length: 5 * k }, (_, j) => Math.sin(j * 1.7) * 7);
  const y = Int32Array.from([2, -100, 0, 5, 1]);
  const variants: [string, CrossEntropyOptions][] = [
    ['softcap 4, z-loss 0.01, smoothing 0.1, mean', { softcap: 4, zLoss: 0.01, labelSmoothing: 0.1 }],
    [
      'class weights, a class mask, non-target noise, sum',
      {
        softcap: 3,
        zLoss: 0.02,
        labelSmoothing: 0.2,
        weight: [1, 0.5, 2, 1, 1, 3],
        classMask: [1, 1, 1, 0, 1, 1],
        noise: 'non-target',
        reduction: 'sum',
      },
    ],
    [
      'per-example weights, sample weights, none',
      {
        zLoss: 0.1,
        weight: [1, 2, 3, 1, 1, 0.5],
        weightMode: 'per-example',
        sampleWeight: [1, 2, 0.5, 1, 3],
        reduction: 'none',
      },
    ],
    [
      'normalizer 7, focal and the penalty',
      { softcap: 5, zLoss: 0.05, normalizer: 7, focalGamma: 2, confidencePenalty: 0.1 },
    ],
  ];
  for (const [name, options] of variants) {
    it(name, () => {
      const zz = options.classMask ? z.map((v, j) => (j % k === 3 ? -Infinity : v)) : z;
      const yy = options.classMask ? y.map((l) => (l === 3 ? 4 : l)) : y;
      const r = crossEntropy(zz, yy, { ...options, classes: k, grad: true });
      const fd = finiteDifferences(
        zz.map((v) => (Number.isFinite(v) ? v : -1e300)),
        yy,
        { ...options, classes: k },
      );
      for (let j = 0; j < zz.length; j++) {
        if (!Number.isFinite(zz[j])) assert.equal(r.grad![j], 0);
        else assertClose(r.grad![j], fd[j], { rtol: 1e-6, atol: 5e-8, label: `grad[${j}]` });
      }
    });
  }
});

describe('language-model options: semantics', () => {
  const k = 5;
  const z = Float64Array.from({ length: 4 * k }, (_, j) => Math.cos(j * 0.9) * 3);
  it('z-loss adds β·Σ lse² / (non-ignored rows) to the loss under mean, whatever the class weights', () => {
    const y = [1, -100, 3, 0];
    const weight = [2, 1, 1, 0.5, 1];
    const base = crossEntropy(z, y, { classes: k, weight, lse: true });
    const r = crossEntropy(z, y, { classes: k, weight, zLoss: 0.3, lse: true });
    const lse = base.lse!;
    const expected = (0.3 * (lse[0] ** 2 + lse[2] ** 2 + lse[3] ** 2)) / 3;
    assertClose(r.zLoss!, expected, tight);
    assertClose(r.loss, (base.loss as number) + expected, tight);
    assertClose(r.nll, base.nll, tight);
  });
  it('lse is returned for every row, ignored rows included, and does not change the loss', () => {
    const y = [1, -100, 3, 0];
    const r = crossEntropy(z, y, { classes: k, lse: true, reduction: 'none' });
    const plain = crossEntropy(z, y, { classes: k, reduction: 'none' });
    assert.deepEqual(r.loss, plain.loss);
    assert.equal(plain.lse, undefined);
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(z[i * k + c]);
      assertClose(r.lse![i], Math.log(s), tight);
    }
  });
  it('an all-ignored batch: loss 0, z-loss 0, a zero gradient (never NaN)', () => {
    const r = crossEntropy(z, [-100, -100, -100, -100], { classes: k, zLoss: 1, softcap: 2, grad: true });
    assert.equal(r.loss, 0);
    assert.equal(r.zLoss, 0);
    assert.ok(r.grad!.every((g) => g === 0));
  });
  it('softcap: a large cap changes nothing beyond float64 rounding; a cap bounds the logits it sees', () => {
    const y = [1, 0, 3, 2];
    const plain = crossEntropy(z, y, { classes: k, grad: true, lse: true });
    const loose = crossEntropy(z, y, { classes: k, grad: true, lse: true, softcap: 1e6 });
    assertClose(loose.loss, plain.loss, { rtol: 1e-9 });
    assertClose(loose.grad!, plain.grad!, { rtol: 1e-9, atol: 1e-12 });
    const huge = z.map((v) => v * 1e6);
    const capped = crossEntropy(huge, y, { classes: k, softcap: 1, lse: true });
    for (const l of capped.lse!) assert.ok(l <= 1 + Math.log(k) + 1e-12, `lse ${l}`);
  });
  it('the in-place mode (grad: logits) with softcap and z-loss gives the same gradient', () => {
    const y = [1, 0, -100, 2];
    const options = { classes: k, softcap: 2.5, zLoss: 0.01, labelSmoothing: 0.1 };
    const expected = crossEntropy(z, y, { ...options, grad: true });
    const own = z.slice();
    const r = crossEntropy(own, y, { ...options, grad: own });
    assert.equal(r.grad, own);
    assertClose(own, expected.grad!, { rtol: 0, atol: 0 });
    assert.equal(r.loss, expected.loss);
  });
  it('float32 batches run on the WASM kernel, observably, to float32 precision of the reference', () => {
    const { v, z: z32, y } = float32Batch();
    const options = { classes: v, zLoss: 1e-4, softcap: 3, lse: true, grad: true };
    const r = crossEntropy(z32, y, options);
    assert.equal(kernelInfo().last!.path, 'wasm');
    const ref = crossEntropy(Float64Array.from(z32), y, options);
    assertClose(r.loss, ref.loss, { rtol: 1e-6, label: 'loss' });
    assertClose(r.zLoss!, ref.zLoss!, { rtol: 1e-6, label: 'zLoss' });
    assertClose(r.lse!, ref.lse!, { rtol: 1e-6, label: 'lse' });
    assertClose(r.grad!, ref.grad!, { rtol: 1e-5, atol: 1e-8, label: 'grad' });
    // (test/kernelLanguageModel.test.ts checks the kernel in depth)
  });
  it('crossEntropyAsync takes the options too', async () => {
    const y = [1, -100, 3, 0];
    const options = { classes: k, zLoss: 0.2, softcap: 2, lse: true, grad: true } as const;
    const a = await crossEntropyAsync(z, y, options);
    const b = crossEntropy(z, y, options);
    assert.equal(a.loss, b.loss);
    assert.equal(a.zLoss, b.zLoss);
    assert.deepEqual(a.lse, b.lse);
    assert.deepEqual(a.grad, b.grad);
  });
});

describe('language-model options: validation names the function, the option and the value', () => {
  const z = new Float64Array(6);
  const bad: [CrossEntropyOptions, RegExp][] = [
    [{ softcap: 0 }, /^crossEntropy: options\.softcap = 0: must be a finite number > 0/],
    [{ softcap: -3 }, /^crossEntropy: options\.softcap = -3: must be a finite number > 0/],
    [{ softcap: Number.NaN }, /^crossEntropy: options\.softcap = NaN/],
    [{ softcap: Infinity }, /^crossEntropy: options\.softcap = Infinity/],
    [{ softcap: '30' as unknown as number }, /^crossEntropy: options\.softcap = "30"/],
    [{ zLoss: -1e-4 }, /^crossEntropy: options\.zLoss = -0\.0001: must be a finite number ≥ 0/],
    [{ zLoss: Infinity }, /^crossEntropy: options\.zLoss = Infinity/],
    [{ lse: 1 as unknown as boolean }, /^crossEntropy: options\.lse = 1: must be a boolean/],
    [
      { z_loss: 1e-4 } as CrossEntropyOptions,
      /^crossEntropy: options\.z_loss = 0\.0001: unknown option; did you mean zLoss\?/,
    ],
    [
      { soft_cap: 30 } as CrossEntropyOptions,
      /^crossEntropy: options\.soft_cap = 30: unknown option; did you mean softcap\?/,
    ],
  ];
  for (const [options, message] of bad) {
    it(JSON.stringify(options), () => {
      assert.throws(
        () => crossEntropy(z, [0, 1], { ...options, classes: 3 }),
        (e: unknown) => e instanceof LabelSmoothingError && message.test(e.message),
      );
    });
  }
});
