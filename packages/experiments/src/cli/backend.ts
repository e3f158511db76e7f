import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import { type BackendName, UsageError } from './usage.js';

export { BACKENDS, type BackendName, UsageError } from './usage.js';

/**
 * Select a TF.js backend. `wasm` uses SIMD where the runtime has it; TF.js' wasm threads need
 * cross-origin-isolated Web Workers and are not available in Node, so it runs on one thread here.
 */
export async function useBackend(name: BackendName): Promise<string> {
  tf.env().set('PROD', true); // silences the "install tfjs-node" banner; tfjs-node cannot be installed here
  if (!(await tf.setBackend(name))) throw new Error(`the TF.js '${name}' backend could not start`);
  await tf.ready();
  const simd = name === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : false;
  return `${name}${simd ? ' (SIMD)' : ''}`;
}

/**
 * TF.js' wasm backend registers no gradient kernels for convolutions (Conv2DBackpropFilter), so the CNN
 * trains only on the cpu backend — which is slow (minutes per epoch of 60k images on 2 cores).
 */
export function checkModelBackend(model: string, backend: BackendName): void {
  if (model === 'cnn' && backend === 'wasm') {
    throw new UsageError(
      "--model cnn cannot train on the wasm backend: TF.js' wasm backend has no convolution gradients (Conv2DBackpropFilter). Use --backend cpu (much slower) or --model mlp.",
    );
  }
}

/** The CNN reshapes rows into images: it needs image data (mnist, fashion-mnist). */
export function checkModelData(model: string, train: { imageShape?: unknown; name: string }): void {
  if (model !== 'mlp' && !train.imageShape) {
    throw new UsageError(
      `--model ${model} needs image data (mnist or fashion-mnist), not ${train.name}; use --model mlp`,
    );
  }
}
