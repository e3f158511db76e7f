// The family options on the SIMD kernel (assembly/family.ts): confidence penalty, focal loss, FLSD-53 and
// class-conditional noise, alone and combined with ε, the noise kinds, class weights (both modes), sample
// weights, ignoreIndex, a class mask and the reductions. References, on the same float32 values:
//   - the row parts (nll, smoothing, entropy) from an exact float64 oracle below, which takes
//     ℓ = −log q_y = top + log1p(rest) over d_c = z_c − z_y (exact in float64 for float32 inputs) and
//     1 − q_c = −expm1(log q_c): the JS reference forms lse − z_y and loses relative digits on confident
//     rows (see kernelExact.test.ts), where the kernel keeps them;
//   - the gradient from the float64 JS reference (kernel: 'js').
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CrossEntropyOptions,
  crossEntropy,
  initKernels,
  kernelInfo,
  onKernelEvent,
} from '../packages/labelsmooth/src/index.js';
import { lcg } from './helpers/lcg.js';

interface Case {
  k: number;
  z: Float32Array;
  y: Int32Array;
  o: CrossEntropyOptions;
}

/** Exact per-row (nll, smoothing, entropy), each times the row weight (index targets, shared mask). */
function oracle({ k, z, y, o }: Case): { nll: number[]; smoothing: number[]; entropy: number[] } {
  const n = y.length;
  const ok = (c: number) => !o.classMask || (o.classMask as ArrayLike<number>)[c] !== 0;
  const ka = Array.from({ length: k }, (_, c) => c).filter(ok).length;
  const w = o.weight as ArrayLike<number> | undefined;
  const perClass = w && o.weightMode !== 'per-example';
  const wc = (c: number) => (perClass ? w[c] : 1);
  const alpha = o.focalAlpha ?? 1;
  const res = { nll: [] as number[], smoothing: [] as number[], entropy: [] as number[] };
  for (let i = 0; i < n; i++) {
    const t = y[i];
    if (t === (o.ignoreIndex ?? -100)) {
      res.nll.push(0);
      res.smoothing.push(0);
      res.entropy.push(0);
      continue;
    }
    const d = Array.from({ length: k }, (_, c) => (ok(c) ? z[i * k + c] - z[i * k + t] : -Infinity));
    let top = -Infinity;
    let arg = -1;
    for (let c = 0; c < k; c++)
      if (d[c] > top) {
        top = d[c];
        arg = c;
      }
    let rest = 0;
    for (let c = 0; c < k; c++) if (c !== arg && ok(c)) rest += Math.exp(d[c] - top);
    const L = top + Math.log1p(rest); // ℓ = −log q_t
    const lq = d.map((x) => x - L);
    // noise u over the allowed classes
    const u = new Float64Array(k);
    const noise = o.noise ?? 'uniform';
    if (noise === 'uniform') for (let c = 0; c < k; c++) u[c] = ok(c) ? 1 / ka : 0;
    else if (noise === 'non-target') for (let c = 0; c < k; c++) u[c] = ok(c) && c !== t ? 1 / (ka - 1) : 0;
    else {
      const S = (noise as { matrix: ArrayLike<number> }).matrix;
      let mass = 0;
      for (let c = 0; c < k; c++) if (ok(c)) mass += S[t * k + c];
      for (let c = 0; c < k; c++) u[c] = ok(c) ? S[t * k + c] / mass : 0;
    }
    let gamma = 0;
    if (o.focalGamma !== undefined)
      gamma = o.focalGamma === 'flsd-53' ? (Math.exp(-L) < 0.2 ? 5 : 3) : o.focalGamma;
    const mod = (c: number) => (o.focalGamma === undefined ? 1 : alpha * (-Math.expm1(lq[c])) ** gamma);
    let smooth = 0;
    let ent = 0;
    for (let c = 0; c < k; c++) {
      if (!ok(c)) continue;
      if (u[c] > 0) smooth -= wc(c) * u[c] * mod(c) * lq[c];
      ent -= wc(c) * Math.exp(lq[c]) * lq[c];
    }
    const rw = (o.sampleWeight ? (o.sampleWeight as ArrayLike<number>)[i] : 1) * (w && !perClass ? w[t] : 1);
    res.nll.push(rw * wc(t) * mod(t) * L);
    res.smoothing.push(rw * smooth);
    res.entropy.push(o.confidencePenalty === undefined ? 0 : rw * ent);
  }
  return res;
}

/** Kernel vs oracle (parts, 1e−5 relative) and vs the float64 reference (gradient); the kernel ran. */
function check(c: Case): void {
  const o = { ...c.o, classes: c.k, reduction: 'none' as const, grad: true };
  const wasm = crossEntropy(c.z, c.y, { ...o, kernel: 'wasm', threads: false });
  assert.equal(kernelInfo().last?.path, 'wasm', kernelInfo().last?.reason);
  const ref = crossEntropy(Float64Array.from(c.z), c.y, { ...o, kernel: 'js' });
  const exact = oracle(c);
  for (const part of ['nll', 'smoothing', 'entropy'] as const) {
    const got = wasm[part] ?? new Float64Array(c.y.length);
    for (let i = 0; i < c.y.length; i++) {
      const want = exact[part][i];
      assert.ok(!Number.isNaN(got[i]), `${part}[${i}] is NaN`);
      assert.ok(
        Math.abs(got[i] - want) <= 1e-5 * Math.abs(want) + 1e-300,
        `${part}[${i}]: ${got[i]} vs ${want}`,
      );
    }
  }
  assert.equal(wasm.entropy === undefined, c.o.confidencePenalty === undefined);
  const ga = wasm.grad!;
  const gb = ref.grad!;
  for (let j = 0; j < gb.length; j++)
    assert.ok(Math.abs(ga[j] - gb[j]) <= 1e-5 * Math.abs(gb[j]) + 2e-7, `grad[${j}]: ${ga[j]} vs ${gb[j]}`);
}

describe('family on the SIMD kernel: exact to 1e−5 against float64', () => {
  before(async () => {
    await initKernels();
  });

  it('property: random shapes, logits and option combinations (confident rows included)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 2600 }),
        fc.double({ min: 0.1, max: 30, noNaN: true }),
        fc.double({ min: -500, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 30, noNaN: true }),
        fc.constantFrom(0, 0.1, 0.5, 1),
        fc.constantFrom<[number | 'flsd-53' | undefined, number | undefined]>(
          [undefined, 0.3],
          [2, undefined],
          [0, undefined],
          [1, 0.2],
          ['flsd-53', undefined],
          [3, 0.5],
          [1.5, undefined],
          [0.5, 1],
        ),
        fc.constantFrom('uniform', 'non-target', 'matrix'),
        fc.record({
          weight: fc.constantFrom(undefined, 'per-class', 'per-example'),
          mask: fc.boolean(),
          sample: fc.boolean(),
          alpha: fc.constantFrom(undefined, 0.25),
        }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, k, spread, offset, margin, eps, [gamma, beta], noise, extra, seed) => {
          const rnd = lcg(seed);
          const y = Int32Array.from({ length: n }, () => Math.floor(rnd() * k));
          if (n > 2) y[1] = -100;
          const z = Float32Array.from({ length: n * k }, () => offset + (rnd() - 0.5) * spread);
          for (let i = 0; i < n; i++) if (y[i] >= 0) z[i * k + y[i]] += margin * (i % 2 ? 1 : 0.3);
          const o: CrossEntropyOptions = { labelSmoothing: eps };
          if (gamma !== undefined) o.focalGamma = gamma;
          if (gamma !== undefined && extra.alpha) o.focalAlpha = extra.alpha;
          if (beta !== undefined) o.confidencePenalty = beta;
          if (gamma === undefined && beta === undefined) o.confidencePenalty = 0.1;
          const allowed: number[] = Array.from({ length: k }, (_, c) => (extra.mask && c % 3 === 2 ? 0 : 1));
          for (const t of y) if (t >= 0) allowed[t] = 1;
          if (extra.mask && allowed.reduce((a, b) => a + b) >= 3) {
            o.classMask = allowed;
            for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) if (!allowed[c]) z[i * k + c] = -Infinity;
          }
          if (noise === 'non-target' && k >= 3) o.noise = 'non-target';
          if (noise === 'matrix' && k <= 300) {
            const S = Float64Array.from(
              { length: k * k },
              (_, j) => 0.05 + rnd() + (j % (k + 1) === 0 ? 3 : 0),
            );
            for (let a = 0; a < k; a++) {
              let t = 0;
              for (let c = 0; c < k; c++) t += S[a * k + c];
              for (let c = 0; c < k; c++) S[a * k + c] /= t;
            }
            o.noise = { matrix: S };
          }
          if (extra.weight) {
            o.weight = Array.from({ length: k }, () => 0.25 + 2 * rnd());
            o.weightMode = extra.weight as 'per-class' | 'per-example';
          }
          if (extra.sample) o.sampleWeight = Array.from({ length: n }, () => rnd() * 3);
          check({ k, z, y, o });
        },
      ),
      { numRuns: 120, seed: 14 },
    );
  });

  it('confident rows: tiny losses keep 1e−5 relative (ℓ down to ~1e−14), every option', () => {
    const k = 3001; // a vector tail of 1
    const margins = [2, 10, 20, 30, 40];
    const n = margins.length;
    const z = new Float32Array(n * k);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = (i * 997) % k;
      for (let c = 0; c < k; c++) z[i * k + c] = Math.sin(c * 1.7 + i) * 0.5;
      z[i * k + y[i]] = margins[i];
    }
    for (const o of [
      { confidencePenalty: 0.5 },
      { focalGamma: 2 },
      { focalGamma: 'flsd-53' as const, focalAlpha: 0.25 },
      { focalGamma: 0.5, confidencePenalty: 0.1 },
      { focalGamma: 1.5, labelSmoothing: 0.1 },
    ])
      check({ k, z, y, o });
  });

  it('half-integer and general γ: q on both sides of the series bound, lanes mixed, ε = 0 and ε > 0', () => {
    // The kernel takes (1 − q)^γ by a binomial series in q where all 4 lanes of a vector have q below a
    // bound (≈ 0.008 for γ = 1.5; smaller for larger γ), else by √r or exp(γ·log r); ε = 0 writes the
    // gradient in the focal pass itself. Rows with q from 1e−4 to 0.5 around the bound, in different lanes,
    // and class-conditional noise on exactly those classes, so that their terms carry the smoothing part
    // and Γ (with uniform noise they would be lost among the small q).
    const k = 301;
    const qs = [0.5, 0.05, 0.02, 0.0125, 0.0105, 0.0098, 0.009, 0.006, 0.003, 1e-3, 1e-4];
    const at = qs.map((_, j) => 9 + j * 25 + (j % 4)); // lanes 1, 2, 3, 0, … of different vectors
    const n = 3;
    const z = new Float32Array(n * k);
    const y = Int32Array.of(0, at[0], at[4]);
    const free = k - qs.length;
    const total = free / (1 - qs.reduce((a, b) => a + b)); // the background's e^0 = 1 each
    for (let i = 0; i < n; i++)
      for (let j = 0; j < at.length; j++) z[i * k + at[j]] = Math.log(qs[j] * total);
    const S = new Float64Array(k * k).fill(1e-6);
    for (let r = 0; r < k; r++) {
      for (const c of at) S[r * k + c] = 1;
      let t = 0;
      for (let c = 0; c < k; c++) t += S[r * k + c];
      for (let c = 0; c < k; c++) S[r * k + c] /= t;
    }
    for (const gamma of [0.5, 1.5, 2.5, 4.5, 1.7, 3.3, 7.25])
      for (const o of [
        { focalGamma: gamma, noise: { matrix: S } },
        { focalGamma: gamma, labelSmoothing: 0.1, noise: { matrix: S } },
        { focalGamma: gamma, labelSmoothing: 0.6, noise: { matrix: S }, focalAlpha: 0.25 },
        { focalGamma: gamma, labelSmoothing: 0.1 },
        { focalGamma: gamma, confidencePenalty: 0.3, labelSmoothing: 0.3, noise: { matrix: S } },
        {
          focalGamma: gamma,
          confidencePenalty: 0.3,
          weight: Array.from({ length: k }, (_, c) => 1 + (c % 3)),
        },
      ])
        check({ k, z, y, o });
  });

  it('any γ: a block whose q all lie below the bound of the series to q¹ (≈ 2e−4), class weights on it', () => {
    // Block 0 holds a class with q ≈ 0.5; block 1 (classes 2048–4095) only q ≈ 1.2e−4 and, on 24 classes
    // weighted 1000, q ≈ 1.8e−4: that block takes the shortest series unchecked, and its weighted classes
    // carry most of the smoothing part and of Γ.
    const k = 4101;
    const heavy = Array.from({ length: 24 }, (_, j) => 2048 + 7 + j * 83);
    const y = Int32Array.of(5, 3000, 4100);
    const n = y.length;
    const z = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      z[i * k + 100 + i] = Math.log(4000);
      for (const c of heavy) z[i * k + c] = Math.log(1.5);
    }
    const weight = Array.from({ length: k }, (_, c) => (heavy.includes(c) ? 1000 : 1));
    for (const gamma of [0.5, 1.5, 1.7, 2.5])
      for (const o of [
        { focalGamma: gamma, weight },
        { focalGamma: gamma, labelSmoothing: 0.3, weight },
        { focalGamma: gamma, labelSmoothing: 0.3, weight, confidencePenalty: 0.2 },
      ])
        check({ k, z, y, o });
  });

  it('ε = 0 (the focal pass writes the gradient): confident rows, tiny q, masks and class weights', () => {
    const k = 1031;
    const n = 4;
    const y = Int32Array.of(3, 500, 1030, 64);
    const margins = [0, 12, 25, 40];
    const z = Float32Array.from({ length: n * k }, (_, j) => Math.cos(j * 0.37) * 3);
    for (let i = 0; i < n; i++) z[i * k + y[i]] += margins[i];
    const classMask = Array.from({ length: k }, (_, c) => (c % 5 === 4 && !y.includes(c) ? 0 : 1));
    const masked = z.map((v, j) => (classMask[j % k] ? v : Number.NEGATIVE_INFINITY));
    for (const gamma of [2, 3, 5, 'flsd-53' as const, 1.5, 2.7])
      for (const o of [
        { focalGamma: gamma },
        {
          focalGamma: gamma,
          focalAlpha: 0.25,
          weight: Array.from({ length: k }, (_, c) => 0.5 + (c % 7) / 3),
        },
        { focalGamma: gamma, confidencePenalty: 0.2 },
      ]) {
        check({ k, z, y, o });
        check({ k, z: masked, y, o: { ...o, classMask } });
      }
  });

  it('several blocks, a common offset of ±1e4 and K not a multiple of 4', () => {
    for (const k of [4097, 6150]) {
      const n = 3;
      const y = Int32Array.of(0, k - 1, 2049);
      for (const offset of [1e4, -1e4]) {
        const z = Float32Array.from({ length: n * k }, (_, j) => offset + Math.sin(j * 0.77) * 5);
        check({ k, z, y, o: { confidencePenalty: 0.2, labelSmoothing: 0.1 } });
        check({
          k,
          z,
          y,
          o: { focalGamma: 2, labelSmoothing: 0.1, weight: Array.from({ length: k }, (_, c) => 1 + (c % 4)) },
        });
      }
    }
  });
});

describe('family on the kernel: paths, threads, declines', () => {
  before(async () => {
    await initKernels();
  });

  const K = 12000;
  const N = 96; // 1.15M logits: threaded
  const z = Float32Array.from({ length: N * K }, (_, j) => Math.sin(j * 0.37) * 8);
  const y = Int32Array.from({ length: N }, (_, i) => (i % 9 === 4 ? -100 : (i * 131) % K));

  for (const o of [
    { confidencePenalty: 0.2, labelSmoothing: 0.1 },
    {
      focalGamma: 'flsd-53' as const,
      labelSmoothing: 0.1,
      weight: Array.from({ length: K }, (_, c) => 1 + (c % 3)),
    },
  ])
    it(`threads give the same loss and gradient as one thread (${Object.keys(o).join(', ')})`, () => {
      const one = crossEntropy(z, y, { ...o, classes: K, grad: true, threads: false });
      const many = crossEntropy(z, y, { ...o, classes: K, grad: true, threads: true });
      assert.equal(kernelInfo().last?.path, 'wasm-threads');
      assert.deepEqual(many.grad, one.grad);
      assert.ok(
        Math.abs((many.loss as number) - (one.loss as number)) <= 1e-12 * Math.abs(one.loss as number),
      );
      if (o.confidencePenalty)
        assert.ok(Math.abs(many.entropy! - one.entropy!) <= 1e-12 * Math.abs(one.entropy as number));
    });

  it('class-conditional noise in an ordinary array runs on the kernel without threads, and says so', () => {
    const k = 1100;
    const n = 960; // ≥ 2²⁰ logits
    const zz = Float32Array.from({ length: n * k }, (_, j) => Math.cos(j * 0.11) * 4);
    const yy = Int32Array.from({ length: n }, (_, i) => (i * 7) % k);
    const S = new Float64Array(k * k).fill(0.5 / k);
    for (let c = 0; c < k; c++) S[c * k + c] += 0.5;
    const o = { classes: k, labelSmoothing: 0.2, noise: { matrix: S } };
    const events: string[] = [];
    const off = onKernelEvent((e) => {
      if (e.type === 'fallback') events.push(`${e.reason}: ${e.detail} (${e.rows} rows)`);
    });
    const r = crossEntropy(zz, yy, o);
    off();
    const why =
      'class-conditional noise in an ordinary array is not threaded: noiseMatrix(S) keeps S in shared memory';
    assert.deepEqual(kernelInfo().last, { path: 'wasm', reason: `${n} rows on the calling thread (${why})` });
    assert.deepEqual(events, [`noise-not-shared: ${why} (${n} rows)`]);
    const ref = crossEntropy(Float64Array.from(zz), yy, { ...o, kernel: 'js' });
    assert.ok(Math.abs((r.loss as number) - (ref.loss as number)) <= 1e-6 * (ref.loss as number));
  });

  it('declined shapes keep their reason: probability targets with focal loss', () => {
    const p = new Float32Array(512 * 8).fill(1 / 8);
    assert.throws(
      () => crossEntropy(new Float32Array(512 * 8), p, { classes: 8, focalGamma: 2, kernel: 'wasm' }),
      /options.kernel = "wasm": probability targets take the float64 reference/,
    );
  });

  it('β or α outside the float32 range falls back to the reference, observably', () => {
    const events: string[] = [];
    const off = onKernelEvent((e) => {
      if (e.type === 'fallback') events.push(e.reason);
    });
    const zz = Float32Array.from({ length: 512 * 8 }, (_, j) => Math.sin(j));
    const yy = new Int32Array(512);
    const r = crossEntropy(zz, yy, { classes: 8, confidencePenalty: 1e-35, kernel: 'wasm' });
    off();
    assert.deepEqual(events, ['float32-range']);
    assert.equal(kernelInfo().last?.path, 'js');
    const ref = crossEntropy(zz, yy, { classes: 8, confidencePenalty: 1e-35, kernel: 'js' });
    assert.equal(r.loss, ref.loss);
  });

  it('rows the kernel cannot finish go to the reference: |z_c − z_y| beyond float32, noise mass ≤ 1e−30', () => {
    const k = 600;
    const n = 6;
    const zz = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j) * 3);
    zz[2 * k + 5] = 3e38; // row 2: z_c − z_y overflows float32
    zz[2 * k + 0] = -3e38;
    const yy = Int32Array.from({ length: n }, (_, i) => (i === 4 ? 7 : 0));
    const S = new Float64Array(k * k).fill(1 / k);
    const mask = Array.from({ length: k }, (_, c) => (c < 300 ? 1 : 0));
    // row 7 of S (used by row 4): mass 1e−40 on the allowed classes, the rest on masked ones
    for (let c = 0; c < k; c++) S[7 * k + c] = c < 300 ? 1e-40 / 300 : 1 / 300;
    for (const o of [
      { confidencePenalty: 0.3, focalGamma: 2, labelSmoothing: 0.1 },
      { labelSmoothing: 0.3, noise: { matrix: S }, classMask: mask }, // S[y] used raw, mass in pass 1
      { labelSmoothing: 0.3, noise: { matrix: S }, classMask: mask, focalGamma: 2 }, // S[y] normalized first
    ]) {
      const withMask = 'classMask' in o;
      const zi = zz.slice();
      if (withMask) for (let i = 0; i < n; i++) for (let c = 300; c < k; c++) zi[i * k + c] = -Infinity;
      if (withMask) {
        zi[2 * k + 5] = 3e38;
        zi[2 * k + 0] = -3e38;
      }
      const a = crossEntropy(zi, yy, { ...o, classes: k, reduction: 'none', grad: true, kernel: 'wasm' });
      assert.equal(kernelInfo().last?.path, 'wasm+js');
      const b = crossEntropy(Float64Array.from(zi), yy, {
        ...o,
        classes: k,
        reduction: 'none',
        grad: true,
        kernel: 'js',
      });
      for (let i = 0; i < n; i++) {
        const la = (a.loss as Float64Array)[i];
        const lb = (b.loss as Float64Array)[i];
        assert.ok(
          Number.isFinite(la) && Math.abs(la - lb) <= 1e-5 * Math.abs(lb),
          `row ${i}: ${la} vs ${lb}`,
        );
      }
    }
  });

  it('in-place mode (grad: logits) equals grad: true on the kernel', () => {
    const k = 700;
    const n = 8;
    const base = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j * 0.9) * 4);
    const yy = Int32Array.from({ length: n }, (_, i) => (i * 31) % k);
    const o: CrossEntropyOptions = { classes: k, labelSmoothing: 0.2, focalGamma: 2, confidencePenalty: 0.3 };
    const expected = crossEntropy(base.slice(), yy, { ...o, grad: true, kernel: 'wasm' });
    const zz = base.slice();
    const r = crossEntropy(zz, yy, { ...o, grad: zz, kernel: 'wasm' });
    assert.equal(r.loss, expected.loss);
    assert.deepEqual(zz, expected.grad);
  });
});
