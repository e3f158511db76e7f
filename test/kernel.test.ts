// The WASM SIMD kernel against the float64 reference on the same inputs (fixtures and random problems).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CrossEntropyOptions,
  type CrossEntropyResult,
  crossEntropy,
  kernelInfo,
  LabelSmoothingError,
} from '../packages/labelsmooth/src/index.js';
import { decodeFloats, loadFixtures } from './helpers/fixtures.js';
import { lcg } from './helpers/lcg.js';

/**
 * Losses within 1e−5 relative (plus `lossSlack` absolute where terms cancel). Gradient entries g·(Γ·q_c − γ_c)
 * within 1e−5 relative, or, where the two terms cancel, within 2e−6 of the row's gradient scale g·Γ, which
 * `rowScale(i)` bounds from the options (the kernel's float32 exp is accurate to ~1e−7 relative on q_c).
 */
function assertSameResult(
  a: CrossEntropyResult,
  b: CrossEntropyResult,
  k: number,
  label: string,
  rowScale: (i: number) => number = () => 1,
  lossSlack = 1e-9,
) {
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-5 * Math.abs(y) + lossSlack;
  if (typeof a.loss === 'number') {
    const [l1, l2, n1, n2, s1, s2] = [a.loss, b.loss, a.nll, b.nll, a.smoothing, b.smoothing] as number[];
    assert.ok(
      close(l1, l2) && close(n1, n2) && close(s1, s2),
      `${label}: loss ${l1} vs ${l2}, nll ${n1} vs ${n2}, smoothing ${s1} vs ${s2}`,
    );
  } else {
    const [x, y] = [a.loss as Float64Array, b.loss as Float64Array];
    x.forEach((v, i) => {
      assert.ok(close(v, y[i]), `${label}: row ${i} loss ${v} vs ${y[i]}`);
    });
  }
  assert.equal(a.denominator, b.denominator);
  const ga = a.grad!;
  const gb = b.grad!;
  for (let j = 0; j < gb.length; j++) {
    const tol = 1e-5 * Math.abs(gb[j]) + 2e-6 * rowScale(Math.floor(j / k));
    assert.ok(Math.abs(ga[j] - gb[j]) <= tol, `${label}: grad[${j}] ${ga[j]} vs ${gb[j]}`);
  }
}

/** One random problem run through both paths. */
function randomCase(
  n: number,
  k: number,
  seed: number,
  noise: string,
  reduction: string,
  masked: boolean,
  weighting: string,
  sampled: boolean,
  eps: number,
): void {
  const rnd = lcg(seed);
  const mask = masked ? Array.from({ length: k }, (_, c) => (c < 2 || rnd() < 0.7 ? 1 : 0)) : undefined;
  const z = Float32Array.from({ length: n * k }, (_, j) =>
    mask && !mask[j % k] ? -Infinity : (rnd() - 0.5) * 40,
  );
  const y = Int32Array.from({ length: n }, () => (rnd() < 0.1 ? -100 : Math.floor(rnd() * (mask ? 2 : k))));
  const prior = Array.from({ length: k }, () => 0.05 + rnd());
  const total = prior.reduce((a, b) => a + b, 0);
  const options: CrossEntropyOptions = {
    classes: k,
    labelSmoothing: eps,
    noise: noise === 'prior' ? prior.map((p) => p / total) : (noise as 'uniform'),
    classMask: mask,
    weight: weighting === 'none' ? undefined : Array.from({ length: k }, () => 0.1 + 2 * rnd()),
    weightMode: weighting === 'per-example' ? 'per-example' : 'per-class',
    sampleWeight: sampled ? Array.from({ length: n }, () => rnd() * 2) : undefined,
    reduction: reduction as 'mean',
    grad: true,
  };
  const js = crossEntropy(z, y, { ...options, kernel: 'js' });
  const g = reduction === 'mean' ? 1 / Math.max(js.denominator, 1e-300) : 1;
  const maxW = Math.max(1, ...Array.from(options.weight ?? []));
  const rowScale = (i: number) => g * maxW * maxW * (options.sampleWeight ? options.sampleWeight[i] : 1);
  // |z| ≤ 20: terms of size ~20 cancel in the smoothing part (e.g. non-target with ε → 1), so losses are
  // compared with an absolute slack of 1e−9 of that scale per unit of weight.
  assertSameResult(
    crossEntropy(z, y, { ...options, kernel: 'wasm' }),
    js,
    k,
    'random',
    rowScale,
    20e-9 * maxW * maxW * n,
  );
}

describe('WASM kernel = JS reference', () => {
  // Every fixture: class indices with a shared noise and mask take the SIMD path; probability targets,
  // per-sample noise and per-row masks take the float64 reference, and `kernel: 'wasm'` refuses them.
  for (const c of loadFixtures('crossEntropy.json')) {
    const o = c.options as CrossEntropyOptions;
    it(`fixture: ${c.name}`, () => {
      const z = Float32Array.from(decodeFloats(c.logits));
      const y = c.targetKind === 'probs' ? Float64Array.from(c.target) : Int32Array.from(c.target);
      const options = { ...o, classes: c.classes, grad: true } as CrossEntropyOptions;
      const js = crossEntropy(z, y, { ...options, kernel: 'js' });
      const general =
        c.targetKind === 'probs' ||
        (Array.isArray(o.noise) && o.noise.length !== c.classes) ||
        (Array.isArray(o.classMask) && o.classMask.length !== c.classes);
      if (general) {
        assert.throws(
          () => crossEntropy(z, y, { ...options, kernel: 'wasm' }),
          (e: unknown) =>
            e instanceof LabelSmoothingError &&
            /options.kernel = "wasm": (probability targets take|per-sample noise takes|per-row class masks take) the float64 reference/.test(
              e.message,
            ),
        );
        return;
      }
      const wasm = crossEntropy(z, y, { ...options, kernel: 'wasm' });
      assert.equal(kernelInfo().last?.path, 'wasm');
      const maxW = Math.max(1, ...((o.weight as number[]) ?? []));
      const g = (o.reduction ?? 'mean') === 'mean' ? 1 / js.denominator : 1;
      assertSameResult(wasm, js, c.classes, c.name, () => g * maxW);
    });
  }

  it('random problems: every noise, mask, both weight modes, sample weights, ignored rows, reductions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 70 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom('uniform', 'non-target', 'prior'),
        fc.constantFrom('mean', 'sum', 'none'),
        fc.boolean(),
        fc.constantFrom('none', 'per-class', 'per-example'),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        randomCase,
      ),
      { numRuns: 400 },
    );
  });

  it('large rows (K = 50 000, several blocks) and extreme logits', () => {
    const k = 50000;
    const z = Float32Array.from(
      { length: 3 * k },
      (_, j) => Math.sin(j) * 20 + (j === 7 ? 1e4 : 0) + (j >= 2 * k ? -5000 : 0),
    );
    const y = Int32Array.of(7, 49999, 123);
    for (const noise of ['uniform', 'non-target'] as const) {
      const o = { classes: k, labelSmoothing: 0.1, noise, grad: true, reduction: 'none' } as const;
      assertSameResult(
        crossEntropy(z, y, { ...o, kernel: 'wasm' }),
        crossEntropy(z, y, { ...o, kernel: 'js' }),
        k,
        noise,
      );
    }
  });

  it('bad logits are reported exactly as on the reference path', () => {
    const z = new Float32Array(4096).fill(0.5);
    z[1234] = Number.NaN;
    const y = new Int32Array(4096 / 8);
    assert.throws(
      () => crossEntropy(z, y, { classes: 8, kernel: 'wasm' }),
      (e: unknown) =>
        e instanceof LabelSmoothingError &&
        /logits\[1234\] = NaN: must be finite \(row 154, class 2\)/.test(e.message),
    );
    z[1234] = -Infinity;
    assert.throws(() => crossEntropy(z, y, { classes: 8, kernel: 'wasm' }), /logits\[1234\] = -Infinity/);
    z[1234] = 0;
    y[3] = -100;
    z[3 * 8 + 1] = Infinity;
    assert.throws(() => crossEntropy(z, y, { classes: 8, kernel: 'wasm' }), /logits\[25\] = Infinity/);
  });

  it("kernel: 'wasm' is refused for float64 logits (they take the exact float64 path)", () => {
    assert.throws(
      () => crossEntropy(new Float64Array(4), [0, 1], { classes: 2, kernel: 'wasm' }),
      /options.kernel = "wasm": the kernel takes float32 logits/,
    );
  });

  it('the in-place mode (grad = logits) works through the kernel', () => {
    const z = Float32Array.from({ length: 6000 }, (_, j) => Math.cos(j));
    const y = Int32Array.from({ length: 600 }, (_, i) => i % 10);
    const expected = crossEntropy(z, y, { classes: 10, labelSmoothing: 0.1, grad: true, kernel: 'js' });
    crossEntropy(z, y, { classes: 10, labelSmoothing: 0.1, grad: z, kernel: 'wasm' });
    assertSameResult({ ...expected, grad: z }, expected, 10, 'in-place');
  });
});
