// The synthetic calibration datasets of the fixture generators (scripts/calibration_datasets.py), drawn
// here again: only +, −, ×, / on mulberry32 draws, so Python and JS agree bit for bit.
import { mulberry32 } from '../../packages/labelsmooth/src/random/mulberry32.js';

/** [confidence, probability of y = 1] of a sample of `kind` from its draw u. */
function sample(kind: string, u: number): [number, number] {
  switch (kind) {
    case 'calibrated':
      return [0.3 + 0.7 * u, 0.3 + 0.7 * u];
    case 'overconfident':
      return [1 - 0.1 * u * u, 1 - 0.1 * u * u - 0.3];
    case 'confident':
      return [1 - 0.05 * u * u * u, 1 - 0.05 * u * u * u - 0.002];
    case 'ones':
      return [1, 0.8];
    case 'underconfident':
      return [0.5 + 0.4 * u, 0.5 + 0.4 * u + 0.1];
    case 'edges':
      return [Math.trunc(u * 11) / 10, 0.5];
    default:
      throw new Error(`calibration dataset: unknown kind '${kind}'`);
  }
}

/** n samples of `kind` from mulberry32(seed): confidences f and outcomes y (0 or 1). */
export function calibrationDataset(kind: string, n: number, seed: number): [Float64Array, Float64Array] {
  const next = mulberry32(seed);
  const f = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = next();
    const v = next();
    const [fi, p] = sample(kind, u);
    f[i] = fi;
    y[i] = v < p ? 1 : 0;
  }
  return [f, y];
}
