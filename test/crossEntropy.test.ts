import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossEntropy, LabelSmoothingError, smoothLabels } from '../packages/labelsmooth/src/index.js';
import { assertClose } from './helpers/fixtures.js';

const z = new Float64Array([2, 1, 0, -1, 0.5]);

describe('crossEntropy: known vectors', () => {
  it('z = [2, 1, 0, −1, 0.5], y = 0, ε = 0.1: uniform 0.7244379, non-target 0.7619379', () => {
    assertClose(crossEntropy(z, [0], { classes: 5, labelSmoothing: 0.1 }).loss, 0.7244379, { rtol: 1e-7 });
    assertClose(
      crossEntropy(z, [0], { classes: 5, labelSmoothing: 0.1, noise: 'non-target' }).loss,
      0.7619379,
      {
        rtol: 1e-7,
      },
    );
  });
  it('decomposes into (1−ε)·H(p,q) + ε·H(u,q) with the closed forms', () => {
    const lse = Math.log([2, 1, 0, -1, 0.5].reduce((s, v) => s + Math.exp(v), 0));
    const r = crossEntropy([[2, 1, 0, -1, 0.5]], [0], { labelSmoothing: 0.1 });
    assertClose(r.nll, lse - 2, { rtol: 1e-12 });
    assertClose(r.smoothing, lse - 2.5 / 5, { rtol: 1e-12 });
  });
  it('number[][] and flat typed arrays give the same result', () => {
    const a = crossEntropy([[2, 1, 0, -1, 0.5]], [3], { labelSmoothing: 0.2, grad: true });
    const b = crossEntropy(z, Uint8Array.of(3), { classes: 5, labelSmoothing: 0.2, grad: true });
    assert.equal(a.loss, b.loss);
    assert.deepEqual(Array.from(a.grad!), Array.from(b.grad!));
  });
  it("reduction 'none' returns per-row arrays", () => {
    const r = crossEntropy(
      [
        [1, 2],
        [3, 1],
        [0, 0],
      ],
      [0, 0, -100],
      { labelSmoothing: 0.1, reduction: 'none' },
    );
    assert.ok(r.loss instanceof Float64Array && r.loss.length === 3);
    assert.equal(r.loss[2], 0);
    for (let i = 0; i < 3; i++)
      assertClose(r.loss[i], 0.9 * r.nll[i] + 0.1 * r.smoothing[i], { rtol: 1e-12 });
  });
  it('an all-ignored batch under mean gives loss 0, denominator 0 and a zero gradient', () => {
    const r = crossEntropy(
      [
        [1, 2],
        [3, 4],
      ],
      [-100, -100],
      { labelSmoothing: 0.1, grad: true },
    );
    assert.equal(r.loss, 0);
    assert.equal(r.denominator, 0);
    assert.deepEqual(Array.from(r.grad!), [0, 0, 0, 0]);
  });
  it('masked classes may hold −Infinity and get no mass; equal to dropping the columns', () => {
    const masked = crossEntropy([[2, -Infinity, 0, 1]], [0], {
      labelSmoothing: 0.3,
      classMask: [1, 0, 1, 1],
      grad: true,
    });
    const dropped = crossEntropy([[2, 0, 1]], [0], { labelSmoothing: 0.3, grad: true });
    assertClose(masked.loss, dropped.loss, { rtol: 1e-14 });
    assert.equal(masked.grad![1], 0);
    assertClose([masked.grad![0], masked.grad![2], masked.grad![3]], dropped.grad!, { rtol: 1e-12 });
  });
  it('writes the gradient into a caller buffer, and over the logits only when asked (in-place mode)', () => {
    const logits = new Float32Array([2, 1, 0, -1, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5]);
    const copy = logits.slice();
    const buf = new Float32Array(10);
    const r = crossEntropy(logits, [0, 4], { classes: 5, labelSmoothing: 0.1, grad: buf });
    assert.equal(r.grad, buf);
    assert.deepEqual(logits, copy);
    const inPlace = crossEntropy(logits, [0, 4], { classes: 5, labelSmoothing: 0.1, grad: logits });
    assert.equal(inPlace.grad, logits);
    assert.deepEqual(Array.from(logits), Array.from(buf));
  });
  it('normalizer divides the sum and shards add up to the whole batch', () => {
    const logits = [
      [1, 2, 3],
      [0, 0, 1],
      [2, -1, 0],
      [5, 1, 1],
    ];
    const y = [2, 0, -100, 1];
    const whole = crossEntropy(logits, y, { labelSmoothing: 0.1, grad: true });
    const a = crossEntropy(logits.slice(0, 2), y.slice(0, 2), { labelSmoothing: 0.1, reduction: 'sum' });
    const b = crossEntropy(logits.slice(2), y.slice(2), { labelSmoothing: 0.1, reduction: 'sum' });
    assert.equal(a.denominator + b.denominator, whole.denominator);
    const shard = crossEntropy(logits.slice(2), y.slice(2), {
      labelSmoothing: 0.1,
      reduction: 'sum',
      normalizer: whole.denominator,
      grad: true,
    });
    assertClose((a.loss + b.loss) / whole.denominator, whole.loss, { rtol: 1e-14 });
    assertClose(shard.grad!, whole.grad!.subarray(6), { rtol: 1e-14 });
  });
});

describe('smoothLabels', () => {
  it('uniform, non-target, prior and per-sample noise', () => {
    assertClose(smoothLabels([1], { classes: 4, labelSmoothing: 0.2 }), [0.05, 0.85, 0.05, 0.05], {
      rtol: 1e-14,
    });
    assertClose(
      smoothLabels([1], { classes: 5, labelSmoothing: 0.2, noise: 'non-target' }),
      [0.05, 0.8, 0.05, 0.05, 0.05],
      {
        rtol: 1e-14,
      },
    );
    assertClose(smoothLabels([0], { classes: 2, labelSmoothing: 0.5, noise: [0.2, 0.8] }), [0.6, 0.4], {
      rtol: 1e-14,
    });
    assertClose(
      smoothLabels([0, 1], { classes: 2, labelSmoothing: 1, noise: [0.3, 0.7, 0.9, 0.1] }),
      [0.3, 0.7, 0.9, 0.1],
      {
        rtol: 1e-14,
      },
    );
  });
  it('smooths probability targets (mixup) and leaves ignored rows at zero', () => {
    assertClose(smoothLabels([[0.5, 0.5, 0]], { labelSmoothing: 0.3 }), [0.45, 0.45, 0.1], { rtol: 1e-14 });
    assertClose(smoothLabels([2, -100], { classes: 3, labelSmoothing: 0.3 }), [0.1, 0.1, 0.8, 0, 0, 0], {
      rtol: 1e-14,
    });
  });
  it('spreads ε over the allowed classes only', () => {
    assertClose(
      smoothLabels([0], { classes: 4, labelSmoothing: 0.2, classMask: [1, 1, 0, 0] }),
      [0.9, 0.1, 0, 0],
      {
        rtol: 1e-14,
      },
    );
  });
});

describe('bad input gets a LabelSmoothingError naming function, argument, index and value', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'NaN logit',
      () => crossEntropy([[1, Number.NaN]], [0]),
      /crossEntropy: logits\[1\] = NaN: must be finite \(row 0, class 1\)/,
    ],
    [
      'Infinity logit',
      () =>
        crossEntropy(
          [
            [1, 2],
            [Infinity, 0],
          ],
          [0, 1],
        ),
      /logits\[2\] = Infinity.*row 1, class 0/,
    ],
    ['−Infinity unmasked', () => crossEntropy([[-Infinity, 0]], [1]), /logits\[0\] = -Infinity.*classMask/],
    [
      'label out of range',
      () => crossEntropy([[1, 2]], [2]),
      /target\[0\] = 2: class index out of range \[0, 2\)/,
    ],
    [
      'label not integer',
      () =>
        crossEntropy(
          [
            [1, 2],
            [1, 2],
          ],
          [0, 0.5],
        ),
      /target\[1\] = 0.5: class index must be an integer/,
    ],
    ['negative label', () => crossEntropy([[1, 2]], [-1]), /target\[0\] = -1/],
    [
      'length mismatch',
      () => crossEntropy([[1, 2]], [0, 1]),
      /target = Array\(length 2\): length 2 does not match the 1 rows/,
    ],
    [
      'flat without classes',
      () => crossEntropy(new Float32Array(4), [0]),
      /options.classes = undefined: required/,
    ],
    ['flat not multiple', () => crossEntropy(new Float32Array(5), [0, 1], { classes: 2 }), /not a multiple/],
    [
      'ε > 1',
      () => crossEntropy([[1, 2]], [0], { labelSmoothing: 1.5 }),
      /options.labelSmoothing = 1.5: must be a number in \[0, 1\]/,
    ],
    [
      'ε NaN',
      () => crossEntropy([[1, 2]], [0], { labelSmoothing: Number.NaN }),
      /options.labelSmoothing = NaN/,
    ],
    [
      'noise negative',
      () => crossEntropy([[1, 2]], [0], { noise: [1.5, -0.5] }),
      /options.noise\[1\] = -0.5: must be finite and ≥ 0/,
    ],
    [
      'noise sum',
      () => crossEntropy([[1, 2]], [0], { noise: [0.5, 0.6] }),
      /options.noise\[0\] = 1.1.*must sum to 1/,
    ],
    [
      'noise length',
      () => crossEntropy([[1, 2]], [0], { noise: [1, 0, 0] }),
      /options.noise = Array\(length 3\): length 3/,
    ],
    [
      'noise name',
      () => crossEntropy([[1, 2]], [0], { noise: 'gaussian' as 'uniform' }),
      /options.noise = "gaussian"/,
    ],
    ['weight negative', () => crossEntropy([[1, 2]], [0], { weight: [1, -2] }), /options.weight\[1\] = -2/],
    [
      'weight NaN',
      () => crossEntropy([[1, 2]], [0], { weight: [Number.NaN, 1] }),
      /options.weight\[0\] = NaN/,
    ],
    [
      'sampleWeight length',
      () => crossEntropy([[1, 2]], [0], { sampleWeight: [1, 2] }),
      /options.sampleWeight.*length 2, expected 1/,
    ],
    [
      'classes < 1',
      () => crossEntropy(new Float32Array(0), [], { classes: 0 }),
      /options.classes = 0: must be an integer ≥ 1/,
    ],
    [
      'non-target K = 1',
      () => crossEntropy([[1]], [0], { noise: 'non-target' }),
      /options.noise = "non-target": needs at least 2 classes/,
    ],
    [
      'probabilities not summing to 1',
      () => crossEntropy([[1, 2]], [[0.5, 0.6]]),
      /target\[0\] = 1.1: row 0 must sum to 1/,
    ],
    ['negative probability', () => crossEntropy([[1, 2]], [[1.5, -0.5]]), /target\[1\] = -0.5/],
    [
      'target on masked class',
      () => crossEntropy([[1, 2]], [1], { classMask: [1, 0] }),
      /target\[0\] = 1: class is excluded/,
    ],
    [
      'mask allows nothing',
      () => crossEntropy([[1, 2]], [0], { classMask: [0, 0] }),
      /options.classMask\[0\] = 0: row 0 allows no class/,
    ],
    [
      'reduction',
      () => crossEntropy([[1, 2]], [0], { reduction: 'avg' as 'mean' }),
      /options.reduction = "avg"/,
    ],
    ['normalizer ≤ 0', () => crossEntropy([[1, 2]], [0], { normalizer: 0 }), /options.normalizer = 0/],
    [
      'grad buffer',
      () => crossEntropy([[1, 2]], [0], { grad: new Float32Array(3) }),
      /options.grad = Float32Array\(length 3\)/,
    ],
    [
      'ragged rows',
      () => crossEntropy([[1, 2], [1]], [0, 0]),
      /logits\[1\] = Array\(length 1\): row 1 must be an array of length 2/,
    ],
    ['smoothLabels without classes', () => smoothLabels([0, 1]), /smoothLabels: options.classes = undefined/],
  ];
  for (const [name, f, re] of cases) {
    it(name, () => {
      assert.throws(f, (e: unknown) => {
        assert.ok(e instanceof LabelSmoothingError, `not a LabelSmoothingError: ${e}`);
        assert.match(e.message, re);
        return true;
      });
    });
  }
});
