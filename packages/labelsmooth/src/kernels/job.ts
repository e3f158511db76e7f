// From a validated crossEntropy plan to the SIMD kernel's form of the problem (the noise folded into one
// vector v_c = w_c·u_c, the mask as 0/1 floats), or the reason the kernel cannot take it.

import { evenShare, noiseVector } from '../math/noiseVector.js';
import type { FusedJob, SharedNoise } from './fused.js';
import { languageModelJob } from './languageModel.js';
import type { KernelPlan } from './plan.js';

/** Smallest and largest magnitudes the kernel takes for weights and noise values (see {@link fusedJob}). */
const FLOAT32_SAFE_MIN = 1e-30;
const FLOAT32_SAFE_MAX = 1e30;

/** 0, or a magnitude the float32 kernel carries to float32 precision with room for its products. */
function float32Safe(x: number): boolean {
  return x === 0 || (Math.abs(x) >= FLOAT32_SAFE_MIN && Math.abs(x) <= FLOAT32_SAFE_MAX);
}

/** Why the SIMD kernel does not take a plan whatever its values, or null when its shape fits. */
export function unsupportedShape(plan: KernelPlan): string | null {
  if (!(plan.logits instanceof Float32Array)) return 'the kernel takes float32 logits';
  if (plan.target.kind !== 'index') return 'probability targets take the float64 reference';
  if (plan.noise.perRow) return 'per-sample noise takes the float64 reference';
  if (plan.mask?.perRow) return 'per-row class masks take the float64 reference';
  if ((plan.softcap !== null || plan.zLoss !== null || plan.lse !== null) && isFamily(plan))
    return 'softcap, zLoss and lse with the confidence penalty, focal loss or class-conditional noise take the float64 reference';
  return null;
}

/** Whether a plan needs the family kernel (`familyRows`): a penalty, focal loss or class-conditional noise. */
function isFamily(plan: KernelPlan): boolean {
  return plan.focal !== null || plan.confidencePenalty !== null || plan.noise.kind === 'class-conditional';
}

/**
 * The kernel's job for a plan of a supported shape (see {@link unsupportedShape}), or `'float32-range'`
 * when a class weight or noise value v_c = w_c·u_c (or β, α, the soft cap, ζ) lies outside [1e−30, 1e30]: the kernel holds
 * them in float32 (normal from 1.2e−38, finite to 3.4e38) and multiplies them with row factors, so such
 * values would underflow or overflow there (all weights 1e−46 would give a loss of 0). Class-conditional
 * noise rows are normalized in the kernel, which sends a row whose allowed mass is ≤ 1e−30 back to the
 * reference.
 *
 * @param scale the reduction's factor (1/denominator, 1/normalizer or 1)
 * @param perRow per-row outputs for reduction 'none', or null to sum
 * @param zScale the z-loss's factor, or null without a z-loss
 */
export function fusedJob(
  plan: KernelPlan,
  scale: number,
  perRow: FusedJob['perRow'],
  zScale: number | null = null,
): FusedJob | 'float32-range' {
  const k = plan.classes;
  const labels = (plan.target as { labels: ArrayLike<number> }).labels;
  const { classWeight, exampleWeight, sampleWeight } = plan;
  let mask: Float32Array | null = null;
  let allowed = k;
  if (plan.mask) {
    mask = Float32Array.from(plan.mask.data);
    allowed = mask.reduce((a, b) => a + b, 0);
  }
  const kind = plan.noise.kind;
  const family = isFamily(plan);
  if (family) {
    const { confidencePenalty: beta, focal } = plan;
    if ((beta !== null && !float32Safe(beta)) || (focal && !float32Safe(focal.alpha))) return 'float32-range';
  }
  if (classWeight) for (let c = 0; c < k; c++) if (!float32Safe(classWeight[c])) return 'float32-range';
  if (
    (plan.softcap !== null && !float32Safe(plan.softcap)) ||
    (plan.zLoss !== null && !float32Safe(plan.zLoss))
  )
    return 'float32-range';
  const noise = sharedNoise(plan, mask, allowed);
  if (noise === 'float32-range') return noise;
  const { lm, scale: rowScale } = languageModelJob(plan, scale, zScale);
  const rowWeight = (i: number) =>
    (sampleWeight ? sampleWeight[i] : 1) * (exampleWeight ? exampleWeight[labels[i]] : 1);
  return {
    z: plan.logits as Float32Array,
    rows: plan.rows,
    classes: k,
    labels,
    ignoreIndex: plan.ignoreIndex,
    eps: plan.eps,
    noise,
    nonTarget: kind === 'non-target',
    allowed,
    mask,
    classWeight: classWeight ? Float32Array.from(classWeight) : null,
    rowWeight,
    unitRows: !sampleWeight && !exampleWeight,
    scale: rowScale,
    grad: plan.grad,
    inPlace: plan.inPlace,
    perRow,
    family: family
      ? {
          beta: plan.confidencePenalty,
          focal: plan.focal,
          matrix: kind === 'class-conditional' ? plan.noise.data : null,
        }
      : null,
    lm,
  };
}

/**
 * The noise the rows share (see SharedNoise), or 'float32-range' when a v_c is outside the kernel's range.
 */
function sharedNoise(
  plan: KernelPlan,
  mask: Float32Array | null,
  allowed: number,
): SharedNoise | 'float32-range' {
  const k = plan.classes;
  const kind = plan.noise.kind;
  const { classWeight } = plan;
  // u_c on the allowed classes, as the reference makes it (math/noiseVector.ts): uniform 1/Kₐ, non-target
  // 1/(Kₐ−1) (+ the correction at y in the kernel), prior n_c/Σ_allowed n; class-conditional rows are S[y],
  // staged and normalized by the kernel (see FamilyJob.matrix). The plan guarantees Kₐ ≥ 2 for non-target
  // and prior mass > 0.
  if (kind === 'class-conditional') return { kind: 'rows' };
  const even = kind === 'uniform' || kind === 'non-target' ? evenShare(kind, allowed) : 0;
  if (kind !== 'prior' && !classWeight) return { kind: 'constant', u: even, sum: allowed * even };
  const prior = kind === 'prior' ? noiseVector('mass', plan.noise.data, 0, mask, new Float64Array(k)) : null;
  const v = new Float32Array(k);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    if (mask && !mask[c]) continue;
    const vc = (classWeight ? classWeight[c] : 1) * (prior ? prior[c] : even);
    if (!float32Safe(vc)) return 'float32-range';
    v[c] = vc;
    sum += v[c]; // the float32 values the kernel sums against
  }
  return { kind: 'vector', v, sum };
}
