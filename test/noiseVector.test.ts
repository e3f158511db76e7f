// The one noise vector of the reference, the kernel's job builder and the GPU programs' class table: closed
// forms on every rule, masked classes, and the GPU plan's folded vector v_c = w_c·u_c built from it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLASS_ROWS, gpuPlan } from '../packages/labelsmooth/src/gpu/plan.js';
import { allowedCount, evenShare, noiseVector } from '../packages/labelsmooth/src/math/noiseVector.js';

describe('noiseVector', () => {
  it('uniform: 1/Kₐ on the allowed classes, 0 on the masked ones', () => {
    assert.deepEqual(
      Array.from(noiseVector('uniform', null, 0, null, new Float64Array(4))),
      [0.25, 0.25, 0.25, 0.25],
    );
    assert.deepEqual(Array.from(noiseVector('uniform', null, 0, [1, 0, 1, 1], new Float64Array(4))), [
      1 / 3,
      0,
      1 / 3,
      1 / 3,
    ]);
  });
  it('non-target: (1 − p_c)/(Kₐ − 1); a one-hot target (p = null) gives 1/(Kₐ − 1) everywhere', () => {
    const p = [0, 1, 0, 0];
    assert.deepEqual(Array.from(noiseVector('non-target', p, 0, null, new Float64Array(4))), [
      1 / 3,
      0,
      1 / 3,
      1 / 3,
    ]);
    const soft = [0.5, 0.5, 0, 0];
    assert.deepEqual(
      Array.from(noiseVector('non-target', soft, 0, [1, 1, 1, 0], new Float64Array(4))),
      [0.25, 0.25, 0.5, 0],
    );
    assert.equal(evenShare('non-target', 3), 0.5);
  });
  it('mass: n_c / Σ_allowed n, read at an offset, and in place', () => {
    const n = [9, 9, 1, 2, 0, 1];
    assert.deepEqual(Array.from(noiseVector('mass', n, 2, null, new Float64Array(4))), [0.25, 0.5, 0, 0.25]);
    assert.deepEqual(
      Array.from(noiseVector('mass', n, 2, [1, 0, 1, 1], new Float64Array(4))),
      [0.5, 0, 0, 0.5],
    );
    const u = Float64Array.of(1, 3);
    assert.equal(noiseVector('mass', u, 0, null, u), u);
    assert.deepEqual(Array.from(u), [0.25, 0.75]);
    assert.equal(allowedCount(4, [1, 0, 1, 1]), 3);
  });
  it("the GPU plan's v_c = w_c·u_c (its class table's third row) is the same noise vector, masked and weighted", () => {
    const k = 5;
    const classMask = [1, 1, 0, 1, 1];
    const weight = [0.5, 2, 3, 1, 0.25];
    const prior = [0.1, 0.2, 0.3, 0.15, 0.25];
    const target = { where: 'a test', refused: {} };
    const cases = [
      ['uniform', 'uniform', null],
      ['non-target', 'non-target', null],
      [prior, 'mass', prior],
    ] as const;
    for (const [noise, rule, source] of cases) {
      const u = noiseVector(rule, source, 0, classMask, new Float64Array(k));
      const plan = gpuPlan('test', target, { noise, classMask, weight }, 3, k);
      assert.equal(plan.table.length, CLASS_ROWS * k);
      const v = Array.from(plan.table.subarray(2 * k, 3 * k));
      assert.deepEqual(
        v,
        weight.map((w, c) => Math.fround(classMask[c] ? w * u[c] : 0)),
        `noise ${String(noise)}`,
      );
      assert.equal(v[2], 0);
      assert.equal(plan.nonTarget, rule === 'non-target');
    }
    // closed forms: uniform 1/Kₐ = 1/4, non-target 1/(Kₐ − 1) = 1/3, prior n_c/0.7 on the allowed classes
    const at = (noise: 'uniform' | 'non-target' | number[]) =>
      gpuPlan('test', target, { noise, classMask }, 1, k).table[2 * k + 1];
    assert.equal(at('uniform'), 0.25);
    assert.equal(at('non-target'), Math.fround(1 / 3));
    assert.equal(at(prior), Math.fround(0.2 / 0.7));
  });
});
