// The label-smoothing family on the float64 reference: confidence penalty, focal loss (Keras
// semantics), FLSD-53, class-conditional noise and online label smoothing. Fixtures from
// scripts/make_family_fixtures.py (torch 1.13, float64); gradients also against finite differences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CrossEntropyOptions,
  crossEntropy,
  kernelInfo,
  LabelSmoothingError,
  OnlineLabelSmoothing,
  smoothLabels,
} from '../packages/labelsmooth/src/index.js';
import { softmaxCrossEntropy } from '../packages/labelsmooth/src/tfjs/index.js';
import { assertClose, loadFixtures } from './helpers/fixtures.js';
import { tf, useBackend } from './helpers/tf.js';

describe('family fixtures (torch float64): loss, parts, entropy and gradient within 1e-6', () => {
  for (const c of loadFixtures('family.json')) {
    it(c.name, () => {
      const z = Float64Array.from(c.logits as number[]);
      const y = c.targetKind === 'probs' ? Float64Array.from(c.target) : Int32Array.from(c.target);
      const r = crossEntropy(z, y, { ...(c.options as CrossEntropyOptions), classes: c.classes, grad: true });
      const tol = { rtol: 1e-6, atol: 1e-9 };
      assertClose(r.loss as number | Float64Array, c.loss, tol);
      assertClose(r.nll as number | Float64Array, c.nll, tol);
      assertClose(r.smoothing as number | Float64Array, c.smoothing, tol);
      const entropy = (c as unknown as { entropy?: number | number[] }).entropy;
      if (entropy !== undefined) assertClose(r.entropy as number | Float64Array, entropy, tol);
      else assert.equal(r.entropy, undefined);
      assertClose(r.grad!, c.grad, tol);
    });
  }
});

describe("Keras' documented example of categorical_focal_crossentropy (alpha 0.25, gamma 2)", () => {
  it('y_pred [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]], y_true [1, 2] → [2.6340128e-04, 6.7591208e-01]', () => {
    // Probabilities enter as logits log p (softmax(log p) = p). Keras computes in float32: rtol 1e-5.
    const z = [
      [0.05, 0.9, 0.05],
      [0.1, 0.85, 0.05],
    ].map((row) => row.map(Math.log));
    const r = crossEntropy(z, [1, 2], { focalGamma: 2, focalAlpha: 0.25, reduction: 'none' });
    assertClose(r.loss, [2.6340128e-4, 6.7591208e-1], { rtol: 1e-5 });
  });
});

const logit = fc.double({ min: -12, max: 12, noNaN: true });
const family = fc
  .record({ n: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 2, max: 6 }) })
  .chain(({ n, k }) =>
    fc.record({
      n: fc.constant(n),
      k: fc.constant(k),
      z: fc.array(logit, { minLength: n * k, maxLength: n * k }),
      y: fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: n, maxLength: n }),
      eps: fc.double({ min: 0, max: 1, noNaN: true }),
      beta: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
      gamma: fc.option(
        fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.constant('flsd-53' as const)),
        {
          nil: undefined,
        },
      ),
      alpha: fc.double({ min: 0.05, max: 2, noNaN: true }),
      weight: fc.option(
        fc.array(fc.double({ min: 0.1, max: 3, noNaN: true }), { minLength: k, maxLength: k }),
        {
          nil: undefined,
        },
      ),
      matrix: fc.option(
        fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: k * k, maxLength: k * k }),
        { nil: undefined },
      ),
    }),
  );

describe('family properties', () => {
  it('gradients equal central finite differences; no NaN (|z| ≤ 12, γ ≤ 5, every combination)', () => {
    fc.assert(
      fc.property(family, fc.constantFrom('mean', 'sum'), (p, reduction) => {
        const k = p.k;
        const matrix = p.matrix?.slice();
        if (matrix)
          for (let r = 0; r < k; r++) {
            let s = 0;
            for (let c = 0; c < k; c++) s += matrix[r * k + c];
            for (let c = 0; c < k; c++) matrix[r * k + c] /= s;
          }
        const o: CrossEntropyOptions = {
          classes: k,
          labelSmoothing: p.eps,
          confidencePenalty: p.beta,
          focalGamma: p.gamma,
          focalAlpha: p.gamma === undefined ? undefined : p.alpha,
          weight: p.weight,
          noise: matrix ? { matrix } : 'uniform',
          reduction: reduction as 'mean',
        };
        const x = Float64Array.from(p.z);
        const r = crossEntropy(x, p.y, { ...o, grad: true });
        assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
        const h = 1e-6;
        for (let j = 0; j < x.length; j++) {
          const v = x[j];
          x[j] = v + h;
          const up = crossEntropy(x, p.y, o).loss;
          x[j] = v - h;
          const down = crossEntropy(x, p.y, o).loss;
          x[j] = v;
          const fd = (up - down) / (2 * h);
          // FLSD-53's γ switches at q_y = 0.2: a finite difference across the switch is not a derivative.
          if (p.gamma === 'flsd-53') {
            const q = crossEntropy(x, p.y, { classes: k, reduction: 'none' }).nll;
            if (Array.from(q).some((l) => Math.abs(Math.exp(-l) - 0.2) < 1e-4)) return;
          }
          assert.ok(Number.isFinite(r.grad![j]));
          assert.ok(
            Math.abs(fd - r.grad![j]) <= 2e-5 * (1 + Math.abs(fd)),
            `j=${j}: fd ${fd} vs ${r.grad![j]}`,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('γ = 0, α = 1 is cross-entropy; β = 0 adds nothing; a uniform matrix is uniform noise', () => {
    const z = Float64Array.from({ length: 12 }, (_, j) => Math.sin(j) * 3);
    const y = [0, 3, 1];
    const base = crossEntropy(z, y, { classes: 4, labelSmoothing: 0.2, grad: true });
    const same: CrossEntropyOptions[] = [
      { focalGamma: 0 },
      { confidencePenalty: 0 },
      { noise: { matrix: new Array(16).fill(0.25) } },
    ];
    for (const extra of same) {
      const r = crossEntropy(z, y, { classes: 4, labelSmoothing: 0.2, grad: true, ...extra });
      assertClose(r.loss, base.loss, { rtol: 1e-14 });
      assertClose(r.grad!, base.grad!, { rtol: 1e-12, atol: 1e-15 });
    }
  });

  it('the confidence penalty lowers the loss by β·H(q) and is reported as entropy', () => {
    const z = [[2, 1, 0, -1]];
    const total = z[0].reduce((s, v) => s + Math.exp(v), 0);
    const probs = z[0].map((v) => Math.exp(v) / total);
    const h = -probs.reduce((s, p) => s + p * Math.log(p), 0);
    const plain = crossEntropy(z, [0], { labelSmoothing: 0.1 });
    const r = crossEntropy(z, [0], { labelSmoothing: 0.1, confidencePenalty: 0.7 });
    assertClose(r.entropy!, h, { rtol: 1e-14 });
    assertClose(r.loss, plain.loss - 0.7 * h, { rtol: 1e-14 });
  });
});

describe('class-conditional noise u(·|y) = S[y]', () => {
  it('smoothLabels gives (1−ε)·onehot(y) + ε·S[y]; masked classes renormalized', () => {
    const S = [0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.25, 0.25, 0.5];
    assertClose(
      smoothLabels([1, 2], { classes: 3, labelSmoothing: 0.5, noise: { matrix: S } }),
      [0.05, 0.8, 0.15, 0.125, 0.125, 0.75],
      {
        rtol: 1e-14,
      },
    );
    assertClose(
      smoothLabels([0], { classes: 3, labelSmoothing: 0.5, noise: { matrix: S }, classMask: [1, 1, 0] }),
      [0.5 + 0.5 * (0.7 / 0.9), 0.5 * (0.2 / 0.9), 0],
      { rtol: 1e-14 },
    );
  });
  it('rejects rows that are not distributions, wrong shapes and unknown keys', () => {
    const bad: [unknown, RegExp][] = [
      [{ matrix: [0.5, 0.5, 0.5, 0.6] }, /options.noise.matrix\[1\] = 1.1: row 1 must sum to 1/],
      // float arrays are read in place and checked by a fast loop first: the same errors
      [
        { matrix: Float64Array.of(0.5, 0.5, 0.5, 0.6) },
        /options.noise.matrix\[1\] = 1.1: row 1 must sum to 1/,
      ],
      [
        { matrix: Float32Array.of(0.5, 0.5, -0.5, 1.5) },
        /options.noise.matrix\[2\] = -0.5: must be finite and ≥ 0/,
      ],
      [{ matrix: Float64Array.of(1, 0, Number.NaN, 1) }, /options.noise.matrix\[2\] = NaN: must be finite/],
      [{ matrix: [1, 0, 0] }, /options.noise.matrix = Array\(length 3\): expected K×K = 4/],
      [{ matrix: [1, 0, 0, 1], prior: 1 }, /options.noise.prior = 1: unknown key/],
      [{}, /options.noise.matrix = undefined/],
    ];
    for (const [noise, re] of bad)
      assert.throws(
        () => crossEntropy([[1, 2]], [1], { noise: noise as never }),
        (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message),
      );
  });
  it('checks the rows the batch uses: S[y] of each label, each class with target mass', () => {
    // Row 1 is not a distribution; row 0 is.
    for (const matrix of [[1, 0, 0.5, 0.6], Float64Array.of(1, 0, 0.5, 0.6)]) {
      const noise = { matrix };
      const ok = crossEntropy([[1, 2]], [0], { noise, labelSmoothing: 0.1 }).loss;
      const plain = crossEntropy([[1, 2]], [0], {
        noise: { matrix: [1, 0, 0, 1] },
        labelSmoothing: 0.1,
      }).loss;
      assert.equal(ok, plain, 'row 1 does not enter the loss of label 0');
      assert.equal(crossEntropy([[1, 2]], [-100], { noise, labelSmoothing: 0.1 }).denominator, 0);
      const bad = /options.noise.matrix\[1\] = 1.1: row 1 must sum to 1/;
      for (const target of [[1], [[0.5, 0.5]], [[0, 1]]] as const)
        assert.throws(
          () => crossEntropy([[1, 2]], target as never, { noise, labelSmoothing: 0.1 }),
          (e: unknown) => e instanceof LabelSmoothingError && bad.test(e.message),
        );
      assert.doesNotThrow(() => crossEntropy([[1, 2]], [[1, 0]], { noise, labelSmoothing: 0.1 }));
    }
    // An unused row is never read, not even as 0·S[y]: a NaN there changes nothing.
    const S = [1 / 3, 1 / 3, 1 / 3, 0.5, 0.25, 0.25, Number.NaN, 0, 0];
    const clean = [1 / 3, 1 / 3, 1 / 3, 0.5, 0.25, 0.25, 1, 0, 0];
    const probs = [
      [0.7, 0.3, 0],
      [0.2, 0.8, 0],
    ];
    const z = [
      [1, 2, 0.5],
      [0, -1, 2],
    ];
    const a = crossEntropy(z, probs, { noise: { matrix: S }, labelSmoothing: 0.2 });
    const b = crossEntropy(z, probs, { noise: { matrix: clean }, labelSmoothing: 0.2 });
    assert.ok(Number.isFinite(a.loss));
    assert.equal(a.loss, b.loss);
    assert.deepEqual(
      smoothLabels(probs, { classes: 3, noise: { matrix: S }, labelSmoothing: 0.2 }),
      smoothLabels(probs, { classes: 3, noise: { matrix: clean }, labelSmoothing: 0.2 }),
    );
  });
});

describe('options of the family are validated', () => {
  const cases: [CrossEntropyOptions, RegExp][] = [
    [{ confidencePenalty: -1 }, /options.confidencePenalty = -1: must be a finite number ≥ 0/],
    [{ confidencePenalty: '0.1' as never }, /options.confidencePenalty = "0.1"/],
    [{ focalGamma: -2 }, /options.focalGamma = -2: must be a finite number ≥ 0 or 'flsd-53'/],
    [{ focalGamma: 'flsd' as never }, /options.focalGamma = "flsd"/],
    [{ focalGamma: 2, focalAlpha: 0 }, /options.focalAlpha = 0: must be a finite number > 0/],
    [{ focalAlpha: 0.25 }, /options.focalAlpha = 0.25: needs options.focalGamma/],
  ];
  for (const [o, re] of cases)
    it(re.source, () =>
      assert.throws(
        () => crossEntropy([[1, 2]], [0], o),
        (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message),
      ),
    );
  it("kernel: 'wasm' runs them on the SIMD kernel (test/kernelFamily.test.ts checks its numbers)", () => {
    const z = new Float32Array(4096);
    for (const o of [
      { focalGamma: 2 },
      { confidencePenalty: 0.1 },
      { noise: { matrix: Array(64).fill(1 / 8) } },
    ]) {
      crossEntropy(z, new Int32Array(512), { classes: 8, ...o, kernel: 'wasm' });
      assert.equal(kernelInfo().last?.path, 'wasm');
    }
  });
});

describe('OnlineLabelSmoothing (Zhang et al. 2021)', () => {
  it('starts uniform, averages q over correctly classified examples per class, keeps rows without any', () => {
    const ols = new OnlineLabelSmoothing(3);
    assert.deepEqual(Array.from(ols.matrix), new Array(9).fill(1 / 3));
    const z = [
      [3, 1, 0], // class 0, correct
      [2, 0, 1], // class 0, correct
      [0, 2, 1], // class 0, wrong: not counted
      [0, 1, 4], // class 2, correct
    ];
    ols.update(z, [0, 0, 0, 2]);
    ols.update([[1, 5, 0]], [-100]); // ignored
    assert.deepEqual(Array.from(ols.counted), [2, 0, 1]);
    const softmax = (r: number[]) => {
      const s = r.reduce((a, v) => a + Math.exp(v), 0);
      return r.map((v) => Math.exp(v) / s);
    };
    const q0 = softmax(z[0]);
    const q1 = softmax(z[1]);
    const S = ols.nextEpoch();
    assertClose(
      S.subarray(0, 3),
      [0, 1, 2].map((c) => (q0[c] + q1[c]) / 2),
      { rtol: 1e-14 },
    );
    assertClose(S.subarray(3, 6), [1 / 3, 1 / 3, 1 / 3], { rtol: 1e-14 });
    assertClose(S.subarray(6, 9), softmax(z[3]), { rtol: 1e-14 });
    assert.deepEqual(Array.from(ols.counted), [0, 0, 0]);
    // Training on it: the paper's target α·onehot + (1−α)·S[y] with α = 0.5.
    const r = crossEntropy([[1, 0, 0]], [2], { noise: { matrix: S }, labelSmoothing: 0.5 });
    const logq = [1, 0, 0].map((v) => v - Math.log(Math.E + 2));
    const expected = -(0.5 * logq[2] + 0.5 * [0, 1, 2].reduce((a, c) => a + S[6 + c] * logq[c], 0));
    assertClose(r.loss, expected, { rtol: 1e-14 });
  });
  it('bad input is a LabelSmoothingError', () => {
    const ols = new OnlineLabelSmoothing(2);
    assert.throws(() => ols.update([[1, 2]], [5]), LabelSmoothingError);
    assert.throws(() => ols.update([[1, 2]], [0], { classes: 3 }), LabelSmoothingError);
    assert.throws(() => ols.update([[1, Number.NaN]], [0]), LabelSmoothingError);
    assert.throws(() => ols.update([[1, 2]], [0], { ignore_index: 1 } as never), /did you mean ignoreIndex/);
    assert.throws(() => new OnlineLabelSmoothing(0), LabelSmoothingError);
  });
});

describe('the TF.js op takes the family options', () => {
  it('value and tf.grad equal the core (focal + confidence penalty + class-conditional noise)', async () => {
    await useBackend('cpu');
    const k = 4;
    const data = Float32Array.from({ length: 3 * k }, (_, j) => Math.cos(j * 1.3) * 2);
    const matrix = [0.4, 0.2, 0.2, 0.2, 0.1, 0.7, 0.1, 0.1, 0.25, 0.25, 0.25, 0.25, 0.3, 0.3, 0.3, 0.1];
    const o = {
      labelSmoothing: 0.2,
      focalGamma: 2,
      focalAlpha: 0.25,
      confidencePenalty: 0.3,
      noise: { matrix },
    };
    const core = crossEntropy(data, [0, 3, 1], { ...o, classes: k, grad: true });
    const logits = tf.tensor2d(data, [3, k]);
    const { value, grad } = tf.valueAndGrad(
      (x: tf.Tensor) => softmaxCrossEntropy([0, 3, 1], x, o) as tf.Scalar,
    )(logits);
    assertClose(value.dataSync()[0], core.loss, { rtol: 1e-6 });
    assertClose(grad.dataSync() as Float32Array, core.grad!, { rtol: 1e-5, atol: 1e-7 });
    tf.dispose([logits, value, grad]);
  });
});

describe('in-place mode with the family options', () => {
  it('grad: logits gives the same loss and gradient as grad: true (focal, penalty, matrix, weights)', () => {
    const k = 5;
    const z = Float64Array.from({ length: 6 * k }, (_, j) => Math.sin(j * 0.9) * 4);
    const matrix = Array.from({ length: k * k }, (_, j) => (j % (k + 1) === 0 ? 0.6 : 0.1));
    const o: CrossEntropyOptions = {
      classes: k,
      labelSmoothing: 0.3,
      focalGamma: 'flsd-53',
      focalAlpha: 0.5,
      confidencePenalty: 0.4,
      noise: { matrix },
      weight: [1, 2, 0.5, 1.5, 1],
      reduction: 'none',
    };
    const y = [0, 4, 2, -100, 1, 3];
    const expected = crossEntropy(z.slice(), y, { ...o, grad: true });
    const r = crossEntropy(z, y, { ...o, grad: z });
    assertClose(r.loss, expected.loss, { rtol: 1e-14 });
    assertClose(z, expected.grad!, { rtol: 1e-14, atol: 1e-300 });
  });
});
