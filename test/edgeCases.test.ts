// Edge cases where the kernel and the reference used to disagree silently. Each test failed
// before its fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CrossEntropyOptions,
  crossEntropy,
  LabelSmoothingError,
} from '../packages/labelsmooth/src/index.js';
import { lcg } from './helpers/lcg.js';

/** |a − b| ≤ rtol·|b| + atol elementwise, naming the first mismatch. */
function assertAllClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
) {
  assert.equal(a.length, b.length);
  let bad = 0;
  let first = -1;
  for (let j = 0; j < b.length; j++) {
    if (!(Math.abs(a[j] - b[j]) <= rtol * Math.abs(b[j]) + atol)) {
      bad++;
      if (first < 0) first = j;
    }
  }
  assert.equal(bad, 0, `${what}: ${bad} of ${b.length} differ, first [${first}] ${a[first]} vs ${b[first]}`);
}

/**
 * N rows of K float32 logits; every third row of the second half holds ±3e38, so z_c − z_y overflows
 * float32 there — after the kernel has written the gradient of earlier chunks over the logits.
 */
function extremeRows(n: number, k: number) {
  const rnd = lcg(3);
  const z = Float32Array.from({ length: n * k }, () => (rnd() - 0.5) * 8);
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % k);
  for (let i = Math.floor(n / 2); i < n; i += 3) {
    z[i * k + y[i]] = 3e38;
    z[i * k + ((y[i] + 1) % k)] = -3e38;
  }
  return { z, y };
}

describe('in-place mode (grad: logits) with rows the float32 kernel cannot finish', () => {
  for (const [n, k] of [
    [20000, 10],
    [1100, 1000], // above the threading threshold
  ]) {
    it(`${n}×${k}: per-row losses and the gradient equal the float64 reference`, () => {
      const { z, y } = extremeRows(n, k);
      const o = { classes: k, labelSmoothing: 0.1, reduction: 'none' } as const;
      const expected = crossEntropy(z.slice(), y, { ...o, grad: true, kernel: 'js' });
      const r = crossEntropy(z, y, { ...o, grad: z });
      assert.equal(r.grad, z);
      assertAllClose(r.loss, expected.loss, 1e-5, 1e-9, 'per-row losses');
      assertAllClose(z, expected.grad!, 1e-5, 1e-6, 'gradient');
    });
  }

  // A guard rather than a regression test: such weights made every row of the old kernel fail in its
  // first chunk, before anything was overwritten.
  it('class weights beyond float32 (> 3.4e38) in the in-place mode', () => {
    const n = 600;
    const k = 10;
    const rnd = lcg(5);
    const z = Float32Array.from({ length: n * k }, () => (rnd() - 0.5) * 8);
    const y = Int32Array.from({ length: n }, (_, i) => i % k);
    const weight = Array.from({ length: k }, (_, c) => (c % 2 ? 1e39 : 2e39));
    // 'mean' divides by Σ w[yᵢ], so the gradient fits in float32 although the weights do not.
    const o: CrossEntropyOptions = { classes: k, labelSmoothing: 0.2, weight };
    const expected = crossEntropy(z.slice(), y, { ...o, grad: true, kernel: 'js' });
    const r = crossEntropy(z, y, { ...o, grad: z });
    assertAllClose([r.loss], [expected.loss], 1e-12, 0, 'loss');
    assertAllClose(z, expected.grad!, 1e-5, 1e-6, 'gradient');
  });
});

describe('class weights the float32 kernel cannot hold', () => {
  for (const w of [1e-46, 1e-40, 1e39]) {
    it(`all weights ${w}: the same loss as the float64 reference`, () => {
      const n = 512;
      const k = 10;
      const rnd = lcg(11);
      const z = Float32Array.from({ length: n * k }, () => (rnd() - 0.5) * 4);
      const y = Int32Array.from({ length: n }, (_, i) => (i * 3) % k);
      const o: CrossEntropyOptions = {
        classes: k,
        labelSmoothing: 0.1,
        weight: new Array(k).fill(w),
        grad: true,
      };
      const js = crossEntropy(z, y, { ...o, kernel: 'js' });
      const auto = crossEntropy(z, y, o);
      // 'mean' divides by Σ w[yᵢ]: the weights cancel, the loss is the unweighted one.
      const plain = crossEntropy(z, y, { ...o, weight: undefined, kernel: 'js' });
      assert.ok(Math.abs(js.loss - plain.loss) <= 1e-12 * plain.loss, `${js.loss} vs ${plain.loss}`);
      assert.ok(Math.abs(auto.loss - js.loss) <= 1e-9 * js.loss, `auto ${auto.loss} vs js ${js.loss}`);
      assertAllClose(auto.grad!, js.grad!, 1e-6, 1e-9, 'gradient');
    });
  }
});

describe('a NaN in classMask', () => {
  const z = Float32Array.from({ length: 4096 }, (_, j) => Math.sin(j));
  const y = new Int32Array(512);
  const shared = [1, 1, Number.NaN, 1, 1, 1, 1, 1];
  const perRow = Array.from({ length: 4096 }, (_, j) => (j === 8 * 37 + 5 ? Number.NaN : 1));
  for (const kernel of ['js', 'wasm', 'auto'] as const) {
    it(`is a LabelSmoothingError naming the element (kernel ${kernel}, shared and per-row masks)`, () => {
      for (const [mask, index] of [
        [shared, 2],
        [perRow, 8 * 37 + 5],
      ] as const) {
        assert.throws(
          () => crossEntropy(z, y, { classes: 8, classMask: mask, kernel }),
          (e: unknown) =>
            e instanceof LabelSmoothingError &&
            e.argument === 'options.classMask' &&
            e.index === index &&
            /options.classMask\[\d+\] = NaN: must be a boolean or a number \(not NaN\)/.test(e.message),
        );
      }
    });
  }
});

describe('sums are centred on the row maximum', () => {
  // ulp(1e17) = 16: these logits are exact. The closed form: lse − z_y = (max − z_y) + log Σ exp(z − max).
  const z = [-1e17, -1e17, -1e17, 1e17 + 80, 1e17 + 48, 1e17 + 96];
  const y = 4;
  const nll = 48 + Math.log1p(Math.exp(-16) + Math.exp(-48));

  /** All orderings of 0..k−1. */
  function permutations(k: number): number[][] {
    if (k === 1) return [[0]];
    return permutations(k - 1).flatMap((p) =>
      Array.from({ length: k }, (_, at) => [...p.slice(0, at), k - 1, ...p.slice(at)]),
    );
  }

  it('|z| ≈ 1e17: the loss does not depend on the order of the classes (all 720 orders)', () => {
    const smoothed: number[] = [];
    for (const perm of permutations(z.length)) {
      const zp = perm.map((c) => z[c]);
      const yp = perm.indexOf(y);
      const r = crossEntropy([zp], [yp], { labelSmoothing: 0.1 });
      assert.ok(Math.abs(r.nll - nll) <= 1e-12 * nll, `order ${perm}: nll ${r.nll}, expected ${nll}`);
      smoothed.push(r.loss);
    }
    const spread = Math.max(...smoothed) - Math.min(...smoothed);
    assert.ok(spread <= 1e-14 * smoothed[0], `smoothed loss spread ${spread} over orders`);
  });
});
