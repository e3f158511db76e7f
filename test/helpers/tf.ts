// TF.js for the tests: core + layers (which registers the gradients) + the cpu and wasm backends.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

export { tf, tfl };

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not initialize`);
  await tf.ready();
}

/** Three well-separated Gaussian blobs in 2-D, deterministic. */
export function blobs(n: number, seed = 7): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centers = [
    [0, 3],
    [3, -2],
    [-3, -2],
  ];
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    x[2 * i] = centers[c][0] + 0.6 * gauss();
    x[2 * i + 1] = centers[c][1] + 0.6 * gauss();
  }
  return { x, y };
}
