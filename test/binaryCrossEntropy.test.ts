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
  it('weights: K of them scale each output, N×K each element (closed forms); with N = 1 they are the K', () => {
    const z = [
      [0.5, -1, 2],
      [-0.25, 1.5, 0],
    ];
    const y = [
      [1, 0, 0.5],
      [0, 1, 1],
    ];
    const bce = (v: number, t: number) => Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
    const sum = (w: (i: number, c: number) => number) =>
      z.reduce((a, row, i) => a + row.reduce((b, v, c) => b + w(i, c) * bce(v, y[i][c]), 0), 0);
    const perOutput = [2, 0.5, 1];
    const perElement = [1, 2, 3, 0, 0.25, 4];
    const a = binaryCrossEntropy(z, y, { weight: perOutput, reduction: 'sum' });
    assertClose(
      a.loss,
      sum((_, c) => perOutput[c]),
      { rtol: 1e-14 },
    );
    const b = binaryCrossEntropy(z, y, { weight: perElement, reduction: 'sum', grad: true });
    assertClose(
      b.loss,
      sum((i, c) => perElement[i * 3 + c]),
      { rtol: 1e-14 },
    );
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    assertClose(
      b.grad!,
      z.flatMap((row, i) => row.map((v, c) => perElement[i * 3 + c] * (sig(v) - y[i][c]))),
      { rtol: 1e-12 },
    );
    const one = binaryCrossEntropy([z[0]], [y[0]], { weight: perOutput, reduction: 'sum' });
    assertClose(
      one.loss,
      z[0].reduce((acc, v, c) => acc + perOutput[c] * bce(v, y[0][c]), 0),
      { rtol: 1e-14 },
    );
    assert.throws(() => binaryCrossEntropy(z, y, { weight: [1, 2] }), /binaryCrossEntropy: options.weight/);
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
