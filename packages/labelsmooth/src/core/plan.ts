// The one place where the options of every loss are read. Each public function turns (logits, target,
// options) into a plan — validated, normalized, plain data — and every compute path (the reference in
// reference.ts, the WASM kernels behind kernels/dispatch.ts, the browser workers) consumes only the plan.
// A plan is structured-cloneable (no functions), so a shard of it can be posted to a Web Worker.

import { memoryRegion } from '../kernels/memory.js';
import type { KernelPlan } from '../kernels/plan.js';
import { fail } from './errors.js';
import {
  checkDistribution,
  checkUsedNoiseRows,
  isFloatArray,
  type ParsedMask,
  type ParsedNoise,
  type ParsedTarget,
  parseClasses,
  parseEpsilon,
  parseIgnoreIndex,
  parseMask,
  parseMatrix,
  parseNoise,
  parseNonNegative,
  parseTarget,
} from './inputs.js';
import { parseCheckedNoise } from './noiseMatrix.js';
import { checkOptions } from './options.js';
import { type NamedInput, refuseOverlap, sameArray } from './overlap.js';
import type {
  BinaryCrossEntropyOptions,
  CrossEntropyOptions,
  FloatArray,
  Matrix,
  Reduction,
  SmoothingOptions,
  Target,
} from './types.js';

export type { ParsedMask, ParsedNoise, ParsedTarget } from './inputs.js';

/** Option names of {@link smoothLabels}. */
export const SMOOTHING_KEYS = ['classes', 'labelSmoothing', 'noise', 'classMask', 'ignoreIndex'] as const;

/** Option names of {@link crossEntropy} and {@link crossEntropyAsync}. */
export const CROSS_ENTROPY_KEYS = [
  ...SMOOTHING_KEYS,
  'weight',
  'weightMode',
  'sampleWeight',
  'reduction',
  'normalizer',
  'grad',
  'kernel',
  'threads',
  'confidencePenalty',
  'focalGamma',
  'focalAlpha',
  'softcap',
  'zLoss',
  'lse',
] as const;

/** Option names of the TF.js op `softmaxCrossEntropy`: the core's, with `classes` and `grad` taken from
 * the tensors, plus `onLoss`. */
export const TF_OP_KEYS = [
  ...CROSS_ENTROPY_KEYS.filter((k) => k !== 'classes' && k !== 'grad'),
  'onLoss',
] as const;

/** Option names of the `model.compile` losses: the op's, without the reduction (left to tfjs-layers). */
export const LAYERS_LOSS_KEYS = [
  ...TF_OP_KEYS.filter((k) => k !== 'reduction' && k !== 'normalizer' && k !== 'sampleWeight'),
  'fromLogits',
] as const;

/** Option names of {@link binaryCrossEntropy}. */
export const BINARY_KEYS = [
  'classes',
  'labelSmoothing',
  'weight',
  'sampleWeight',
  'reduction',
  'normalizer',
  'grad',
] as const;

/**
 * Everything that defines p′ = (1−ε)·p + ε·u for N rows of K classes, validated: labels in range and
 * allowed, probabilities that are distributions without mass on masked classes, a noise with mass on the
 * allowed classes of every row, and at least 2 allowed classes per row for non-target noise.
 */
export interface SmoothingPlan {
  /** The public function, for error messages. */
  fn: string;
  /** N. */
  rows: number;
  /** K. */
  classes: number;
  /** Class indices (length N) or probabilities (N×K, row-major). */
  target: ParsedTarget;
  /** ε in [0, 1]. */
  eps: number;
  /** The noise u: uniform, non-target, a prior (K) or per-sample (N×K). */
  noise: ParsedNoise;
  /** Allowed classes as 0/1 bytes (K or N×K), or null when all are allowed. */
  mask: ParsedMask | null;
  /** The label of rows to ignore. */
  ignoreIndex: number;
  /** How many rows have the label ignoreIndex (0 with probability targets). */
  ignoredRows: number;
}

/**
 * A validated crossEntropy call: the smoothing plus weights, reduction, gradient and dispatch choices. The
 * fields the kernels read are declared once, by the kernels' view of a call ({@link KernelPlan}); the
 * smoothing's own (target, noise, mask) are the parsed forms above, which that view accepts.
 */
export interface CrossEntropyPlan
  extends SmoothingPlan,
    Omit<KernelPlan, 'rows' | 'classes' | 'target' | 'eps' | 'noise' | 'mask' | 'ignoreIndex'> {
  /** Divide the sum by this instead of the `mean` denominator. */
  normalizer: number | undefined;
}

/** binaryCrossEntropy's weights: one per output (K, w[c]) or one per element (N×K, w[i·K + c]). */
export interface BinaryWeight {
  /** K entries, or N×K when `perElement`. */
  data: ArrayLike<number>;
  perElement: boolean;
}

/** A validated binaryCrossEntropy call. */
export interface BinaryPlan {
  fn: string;
  rows: number;
  classes: number;
  logits: ArrayLike<number>;
  /** Targets in [0, 1], N×K. */
  target: ArrayLike<number>;
  eps: number;
  /** Per-output (K) or per-element (N×K) weights, or null. */
  weight: BinaryWeight | null;
  sampleWeight: ArrayLike<number> | null;
  reduction: Reduction;
  normalizer: number | undefined;
  grad: FloatArray | null;
}

/** Validate everything that defines p′ for `rows` rows of `classes` classes (options already key-checked). */
export function planSmoothing(
  fn: string,
  target: Target | unknown,
  rows: number,
  classes: number,
  options: SmoothingOptions,
): SmoothingPlan {
  const eps = parseEpsilon(fn, options.labelSmoothing);
  const parsed = parseTarget(fn, target, rows, classes);
  const noise = parseCheckedNoise(fn, options.noise, classes) ?? parseNoise(fn, options.noise, rows, classes);
  const mask = parseMask(fn, options.classMask, rows, classes);
  const ignoreIndex = parseIgnoreIndex(fn, options.ignoreIndex);
  const plan: SmoothingPlan = {
    fn,
    rows,
    classes,
    target: parsed,
    eps,
    noise,
    mask,
    ignoreIndex,
    ignoredRows: 0,
  };
  plan.ignoredRows = checkTargets(plan);
  checkUsedNoiseRows(fn, noise, parsed, ignoreIndex, classes);
  checkNoiseOnAllowed(plan);
  return plan;
}

/** Whether class c is allowed in row i. */
export function allowed(mask: ParsedMask | null, classes: number, i: number, c: number): boolean {
  return mask === null || mask.data[(mask.perRow ? i * classes : 0) + c] === 1;
}

/** Row i is a class-index row whose label is ignoreIndex. */
export function isIgnored(plan: SmoothingPlan, i: number): boolean {
  return plan.target.kind === 'index' && plan.target.labels[i] === plan.ignoreIndex;
}

/**
 * Labels in range and allowed, or probabilities that are distributions with no mass on masked classes.
 * Returns the number of ignored rows.
 */
function checkTargets(s: SmoothingPlan): number {
  const { fn, rows, classes: k, target, mask, ignoreIndex } = s;
  if (target.kind === 'index') {
    const labels = target.labels;
    let ignored = 0;
    for (let i = 0; i < rows; i++) {
      const y = labels[i];
      if (y === ignoreIndex) {
        ignored++;
        continue;
      }
      if (typeof y !== 'number' || !Number.isInteger(y))
        fail(fn, 'target', i, y, 'class index must be an integer');
      if (y < 0 || y >= k)
        fail(fn, 'target', i, y, `class index out of range [0, ${k}) and not ignoreIndex (${ignoreIndex})`);
      if (!allowed(mask, k, i, y)) fail(fn, 'target', i, y, 'class is excluded by options.classMask');
    }
    return ignored;
  }
  checkDistribution(fn, 'target', target.probs, rows, k);
  if (mask === null) return 0;
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < k; c++) {
      const t = target.probs[i * k + c];
      if (t > 0 && !allowed(mask, k, i, c))
        fail(fn, 'target', i * k + c, t, `probability on a masked class (row ${i}, class ${c})`);
    }
  }
  return 0;
}

/** Every non-ignored row must leave the noise something to spread over: ≥ 2 allowed classes for
 * non-target noise, positive prior / per-sample mass on the allowed classes. */
function checkNoiseOnAllowed(s: SmoothingPlan): void {
  const { fn, rows, classes: k, noise, mask } = s;
  if (noise.kind === 'uniform' || mask === null) return;
  const distinctRows = mask.perRow || noise.perRow || noise.kind === 'class-conditional' ? rows : 1;
  // With a shared mask, rows of S[y] with class-index targets repeat: each label's row is checked once.
  const byLabel =
    noise.kind === 'class-conditional' && !mask.perRow && s.target.kind === 'index'
      ? new Uint8Array(k)
      : null;
  for (let i = 0; i < distinctRows; i++) {
    if (distinctRows > 1 && isIgnored(s, i)) continue;
    if (byLabel) {
      const y = (s.target as { labels: ArrayLike<number> }).labels[i];
      if (byLabel[y]) continue;
      byLabel[y] = 1;
    }
    let count = 0;
    let mass = 0;
    for (let c = 0; c < k; c++) {
      if (!allowed(mask, k, i, c)) continue;
      count++;
      if (noise.kind === 'class-conditional') mass += classConditionalMass(s, i, c);
      else if (noise.data) mass += noise.data[(noise.perRow ? i * k : 0) + c];
    }
    if (noise.kind === 'non-target' && count < 2)
      fail(fn, 'options.classMask', i, count, `non-target noise needs ≥ 2 allowed classes in row ${i}`);
    if (noise.data && !(mass > 0))
      fail(fn, 'options.noise', i, mass, `row ${i} has no noise mass on the allowed classes`);
  }
}

/** n_c = Σ_y p_y·S[y, c] of row i for class-conditional noise (S[yᵢ, c] for class indices). */
export function classConditionalMass(s: SmoothingPlan, i: number, c: number): number {
  const k = s.classes;
  const S = s.noise.data!;
  if (s.target.kind === 'index') return S[s.target.labels[i] * k + c];
  let n = 0;
  for (let y = 0; y < k; y++) {
    const p = s.target.probs[i * k + y];
    if (p > 0) n += p * S[y * k + c]; // rows without mass are not checked (checkUsedNoiseRows): never read
  }
  return n;
}

/** The number of rows of `target` for smoothLabels (which has no logits to take N from). */
function rowsOfTarget(fn: string, target: unknown, classes: number | undefined): [number, number] {
  if (isFloatArray(target)) {
    if (classes === undefined)
      fail(fn, 'options.classes', undefined, classes, 'required for flat probability targets');
    if (target.length % classes !== 0)
      fail(fn, 'target', undefined, target, `length ${target.length} is not a multiple of K = ${classes}`);
    return [target.length / classes, classes];
  }
  if (Array.isArray(target) && Array.isArray(target[0]))
    return [target.length, classes ?? (target[0] as unknown[]).length];
  if (ArrayBuffer.isView(target) || Array.isArray(target)) {
    if (classes === undefined)
      fail(fn, 'options.classes', undefined, classes, 'required for class-index targets');
    return [(target as ArrayLike<number>).length, classes];
  }
  return fail(fn, 'target', undefined, target, 'expected class indices or probabilities');
}

/** The plan of a {@link smoothLabels} call. */
export function planSmoothLabels(target: Target | unknown, options: unknown): SmoothingPlan {
  const fn = 'smoothLabels';
  const o = checkOptions<SmoothingOptions>(fn, options, SMOOTHING_KEYS);
  const [rows, classes] = rowsOfTarget(fn, target, parseClasses(fn, o.classes));
  return planSmoothing(fn, target, rows, classes, o);
}

function parseReduction(fn: string, reduction: unknown): Reduction {
  if (reduction === undefined) return 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
    fail(fn, 'options.reduction', undefined, reduction, "must be 'mean', 'sum' or 'none'");
  return reduction;
}

function parseNormalizer(fn: string, normalizer: unknown, reduction: Reduction): number | undefined {
  if (normalizer === undefined) return undefined;
  if (reduction === 'none')
    fail(fn, 'options.normalizer', undefined, normalizer, "not allowed with reduction 'none'");
  if (typeof normalizer !== 'number' || !(normalizer > 0 && normalizer < Infinity))
    fail(fn, 'options.normalizer', undefined, normalizer, 'must be a finite number > 0');
  return normalizer;
}

/** `true` → a new buffer of the logits' precision; a float buffer of length N×K → itself. */
function parseGrad(fn: string, grad: unknown, z: ArrayLike<number>, size: number): FloatArray | null {
  if (grad === undefined || grad === false) return null;
  if (grad === true) return z instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
  if (!isFloatArray(grad))
    fail(
      fn,
      'options.grad',
      undefined,
      grad,
      'expected a boolean or a Float32Array/Float64Array of length N×K',
    );
  if (grad.length !== size)
    fail(fn, 'options.grad', undefined, grad, `buffer length ${grad.length}, expected N×K = ${size}`);
  return grad;
}

function parseConfidencePenalty(fn: string, beta: unknown): number | null {
  if (beta === undefined) return null;
  if (typeof beta !== 'number' || !(beta >= 0 && beta < Infinity))
    fail(fn, 'options.confidencePenalty', undefined, beta, 'must be a finite number ≥ 0');
  return beta;
}

function parseFocal(fn: string, gamma: unknown, alpha: unknown): CrossEntropyPlan['focal'] {
  if (gamma === undefined) {
    if (alpha !== undefined) fail(fn, 'options.focalAlpha', undefined, alpha, 'needs options.focalGamma');
    return null;
  }
  if (gamma !== 'flsd-53' && (typeof gamma !== 'number' || !(gamma >= 0 && gamma < Infinity)))
    fail(fn, 'options.focalGamma', undefined, gamma, "must be a finite number ≥ 0 or 'flsd-53'");
  if (alpha !== undefined && (typeof alpha !== 'number' || !(alpha > 0 && alpha < Infinity)))
    fail(fn, 'options.focalAlpha', undefined, alpha, 'must be a finite number > 0');
  return { gamma: gamma as number | 'flsd-53', alpha: (alpha as number | undefined) ?? 1 };
}

function parseSoftcap(fn: string, c: unknown): number | null {
  if (c === undefined) return null;
  if (typeof c !== 'number' || !(c > 0 && c < Infinity))
    fail(fn, 'options.softcap', undefined, c, 'must be a finite number > 0 (the cap c of c·tanh(z/c))');
  return c;
}

function parseZLoss(fn: string, beta: unknown): number | null {
  if (beta === undefined) return null;
  if (typeof beta !== 'number' || !(beta >= 0 && beta < Infinity))
    fail(fn, 'options.zLoss', undefined, beta, 'must be a finite number ≥ 0 (ζ of ζ·lse²)');
  return beta;
}

function parseBoolean(fn: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(fn, `options.${name}`, undefined, v, 'must be a boolean');
  return v;
}

/**
 * Non-finite allowed logits of every row (`'all'`) or only of the ignored rows (`'ignored'`: no compute path
 * reads them), reported naming the element. Fields are read once: plan objects vary in shape, and a property
 * read per row would be a megamorphic lookup (it was most of this check's cost at 8192×10).
 */
export function checkLogits(plan: CrossEntropyPlan, which: 'all' | 'ignored'): void {
  const { logits: z, rows: n, classes: k, mask, target, ignoreIndex, fn } = plan;
  if (which === 'ignored' && plan.ignoredRows === 0) return; // (only class-index rows are ignored)
  const labels = which === 'ignored' && target.kind === 'index' ? target.labels : null;
  for (let i = 0; i < n; i++) {
    if (labels !== null && labels[i] !== ignoreIndex) continue;
    for (let c = 0; c < k; c++) {
      const v = z[i * k + c];
      if (!(v > -Infinity && v < Infinity) && allowed(mask, k, i, c)) badLogit(fn, i, c, k, v, !!mask);
    }
  }
}

/** Throw the error for a non-finite allowed logit at row i, class c. */
export function badLogit(fn: string, i: number, c: number, k: number, v: number, masked: boolean): never {
  const hint = masked ? '' : ' (exclude classes with options.classMask to allow −Infinity)';
  return fail(fn, 'logits', i * k + c, v, `must be finite (row ${i}, class ${c})${hint}`);
}

/** A disposed kernelWorkspace's arrays may alias another workspace's memory: refuse them. */
function refuseFreed(fn: string, argument: string, a: FloatArray): void {
  if (memoryRegion(a) === 'freed')
    fail(fn, argument, undefined, a, 'is a buffer of a disposed kernelWorkspace (its memory may be reused)');
}

/**
 * The plan of a {@link crossEntropy} / {@link crossEntropyAsync} call: every option checked (unknown keys
 * with a suggestion, every type, every value), weights split by `weightMode`. Ignored rows' logits are
 * checked here (no compute path reads them); in the in-place mode all logits are, so that an error leaves
 * the caller's array untouched.
 */
export function planCrossEntropy(
  fn: string,
  logits: Matrix | unknown,
  target: Target | unknown,
  options: unknown,
): CrossEntropyPlan {
  const o = checkOptions<CrossEntropyOptions>(fn, options, CROSS_ENTROPY_KEYS);
  const flat = parseMatrix(fn, 'logits', logits, parseClasses(fn, o.classes));
  const { rows: n, classes: k } = flat;
  const z = flat.data as FloatArray;
  const smoothing = planSmoothing(fn, target, n, k, o);

  const weightMode = o.weightMode ?? 'per-class';
  if (weightMode !== 'per-class' && weightMode !== 'per-example')
    fail(fn, 'options.weightMode', undefined, weightMode, "must be 'per-class' or 'per-example'");
  const weight = o.weight === undefined ? null : parseNonNegative(fn, 'options.weight', o.weight, k);
  const sampleWeight =
    o.sampleWeight === undefined ? null : parseNonNegative(fn, 'options.sampleWeight', o.sampleWeight, n);
  const reduction = parseReduction(fn, o.reduction);
  const normalizer = parseNormalizer(fn, o.normalizer, reduction);
  const grad = parseGrad(fn, o.grad, z, n * k);
  refuseFreed(fn, 'logits', z);
  if (grad) refuseFreed(fn, 'options.grad', grad);
  const kernel = o.kernel ?? 'auto';
  if (kernel !== 'auto' && kernel !== 'wasm' && kernel !== 'js')
    fail(fn, 'options.kernel', undefined, kernel, "must be 'auto', 'wasm' or 'js'");
  const plan: CrossEntropyPlan = {
    ...smoothing,
    logits: z,
    classWeight: weightMode === 'per-class' ? weight : null,
    exampleWeight: weightMode === 'per-example' ? weight : null,
    sampleWeight,
    reduction,
    normalizer,
    grad,
    inPlace: grad !== null && sameArray(grad, logits),
    kernel,
    threads: parseBoolean(fn, 'threads', o.threads, true),
    confidencePenalty: parseConfidencePenalty(fn, o.confidencePenalty),
    focal: parseFocal(fn, o.focalGamma, o.focalAlpha),
    softcap: parseSoftcap(fn, o.softcap),
    zLoss: parseZLoss(fn, o.zLoss),
    lse: parseBoolean(fn, 'lse', o.lse, false) ? new Float64Array(n) : null,
  };
  if (grad)
    refuseOverlap(fn, ['options.grad', grad], crossEntropyInputs(logits, target, o, plan.noise), 'logits');
  checkLogits(plan, plan.inPlace ? 'all' : 'ignored');
  return plan;
}

/** Every array a crossEntropy call reads, as the caller passed it (S as the loss reads it). */
function crossEntropyInputs(
  logits: unknown,
  target: unknown,
  o: Partial<CrossEntropyOptions>,
  noise: ParsedNoise,
): NamedInput[] {
  return [
    ['logits', logits],
    ['target', target],
    ['options.weight', o.weight],
    ['options.sampleWeight', o.sampleWeight],
    ['options.noise', o.noise],
    ['options.noise.matrix', noise.kind === 'class-conditional' ? noise.data : undefined],
    ['options.classMask', o.classMask],
  ];
}

/** The plan of a {@link binaryCrossEntropy} call. */
export function planBinaryCrossEntropy(
  logits: Matrix | unknown,
  target: Matrix | ArrayLike<number> | unknown,
  options: unknown,
): BinaryPlan {
  const fn = 'binaryCrossEntropy';
  const o = checkOptions<BinaryCrossEntropyOptions>(fn, options, BINARY_KEYS);
  let classes = parseClasses(fn, o.classes);
  if (classes === undefined && isFloatArray(logits)) classes = 1;
  const flat = parseMatrix(fn, 'logits', logits, classes);
  const { rows: n, classes: k } = flat;
  const size = n * k;
  let y: ArrayLike<number>;
  if (Array.isArray(target) && Array.isArray(target[0])) y = parseMatrix(fn, 'target', target, k).data;
  else if (ArrayBuffer.isView(target) || Array.isArray(target)) y = target as ArrayLike<number>;
  else return fail(fn, 'target', undefined, target, 'expected an array of probabilities in [0, 1]');
  if (y.length !== size) fail(fn, 'target', undefined, target, `length ${y.length}, expected N×K = ${size}`);
  for (let j = 0; j < size; j++) {
    const t = y[j];
    if (typeof t !== 'number' || !(t >= 0 && t <= 1))
      fail(fn, 'target', j, t, `must be in [0, 1] (row ${Math.floor(j / k)}, output ${j % k})`);
  }
  let weight: BinaryWeight | null = null;
  if (o.weight !== undefined) {
    const length = ArrayBuffer.isView(o.weight) || Array.isArray(o.weight) ? o.weight.length : -1;
    const perElement = length === size && size !== k;
    weight = { perElement, data: parseNonNegative(fn, 'options.weight', o.weight, perElement ? size : k) };
  }
  const reduction = parseReduction(fn, o.reduction);
  const grad = parseGrad(fn, o.grad, flat.data, size);
  if (grad) {
    const inputs: NamedInput[] = [
      ['logits', logits],
      ['target', target],
      ['options.weight', o.weight],
      ['options.sampleWeight', o.sampleWeight],
    ];
    refuseOverlap(fn, ['options.grad', grad], inputs, 'logits');
    // In place, an error must leave the logits untouched: check them all before the first write.
    if (sameArray(grad, logits)) checkFinite(fn, flat.data, k);
  }
  return {
    fn,
    rows: n,
    classes: k,
    logits: flat.data,
    target: y,
    eps: parseEpsilon(fn, o.labelSmoothing),
    weight,
    sampleWeight:
      o.sampleWeight === undefined ? null : parseNonNegative(fn, 'options.sampleWeight', o.sampleWeight, n),
    reduction,
    normalizer: parseNormalizer(fn, o.normalizer, reduction),
    grad,
  };
}

/** Every binary logit finite (row-major, K outputs per row), else an error naming the first that is not. */
function checkFinite(fn: string, z: ArrayLike<number>, k: number): void {
  for (let j = 0; j < z.length; j++) {
    const v = z[j];
    if (!(v > -Infinity && v < Infinity))
      fail(fn, 'logits', j, v, `must be finite (row ${Math.floor(j / k)}, output ${j % k})`);
  }
}
