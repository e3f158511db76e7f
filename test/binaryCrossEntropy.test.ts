import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binaryCalibration,
  binaryCrossEntropy,
  LabelSmoothingError,
} from '../packages/labelsmooth/src/index.js';
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

describe('σ(z): the loss and the binary calibration metrics agree', () => {
  it('the gradient σ(z) − y of binaryCrossEntropy and the p of binaryCalibration are the same bits', () => {
    // Logits on both tails and around 0, where 1/(1 + e^−z) and e^z/(1 + e^z) round differently.
    const logits = [0, 1e-300, -1e-300, 710, -710, -745, 40, -40];
    let s = 12345;
    for (let i = 0; i < 2000; i++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      logits.push(((s / 2 ** 31) * 2 - 1) * 10 ** ((i % 5) - 2));
    }
    const { grad } = binaryCrossEntropy(Float64Array.from(logits), new Float64Array(logits.length), {
      reduction: 'sum',
      grad: true,
    });
    assert.ok(grad);
    for (const [i, z] of logits.entries()) {
      // One prediction: its mean probability is its p (n = 1), and with y = 0, ε = 0 and reduction 'sum' the
      // gradient is σ(z) itself.
      const p = binaryCalibration([z], [0], { bins: 1 }).meanProbability;
      assert.ok(
        Object.is(p, grad[i]),
        `z = ${z}: binaryCalibration's p = ${p}, binaryCrossEntropy's σ = ${grad[i]}`,
      );
    }
  });
});
