// labelsmooth/tfjs on the cpu and wasm backends: sequence logits [B, T, V] with targets [B, T], the
// language-model options through the op, and the gradient buffer: computed only while autodiff records,
// in a buffer reused from one training step to the next (no fresh N×K array per step).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CrossEntropyResult, crossEntropy } from '../packages/labelsmooth/src/index.js';
import { softmaxCrossEntropy } from '../packages/labelsmooth/src/tfjs/index.js';
import { assertClose } from './helpers/fixtures.js';
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
