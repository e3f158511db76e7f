// Bundled by test/gpu.test.ts and run in chromium with SwiftShader: the TF.js op on the webgl and webgpu
// backends against the float64 core, with the backend's read-backs counted during each step.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of tfjs-core's ops
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { type CrossEntropyOptions, crossEntropy } from '../../packages/labelsmooth/src/index.js';
import {
  softmaxCrossEntropy,
  softmaxCrossEntropyParts,
  type TfCrossEntropyOptions,
} from '../../packages/labelsmooth/src/tfjs/index.js';
import { crossEntropyWebGPU } from '../../packages/labelsmooth/src/webgpu/index.js';

declare global {
  interface Window {
    gpuSetBackend: (backend: string) => Promise<Record<string, unknown>>;
    gpuCompare: (name: string) => Promise<Comparison>;
    gpuCases: () => string[];
    gpuTrain: (steps: number) => Promise<{ losses: number[]; reads: number }>;
    gpuRefusal: (option: string) => string;
    gpuInvalidLabel: () => Promise<{ loss: number; reads: number }>;
    gpuParts: (c: PartsCase) => Promise<PartsResult>;
    gpuPrograms: (name: string) => Promise<{ forward: number; step: number; names: string[] }>;
    webgpuRaw: () => Promise<{
      results: Record<string, number | string>[];
      compiledFirst: number;
      compiledAfter: number;
      invalid: string;
      refused: string;
      aliased: string;
    }>;
  }
}

/** What one comparison returns to the test. */
export interface Comparison {
  backend: string;
  reads: number;
  lossError: number;
  lossScale: number;
  gradError: number;
  gradScale: number;
  leaked: number;
}

/** A deterministic value in [−1, 1) (the same on every backend). */
const wave = (j: number, f: number) => Math.sin(j * f + Math.cos(j * 0.37));

interface Case {
  shape: number[];
  /** Class indices as a tensor's values (its shape: the logits' without the last axis). */
  labels: (rows: number, k: number) => Int32Array;
  options: TfCrossEntropyOptions;
  /** Pass the labels as an Int32Array instead of a tensor. */
  array?: boolean;
  scale?: number;
}

const padded = (rows: number, k: number) =>
  Int32Array.from({ length: rows }, (_, i) => (i % 5 === 3 ? -100 : (i * 7919) % k));

const CASES: Record<string, Case> = {
  'plain, ε = 0.1, padding, mean, K = 1000': {
    shape: [37, 1000],
    labels: padded,
    options: { labelSmoothing: 0.1 },
  },
  'sequence [2, 5, 300], softcap 5, z-loss 1e-3': {
    shape: [2, 5, 300],
    labels: padded,
    options: { labelSmoothing: 0.1, softcap: 5, zLoss: 1e-3 },
    scale: 8,
  },
  'non-target noise, class weights, a class mask, sample weights, sum': {
    shape: [12, 40],
    labels: (rows, k) =>
      Int32Array.from({ length: rows }, (_, i) => (i === 4 ? -100 : (i * 3) % k === 7 ? 8 : (i * 3) % k)),
    options: {
      labelSmoothing: 0.2,
      noise: 'non-target',
      weight: Array.from({ length: 40 }, (_, c) => 0.5 + (c % 3)),
      classMask: Array.from({ length: 40 }, (_, c) => c !== 7),
      sampleWeight: Array.from({ length: 12 }, (_, i) => (i % 4) * 0.5),
      reduction: 'sum',
    },
  },
  'prior noise, per-example weights, normalizer 50, z-loss': {
    shape: [16, 33],
    labels: padded,
    options: {
      labelSmoothing: 0.3,
      noise: Array.from({ length: 33 }, (_, c) => (1 + (c % 5)) / 96),
      weight: Array.from({ length: 33 }, (_, c) => 1 + (c % 2)),
      weightMode: 'per-example',
      normalizer: 50,
      zLoss: 0.01,
    },
  },
  "reduction 'none', softcap 2, z-loss 0.05, labels in an array, ignoreIndex −1": {
    shape: [3, 4, 64],
    labels: (rows, k) => Int32Array.from({ length: rows }, (_, i) => (i % 4 === 1 ? -1 : (i * 11) % k)),
    options: { labelSmoothing: 0.1, softcap: 2, zLoss: 0.05, reduction: 'none', ignoreIndex: -1 },
    array: true,
    scale: 4,
  },
  'every row ignored: loss 0, gradient 0': {
    shape: [4, 20],
    labels: (rows) => new Int32Array(rows).fill(-100),
    options: { labelSmoothing: 0.1, zLoss: 0.1 },
  },
  'a whole block of classes masked (webgl reduces blocks of 256), K = 700, z-loss': {
    shape: [9, 700],
    labels: (rows, k) => Int32Array.from({ length: rows }, (_, i) => ((i * 97) % k) % 256),
    options: {
      labelSmoothing: 0.1,
      zLoss: 1e-3,
      classMask: Array.from({ length: 700 }, (_, c) => c < 256 || c >= 512),
    },
    scale: 6,
  },
  'rows longer than a workgroup many times over: K = 5000, large logits': {
    shape: [6, 5000],
    labels: padded,
    options: { labelSmoothing: 0.1 },
    scale: 30,
  },
};

window.gpuCases = () => Object.keys(CASES);

window.gpuSetBackend = async (backend: string) => {
  const ok = await tf.setBackend(backend);
  await tf.ready();
  let adapter = '';
  if (backend === 'webgpu') {
    const b = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } };
    adapter = `${b.adapterInfo?.vendor ?? '?'} ${b.adapterInfo?.architecture ?? ''}`.trim();
  }
  return { ok, backend: tf.getBackend(), adapter };
};

/** Run `f` with the current backend's read and readSync counted; the count is returned with f's value. */
function countingReads<T>(f: () => T): { value: T; reads: number } {
  const b = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  let reads = 0;
  const read = b.read;
  const readSync = b.readSync;
  b.read = function (this: unknown, ...a: unknown[]) {
    reads++;
    return read.apply(this, a);
  };
  b.readSync = function (this: unknown, ...a: unknown[]) {
    reads++;
    return readSync.apply(this, a);
  };
  try {
    return { value: f(), reads };
  } finally {
    b.read = read;
    b.readSync = readSync;
  }
}

/** The float64 reference of a case: loss, and the gradient of Σ loss·w (w per row for 'none', else 1). */
function reference(c: Case, z: Float32Array, y: Int32Array, w: Float64Array) {
  const k = c.shape[c.shape.length - 1];
  const { onLoss: _, ...options } = c.options;
  const r = crossEntropy(Float64Array.from(z), y, {
    ...(options as CrossEntropyOptions),
    classes: k,
    kernel: 'js',
    grad: true,
  });
  const grad = r.grad!;
  if (typeof r.loss !== 'number') {
    for (let j = 0; j < grad.length; j++) grad[j] *= w[Math.floor(j / k)];
  }
  const loss: number[] = typeof r.loss === 'number' ? [r.loss] : Array.from(r.loss as Float64Array);
  return { loss, grad };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

window.gpuCompare = async (name: string) => {
  const c = CASES[name];
  const k = c.shape[c.shape.length - 1];
  const rows = c.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const z = Float32Array.from({ length: rows * k }, (_, j) => wave(j, 1.7) * (c.scale ?? 3));
  const y = c.labels(rows, k);
  const w = Float64Array.from({ length: rows }, (_, i) => 0.5 + (i % 3) * 0.25);
  const before = tf.memory().numTensors;
  const zt = tf.tensor(z, c.shape);
  const yt = c.array ? y : tf.tensor(y, c.shape.slice(0, -1), 'int32');
  const wt = tf.tensor(Float32Array.from(w), c.shape.slice(0, -1));
  const perRow = c.options.reduction === 'none';
  const f = (l: tf.Tensor) => {
    const loss = softmaxCrossEntropy(yt, l, c.options);
    return (perRow ? tf.sum(tf.mul(loss, wt)) : loss) as tf.Scalar;
  };
  // the step: the loss and its gradient, counted; the values are read after
  const { value: step, reads } = countingReads(() => {
    const g = tf.grad(f)(zt);
    const loss = softmaxCrossEntropy(yt, zt, c.options);
    return { g, loss };
  });
  const [loss, grad] = (await Promise.all([step.loss.data(), step.g.data()])) as Float32Array[];
  const ref = reference(c, z, y, w);
  tf.dispose([zt, wt, step.g, step.loss, ...(yt instanceof tf.Tensor ? [yt] : [])]);
  return {
    backend: tf.getBackend(),
    reads,
    lossError: maxDiff(loss, ref.loss),
    lossScale: maxAbs(ref.loss),
    gradError: maxDiff(grad, ref.grad),
    gradScale: maxAbs(ref.grad),
    leaked: tf.memory().numTensors - before,
  };
};

/** Run `f` with the GPU programs the current backend runs counted. */
function countingPrograms<T>(f: () => T): { value: T; programs: number; names: string[] } {
  const b = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const name = typeof b.runWebGPUProgram === 'function' ? 'runWebGPUProgram' : 'runWebGLProgram';
  const run = b[name];
  const names: string[] = [];
  b[name] = function (this: unknown, ...a: unknown[]) {
    const p = a[0] as { constructor: { name: string }; variableNames: string[] };
    names.push(p.constructor.name === 'Object' ? `ours(${p.variableNames})` : p.constructor.name);
    return run.apply(this, a);
  };
  try {
    return { value: f(), programs: names.length, names };
  } finally {
    b[name] = run;
  }
}

/** The GPU programs of a forward pass alone and of a training step (loss and gradient) of a case. */
window.gpuPrograms = async (name: string) => {
  const c = CASES[name];
  const k = c.shape[c.shape.length - 1];
  const rows = c.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const zt = tf.tensor(
    Float32Array.from({ length: rows * k }, (_, j) => wave(j, 1.7)),
    c.shape,
  );
  const yt = tf.tensor(c.labels(rows, k), c.shape.slice(0, -1), 'int32');
  const f = (l: tf.Tensor) => tf.sum(softmaxCrossEntropy(yt, l, c.options)) as tf.Scalar;
  await tf.grad(f)(zt).data(); // uploads and compiles outside the count
  const forward = countingPrograms(() => f(zt));
  const step = countingPrograms(() => tf.valueAndGrad(f)(zt));
  await Promise.all([forward.value.data(), step.value.grad.data()]);
  tf.dispose([zt, yt, forward.value, step.value.value, step.value.grad]);
  return { forward: forward.programs, step: step.programs, names: step.names };
};

/** A language-model case of test/fixtures/languageModel.json (torch, float64). */
export interface PartsCase {
  shape: number[];
  logits: number[];
  target: number[];
  options: Record<string, unknown>;
}

/** softmaxCrossEntropyParts' tensors of a case, and the gradient of Σ loss, read after the counted step. */
export interface PartsResult {
  backend: string;
  reads: number;
  leaked: number;
  loss: number[];
  lse: number[];
  zLoss: number[];
  grad: number[];
  lseShape: number[];
}

window.gpuParts = async (c: PartsCase) => {
  const before = tf.memory().numTensors;
  const zt = tf.tensor(Float32Array.from(c.logits), c.shape);
  const yt = tf.tensor(Int32Array.from(c.target), c.shape.slice(0, -1), 'int32');
  const { lse: _, ...options } = c.options;
  const { value: step, reads } = countingReads(() => {
    let parts: ReturnType<typeof softmaxCrossEntropyParts> | undefined;
    const grad = tf.grad((l: tf.Tensor) => {
      parts = softmaxCrossEntropyParts(yt, l, options);
      tf.keep(parts.loss);
      tf.keep(parts.lse);
      tf.keep(parts.zLoss);
      return tf.sum(parts.loss) as tf.Scalar;
    })(zt);
    return { grad, parts: parts! };
  });
  const { loss, lse, zLoss } = step.parts;
  const values = await Promise.all([loss.data(), lse.data(), zLoss.data(), step.grad.data()]);
  const lseShape = lse.shape;
  tf.dispose([zt, yt, loss, lse, zLoss, step.grad]);
  const [l, s, z, g] = values.map((v) => Array.from(v as Float32Array));
  return {
    backend: tf.getBackend(),
    reads,
    leaked: tf.memory().numTensors - before,
    loss: l,
    lse: s,
    zLoss: z,
    grad: g,
    lseShape,
  };
};

/** A small MLP trained with SGD from fixed weights; the losses of each step (read after the step). */
window.gpuTrain = async (steps: number) => {
  const n = 48;
  const d = 12;
  const h = 16;
  const k = 10;
  const x = tf.tensor2d(
    Float32Array.from({ length: n * d }, (_, j) => wave(j, 0.9)),
    [n, d],
  );
  const y = tf.tensor1d(
    Int32Array.from({ length: n }, (_, i) => (i % 9 === 4 ? -100 : (i * 7) % k)),
    'int32',
  );
  const v = (rows: number, cols: number, f: number) =>
    tf.variable(
      tf.tensor2d(
        Float32Array.from({ length: rows * cols }, (_, j) => wave(j, f) * 0.4),
        [rows, cols],
      ),
    );
  const w1 = v(d, h, 1.3);
  const w2 = v(h, k, 2.1);
  const b2 = tf.variable(tf.zeros([k]));
  const optimizer = tf.train.sgd(0.5);
  const losses: number[] = [];
  let reads = 0;
  for (let s = 0; s < steps; s++) {
    const counted = countingReads(() =>
      optimizer.minimize(() => {
        const logits = tf.add(tf.matMul(tf.relu(tf.matMul(x, w1)), w2), b2);
        return softmaxCrossEntropy(y, logits, { labelSmoothing: 0.1, zLoss: 1e-3, softcap: 8 }) as tf.Scalar;
      }, true),
    );
    reads += counted.reads;
    losses.push((await counted.value!.data())[0]);
    counted.value!.dispose();
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  tf.disposeVariables();
  return { losses, reads };
};

window.gpuRefusal = (option: string) => {
  const options: Record<string, TfCrossEntropyOptions> = {
    focalGamma: { focalGamma: 2 },
    confidencePenalty: { confidencePenalty: 0.1 },
    onLoss: { onLoss: () => undefined },
    lse: { lse: true },
    noise: { noise: { matrix: [0.5, 0.5, 0.5, 0.5] } },
    target: {},
  };
  const z = tf.zeros([2, 2]);
  const t = option === 'target' ? tf.tensor2d([1, 0, 0, 1], [2, 2]) : tf.tensor1d([0, 1], 'int32');
  try {
    softmaxCrossEntropy(t, z, options[option]).dispose();
    return 'no error';
  } catch (e) {
    return String(e);
  } finally {
    tf.dispose([z, t]);
  }
};

/** A label out of range in a tensor: checked by the programs, without a read-back: the loss is NaN. */
window.gpuInvalidLabel = async () => {
  const z = tf.zeros([3, 4]);
  const y = tf.tensor1d([1, 7, 2], 'int32');
  const { value, reads } = countingReads(() => softmaxCrossEntropy(y, z, { labelSmoothing: 0.1 }));
  const loss = (await value.data())[0];
  tf.dispose([z, y, value]);
  return { loss, reads };
};

/** labelsmooth/webgpu on a device of the page's own: every case against the float64 core. */
/** Buffer helpers of a device: upload a typed array, download n floats. */
function bufferIo(device: GPUDevice) {
  const upload = (data: Float32Array | Int32Array, extra = 0) => {
    const b = device.createBuffer({
      size: data.byteLength,
      usage: extra | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
    return b;
  };
  const download = async (b: GPUBuffer, length: number) => {
    const s = device.createBuffer({
      size: length * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const e = device.createCommandEncoder();
    e.copyBufferToBuffer(b, 0, s, 0, length * 4);
    device.queue.submit([e.finish()]);
    await s.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(s.getMappedRange().slice(0));
    s.destroy();
    return out;
  };
  return { upload, download };
}

/** One case through labelsmooth/webgpu, against the float64 core. */
async function rawCase(device: GPUDevice, name: string, c: Case): Promise<Record<string, number | string>> {
  const { upload, download } = bufferIo(device);
  const k = c.shape[c.shape.length - 1];
  const rows = c.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const z = Float32Array.from({ length: rows * k }, (_, j) => wave(j, 1.7) * (c.scale ?? 3));
  const y = c.labels(rows, k);
  const logits = upload(z);
  const targets = upload(y);
  const grad = device.createBuffer({
    size: z.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const lse = device.createBuffer({
    size: rows * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const rowLoss = device.createBuffer({
    size: rows * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const { onLoss: _, ...options } = c.options;
  const r = await crossEntropyWebGPU(
    device,
    { logits, targets, rows, classes: k, grad, lse, rowLoss },
    options,
  );
  const ref = crossEntropy(Float64Array.from(z), y, {
    ...(options as CrossEntropyOptions),
    classes: k,
    kernel: 'js',
    grad: true,
    lse: true,
  });
  const perRow = crossEntropy(Float64Array.from(z), y, {
    ...(options as CrossEntropyOptions),
    classes: k,
    kernel: 'js',
    reduction: 'none',
    normalizer: undefined,
  });
  const sum = (v: number | Float64Array) => (typeof v === 'number' ? v : v.reduce((a, b) => a + b, 0));
  const [g, l, rl] = await Promise.all([
    download(grad, rows * k),
    download(lse, rows),
    download(rowLoss, rows),
  ]);
  for (const b of [logits, targets, grad, lse, rowLoss]) b.destroy();
  // ignored rows' lse are reported too (their logits are read like any other row's)
  return {
    name,
    lossError: Math.abs(r.loss - sum(ref.loss)),
    lossScale: Math.abs(sum(ref.loss)),
    zLossError: Math.abs(r.zLoss - sum(ref.zLoss ?? 0)),
    denominatorError: Math.abs(r.denominator - ref.denominator),
    gradError: maxDiff(g, ref.grad!),
    gradScale: maxAbs(ref.grad!),
    lseError: maxDiff(l, ref.lse!),
    rowLossError: maxDiff(rl, perRow.loss as Float64Array),
    rowLossScale: maxAbs(perRow.loss as Float64Array),
  };
}

window.webgpuRaw = async () => {
  const gpu = (navigator as unknown as { gpu: GPU }).gpu;
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  let compiled = 0;
  const create = device.createComputePipeline.bind(device);
  device.createComputePipeline = (d: GPUComputePipelineDescriptor) => {
    compiled++;
    return create(d);
  };
  const { upload } = bufferIo(device);
  const results: Record<string, number | string>[] = [];
  for (const [name, c] of Object.entries(CASES)) results.push(await rawCase(device, name, c));
  const compiledFirst = compiled;
  // errors: an invalid label found on the GPU, a refused option, an aliased output
  const logits = upload(new Float32Array(12));
  const targets = upload(Int32Array.from([1, 9, 2]));
  const message = (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e) => String(e),
    );
  const invalid = await message(crossEntropyWebGPU(device, { logits, targets, rows: 3, classes: 4 }));
  const refused = await message(
    crossEntropyWebGPU(device, { logits, targets, rows: 3, classes: 4 }, { focalGamma: 2 } as never),
  );
  const aliased = await message(
    crossEntropyWebGPU(device, { logits, targets, rows: 3, classes: 4, grad: logits }),
  );
  device.destroy();
  return { results, compiledFirst, compiledAfter: compiled, invalid, refused, aliased };
};
