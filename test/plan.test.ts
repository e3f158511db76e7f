// One validated plan: every loss checks its option keys (with suggestions) and every type the same way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binaryCrossEntropy,
  crossEntropy,
  crossEntropyAsync,
  fitTemperature,
  LabelSmoothingError,
  smoothLabels,
} from '../packages/labelsmooth/src/index.js';
import { losses, softmaxCrossEntropy } from '../packages/labelsmooth/src/tfjs/index.js';
import { tf, useBackend } from './helpers/tf.js';

/** `f` throws a LabelSmoothingError from `fn` about `argument` whose message matches `re`. */
function rejects(f: () => unknown, fn: string, argument: string, re: RegExp = /./): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LabelSmoothingError, `not a LabelSmoothingError: ${e}`);
    assert.equal(e.fn, fn);
    assert.equal(e.argument, argument);
    assert.match(e.message, re);
    return true;
  });
}

const z = [[2, 1, 0, -1, 0.5]];

describe('unknown option keys are errors with a suggestion, in every loss', () => {
  const foreign: [string, string][] = [
    ['label_smoothing', 'labelSmoothing'],
    ['labelsmoothing', 'labelSmoothing'],
    ['ignore_index', 'ignoreIndex'],
    ['reduce', 'reduction'],
    ['sample_weight', 'sampleWeight'],
  ];
  for (const [key, ours] of foreign) {
    it(`crossEntropy { ${key} } → did you mean ${ours}?`, () => {
      rejects(
        () => crossEntropy(z, [0], { [key]: 0.1 } as never),
        'crossEntropy',
        `options.${key}`,
        new RegExp(`unknown option; did you mean ${ours}\\?`),
      );
    });
  }
  it('crossEntropy { mask } → classMask; { labelsmoothing: 0.1 } no longer returns the ε = 0 loss 0.5744', () => {
    rejects(
      () => crossEntropy(z, [0], { mask: [1, 1, 1, 1, 1] } as never),
      'crossEntropy',
      'options.mask',
      /classMask/,
    );
    assert.ok(Math.abs(crossEntropy(z, [0], { labelSmoothing: 0.1 }).loss - 0.7244379) < 1e-7);
  });
  it('smoothLabels, binaryCrossEntropy, fitTemperature check their own keys', () => {
    rejects(
      () => smoothLabels([0], { classes: 2, label_smoothing: 0.1 } as never),
      'smoothLabels',
      'options.label_smoothing',
      /labelSmoothing/,
    );
    rejects(
      () => smoothLabels([0], { classes: 2, weight: [1, 1] } as never),
      'smoothLabels',
      'options.weight',
    );
    rejects(
      () => binaryCrossEntropy([[0]], [[1]], { label_smoothing: 0.1 } as never),
      'binaryCrossEntropy',
      'options.label_smoothing',
      /labelSmoothing/,
    );
    rejects(
      () => binaryCrossEntropy([[0]], [[1]], { noise: 'uniform' } as never),
      'binaryCrossEntropy',
      'options.noise',
    );
    rejects(() => fitTemperature(z, [0], { bins: 15 } as never), 'fitTemperature', 'options.bins');
  });
  it('crossEntropyAsync rejects them before any work', async () => {
    await assert.rejects(
      crossEntropyAsync(z, [0], { ignore_index: -1 } as never),
      (e: unknown) =>
        e instanceof LabelSmoothingError && e.fn === 'crossEntropyAsync' && /ignoreIndex/.test(e.message),
    );
  });
  it('the TF.js op and the compile losses check theirs (at model.compile, not at the first batch)', async () => {
    await useBackend('cpu');
    const logits = tf.tensor2d([[2, 1, 0]]);
    rejects(
      () => softmaxCrossEntropy([0], logits, { label_smoothing: 0.1 } as never),
      'softmaxCrossEntropy',
      'options.label_smoothing',
      /labelSmoothing/,
    );
    rejects(
      () => softmaxCrossEntropy([0], logits, { classes: 3 } as never),
      'softmaxCrossEntropy',
      'options.classes',
    );
    rejects(
      () => softmaxCrossEntropy([0], logits, { onLoss: 5 } as never),
      'softmaxCrossEntropy',
      'options.onLoss',
      /function/,
    );
    rejects(
      () => losses.categoricalCrossentropy({ from_logits: true } as never),
      'categoricalCrossentropy',
      'options.from_logits',
      /fromLogits/,
    );
    rejects(
      () => losses.sparseCategoricalCrossentropy({ reduction: 'sum' } as never),
      'sparseCategoricalCrossentropy',
      'options.reduction',
    );
    logits.dispose();
  });
});

describe('every wrong type is a LabelSmoothingError', () => {
  const cases: [string, () => unknown, string, string, RegExp?][] = [
    ['crossEntropy(z, y, null)', () => crossEntropy(z, [0], null as never), 'crossEntropy', 'options'],
    ['crossEntropy options a number', () => crossEntropy(z, [0], 5 as never), 'crossEntropy', 'options'],
    [
      'string logit cells',
      () => crossEntropy([['2', 1, 0]] as never, [0]),
      'crossEntropy',
      'logits',
      /logits\[0\] = "2": must be a number/,
    ],
    ['string probability cells', () => crossEntropy([[2, 1]], [['1', 0]] as never), 'crossEntropy', 'target'],
    ['string label', () => crossEntropy([[2, 1]], ['0'] as never), 'crossEntropy', 'target'],
    ['grad: "yes"', () => crossEntropy(z, [0], { grad: 'yes' } as never), 'crossEntropy', 'options.grad'],
    [
      'grad: Int32Array',
      () => crossEntropy(z, [0], { grad: new Int32Array(5) } as never),
      'crossEntropy',
      'options.grad',
    ],
    [
      'normalizer: "2"',
      () => crossEntropy(z, [0], { normalizer: '2' } as never),
      'crossEntropy',
      'options.normalizer',
    ],
    [
      'threads: "no"',
      () => crossEntropy(z, [0], { threads: 'no' } as never),
      'crossEntropy',
      'options.threads',
    ],
    ['weight a number', () => crossEntropy(z, [0], { weight: 2 } as never), 'crossEntropy', 'options.weight'],
    [
      'classMask of strings',
      () => crossEntropy(z, [0], { classMask: ['1', '1', '1', '1', '1'] } as never),
      'crossEntropy',
      'options.classMask',
    ],
    [
      'ignoreIndex "x"',
      () => crossEntropy(z, [0], { ignoreIndex: 'x' } as never),
      'crossEntropy',
      'options.ignoreIndex',
    ],
    [
      'binary grad: "yes"',
      () => binaryCrossEntropy([[0]], [[1]], { grad: 'yes' } as never),
      'binaryCrossEntropy',
      'options.grad',
    ],
    [
      'binary grad: Int32Array',
      () => binaryCrossEntropy([[0]], [[1]], { grad: new Int32Array(1) } as never),
      'binaryCrossEntropy',
      'options.grad',
    ],
    [
      'binary normalizer: "2"',
      () => binaryCrossEntropy([[0]], [[1]], { normalizer: '2' } as never),
      'binaryCrossEntropy',
      'options.normalizer',
    ],
    [
      'binary weight a number',
      () => binaryCrossEntropy([[0]], [[1]], { weight: 2 } as never),
      'binaryCrossEntropy',
      'options.weight',
    ],
    [
      'binary options null',
      () => binaryCrossEntropy([[0]], [[1]], null as never),
      'binaryCrossEntropy',
      'options',
    ],
    [
      'binary string cells',
      () => binaryCrossEntropy([['0']] as never, [[1]]),
      'binaryCrossEntropy',
      'logits',
    ],
    [
      'binary target not an array',
      () => binaryCrossEntropy([[0]], 1 as never),
      'binaryCrossEntropy',
      'target',
    ],
    ['smoothLabels options null', () => smoothLabels([0], null as never), 'smoothLabels', 'options'],
    [
      'fitTemperature range: 5',
      () => fitTemperature(z, [0], { range: 5 } as never),
      'fitTemperature',
      'options.range',
    ],
    [
      'fitTemperature range of strings',
      () => fitTemperature(z, [0], { range: ['1', '2'] } as never),
      'fitTemperature',
      'options.range',
    ],
    ['fitTemperature options null', () => fitTemperature(z, [0], null as never), 'fitTemperature', 'options'],
  ];
  for (const [name, f, fn, argument, re] of cases) it(name, () => rejects(f, fn, argument, re));

  it('binaryCrossEntropy with a float buffer and numbers stays valid', () => {
    const grad = new Float64Array(2);
    const r = binaryCrossEntropy([[0, 1]], [[1, 0]], { grad, normalizer: 2, weight: [1, 2] });
    assert.equal(r.grad, grad);
    assert.ok(Number.isFinite(r.loss));
  });
});
