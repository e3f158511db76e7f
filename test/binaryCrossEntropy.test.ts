import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryCrossEntropy, LabelSmoothingError } from '../packages/labelsmooth/src/index.js';
import { assertClose } from './helpers/fixtures.js';

describe('binaryCrossEntropy', () => {
  it('smooths toward ½ (Keras): closed form for one logit', () => {
    const z = 1.5;
    const yS = 1 * 0.8 + 0.1;
    const sig = 1 / (1 + Math.exp(-z));
    const r = binaryCrossEntropy(Float64Array.of(z), [1], { labelSmoothing: 0.2, grad: true });
    assertClose(r.loss, -(yS * Math.log(sig) + (1 - yS) * Math.log(1 - sig)), { rtol: 1e-12 });
    assertClose(r.grad!, [sig - yS], { rtol: 1e-12 });
    assertClose(r.loss, 0.8 * r.nll + 0.2 * r.smoothing, { rtol: 1e-14 });
  });
  it('stays finite for huge logits', () => {
    const r = binaryCrossEntropy([[800, -800]], [[0, 1]], { grad: true });
    assertClose(r.loss, 800, { rtol: 1e-12 });
    assert.ok(r.grad!.every(Number.isFinite));
  });
  it('rejects targets outside [0, 1] and NaN logits, naming the element', () => {
    assert.throws(
      () => binaryCrossEntropy([[0, 1]], [[0, 2]]),
      /binaryCrossEntropy: target\[1\] = 2: must be in \[0, 1\]/,
    );
    assert.throws(() => binaryCrossEntropy([[0, Number.NaN]], [[0, 1]]), LabelSmoothingError);
  });
});
