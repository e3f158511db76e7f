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
  rows: { shape: number[]; ours: Timing; tfjs: Timing; copy: Timing }[];
}

/** The adapter's (webgpu) or renderer's (webgl) name, and whether it is SwiftShader (CPU-emulated). */
async function adapterName(backend: string): Promise<{ adapter: string; emulated: boolean }> {
  let adapter = 'unknown';
  if (backend === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: GPU }).gpu;
    // adapter.info (Chrome 127+) is newer than these types
    const a = (await gpu?.requestAdapter()) as unknown as { info?: Record<string, string> } | null;
    const info = a?.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
    if (name.length > 0) adapter = name.join(' ');
  } else {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    if (gl) adapter = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  }
  return { adapter, emulated: /swiftshader/i.test(adapter) };
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

window.benchGpu = async (backend, shapes, reps) => {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialize`);
  await tf.ready();
  const rows: BenchReport['rows'] = [];
  for (const shape of shapes) {
    const k = shape[shape.length - 1];
    const n = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const z = tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 3));
    const y = tf.tidy(() =>
      tf.cast(tf.mul(tf.randomUniform(shape.slice(0, -1), 0, 1, 'float32', 2), k - 1), 'int32'),
    );
    const oneHot = tf.tidy(() => tf.reshape(tf.oneHot(tf.reshape(y, [n]), k), [n, k])); // outside the timing
    const z2 = tf.reshape(z, [n, k]);
    const ours = await time(
      () => tf.grad((l: tf.Tensor) => softmaxCrossEntropy(y, l, { labelSmoothing: 0.1 }) as tf.Scalar)(z),
      reps,
    );
    const theirs = await time(
      () =>
        tf.grad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, l, undefined, 0.1) as tf.Scalar)(z2),
      reps,
    );
    const copy = await time(() => tf.add(z, tf.scalar(0)), reps);
    rows.push({ shape, ours, tfjs: theirs, copy });
    tf.dispose([z, y, oneHot, z2]);
  }
  return { backend, ...(await adapterName(backend)), rows };
};
