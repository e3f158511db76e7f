// What the GPU programs (TF.js's webgl and webgpu kernels, labelsmooth/webgpu) read, validated on the CPU
// before anything runs on the GPU: every option becomes a class vector or a scalar of the programs, or is
// refused here, naming the option and where it cannot run. Nothing in this file reads GPU memory.
import { fail } from '../core/errors.js';
import { parseEpsilon, parseIgnoreIndex, parseMask, parseNoise, parseNonNegative } from '../core/inputs.js';
import type { CrossEntropyOptions, Reduction } from '../core/types.js';
import { noiseVector } from '../math/noiseVector.js';

/** The options a GPU plan reads. */
export type GpuOptions = Omit<CrossEntropyOptions, 'classes' | 'grad'>;

/** The rows of the class table the programs read ([CLASS_ROWS, K] float32). */
export const CLASS_ROWS = 4;

/** A validated call of the GPU op: scalars and class vectors, and what is refused has been refused. */
export interface GpuPlan {
  /** N, the rows (B·T for sequences). */
  rows: number;
  /** K. */
  classes: number;
  /** ε. */
  eps: number;
  /** Non-target noise: u_c = 1/(Kₐ − 1) off the target, 0 on it. */
  nonTarget: boolean;
  /**
   * [CLASS_ROWS, K]: allowed m_c (1/0); the per-class weight w_c of the nll and of Λ (1 without, or with
   * `weightMode: 'per-example'`); v_c = w_c·u_c (the smoothing targets, 0 on masked classes; non-target:
   * w_c/(Kₐ − 1)); e_c, the per-example weight of a row of class c (1 without).
   */
  table: Float32Array;
  /** Σ_c v_c. */
  sumV: number;
  ignoreIndex: number;
  /** c of the soft cap, or 0 without one. */
  softcap: number;
  /** ζ of the z-loss ζ·lse², or null without one. */
  zLoss: number | null;
  reduction: Reduction;
  normalizer: number | undefined;
  /** Per-row weights (N), or null. */
  sampleWeight: Float32Array | null;
}

/** Options the GPU programs do not compute, and why (callers add their own). */
export const REFUSED_ON_GPU: Readonly<Record<string, string>> = {
  confidencePenalty: 'the confidence penalty runs on the CPU paths only',
  focalGamma: 'focal loss runs on the CPU paths only',
  focalAlpha: 'focal loss runs on the CPU paths only',
};

function refuse(fn: string, where: string, option: string, value: unknown, why: string): never {
  return fail(fn, `options.${option}`, undefined, value, `not available on ${where}: ${why}`);
}

/** The class vectors of shared noise and mask (see {@link GpuPlan.table}). */
function classTable(
  fn: string,
  where: string,
  options: GpuOptions,
  rows: number,
  k: number,
): { table: Float32Array; sumV: number; nonTarget: boolean } {
  const noise = parseNoise(fn, options.noise, rows, k);
  if (noise.kind === 'per-sample' || noise.kind === 'class-conditional')
    refuse(fn, where, 'noise', options.noise, `${noise.kind} noise runs on the CPU paths only`);
  const mask = parseMask(fn, options.classMask, rows, k);
  if (mask?.perRow)
    refuse(fn, where, 'classMask', options.classMask, 'per-row masks run on the CPU paths only');
  const perExample = options.weightMode === 'per-example';
  if (options.weightMode !== undefined && !perExample && options.weightMode !== 'per-class')
    fail(fn, 'options.weightMode', undefined, options.weightMode, "must be 'per-class' or 'per-example'");
  const weight =
    options.weight === undefined ? null : parseNonNegative(fn, 'options.weight', options.weight, k);
  const table = new Float32Array(CLASS_ROWS * k);
  let allowed = 0;
  let mass = 0;
  for (let c = 0; c < k; c++) {
    const m = mask ? mask.data[c] : 1;
    table[c] = m;
    allowed += m;
    if (m && noise.data) mass += noise.data[c];
  }
  if (noise.kind === 'non-target' && allowed < 2)
    fail(fn, 'options.classMask', undefined, allowed, 'non-target noise needs ≥ 2 allowed classes');
  if (noise.data && !(mass > 0))
    fail(fn, 'options.noise', undefined, mass, 'the prior has no mass on the allowed classes');
  // u as the reference and the kernel make it; non-target noise's 1/(Kₐ − 1) everywhere (p = null), the
  // programs leave the target out.
  const rule = noise.kind === 'prior' ? 'mass' : noise.kind;
  const u = noiseVector(rule, noise.data, 0, mask ? mask.data : null, new Float64Array(k));
  let sumV = 0;
  for (let c = 0; c < k; c++) {
    const w = weight && !perExample ? weight[c] : 1;
    const v = table[c] ? w * u[c] : 0;
    table[k + c] = w;
    table[2 * k + c] = v;
    table[3 * k + c] = weight && perExample ? weight[c] : 1;
    sumV += v;
  }
  return { table, sumV, nonTarget: noise.kind === 'non-target' };
}

function positive(fn: string, name: string, v: unknown, min: 'open' | 'closed'): number | null {
  if (v === undefined) return null;
  const ok = typeof v === 'number' && v < Infinity && (min === 'open' ? v > 0 : v >= 0);
  if (!ok)
    fail(fn, `options.${name}`, undefined, v, `must be a finite number ${min === 'open' ? '>' : '≥'} 0`);
  return v as number;
}

/** Where a GPU plan runs (for messages) and what it refuses beyond {@link REFUSED_ON_GPU}. */
export interface GpuTarget {
  /** e.g. `the webgl backend`. */
  where: string;
  /** Option → why it is refused there. */
  refused: Readonly<Record<string, string>>;
}

/**
 * The plan of a GPU call, or a {@link LabelSmoothingError} for an option the GPU programs do not compute,
 * naming it and where. `options` have been key-checked.
 */
export function gpuPlan(
  fn: string,
  target: GpuTarget,
  options: GpuOptions,
  rows: number,
  classes: number,
): GpuPlan {
  const { where } = target;
  for (const [option, why] of Object.entries({ ...REFUSED_ON_GPU, ...target.refused })) {
    const value = (options as Record<string, unknown>)[option];
    if (value !== undefined && value !== false) refuse(fn, where, option, value, why);
  }
  if (options.kernel !== undefined && options.kernel !== 'auto')
    refuse(fn, where, 'kernel', options.kernel, 'it selects the CPU kernel; the GPU programs run here');
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
    fail(fn, 'options.reduction', undefined, reduction, "must be 'mean', 'sum' or 'none'");
  const normalizer = positive(fn, 'normalizer', options.normalizer, 'open') ?? undefined;
  if (normalizer !== undefined && reduction === 'none')
    fail(fn, 'options.normalizer', undefined, normalizer, "not allowed with reduction 'none'");
  const sampleWeight =
    options.sampleWeight === undefined
      ? null
      : Float32Array.from(parseNonNegative(fn, 'options.sampleWeight', options.sampleWeight, rows));
  return {
    rows,
    classes,
    eps: parseEpsilon(fn, options.labelSmoothing),
    ...classTable(fn, where, options, rows, classes),
    ignoreIndex: parseIgnoreIndex(fn, options.ignoreIndex),
    softcap: positive(fn, 'softcap', options.softcap, 'open') ?? 0,
    zLoss: positive(fn, 'zLoss', options.zLoss, 'closed'),
    reduction,
    normalizer,
    sampleWeight,
  };
}
