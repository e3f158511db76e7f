// The noise u of one row, shared by the float64 reference (core/reference.ts), the kernel's job builder
// (kernels/job.ts) and the GPU programs' class table (gpu/plan.ts), the last two folding it into
// v_c = w_c·u_c: one definition, so that they cannot drift. A leaf module (it imports nothing): the kernels
// import nothing from the core, and all of them may import it.
//
//     uniform      u_c = 1/Kₐ
//     non-target   u_c = (1 − p_c)/(Kₐ − 1)     (p = null: a one-hot target away from c, 1/(Kₐ − 1))
//     mass n       u_c = n_c / Σ_allowed n       (a prior, a per-sample row, or Σ_y p_y·S[y, c])
//
// over the Kₐ allowed classes (a 0/1 entry per class; null: all K), 0 on the masked ones.

/** How u is made from the row: evenly, evenly away from the target, or in proportion to a mass n. */
export type NoiseRule = 'uniform' | 'non-target' | 'mass';

/** How many of `k` classes `allowed` allows (all of them when it is null). */
export function allowedCount(k: number, allowed: ArrayLike<number> | null): number {
  if (allowed === null) return k;
  let count = 0;
  for (let c = 0; c < k; c++) if (allowed[c]) count++;
  return count;
}

/** The constant u_c of uniform (1/Kₐ) and of non-target noise away from a one-hot target (1/(Kₐ − 1)). */
export function evenShare(rule: 'uniform' | 'non-target', count: number): number {
  return 1 / (rule === 'non-target' ? count - 1 : count);
}

/**
 * u of one row into `out` (length K): see the module comment. `source` is p for non-target noise (or null
 * for a one-hot target), n for a mass (read at `source[start + c]`; it may be `out` itself), unused for
 * uniform noise. Sums run in class order.
 */
export function noiseVector<T extends { [c: number]: number; length: number }>(
  rule: NoiseRule,
  source: ArrayLike<number> | null,
  start: number,
  allowed: ArrayLike<number> | null,
  out: T,
): T {
  const k = out.length;
  if (rule === 'mass') {
    let mass = 0;
    for (let c = 0; c < k; c++) if (!allowed || allowed[c]) mass += source![start + c];
    for (let c = 0; c < k; c++) out[c] = allowed && !allowed[c] ? 0 : source![start + c] / mass;
    return out;
  }
  const count = allowedCount(k, allowed);
  for (let c = 0; c < k; c++) {
    if (allowed && !allowed[c]) out[c] = 0;
    else if (rule === 'uniform' || source === null) out[c] = evenShare(rule, count);
    else out[c] = (1 - source[start + c]) / (count - 1);
  }
  return out;
}
