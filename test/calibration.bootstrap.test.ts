// Bootstrap intervals and the paired comparison: the weighted (multiplicity) evaluation against an explicit
// resample, determinism, and the properties a user relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BOOTSTRAP_METRICS,
  calibration,
  compareCalibration,
  LabelSmoothingError,
} from '../packages/labelsmooth/src/index.js';
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
