// The softmax and its normalizer, for every row-wise computation outside the kernel (the reference, online
// label smoothing, the calibration metrics, the experiments' distillation targets and confidences):
//
//     m = max_c z_c,   s = Σ_c exp((z_c − m)/T),   q_c = exp((z_c − m)/T) / s,   log Σ_c exp(z_c/T) = m/T + log s
//
// Centring on the maximum keeps every exponent ≤ 0 (no overflow) and s ≥ 1 (no log 0). Rows are
// z[start], …, z[start + k − 1] of a row-major matrix; `allowed` (0/1 per class) leaves classes out, as if
// their logit were −∞. T = 1 divides by nothing: the same bits as exp(z_c − m).

/** m = max_c z_c over the row's allowed classes (−∞ when none is). */
export function rowMax(
  z: ArrayLike<number>,
  start: number,
  k: number,
  allowed: ArrayLike<number> | null = null,
): number {
  let m = -Infinity;
  for (let c = 0; c < k; c++) {
    if (allowed && !allowed[c]) continue;
    const v = z[start + c];
    if (v > m) m = v;
  }
  return m;
}

/**
 * s = Σ_c exp((z_c − m)/T) over the row's allowed classes, in class order; log s is the row's log-sum-exp
 * relative to m (log q_c = (z_c − m)/T − log s).
 *
 * @param m - the row's maximum ({@link rowMax})
 * @param temperature - T > 0 (default 1)
 */
export function sumExp(
  z: ArrayLike<number>,
  start: number,
  k: number,
  m: number,
  temperature = 1,
  allowed: ArrayLike<number> | null = null,
): number {
  let s = 0;
  if (temperature === 1) {
    for (let c = 0; c < k; c++) if (!allowed || allowed[c]) s += Math.exp(z[start + c] - m);
  } else {
    for (let c = 0; c < k; c++) if (!allowed || allowed[c]) s += Math.exp((z[start + c] - m) / temperature);
  }
  return s;
}

/** log Σ_c exp(z_c) over the row: m + log Σ_c exp(z_c − m). */
export function logSumExp(z: ArrayLike<number>, start: number, k: number): number {
  const m = rowMax(z, start, k);
  return m + Math.log(sumExp(z, start, k, m));
}

/**
 * q = softmax(z/T) of one row into `out[0 … k)` (each q_c = exp((z_c − m)/T) / s, rounded once to `out`'s
 * precision); returns s = Σ_c exp((z_c − m)/T).
 *
 * @param temperature - T > 0 (default 1)
 */
export function softmaxRow(
  z: ArrayLike<number>,
  start: number,
  k: number,
  out: { [c: number]: number },
  temperature = 1,
): number {
  const m = rowMax(z, start, k);
  const s = sumExp(z, start, k, m, temperature);
  if (temperature === 1) for (let c = 0; c < k; c++) out[c] = Math.exp(z[start + c] - m) / s;
  else for (let c = 0; c < k; c++) out[c] = Math.exp((z[start + c] - m) / temperature) / s;
  return s;
}
