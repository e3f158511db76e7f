// The one noise vector of the reference and the kernel's job builder: closed forms on every rule, masked
// classes, and the kernel's folded vector v_c = w_c·u_c built from it (the same numbers the reference uses).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
