// The SIMD fast path's exactness where it is hardest: confident rows (Σ exp = 1 + tiny terms, so the loss
// is tiny and must keep its relative digits), large common offsets, several blocks per row, all-equal
// rows (loss = log K exactly), and K not a multiple of the vector width. References, on the same float32
// values: for the losses, ℓ = log Σ_c exp(z_c − z_y) in float64 with log1p when z_y is the row max (the
// JS path forms lse − z_y and loses relative digits there: 1.4e−5 at ℓ ≈ 1e−10); for the gradient, the
// float64 JS path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crossEntropy } from '../packages/labelsmooth/src/index.js';

/**
 * Row i's ℓ = lse − z_y and H(u,q) = ℓ − mean_c (z_c − z_y) (uniform u) in float64, without cancellation:
 * d_c = z_c − z_y is exact in float64 for float32 inputs, and log1p keeps the digits of 1 + tiny.
 */
function exactRow(z: Float32Array, k: number, i: number, y: number): { nll: number; smoothing: number } {
  let top = -Infinity;
  let mean = 0;
  for (let c = 0; c < k; c++) {
    const d = z[i * k + c] - z[i * k + y];
    top = Math.max(top, d);
    mean += d / k;
  }
  let rest = 0; // Σ over c ≠ argmax of exp(d_c − top)
  let seenTop = false;
  for (let c = 0; c < k; c++) {
    const d = z[i * k + c] - z[i * k + y];
    if (d === top && !seenTop) seenTop = true;
    else rest += Math.exp(d - top);
  }
  const nll = top + Math.log1p(rest);
  return { nll, smoothing: nll - mean };
}

/** Per-row results from the kernel, the exact per-row losses, and the float64 JS path's gradient. */
function both(z: Float32Array, y: Int32Array, k: number, eps: number) {
  const o = { classes: k, labelSmoothing: eps, reduction: 'none' as const, grad: true };
  const wasm = crossEntropy(z, y, { ...o, kernel: 'wasm', threads: false });
  const ref = crossEntropy(Float64Array.from(z), y, { ...o, kernel: 'js' });
  const rows = Array.from(y, (label, i) => exactRow(z, k, i, label));
  const exact = {
    nll: Float64Array.from(rows, (r) => r.nll),
    smoothing: Float64Array.from(rows, (r) => r.smoothing),
  };
  return { wasm, ref, exact };
}

function assertRowsClose(a: Float64Array, b: Float64Array, rel: number, what: string) {
  for (let i = 0; i < b.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= rel * Math.abs(b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe('kernel exactness', () => {
  it('confident rows: nll = log(1 + δ) and the target gradient keep 1e−5 relative down to δ ≈ 1e−14', () => {
    const k = 3001; // 375 vectors of 8 and a scalar tail of 1: both code paths
    const margins = [2, 5, 10, 15, 20, 25, 30, 35, 40];
    const n = margins.length;
    const z = new Float32Array(n * k);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = (i * 997) % k;
      for (let c = 0; c < k; c++) z[i * k + c] = Math.sin(c * 1.7 + i) * 0.5;
      z[i * k + y[i]] = margins[i]; // the others are within ±0.5: δ ≈ K·e^(−margin)
    }
    const { wasm, exact } = both(z, y, k, 0);
    assert.ok(exact.nll[n - 1] < 1e-13, 'the last row is confident indeed');
    assertRowsClose(wasm.nll as unknown as Float64Array, exact.nll, 1e-5, 'nll');
    // The target's gradient entry q_y − 1 = expm1(−ℓ) = −δ/(1 + δ) (ε = 0, one row, g = 1): relative too.
    for (let i = 0; i < n; i++) {
      const a = wasm.grad![i * k + y[i]];
      const b = Math.expm1(-exact.nll[i]);
      assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `grad at y, row ${i}: ${a} vs ${b}`);
    }
  });

  it('all-equal rows give log K, with a common offset of ±1e4, across several blocks', () => {
    for (const k of [10, 1000, 5003]) {
      for (const offset of [0, 1e4, -1e4]) {
        const z = new Float32Array(2 * k).fill(offset);
        const r = crossEntropy(z, Int32Array.of(0, k - 1), {
          classes: k,
          labelSmoothing: 0.1,
          reduction: 'none',
          kernel: 'wasm',
          threads: false,
        });
        for (const v of r.loss as Float64Array)
          assert.ok(Math.abs(v - Math.log(k)) <= 1e-6 * Math.log(k), `K = ${k}, offset ${offset}: ${v}`);
      }
    }
  });

  it('property: random rows with spread, offset and margin stay within 1e−5 of float64', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 4200 }),
        fc.double({ min: 0.1, max: 40, noNaN: true }),
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 30, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, k, spread, offset, margin, eps, seed) => {
          let s = seed;
          const rnd = () => {
            s = (s * 1103515245 + 12345) >>> 0;
            return s / 2 ** 32;
          };
          const y = Int32Array.from({ length: n }, () => Math.floor(rnd() * k));
          const z = Float32Array.from({ length: n * k }, () => offset + (rnd() - 0.5) * spread);
          for (let i = 0; i < n; i++) z[i * k + y[i]] += margin;
          const { wasm, ref, exact } = both(z, y, k, eps);
          assertRowsClose(wasm.nll as unknown as Float64Array, exact.nll, 1e-5, 'nll');
          assertRowsClose(wasm.smoothing as unknown as Float64Array, exact.smoothing, 1e-5, 'smoothing');
          const ga = wasm.grad!;
          const gb = ref.grad!;
          for (let j = 0; j < gb.length; j++)
            assert.ok(
              Math.abs(ga[j] - gb[j]) <= 1e-5 * Math.abs(gb[j]) + 2e-7,
              `grad[${j}]: ${ga[j]} vs ${gb[j]}`,
            );
        },
      ),
      { numRuns: 60, seed: 13 },
    );
  });
});
