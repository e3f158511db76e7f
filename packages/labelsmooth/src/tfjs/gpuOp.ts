// The op on the webgl and webgpu backends: the forward pass runs the rowTerms kernel (one pass over the
// logits) and the reduce kernel (the totals of its [N, 8] terms); the backward pass is one program, the
// gradient kernel (one pass over the logits, the row's factors made from the saved terms, the totals and
// dy). Every tensor stays on the GPU: nothing is read back. TF.js programs write one output each, so the
// gradient is made in the backward pass from the logits and the row's lse — as Apex's fused cross-entropy
// does — rather than written in the forward (which would also cost an N×K write on every evaluation).
import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../core/errors.js';
import { planSmoothing } from '../core/plan.js';
import { CLASS_ROWS, type GpuPlan, gpuPlan } from '../gpu/plan.js';
import { type GpuAttrs, type GpuBackend, registerGpuKernels, runGpuKernel } from './gpuKernels.js';
import { TERM, TOTAL } from './gpuTerms.js';
import { asOp, isSparseTarget } from './opTargets.js';
import type { OpResult, OpShape, TfCrossEntropyOptions, TfTarget } from './opTypes.js';

/**
 * The labels as a tensor [N] on the GPU: a tensor of class indices is reshaped (its values are checked by
 * the programs: an invalid label makes the loss NaN); an array is checked here by the core and uploaded,
 * ignored rows as −1 (then the plan's ignoreIndex).
 */
function labelTensor(
  fn: string,
  backend: GpuBackend,
  target: TfTarget,
  shape: OpShape,
  plan: GpuPlan,
  options: TfCrossEntropyOptions,
): tf.Tensor {
  if (target instanceof tf.Tensor) {
    if (!isSparseTarget(fn, target, shape))
      fail(
        fn,
        'target',
        undefined,
        `Tensor[${target.shape}]`,
        `probability targets run on the cpu and wasm backends only (not on ${backend}): pass class indices`,
      );
    return tf.reshape(target, [shape.rows]);
  }
  const smoothing = asOp(fn, () =>
    planSmoothing(fn, target, shape.rows, shape.classes, {
      labelSmoothing: options.labelSmoothing,
      noise: options.noise,
      classMask: options.classMask,
      ignoreIndex: options.ignoreIndex,
    }),
  );
  if (smoothing.target.kind !== 'index')
    fail(
      fn,
      'target',
      undefined,
      target,
      `probability targets run on the cpu and wasm backends only (not on ${backend}): pass class indices`,
    );
  const labels = smoothing.target.labels;
  plan.ignoreIndex = -1;
  return tf.tensor1d(
    Int32Array.from({ length: shape.rows }, (_, i) => (labels[i] === smoothing.ignoreIndex ? -1 : labels[i])),
    'int32',
  );
}

/** What the TF.js op refuses on a GPU backend beyond what the programs do not compute. */
const REFUSED_ON_TFJS_GPU = {
  onLoss: 'onLoss receives the logits as a Float32Array, a read-back from the GPU on every step',
  lse: 'the per-row lse is returned through onLoss, a read-back from the GPU: use softmaxCrossEntropyParts',
};

function attrsOf(plan: GpuPlan): GpuAttrs {
  return {
    classes: plan.classes,
    rows: plan.rows,
    eps: plan.eps,
    sumV: plan.sumV,
    ignoreIndex: plan.ignoreIndex,
    softcap: plan.softcap,
    zeta: plan.zLoss ?? 0,
    nonTarget: plan.nonTarget,
    reduction: plan.reduction,
    normalizer: plan.normalizer ?? 0,
  };
}

/** Column or row `j` of the totals as the op's output: a scalar, or [N] reshaped to the rows' shape. */
function total(totals: tf.Tensor, j: number, shape: OpShape): tf.Tensor {
  return totals.rank === 1
    ? tf.reshape(tf.slice(totals, [j], [1]), [])
    : tf.reshape(tf.slice(totals, [j, 0], [1, shape.rows]), shape.rowShape);
}

/**
 * The op on a GPU backend; `logits` [N, K] (sequences reshaped), options key-checked. Forward: the row
 * terms (one pass over the logits) and their totals; backward: one program, the gradient from the logits,
 * the saved terms and totals, and dy. With `parts`, the lse and z-loss tensors are made from the same terms.
 */
export function gpuCrossEntropy(
  fn: string,
  backend: GpuBackend,
  target: TfTarget,
  logits: tf.Tensor,
  options: TfCrossEntropyOptions,
  shape: OpShape,
): OpResult {
  const onBackend = { where: `the ${backend} backend`, refused: REFUSED_ON_TFJS_GPU };
  const plan = asOp(fn, () => gpuPlan(fn, onBackend, options, shape.rows, shape.classes));
  registerGpuKernels();
  let parts: OpResult['parts'];
  const loss = tf.tidy(() => {
    const labels = labelTensor(fn, backend, target, shape, plan, options);
    const table = tf.tensor2d(plan.table, [CLASS_ROWS, shape.classes]);
    // uploaded, not filled: a fill would be one more program
    const sampleWeight = tf.tensor1d(plan.sampleWeight ?? new Float32Array(shape.rows).fill(1));
    const attrs = attrsOf(plan);
    const dyShape = plan.reduction === 'none' ? [shape.rows] : [1];
    const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const z = inputs[0] as tf.Tensor;
      const save = inputs[1] as tf.GradSaveFunc;
      const terms = runGpuKernel('rowTerms', { logits: z, labels, table, sampleWeight }, attrs);
      const totals = runGpuKernel('reduce', { terms }, attrs);
      save([z, labels, table, terms, totals]);
      if (shape.parts) {
        const lse = tf.reshape(tf.slice(terms, [0, TERM.lse], [shape.rows, 1]), shape.rowShape);
        parts = { lse: tf.keep(lse), zLoss: tf.keep(total(totals, TOTAL.zLoss, shape)) };
      }
      return {
        value: total(totals, TOTAL.loss, shape),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [zs, ls, ts, termsSaved, totalsSaved] = saved;
          const inputs = { logits: zs, labels: ls, table: ts, terms: termsSaved, totals: totalsSaved };
          return runGpuKernel('gradient', { ...inputs, dy: tf.reshape(dy, dyShape) }, attrs);
        },
      };
    });
    return op(logits);
  });
  return { loss, parts };
}
