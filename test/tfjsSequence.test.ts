// labelsmooth/tfjs on the cpu and wasm backends: sequence logits [B, T, V] with targets [B, T], the
// language-model options through the op, and the gradient buffer: computed only while autodiff records,
// in a buffer reused from one training step to the next (no fresh N×K array per step).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CrossEntropyResult, crossEntropy } from '../packages/labelsmooth/src/index.js';
import { softmaxCrossEntropy, softmaxCrossEntropyParts } from '../packages/labelsmooth/src/tfjs/index.js';
import { assertClose, decodeFloats, type Fixture, loadFixtures } from './helpers/fixtures.js';
import { BACKENDS, tf, useBackend } from './helpers/tf.js';

const [B, T, V] = [2, 3, 7];
const z = Float32Array.from({ length: B * T * V }, (_, j) => Math.sin(j * 1.3) * 4);
const y = Int32Array.from([1, 6, -100, 0, -100, 3]);
const options = { labelSmoothing: 0.1, softcap: 3, zLoss: 0.01 };

for (const backend of BACKENDS) {
  describe(`labelsmooth/tfjs sequences and the gradient buffer on ${backend}`, () => {
    before(() => useBackend(backend));
    after(() => tf.disposeVariables());

    it('[B, T, V] logits with [B, T] targets: value and gradient equal the core on B·T rows', () => {
      const zt = tf.tensor3d(z, [B, T, V]);
      const yt = tf.tensor2d(y, [B, T], 'int32');
      const { value, grad } = tf.valueAndGrad(
        (l: tf.Tensor) => softmaxCrossEntropy(yt, l, options) as tf.Scalar,
      )(zt);
      const core = crossEntropy(z, y, { ...options, classes: V, grad: true });
      assert.deepEqual(grad.shape, [B, T, V]);
      assertClose(value.dataSync()[0], core.loss, { rtol: 1e-6 });
      assertClose(grad.dataSync(), core.grad!, { rtol: 1e-5, atol: 1e-7 });
      const none = softmaxCrossEntropy(yt, zt, { ...options, reduction: 'none' });
      assert.deepEqual(none.shape, [B, T]);
      const rows = crossEntropy(z, y, { ...options, classes: V, reduction: 'none' });
      assertClose(none.dataSync(), rows.loss as Float64Array, { rtol: 1e-6, atol: 1e-7 });
      tf.dispose([zt, yt, value, grad, none]);
    });

    it('onLoss reports the z-loss and the per-row lse', () => {
      const zt = tf.tensor3d(z, [B, T, V]);
      let seen: CrossEntropyResult | undefined;
      softmaxCrossEntropy(y, zt, { ...options, lse: true, onLoss: (r) => (seen = r) }).dispose();
      const core = crossEntropy(z, y, { ...options, classes: V, lse: true });
      assert.equal(seen!.zLoss, core.zLoss);
      assert.deepEqual(seen!.lse, core.lse);
      zt.dispose();
    });

    it('softmaxCrossEntropyParts: loss, lse, z-loss part and gradient equal torch float64 (language-model fixtures)', () => {
      for (const f of loadFixtures('languageModel.json')) {
        const c = f as Fixture & { shape: number[]; lse: number[]; zLoss?: number | number[] };
        const zt = tf.tensor(Float32Array.from(decodeFloats(c.logits)), c.shape);
        const yt = tf.tensor(Int32Array.from(c.target), c.shape.slice(0, -1), 'int32');
        const { lse: _, ...o } = c.options;
        const parts = softmaxCrossEntropyParts(yt, zt, o);
        const grad = tf.grad((l: tf.Tensor) => tf.sum(softmaxCrossEntropyParts(yt, l, o).loss) as tf.Scalar)(
          zt,
        );
        const loss = typeof c.loss === 'number' ? [c.loss] : c.loss;
        const zLoss =
          c.zLoss === undefined ? loss.map(() => 0) : typeof c.zLoss === 'number' ? [c.zLoss] : c.zLoss;
        assert.deepEqual(parts.lse.shape, c.shape.slice(0, -1));
        assert.deepEqual(parts.zLoss.shape, parts.loss.shape);
        const tol = { rtol: 2e-6, atol: 1e-6 };
        assertClose(parts.loss.dataSync(), loss, { ...tol, label: `${c.name}: loss` });
        assertClose(parts.zLoss.dataSync(), zLoss, { ...tol, label: `${c.name}: zLoss` });
        assertClose(parts.lse.dataSync(), c.lse, { ...tol, label: `${c.name}: lse` });
        assertClose(grad.dataSync(), c.grad, { rtol: 1e-5, atol: 1e-7, label: `${c.name}: grad` });
        tf.dispose([zt, yt, parts.loss, parts.lse, parts.zLoss, grad]);
      }
    });

    it('softmaxCrossEntropyParts takes no lse option (it always returns it)', () => {
      const zt = tf.tensor3d(z, [B, T, V]);
      assert.throws(
        () => softmaxCrossEntropyParts(y, zt, { lse: true } as never),
        /softmaxCrossEntropyParts: options.*lse/,
      );
      zt.dispose();
    });

    it('a target shape that fits neither form is an error naming it', () => {
      const zt = tf.tensor3d(z, [B, T, V]);
      const yt = tf.tensor1d(y, 'int32');
      assert.throws(
        () => softmaxCrossEntropy(yt, zt),
        /softmaxCrossEntropy: target = "Tensor\[6\]": expected class indices \[2,3\] or probabilities \[2,3,7\]/,
      );
      tf.dispose([zt, yt]);
    });

    it('no gradient is computed outside autodiff; in training the same buffer serves every step', () => {
      const grads: (Float32Array | Float64Array | undefined)[] = [];
      const onLoss = (r: CrossEntropyResult) => grads.push(r.grad);
      const zt = tf.tensor2d(z, [B * T, V]);
      softmaxCrossEntropy(y, zt, { onLoss }).dispose(); // evaluation: no tape
      assert.equal(grads[0], undefined);
      const w = tf.variable(tf.eye(V));
      const optimizer = tf.train.sgd(0.1);
      for (let step = 0; step < 3; step++)
        optimizer.minimize(() => softmaxCrossEntropy(y, tf.matMul(zt, w), { onLoss }) as tf.Scalar);
      assert.ok(grads[1] instanceof Float32Array);
      assert.equal(grads[2], grads[1], 'step 2 reuses step 1’s buffer');
      assert.equal(grads[3], grads[1], 'step 3 reuses step 1’s buffer');
      optimizer.dispose();
      tf.dispose([zt, w]);
    });
  });
}
