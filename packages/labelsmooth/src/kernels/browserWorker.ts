// A Web Worker for crossEntropyAsync in browsers: runs crossEntropy on one shard of rows (the kernel
// compiles synchronously inside workers) and sends the result back, the gradient buffer transferred.
import { crossEntropy } from '../core/crossEntropy.js';
import type { CrossEntropyOptions, Matrix, Target } from '../core/types.js';

interface Shard {
  logits: Matrix;
  target: Target;
  options: CrossEntropyOptions;
}

const scope = globalThis as unknown as {
  onmessage: ((e: { data: Shard }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = ({ data }) => {
  try {
    const r = crossEntropy(data.logits, data.target, { ...data.options, threads: false });
    scope.postMessage({ result: r }, r.grad ? [r.grad.buffer as ArrayBuffer] : []);
  } catch (e) {
    scope.postMessage({ error: String((e as Error).message ?? e) });
  }
};
