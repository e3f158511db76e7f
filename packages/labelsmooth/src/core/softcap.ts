// Logit soft-capping (Gemma 2; Liger-Kernel's `softcap`): z′ = c·tanh(z/c) before everything else, so every
// compute path runs on z′ and multiplies its gradient by dz′/dz = 1 − tanh²(z/c) = 1 − (z′/c)².
import type { CrossEntropyPlan } from './plan.js';

/**
 * The plan with z′ = c·tanh(z/c) (float64) in place of the logits of rows `rows` (all when omitted; other
 * rows are left 0 and never read); the caller's logits are untouched. Without a cap: the plan itself.
 */
export function softcapPlan(plan: CrossEntropyPlan, rows?: ArrayLike<number>): CrossEntropyPlan {
  const c = plan.softcap;
  if (c === null) return plan;
  const { logits: z, classes: k } = plan;
  const capped = new Float64Array(z.length);
  const count = rows ? rows.length : plan.rows;
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r] : r;
    for (let j = i * k; j < (i + 1) * k; j++) capped[j] = c * Math.tanh(z[j] / c);
  }
  return { ...plan, logits: capped };
}

/**
 * Row i of the gradient, taken with respect to z′, times dz′/dz = 1 − (z′/c)²; `capped` is the plan of
 * {@link softcapPlan}, whose logits hold z′ (the in-place mode has overwritten z itself by now).
 */
export function softcapGradientRow(capped: CrossEntropyPlan, i: number): void {
  const { grad, logits: zc, classes: k, softcap: c } = capped;
  if (grad === null || c === null) return;
  for (let j = i * k; j < (i + 1) * k; j++) {
    const t = zc[j] / c;
    grad[j] *= 1 - t * t;
  }
}
