// The debiased ℓ2 calibration error (Kumar, Liang & Ma 2019) against the reference values of
// scripts/make_debiased_ece_fixtures.py (a numpy transcription of the authors' library), a closed form of
// its expectation, properties, and its place in calibration() and its bootstrap.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { calibration, debiasedEce, LabelSmoothingError } from '../packages/labelsmooth/src/index.js';
import { mulberry32 } from '../packages/labelsmooth/src/random/mulberry32.js';
import { calibrationDataset } from './helpers/calibrationDatasets.js';
import { assertClose } from './helpers/fixtures.js';

interface Case {
  kind: string;
  n: number;
  seed: number;
  bins: number;
  squared: number;
  debiasedEce: number;
  plugIn: number;
}

const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/debiasedEce.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

/** C(n, k) p^k (1 − p)^(n − k), by logs (n ≤ 60 here). */
function binomial(n: number, k: number, p: number): number {
  let logC = 0;
  for (let j = 1; j <= k; j++) logC += Math.log(n - k + j) - Math.log(j);
  const pk = k === 0 ? 1 : p ** k;
  const qk = n - k === 0 ? 1 : (1 - p) ** (n - k);
  return Math.exp(logC) * pk * qk;
}

describe('debiasedEce: reference values (numpy transcription of Kumar et al.’s library)', () => {
  for (const c of fixtures.cases)
    it(`${c.kind}, n = ${c.n}, ${c.bins} bins`, () => {
      const [f, y] = calibrationDataset(c.kind, c.n, c.seed);
      const r = debiasedEce(f, y, { bins: c.bins });
      assertClose(r.squared, c.squared, { atol: 1e-14, rtol: 1e-12 });
      assertClose(r.debiasedEce, c.debiasedEce, { atol: 1e-12, rtol: 1e-12 });
      assertClose(r.plugIn, c.plugIn, { atol: 1e-14, rtol: 1e-12 });
    });
  it('the fixtures cover a negative squared estimate (reported as 0) and a bin-edge dataset', () => {
    assert.ok(fixtures.cases.some((c) => c.squared < 0 && c.debiasedEce === 0));
    assert.ok(fixtures.cases.some((c) => c.kind === 'edges'));
  });
});

describe('debiasedEce: closed forms', () => {
  it('one bin: (c − k/n)² − (k/n)(1 − k/n)/(n − 1)', () => {
    // 5 rows at confidence 0.7 (one bin), 2 correct: acc 0.4.
    const r = debiasedEce([0.7, 0.7, 0.7, 0.7, 0.7], [1, 0, 1, 0, 0]);
    assertClose(r.squared, 0.3 ** 2 - (0.4 * 0.6) / 4, { atol: 1e-15 });
    assertClose(r.plugIn, 0.09, { atol: 1e-15 });
    assert.equal(r.debiasedEce, Math.sqrt(r.squared));
  });
  it('a bin of one row contributes nothing; a perfect model is 0', () => {
    assert.equal(debiasedEce([0.95], [0]).squared, 0);
    assert.deepEqual(debiasedEce([1, 1, 1], [1, 1, 1]), { debiasedEce: 0, squared: 0, plugIn: 0 });
  });
  it('unbiased: for n rows of one confidence c and outcomes ~ Bernoulli(p), E ĉ² = (c − p)² exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (n, p, c) => {
          let expected = 0;
          let plug = 0;
          for (let k = 0; k <= n; k++) {
            const y = Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
            const r = debiasedEce(new Array(n).fill(c), y);
            expected += binomial(n, k, p) * r.squared;
            plug += binomial(n, k, p) * r.plugIn;
          }
          assertClose(expected, (c - p) ** 2, { atol: 1e-12 });
          // The plug-in estimate is biased upward by Var(acc) = p(1 − p)/n.
          assertClose(plug, (c - p) ** 2 + (p * (1 - p)) / n, { atol: 1e-12 });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('debiasedEce: properties', () => {
  const rows = fc
    .array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1)), {
      minLength: 1,
      maxLength: 80,
    })
    .map((xs) => [xs.map((x) => x[0]), xs.map((x) => x[1])] as const);
  it('squared ≤ plug-in (= RMSCE²), and the reported value is √max(0, squared)', () => {
    fc.assert(
      fc.property(rows, fc.integer({ min: 1, max: 20 }), ([f, y], m) => {
        const r = debiasedEce(f, y, { bins: m });
        assert.ok(r.squared <= r.plugIn + 1e-15);
        assert.equal(r.debiasedEce, Math.sqrt(Math.max(0, r.squared)));
      }),
    );
  });
  it('does not depend on the order of the rows, nor mutate them', () => {
    fc.assert(
      fc.property(rows, ([f, y]) => {
        const fc0 = [...f];
        const a = debiasedEce(f, y);
        const order = f.map((_, i) => i).reverse();
        const b = debiasedEce(
          order.map((i) => f[i]),
          order.map((i) => y[i]),
        );
        assertClose(b.squared, a.squared, { atol: 1e-14 });
        assert.deepEqual(f, fc0);
      }),
    );
  });
  it('calibration() reports it for top-label confidence, and RMSCE² is its plug-in', () => {
    const next = mulberry32(3);
    const k = 4;
    const n = 300;
    const logits = new Float64Array(n * k).map(() => 4 * next() - 2);
    const labels = Int32Array.from({ length: n }, () => Math.floor(next() * k));
    const r = calibration(logits, labels, { classes: k });
    const conf = new Float64Array(n);
    const correct = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * k, (i + 1) * k);
      const top = row.indexOf(Math.max(...row));
      const z = row.reduce((a, v) => a + Math.exp(v), 0);
      conf[i] = Math.exp(row[top]) / z;
      correct[i] = top === labels[i] ? 1 : 0;
    }
    const d = debiasedEce(conf, correct);
    assertClose(r.debiasedEce, d.debiasedEce, { atol: 1e-12 });
    assertClose(r.rmsce ** 2, d.plugIn, { atol: 1e-12 });
  });
});

describe('debiasedEce: small errors', () => {
  it('a calibrated model: the bootstrap of ECE sits above the ECE; the debiased interval holds its estimate', () => {
    // Binary predictions with confidence f ~ U[0.5, 1] and P(correct) = f: the true error is 0.
    for (const seed of [1, 2, 3]) {
      const next = mulberry32(seed);
      const n = 2000;
      const probs = new Float64Array(2 * n);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const f = 0.5 + 0.5 * next();
        probs[2 * i] = f;
        probs[2 * i + 1] = 1 - f;
        labels[i] = next() < f ? 0 : 1;
      }
      const r = calibration(probs, labels, { classes: 2, from: 'probs', intervals: true, resamples: 200 });
      const ece = r.intervals?.ece as [number, number];
      const deb = r.intervals?.debiasedEce as [number, number];
      assert.ok((ece[0] + ece[1]) / 2 > r.ece, `seed ${seed}: ECE ${r.ece}, interval [${ece}]`);
      assert.ok(
        deb[0] <= r.debiasedEce && r.debiasedEce <= deb[1],
        `seed ${seed}: ${r.debiasedEce} in [${deb}]`,
      );
      assert.ok(r.debiasedEce < r.rmsce, `seed ${seed}: nearer the true 0 than its plug-in`);
    }
  });
});

describe('debiasedEce: bad input', () => {
  const throwsAt = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  it('names the function, the argument, the index and the value', () => {
    throwsAt(
      () => debiasedEce([0.5, 1.2], [1, 0]),
      /^debiasedEce: confidence\[1\] = 1\.2: must be in \[0, 1\]/,
    );
    throwsAt(() => debiasedEce([0.5, 0.6], [1, 0.5]), /^debiasedEce: outcome\[1\] = 0\.5: must be 0 or 1/);
    throwsAt(() => debiasedEce([0.5], [1, 0]), /outcome = Array\(length 2\): length 2 does not match/);
    throwsAt(() => debiasedEce([], []), /confidence = Array\(length 0\): needs at least one value/);
    throwsAt(() => debiasedEce([0.5], [1], { bins: 0 }), /options\.bins = 0: must be an integer ≥ 1/);
    throwsAt(() => debiasedEce([0.5], [1], { bin: 3 } as never), /options\.bin/);
  });
});
