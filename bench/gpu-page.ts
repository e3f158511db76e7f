// The page of `npm run bench:gpu` (bundled by bench/gpu.ts): our fused op against TF.js's own
// softmaxCrossEntropy with one-hot targets, forward + backward, on the same backend, and a device copy of
// the logits as the floor. Every step ends with a 1-value read of its gradient, which waits for the queue.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of tfjs-core's ops
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { softmaxCrossEntropy } from '../packages/labelsmooth/src/tfjs/index.js';

declare global {
  interface Window {
    benchGpu: (backend: string, shapes: number[][], reps: number) => Promise<BenchReport>;
  }
}

/** One timed variant: the median of `reps` steps, or why it could not run. */
export interface Timing {
  medianMs?: number;
  error?: string;
}

/** What the page measures on one backend. */
export interface BenchReport {
  backend: string;
  adapter: string;
  emulated: boolean;
  /** The limits that decide which sizes fit (buffer or texture sizes). */
  limits?: string;
  rows: { shape: number[]; ours: Timing; tfjs: Timing; copy: Timing }[];
}

/** The adapter's (webgpu) or renderer's (webgl) name, and whether it is SwiftShader (CPU-emulated). */
async function adapterName(backend: string): Promise<{ adapter: string; emulated: boolean; limits: string }> {
  let adapter = 'unknown';
  let limits = '';
  if (backend === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: GPU }).gpu;
    // adapter.info (Chrome 127+) is newer than these types
    const a = (await gpu?.requestAdapter()) as unknown as {
      info?: Record<string, string>;
      limits?: GPUSupportedLimits;
    } | null;
    const info = a?.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
    if (name.length > 0) adapter = name.join(' ');
    const mb = (v?: number) => (v === undefined ? '?' : `${Math.round(v / 2 ** 20)} MiB`);
    limits = `maxStorageBufferBindingSize ${mb(a?.limits?.maxStorageBufferBindingSize)}, maxBufferSize ${mb(a?.limits?.maxBufferSize)}`;
  } else {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    if (gl) {
      adapter = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      limits = `MAX_TEXTURE_SIZE ${gl.getParameter(gl.MAX_TEXTURE_SIZE)}`;
    }
  }
  return { adapter, emulated: /swiftshader/i.test(adapter), limits };
}

async function time(step: () => tf.Tensor, reps: number): Promise<Timing> {
  try {
    const ms: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      const t0 = performance.now();
      const out = step();
      const corner = tf.slice(out, Array(out.rank).fill(0), Array(out.rank).fill(1));
      await corner.data(); // waits for the queue, reads one value
      if (r > 0) ms.push(performance.now() - t0); // the first run compiles the programs
      tf.dispose([out, corner]);
    }
    ms.sort((a, b) => a - b);
    return { medianMs: ms[Math.floor(ms.length / 2)] };
  } catch (e) {
    return { error: String(e instanceof Error ? e.message : e).slice(0, 200) };
  }
}

/** The three variants at one shape; the inputs are made (and the one-hot targets built) outside the timing. */
async function timeShape(shape: number[], reps: number): Promise<BenchReport['rows'][number]> {
  const k = shape[shape.length - 1];
  const n = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const z = tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 3));
  const y = tf.tidy(() =>
    tf.cast(tf.mul(tf.randomUniform(shape.slice(0, -1), 0, 1, 'float32', 2), k - 1), 'int32'),
  );
  try {
    const ours = await time(
      () => tf.grad((l: tf.Tensor) => softmaxCrossEntropy(y, l, { labelSmoothing: 0.1 }) as tf.Scalar)(z),
      reps,
    );
    const copy = await time(() => tf.add(z, tf.scalar(0)), reps);
    let tfjs: Timing;
    try {
      const oneHot = tf.tidy(() => tf.oneHot(tf.reshape(y, [n]), k));
      const z2 = tf.reshape(z, [n, k]);
      tfjs = await time(
        () =>
          tf.grad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, l, undefined, 0.1) as tf.Scalar)(
            z2,
          ),
        reps,
      );
      tf.dispose([oneHot, z2]);
    } catch (e) {
      tfjs = { error: String(e instanceof Error ? e.message : e).slice(0, 200) };
    }
    return { shape, ours, tfjs, copy };
  } finally {
    tf.dispose([z, y]);
  }
}

window.benchGpu = async (backend, shapes, reps) => {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialize`);
  await tf.ready();
  const rows: BenchReport['rows'] = [];
  for (const shape of shapes) {
    try {
      rows.push(await timeShape(shape, reps));
    } catch (e) {
      // the logits (or the one-hot targets) do not fit this backend: every variant fails alike
      const error = String(e instanceof Error ? e.message : e).slice(0, 200);
      rows.push({ shape, ours: { error }, tfjs: { error }, copy: { error } });
    }
  }
  return { backend, ...(await adapterName(backend)), rows };
};
