import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crossEntropy, LabelSmoothingError } from '../packages/labelsmooth/src/index.js';
import {
  batches,
  CalibrationCallback,
  losses,
  softmaxCrossEntropy,
} from '../packages/labelsmooth/src/tfjs/index.js';
import { assertClose } from './helpers/fixtures.js';
import { BACKENDS, blobs, tf, tfl, useBackend } from './helpers/tf.js';

const N = 6;
const K = 5;
const logitsData = Float32Array.from({ length: N * K }, (_, j) => Math.sin(j * 1.7) * 3);
const labels = Int32Array.from([0, 4, 2, 2, 1, 3]);

for (const backend of BACKENDS) {
  describe(`labelsmooth/tfjs on the ${backend} backend`, () => {
    before(() => useBackend(backend));
    after(() => tf.disposeVariables());

    it('value and gradient equal the core under tf.valueAndGrad', () => {
      const z = tf.tensor2d(logitsData, [N, K]);
      const y = tf.tensor1d(labels, 'int32');
      const options = { labelSmoothing: 0.1, noise: 'non-target' as const, weight: [1, 2, 0.5, 1, 3] };
      const { value, grad } = tf.valueAndGrad(
        (l: tf.Tensor) => softmaxCrossEntropy(y, l, options) as tf.Scalar,
      )(z);
      const core = crossEntropy(logitsData, labels, { ...options, classes: K, grad: true });
      assertClose(value.dataSync()[0], core.loss, { rtol: 1e-6 });
      assertClose(grad.dataSync(), core.grad!, { rtol: 1e-6, atol: 1e-7 });
      tf.dispose([z, y, value, grad]);
    });

    it('equals tf.losses.softmaxCrossEntropy(labelSmoothing) for uniform noise, value and gradient', () => {
      const z = tf.tensor2d(logitsData, [N, K]);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), K);
      const ours = tf.valueAndGrad(
        (l: tf.Tensor) => softmaxCrossEntropy(onehot, l, { labelSmoothing: 0.2 }) as tf.Scalar,
      )(z);
      const theirs = tf.valueAndGrad(
        (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, l, undefined, 0.2) as tf.Scalar,
      )(z);
      assertClose(ours.value.dataSync()[0], theirs.value.dataSync()[0], { rtol: 1e-5 });
      assertClose(ours.grad.dataSync(), theirs.grad.dataSync(), { rtol: 1e-4, atol: 1e-6 });
      tf.dispose([z, onehot, ours.value, ours.grad, theirs.value, theirs.grad]);
    });

    it("reduction 'none' returns [N] and backpropagates per-row upstream gradients", () => {
      const z = tf.tensor2d(logitsData, [N, K]);
      const up = tf.tensor1d([1, 2, 3, 0, -1, 0.5]);
      const g = tf.grad((l: tf.Tensor) =>
        tf.sum(
          tf.mul(softmaxCrossEntropy(Array.from(labels), l, { labelSmoothing: 0.1, reduction: 'none' }), up),
        ),
      )(z);
      const core = crossEntropy(logitsData, labels, {
        classes: K,
        labelSmoothing: 0.1,
        grad: true,
        reduction: 'none',
      });
      const w = up.dataSync();
      const expected = core.grad!.map((v, j) => v * w[Math.floor(j / K)]);
      assertClose(g.dataSync(), expected, { rtol: 1e-5, atol: 1e-7 });
      tf.dispose([z, up, g]);
    });

    it('optimizer.minimize trains and leaks no tensors', () => {
      const z = tf.variable(tf.tensor2d(logitsData, [N, K]));
      const y = tf.tensor1d(labels, 'int32');
      const opt = tf.train.sgd(0.5);
      const step = () => {
        const cost = opt.minimize(
          () => softmaxCrossEntropy(y, z, { labelSmoothing: 0.1 }) as tf.Scalar,
          true,
        );
        const v = cost!.dataSync()[0];
        cost!.dispose();
        return v;
      };
      const first = step();
      const before = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 20; i++) last = step();
      assert.equal(tf.memory().numTensors, before);
      assert.ok(last < first, `${last} ≥ ${first}`);
      opt.dispose();
      tf.dispose([z, y]);
    });

    it('the probability path is finite where a probability is exactly 0, and exact elsewhere', () => {
      const loss = losses.sparseCategoricalCrossentropy({ fromLogits: false, labelSmoothing: 0.1 });
      const probs = tf.tensor2d([
        [1, 0, 0],
        [0.2, 0.5, 0.3],
      ]);
      const out = loss(tf.tensor1d([1, 1]), probs).dataSync();
      assert.ok(out.every(Number.isFinite));
      const core = crossEntropy([Array.from([0.2, 0.5, 0.3], Math.log)], [1], { labelSmoothing: 0.1 });
      assertClose(out[1], core.loss, { rtol: 1e-6 });
      probs.dispose();
    });

    it('errors name the op, the argument and the value', () => {
      const z = tf.tensor2d(logitsData, [N, K]);
      assert.throws(
        () => softmaxCrossEntropy([0, 1, 2, 3, 4, 9], z),
        (e: unknown) =>
          e instanceof LabelSmoothingError &&
          /^softmaxCrossEntropy: target\[5\] = 9: class index/.test(e.message),
      );
      assert.throws(
        () => softmaxCrossEntropy([0], tf.tensor1d([1, 2])),
        /softmaxCrossEntropy: logits = "Tensor\[2\]"/,
      );
      assert.throws(
        () => softmaxCrossEntropy(labels, z, { labelSmoothing: 2 }),
        /softmaxCrossEntropy: options.labelSmoothing = 2/,
      );
      z.dispose();
    });

    for (const kind of ['sparse', 'categorical', 'sparse from probabilities'] as const) {
      it(`model.fit (${kind}) with our loss learns a separable task, near the smoothed-loss floor`, async () => {
        const { x, y } = blobs(300);
        const xs = tf.tensor2d(x, [300, 2]);
        const ys = kind === 'categorical' ? tf.oneHot(tf.tensor1d(y, 'int32'), 3) : tf.tensor1d(y, 'float32');
        const fromLogits = kind !== 'sparse from probabilities';
        const model = tfl.sequential({
          layers: [
            tfl.layers.dense({
              inputShape: [2],
              units: 16,
              activation: 'relu',
              kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
            }),
            tfl.layers.dense({
              units: 3,
              activation: fromLogits ? 'linear' : 'softmax',
              kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
            }),
          ],
        });
        const loss =
          kind === 'categorical'
            ? losses.categoricalCrossentropy({ labelSmoothing: 0.1 })
            : losses.sparseCategoricalCrossentropy({ labelSmoothing: 0.1, fromLogits });
        model.compile({ optimizer: tf.train.adam(0.05), loss });
        const classWeight = { 0: 1, 1: 2, 2: 1 };
        // tfjs-layers' model.fit insists that a custom loss's targets have the output's shape [N, K]:
        // class indices go through model.fitDataset (labelsmooth/tfjs `batches`).
        const train = (epochs: number) =>
          kind === 'categorical'
            ? model.fit(xs, ys, { epochs, batchSize: 32, shuffle: false, verbose: 0, classWeight })
            : model.fitDataset(batches(xs, ys, { batchSize: 32, seed: 1 }), {
                epochs,
                verbose: 0,
                classWeight,
              });
        const first = (await train(1)).history.loss[0] as number;
        const before = tf.memory().numTensors; // after the optimizer has made its slots
        const h = await train(24);
        assert.equal(tf.memory().numTensors, before, 'fit leaked tensors');
        const last = h.history.loss.at(-1) as number;
        // The floor of the smoothed loss is the entropy of p' = (0.9 + 0.1/3, 0.1/3, 0.1/3), times the mean
        // class weight (4/3 on balanced classes): training must get close to it.
        const floor =
          (-(0.9 + 0.1 / 3) * Math.log(0.9 + 0.1 / 3) - 2 * (0.1 / 3) * Math.log(0.1 / 3)) * (4 / 3);
        assert.ok(last < first && last < 1.1 * floor, `loss ${first} → ${last}, floor ${floor}`);
        const out = model.predict(xs) as tf.Tensor;
        const pred = tf.argMax(out, 1).dataSync();
        const acc = Array.from(pred).reduce((a: number, p, i) => a + (p === y[i] ? 1 : 0), 0) / 300;
        assert.ok(acc > 0.97, `accuracy ${acc}`);
        // Smoothing keeps the mean confidence well below 1: (1 − ε + ε/K) = 0.933 is where ε = 0.1 pulls it.
        const probs = fromLogits ? tf.softmax(out) : out;
        const conf = tf.mean(tf.max(probs, 1)).dataSync()[0];
        assert.ok(conf < 0.97, `mean confidence ${conf}`);
        tf.dispose([xs, ys, out, probs]);
        model.dispose();
      });
    }

    it('CalibrationCallback reports calibration each epoch', async () => {
      const { x, y } = blobs(90, 3);
      const xs = tf.tensor2d(x, [90, 2]);
      const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 3 })] });
      model.compile({ optimizer: tf.train.adam(0.05), loss: losses.sparseCategoricalCrossentropy() });
      const lines: string[] = [];
      const cb = new CalibrationCallback({ x: xs, labels: y, log: (e, r) => lines.push(`${e}:${r.ece}`) });
      const ys = tf.tensor1d(y, 'float32');
      const h = await model.fitDataset(batches(xs, ys, { batchSize: 30 }), {
        epochs: 3,
        verbose: 0,
        callbacks: [cb],
      });
      ys.dispose();
      assert.equal(cb.history.length, 3);
      assert.equal(lines.length, 3);
      assert.ok(
        cb.history.every(({ report }) => report.ece >= 0 && report.ece <= 1 && report.bins.length === 15),
      );
      assert.deepEqual(
        h.history.val_ece,
        cb.history.map(({ report }) => report.ece),
      );
      xs.dispose();
      model.dispose();
    });
  });
}
