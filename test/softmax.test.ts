// The one softmax / log-sum-exp of the TypeScript code: closed forms, and the bits of the row loops it
// replaced (max first, then Σ exp(z − m) in class order; q_c = exp(z_c − m)/s rounded once).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { logSumExp, rowMax, softmaxRow, sumExp } from '../packages/labelsmooth/src/index.js';

const row = fc.array(fc.double({ min: -700, max: 700, noNaN: true }), { minLength: 1, maxLength: 40 });

describe('softmax helpers', () => {
  it('closed forms: log Σ exp of [0, log 2, log 3] is log 6; softmax of [0, 0] is ½, ½; a large row does not overflow', () => {
    assert.ok(Math.abs(logSumExp([0, Math.log(2), Math.log(3)], 0, 3) - Math.log(6)) < 1e-15);
    const q = new Float64Array(2);
    assert.equal(softmaxRow([5, 5], 0, 2, q), 2);
    assert.deepEqual(Array.from(q), [0.5, 0.5]);
    assert.equal(logSumExp([1000, 1000], 0, 2), 1000 + Math.LN2);
    assert.equal(rowMax([1, 9, 3], 0, 3, [1, 0, 1]), 3);
    assert.equal(sumExp([1, 9, 1], 0, 3, 1, 1, [1, 0, 1]), 2);
  });

  it('the bits of the hand-written loops it replaced, at T = 1 and T ≠ 1, float64 and float32 outputs', () => {
    fc.assert(
      fc.property(row, fc.constantFrom(1, 0.5, 2.5, 4), (z, t) => {
        const k = z.length;
        let m = -Infinity;
        for (const v of z) if (v > m) m = v;
        let s = 0;
        for (const v of z) s += Math.exp((v - m) / t);
        assert.equal(rowMax(z, 0, k), m);
        assert.equal(sumExp(z, 0, k, m, t), s);
        const q64 = new Float64Array(k);
        const q32 = new Float32Array(k);
        assert.equal(softmaxRow(z, 0, k, q64, t), s);
        softmaxRow(z, 0, k, q32, t);
        for (let c = 0; c < k; c++) {
          const q = Math.exp((z[c] - m) / t) / s;
          assert.equal(q64[c], q);
          assert.equal(q32[c], Math.fround(q));
        }
        assert.equal(logSumExp(z, 0, k), m + Math.log(sumExp(z, 0, k, m)));
      }),
      { numRuns: 500, seed: 23 },
    );
  });
});
