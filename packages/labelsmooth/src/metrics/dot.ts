// The inner product the calibration metrics' hot loops share.

/**
 * Σ_{i<n} a[aAt + i]·b[bAt + i], with four partial sums (s0 + s1) + (s2 + s3): the additions of one dot
 * product are otherwise one long dependency chain. The grouping is fixed, so the result is the same bits
 * for the same inputs wherever it is called from.
 */
export function dot(a: Float64Array, aAt: number, b: Float64Array, bAt: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[aAt + i] * b[bAt + i];
    s1 += a[aAt + i + 1] * b[bAt + i + 1];
    s2 += a[aAt + i + 2] * b[bAt + i + 2];
    s3 += a[aAt + i + 3] * b[bAt + i + 3];
  }
  for (; i < n; i++) s0 += a[aAt + i] * b[bAt + i];
  return s0 + s1 + (s2 + s3);
}
