import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/** Backends the CLI can train on. */
export const BACKENDS = ['wasm', 'cpu'] as const;
/** A backend name accepted by `--backend`. */
export type BackendName = (typeof BACKENDS)[number];

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
