import { planSmoothLabels } from './plan.js';
import { smoothedTargets } from './reference.js';
import type { SmoothingOptions, Target } from './types.js';

/**
 * Dense smoothed targets p' = (1−ε)·p + ε·u, row-major N×K (Optax's `smooth_labels`, for every noise).
 *
 * Rows whose label is `ignoreIndex` are all zeros. Masked classes get 0 and ε is spread over the allowed
 * ones. For index targets `options.classes` is required.
 *
 * Reference: Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision", §7.
 */
export function smoothLabels(target: Target, options?: SmoothingOptions): Float64Array {
  return smoothedTargets(planSmoothLabels(target, options));
}
