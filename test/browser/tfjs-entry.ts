// Bundled by test/browser.test.ts with esbuild and run in chromium: the TF.js adapter in a real browser.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  calibration,
  crossEntropy,
  crossEntropyAsync,
  kernelInfo,
  onKernelEvent,
} from '../../packages/labelsmooth/src/index.js';
import { batches, losses, softmaxCrossEntropy } from '../../packages/labelsmooth/src/tfjs/index.js';

declare global {
  interface Window {
    runLabelsmooth: (backend: string) => Promise<Record<string, unknown>>;
    runAsync: (family?: boolean) => Promise<Record<string, unknown>>;
    runAsyncDeclined: () => Promise<Record<string, unknown>>;
  }
}

// crossEntropyAsync on the page's main thread: a batch large enough to be split across Web Workers;
// `family`: with the confidence penalty and FLSD-53 (the workers' kernels report the entropy too).
window.runAsync = async (family = false) => {
  let workersMade = 0;
  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      workersMade++;
    }
  };
  const n = 64;
  const k = 20000;
  const z = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j * 0.7) * 6);
  const y = Int32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -100 : (i * 977) % k));
  const sampleWeight = Array.from({ length: n }, (_, i) => 0.5 + (i % 3));
  const options = {
    classes: k,
    labelSmoothing: 0.1,
    sampleWeight,
    grad: true,
    ...(family ? { confidencePenalty: 0.2, focalGamma: 'flsd-53' as const } : {}),
  };
  const a = await crossEntropyAsync(z, y, options);
  const path = kernelInfo().last?.path;
  const b = crossEntropy(z, y, { ...options, kernel: 'js' });
  let maxGradDiff = 0;
  for (let j = 0; j < z.length; j++) maxGradDiff = Math.max(maxGradDiff, Math.abs(a.grad![j] - b.grad![j]));
  const none = await crossEntropyAsync(z, y, { ...options, reduction: 'none' });
  const noneRef = crossEntropy(z, y, { ...options, reduction: 'none', kernel: 'js' });
  let maxRowDiff = 0;
  for (let i = 0; i < n; i++)
    for (const part of ['loss', 'entropy'] as const) {
      const got = (none[part] as Float64Array | undefined)?.[i] ?? 0;
      const want = (noneRef[part] as Float64Array | undefined)?.[i] ?? 0;
      maxRowDiff = Math.max(maxRowDiff, Math.abs(got - want) / Math.abs(want) || 0);
    }
  window.Worker = NativeWorker;
  return {
    workersMade,
    path,
    loss: a.loss,
    reference: b.loss,
    entropy: a.entropy ?? null,
    refEntropy: b.entropy ?? null,
    denominator: a.denominator,
    refDenominator: b.denominator,
    maxGradDiff,
    maxRowDiff,
  };
};

// Rows the workers' float32 kernels cannot finish (|z_c − z_y| > 3.4e38) are recomputed on the page.
window.runAsyncDeclined = async () => {
  const n = 64;
  const k = 20000;
  const z = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j * 0.7) * 6);
  const y = Int32Array.from({ length: n }, (_, i) => (i * 977) % k);
  for (const i of [5, 40, 63]) {
    z[i * k + y[i]] = 3e38;
    z[i * k + ((y[i] + 1) % k)] = -3e38;
  }
  const events: string[] = [];
  const off = onKernelEvent((e) => events.push(e.type === 'fallback' ? `${e.reason}:${e.rows}` : e.type));
  const options = { classes: k, labelSmoothing: 0.1, reduction: 'none', grad: true } as const;
  const a = await crossEntropyAsync(z, y, options);
  off();
  const path = kernelInfo().last?.path;
  const b = crossEntropy(z, y, { ...options, kernel: 'js' });
  let maxRowDiff = 0;
  for (let i = 0; i < n; i++) {
    const [x, r] = [(a.loss as Float64Array)[i], (b.loss as Float64Array)[i]];
    maxRowDiff = Math.max(maxRowDiff, Math.abs(x - r) / Math.abs(r));
  }
  let maxGradDiff = 0;
  for (let j = 0; j < z.length; j++) maxGradDiff = Math.max(maxGradDiff, Math.abs(a.grad![j] - b.grad![j]));
  return { events, path, maxRowDiff, maxGradDiff };
};

window.runLabelsmooth = async (backend: string) => {
  setWasmPaths('/wasm/');
  await tf.setBackend(backend);
  await tf.ready();
  const n = 5;
  const k = 4;
  const z = Float32Array.from({ length: n * k }, (_, i) => Math.cos(i * 1.3) * 2);
  const y = Int32Array.from([0, 3, 1, 2, 3]);
  const before = tf.memory().numTensors;
  const zt = tf.tensor2d(z, [n, k]);
  const { value, grad } = tf.valueAndGrad(
    (l: tf.Tensor) => softmaxCrossEntropy(y, l, { labelSmoothing: 0.1 }) as tf.Scalar,
  )(zt);
  const core = crossEntropy(z, y, { classes: k, labelSmoothing: 0.1, grad: true });
  const out = {
    backend: tf.getBackend(),
    value: value.dataSync()[0],
    coreValue: core.loss,
    grad: Array.from(grad.dataSync()),
    coreGrad: Array.from(core.grad!),
  };
  tf.dispose([zt, value, grad]);
  // A tiny model trained in the page: 2 separable classes.
  const xs = tf.tensor2d(
    Float32Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 : -1) * (1 + (i % 7) / 7)),
    [100, 2],
  );
  const labels = Array.from({ length: 100 }, () => 0);
  for (let i = 0; i < 100; i++) labels[i] = xs.dataSync()[2 * i] > 0 ? 1 : 0;
  const yt = tf.tensor1d(labels, 'float32');
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [2],
        units: 2,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(0.1),
    loss: losses.sparseCategoricalCrossentropy({ labelSmoothing: 0.1 }),
  });
  await model.fitDataset(batches(xs, yt, { batchSize: 20, seed: 2 }), { epochs: 10, verbose: 0 });
  const logits = model.predict(xs) as tf.Tensor;
  const report = calibration(logits.dataSync() as Float32Array, labels, { classes: 2 });
  tf.dispose([xs, yt, logits]);
  model.dispose();
  tf.disposeVariables();
  return { ...out, accuracy: report.accuracy, leaked: tf.memory().numTensors - before };
};
