// The logistic function, shared by the binary loss (core/binaryCrossEntropy.ts) and the binary calibration
// metrics (metrics/binaryCalibration.ts): one definition, so that the probability a logit is scored with
// is the one its gradient was computed from, to the last bit. A leaf module (it imports nothing).

/**
 * σ(z) = 1 / (1 + e^(−z)), evaluated through e^(−|z|) so that it never overflows and keeps its relative
 * accuracy on both tails: 1 / (1 + e^(−z)) for z ≥ 0, e^z / (1 + e^z) for z < 0 (where 1 / (1 + e^(−z))
 * would reach 0 at z < −709 instead of the subnormal σ(z)).
 */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
