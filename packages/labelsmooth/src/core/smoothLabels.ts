import { fail } from './errors.js';
import {
  isFloatArray,
  maskOffset,
  noiseCoefficients,
  noiseOffset,
  parseClasses,
  parseSmoothing,
} from './inputs.js';
import type { SmoothingOptions, Target } from './types.js';

/**
 * Dense smoothed targets p' = (1−ε)·p + ε·u, row-major N×K (Optax's `smooth_labels`, for every noise).
 *
 * Rows whose label is `ignoreIndex` are all zeros. Masked classes get 0 and ε is spread over the allowed
 * ones. For index targets `options.classes` is required.
 *
 * Reference: Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision", §7.
 */
export function smoothLabels(target: Target, options: SmoothingOptions = {}): Float64Array {
  const fn = 'smoothLabels';
  let classes = parseClasses(fn, options.classes);
  let rows: number;
  if (isFloatArray(target)) {
    if (classes === undefined)
      fail(fn, 'options.classes', undefined, classes, 'required for flat probability targets');
    rows = Math.floor(target.length / classes);
  } else if (Array.isArray(target) && Array.isArray(target[0])) {
    classes ??= (target[0] as number[]).length;
    rows = target.length;
  } else if (ArrayBuffer.isView(target) || Array.isArray(target)) {
    if (classes === undefined)
      fail(fn, 'options.classes', undefined, classes, 'required for class-index targets');
    rows = (target as ArrayLike<number>).length;
  } else {
    return fail(fn, 'target', undefined, target, 'expected class indices or probabilities');
  }
  const s = parseSmoothing(fn, target, rows, classes, options);
  const k = s.classes;
  const out = new Float64Array(rows * k);
  const u = { u0: 0, uT: 0, uN: 0 };
  const eps = s.eps;
  const n = s.noise.data;
  const mask = s.mask?.data;
  for (let i = 0; i < rows; i++) {
    const base = i * k;
    const mo = maskOffset(s, i);
    const no = noiseOffset(s, i);
    let y = -1;
    if (s.target.kind === 'index') {
      y = s.target.labels[i];
      if (y === s.ignoreIndex) continue;
    }
    let allowedCount = 0;
    let noiseMass = 0;
    for (let c = 0; c < k; c++) {
      if (mask && !mask[mo + c]) continue;
      allowedCount++;
      if (n) noiseMass += n[no + c];
    }
    noiseCoefficients(s, i, allowedCount, noiseMass, u);
    const a = eps * u.u0;
    const b = 1 - eps + eps * u.uT;
    const cn = eps * u.uN;
    for (let c = 0; c < k; c++) {
      if (mask && !mask[mo + c]) continue;
      const t = s.target.kind === 'index' ? (c === y ? 1 : 0) : s.target.probs[base + c];
      out[base + c] = a + b * t + (n ? cn * n[no + c] : 0);
    }
  }
  return out;
}
