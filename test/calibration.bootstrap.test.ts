// Bootstrap intervals and the paired comparison: the weighted (multiplicity) evaluation against an explicit
// resample, determinism, and the properties a user relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BOOTSTRAP_METRICS,
  calibration,
  compareCalibration,
  LabelSmoothingError,
  riskCoverage,
  smoothEce,
} from '../packages/labelsmooth/src/index.js';
import { binOf } from '../packages/labelsmooth/src/metrics/binning.js';
import { MetricRows, percentileInterval, Resampler } from '../packages/labelsmooth/src/metrics/bootstrap.js';
import { scoreRows } from '../packages/labelsmooth/src/metrics/scores.js';
import { mulberry32 } from '../packages/labelsmooth/src/random/mulberry32.js';
import { assertClose } from './helpers/fixtures.js';

/** N×K logits of a classifier that is right ~75 % of the time, scaled by `scale` (sharpness). */
function predictions(n: number, k: number, scale: number, seed: number) {
  const next = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
  const labels = new Int32Array(n);
  const logits = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(next() * k);
    for (let c = 0; c < k; c++) logits[i * k + c] = scale * (gauss() + (c === labels[i] ? 2 : 0));
  }
  return { logits, labels };
}

describe('bootstrap: the weighted evaluation equals an explicit resample', () => {
  for (const [n, k, scale] of [
    [300, 5, 1],
    [400, 10, 3],
    [150, 3, 8],
  ]) {
    it(`${n}×${k}, scale ${scale}: every metric of 5 resamples`, () => {
      const { logits, labels } = predictions(n, k, scale, n + k);
      const rows = new MetricRows(scoreRows('test', logits, labels, { classes: k }), 15);
      const draws = new Resampler(9);
      const w = new Float64Array(n);
      for (let b = 0; b < 5; b++) {
        draws.draw(w);
        // The resample as data: row i repeated w_i times, in row order.
        const z: number[] = [];
        const y: number[] = [];
        for (let i = 0; i < n; i++)
          for (let c = 0; c < w[i]; c++) {
            z.push(...logits.subarray(i * k, (i + 1) * k));
            y.push(labels[i]);
          }
        const explicit = calibration(Float64Array.from(z), y, { classes: k });
        const weighted = rows.evaluate(w);
        for (const m of BOOTSTRAP_METRICS)
          assertClose(weighted[m], explicit[m], { rtol: 1e-9, atol: 1e-12, label: `resample ${b}: ${m}` });
      }
    });
  }
});

/** Rows i repeated w_i times, in row order (copies of a row next to each other): a resample as data. */
function materialise(probs: number[][], labels: number[], w: Float64Array) {
  const p: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < labels.length; i++)
    for (let c = 0; c < w[i]; c++) {
      p.push(probs[i]);
      y.push(labels[i]);
    }
  return { p, y };
}

/** Binned ECE over 15 bins ((m−1)/M, m/M], straight from the definition. */
function naiveEce(f: number[], correct: number[]): number {
  const sums = new Float64Array(15);
  for (let i = 0; i < f.length; i++) sums[binOf(f[i], 15)] += f[i] - correct[i];
  return sums.reduce((a, s) => a + Math.abs(s), 0) / f.length;
}

/** Classwise ECE over 15 bins, straight from the definition (Kull et al. 2019). */
function naiveClasswiseEce(p: number[][], y: number[]): number {
  const k = p[0].length;
  let total = 0;
  for (let c = 0; c < k; c++) {
    const sums = new Float64Array(15);
    for (let i = 0; i < p.length; i++) sums[binOf(p[i][c], 15)] += p[i][c] - (y[i] === c ? 1 : 0);
    total += sums.reduce((a, s) => a + Math.abs(s), 0) / p.length;
  }
  return total / k;
}

describe('bootstrap: Resampler draws the rows of mulberry32', () => {
  it('multiplicities of ⌊u·N⌋ over N draws of mulberry32(seed), resample after resample', () => {
    for (const [seed, n] of [
      [0, 2],
      [7, 13],
      [0xffffffff, 1000],
      [123456789, 65537],
    ]) {
      const next = mulberry32(seed);
      const draws = new Resampler(seed);
      const w = new Float64Array(n);
      for (let b = 0; b < 3; b++) {
        draws.draw(w);
        const expected = new Float64Array(n);
        for (let j = 0; j < n; j++) expected[Math.floor(next() * n)]++;
        assert.deepEqual(w, expected, `seed ${seed}, N ${n}, resample ${b}`);
      }
    }
  });
});

describe('bootstrap: a resample from multiplicities equals the plain metrics on the resampled rows', () => {
  // Ties in confidence are ordered by row (a stable sort) in riskCoverage() and in the multiplicity walk, and
  // the materialised resample keeps the copies of a row together at the row's place, so AURC sees the same
  // order both ways. smECE: the resample's search starts from the full sample's σ, the plain function
  // bisects from 1; both must land on a fixed point of the materialised rows, and equal its smECE there.
  const row = fc.oneof(
    // Confidence exactly 1.
    fc.constantFrom([1, 0, 0], [0, 1, 0], [0, 0, 1]),
    // Few distinct vectors: many ties in confidence.
    fc.constantFrom([0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.6, 0.3, 0.1], [0.1, 0.3, 0.6], [0.4, 0.4, 0.2]),
    // And anything else.
    fc
      .tuple(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
      )
      .map(([a, b, c]) => [a / (a + b + c), b / (a + b + c), c / (a + b + c)]),
  );
  it('every metric, for random rows (N ≥ 2, ties, confidences 1) and seeds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(row, fc.integer({ min: 0, max: 2 })), { minLength: 2, maxLength: 60 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, seed) => {
          const probs = data.map((d) => [...d[0]]);
          const labels = data.map((d) => d[1]);
          const rows = new MetricRows(scoreRows('test', probs, labels, { from: 'probs' }), 15);
          const draws = new Resampler(seed);
          const w = new Float64Array(labels.length);
          for (let b = 0; b < 3; b++) {
            draws.draw(w);
            const { p, y } = materialise(probs, labels, w);
            const plain = calibration(p, y, { from: 'probs' });
            const weighted = rows.evaluate(w);
            const f = p.map((q) => Math.max(...q));
            const correct = p.map((q, i) => (q.indexOf(Math.max(...q)) === y[i] ? 1 : 0));
            const reference = {
              accuracy: plain.accuracy,
              nll: plain.nll,
              brier: plain.brier,
              ece: naiveEce(f, correct),
              classwiseEce: naiveClasswiseEce(p, y),
              aurc: riskCoverage(f, correct).aurc,
            };
            for (const m of ['accuracy', 'nll', 'brier', 'ece', 'classwiseEce', 'aurc'] as const)
              assertClose(weighted[m], reference[m], {
                rtol: 1e-12,
                atol: 1e-14,
                label: `resample ${b}: ${m}`,
              });
            // smECE: the value at the resample's σ, and σ a fixed point (relplot's bracket) of these rows.
            const sigma = rows.lastSmoothEce!.bandwidth;
            const at = (s: number) => smoothEce(f, correct, { bandwidth: s }).smoothEce;
            assertClose(weighted.smoothEce, at(sigma), {
              rtol: 1e-12,
              atol: 1e-14,
              label: `resample ${b}: smECE`,
            });
            if (sigma < 1) assert.ok(at(sigma) <= sigma, `smECE ${at(sigma)} ≤ σ ${sigma}`);
            const below = sigma - 1 / 1024;
            if (below >= 0.001) assert.ok(at(below) > below, `smECE ${at(below)} > ${below}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('N = 2, and every confidence 1: the same, and the bandwidth of the plain search', () => {
    const cases: [number[][], number[]][] = [
      [
        [
          [0.7, 0.3],
          [0.2, 0.8],
        ],
        [0, 0],
      ],
      [
        [
          [1, 0],
          [0, 1],
          [1, 0],
          [1, 0],
        ],
        [0, 1, 1, 0],
      ],
    ];
    for (const [probs, labels] of cases) {
      const rows = new MetricRows(scoreRows('test', probs, labels, { from: 'probs' }), 15);
      const draws = new Resampler(11);
      const w = new Float64Array(labels.length);
      for (let b = 0; b < 8; b++) {
        draws.draw(w);
        const { p, y } = materialise(probs, labels, w);
        const plain = calibration(p, y, { from: 'probs' });
        const weighted = rows.evaluate(w);
        for (const m of BOOTSTRAP_METRICS)
          assertClose(weighted[m], plain[m], {
            rtol: 1e-12,
            atol: 1e-14,
            label: `${labels}: resample ${b}: ${m}`,
          });
      }
    }
  });
});

describe('calibration(..., { intervals: true })', () => {
  const { logits, labels } = predictions(2000, 10, 3, 1);
  const r = calibration(logits, labels, { classes: 10, intervals: true, resamples: 300, seed: 7 });

  it('has an interval for every metric, ordered, around the point estimate of the means', () => {
    assert.deepEqual(Object.keys(r.intervals!).sort(), [...BOOTSTRAP_METRICS].sort());
    assert.deepEqual(r.bootstrap, { resamples: 300, seed: 7, level: 0.95 });
    for (const m of BOOTSTRAP_METRICS) {
      const [lo, hi] = r.intervals![m];
      assert.ok(lo <= hi && lo >= 0, m);
    }
    for (const m of ['accuracy', 'nll', 'brier', 'aurc'] as const) {
      const [lo, hi] = r.intervals![m];
      assert.ok(lo < r[m] && r[m] < hi, `${m}: ${r[m]} in [${lo}, ${hi}]`);
    }
    // Accuracy's interval is about ±1.96·√(p(1−p)/n).
    const se = Math.sqrt((r.accuracy * (1 - r.accuracy)) / 2000);
    const width = r.intervals!.accuracy[1] - r.intervals!.accuracy[0];
    assert.ok(Math.abs(width - 2 * 1.96 * se) < 0.25 * width, `width ${width} vs ${2 * 1.96 * se}`);
  });

  it('is deterministic for a seed and changes with it; the point estimates do not', () => {
    const again = calibration(logits, labels, { classes: 10, intervals: true, resamples: 300, seed: 7 });
    assert.deepEqual(again, r);
    const other = calibration(logits, labels, { classes: 10, intervals: true, resamples: 300, seed: 8 });
    assert.notDeepEqual(other.intervals, r.intervals);
    assert.equal(other.ece, r.ece);
  });

  it('a perfectly calibrated sample: the smooth ECE interval sits near 0; an over-confident one far from it', () => {
    // y ~ Bernoulli(top-label confidence): two classes, q_0 = f, label 0 with probability f.
    const next = mulberry32(3);
    const n = 1000;
    const calibrated: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const f = 0.5 + 0.5 * next();
      calibrated.push([f, 1 - f]);
      y.push(next() < f ? 0 : 1);
    }
    const c = calibration(calibrated, y, { from: 'probs', intervals: true, resamples: 200 });
    // Not down to 0: like every ECE, smECE is a norm of noise and biased upward at finite n (≈ 0.03 here).
    assert.ok(
      c.intervals!.smoothEce[0] < 0.03 && c.intervals!.smoothEce[1] < 0.05,
      `${c.intervals!.smoothEce}`,
    );
    const sharp = calibrated.map(([f]) => [0.5 + 0.5 * f, 0.5 - 0.5 * f]);
    const s = calibration(sharp, y, { from: 'probs', intervals: true, resamples: 200 });
    // Over-confident by (1 − f)/2, 0.125 on average.
    assert.ok(s.intervals!.smoothEce[0] > 2 * c.intervals!.smoothEce[1], `${s.intervals!.smoothEce}`);
  });

  it('percentiles: numpy linear interpolation', () => {
    const v = Float64Array.from([5, 1, 4, 2, 3]);
    assert.deepEqual(percentileInterval(v, 0.5), [2, 4]);
    assertClose(
      percentileInterval(
        Float64Array.from({ length: 101 }, (_, i) => i),
        0.95,
      ),
      [2.5, 97.5],
      {
        rtol: 1e-12,
      },
    );
  });

  it('refuses fewer than 2 rows and bad options', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => calibration([[1, 0]], [0], { intervals: true }), /a bootstrap needs at least 2 scored rows/],
      [
        () =>
          calibration(
            [
              [1, 0],
              [0, 1],
            ],
            [0, -100],
            { intervals: true },
          ),
        /a bootstrap needs at least 2 scored rows/,
      ],
      [
        () => calibration(logits, labels, { classes: 10, intervals: true, resamples: 0 }),
        /options.resamples = 0/,
      ],
      [() => calibration(logits, labels, { classes: 10, intervals: true, seed: -1 }), /options.seed = -1/],
      [() => calibration(logits, labels, { classes: 10, intervals: true, level: 95 }), /options.level = 95/],
      [() => calibration(logits, labels, { classes: 10, resample: 10 } as never), /did you mean resamples\?/],
    ];
    for (const [f, re] of bad)
      assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  });
});

describe('compareCalibration (paired bootstrap)', () => {
  const { logits, labels } = predictions(1500, 10, 3, 2);
  const sharper = logits.map((v) => v * 3); // same argmax, far more confident

  it('a set against itself: every difference and interval is exactly 0', () => {
    const c = compareCalibration(logits, logits, labels, { classes: 10, resamples: 50 });
    for (const m of BOOTSTRAP_METRICS) {
      assert.equal(c.metrics[m].difference, 0);
      assert.deepEqual(c.metrics[m].interval, [0, 0]);
      assert.equal(c.metrics[m].excludesZero, false);
    }
  });

  it('detects a real change (sharper logits: worse NLL, ECE) and not a null one (accuracy unchanged)', () => {
    const c = compareCalibration(sharper, logits, labels, { classes: 10, resamples: 200, seed: 1 });
    assert.equal(c.rows, 1500);
    assert.equal(c.metrics.accuracy.difference, 0);
    assert.equal(c.metrics.accuracy.excludesZero, false);
    for (const m of ['nll', 'ece', 'smoothEce'] as const) {
      assert.ok(c.metrics[m].difference > 0 && c.metrics[m].excludesZero, m);
      const [lo, hi] = c.metrics[m].interval;
      assert.ok(lo > 0 && lo <= c.metrics[m].difference * 1.5 && hi >= lo, m);
    }
    const r = calibration(sharper, labels, { classes: 10 });
    assert.equal(c.metrics.ece.a, r.ece);
  });

  it('is antisymmetric and paired: compare(b, a) mirrors compare(a, b)', () => {
    const ab = compareCalibration(sharper, logits, labels, { classes: 10, resamples: 100, seed: 4 });
    const ba = compareCalibration(logits, sharper, labels, { classes: 10, resamples: 100, seed: 4 });
    for (const m of BOOTSTRAP_METRICS) {
      assertClose(ba.metrics[m].difference, -ab.metrics[m].difference, { atol: 1e-15 });
      assertClose(ba.metrics[m].interval, [-ab.metrics[m].interval[1], -ab.metrics[m].interval[0]], {
        atol: 1e-12,
        label: m,
      });
    }
  });

  it('names the bad prediction set', () => {
    const bad = Float64Array.from(logits);
    bad[13] = Number.NaN;
    const cases: [() => unknown, RegExp][] = [
      [() => compareCalibration(logits, bad, labels, { classes: 10 }), /compareCalibration: b\[13\] = NaN/],
      [() => compareCalibration(bad, logits, labels, { classes: 10 }), /compareCalibration: a\[13\] = NaN/],
      [
        () => compareCalibration(logits, logits.subarray(0, 50), labels, { classes: 10 }),
        /labels = Int32Array\(length 1500\): length 1500 does not match the 5 rows/,
      ],
      [() => compareCalibration([[1, 0]], [[0, 1]], [0]), /a bootstrap needs at least 2 rows/],
      [
        () => compareCalibration(logits, logits, labels, { classes: 10, intervals: true } as never),
        /unknown/,
      ],
    ];
    for (const [f, re] of cases)
      assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  });
});
