// A Web Worker for crossEntropyAsync in browsers: runs the kernel dispatch on one shard of a validated
// plan (the kernel compiles synchronously inside workers) and sends the sums back, with the gradient
// buffer transferred. It imports only the kernels: validation, the reference and the reduction stay on
// the page's thread, which recomputes any row declined here.

import { type KernelOutcome, runKernel } from './dispatch.js';
import type { KernelPlan } from './plan.js';

/** A shard: rows of a validated plan, and the whole batch's reduction factor. */
export interface ShardRequest {
  plan: KernelPlan;
  scale: number;
}

/** The kernel's answer for a shard: its outcome, per-row parts ('none') and the gradient rows. */
export interface ShardReply {
  outcome: KernelOutcome;
  perRow: { nll: Float64Array; smoothing: Float64Array; entropy: Float64Array } | null;
  grad: Float32Array | Float64Array | null;
}

const scope = globalThis as unknown as {
  onmessage: ((e: { data: ShardRequest }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = ({ data: { plan, scale } }) => {
  try {
    const perRow =
      plan.reduction === 'none'
        ? {
            nll: new Float64Array(plan.rows),
            smoothing: new Float64Array(plan.rows),
            entropy: new Float64Array(plan.rows),
          }
        : null;
    const outcome = runKernel(plan, scale, perRow);
    const reply: ShardReply = { outcome, perRow, grad: plan.grad };
    scope.postMessage(reply, plan.grad ? [plan.grad.buffer as ArrayBuffer] : []);
  } catch (e) {
    scope.postMessage({ error: String((e as Error).message ?? e) });
  }
};
