import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { calibration, fitTemperature, LabelSmoothingError } from '../packages/labelsmooth/src/index.js';
import { assertClose } from './helpers/fixtures.js';

const probs = [
  [0.25, 0.2, 0.55],
  [0.55, 0.05, 0.4],
  [0.1, 0.3, 0.6],
  [0.9, 0.05, 0.05],
];

describe('calibration', () => {
  it("torchmetrics' documented example: ECE 0.2000, RMSCE 0.2082, MCE 0.2333 (3 bins)", () => {
    const r = calibration(probs, [0, 1, 2, 0], { from: 'probs', bins: 3 });
    assertClose(r.ece, 0.2, { rtol: 1e-12 });
    assertClose(r.rmsce, 0.2081666, { rtol: 1e-6 });
    assertClose(r.mce, 0.2333333, { rtol: 1e-6 });
    assert.equal(r.accuracy, 0.5);
    assertClose(r.meanConfidence, 0.65, { rtol: 1e-12 });
    assertClose(r.overconfidence, 0.15, { rtol: 1e-12 });
    assert.deepEqual(
      r.bins.map((b) => b.count),
      [0, 3, 1],
    );
    assert.equal(r.bins[0].accuracy, null);
  });

  it('NLL, Brier and entropy match their definitions', () => {
    const r = calibration(probs, [0, 1, 2, 0], { from: 'probs' });
    assertClose(r.nll, -(Math.log(0.25) + Math.log(0.05) + Math.log(0.6) + Math.log(0.9)) / 4, {
      rtol: 1e-12,
    });
    const brier =
      (0.75 ** 2 +
        0.2 ** 2 +
        0.55 ** 2 +
        (0.55 ** 2 + 0.95 ** 2 + 0.4 ** 2) +
        (0.1 ** 2 + 0.3 ** 2 + 0.4 ** 2) +
        (0.1 ** 2 + 0.05 ** 2 * 2)) /
      4;
    assertClose(r.brier, brier, { rtol: 1e-12 });
  });

  it('logits give softmax probabilities: same metrics as their probabilities, exact NLL', () => {
    const logits = [
      [2, 0, -1],
      [0.1, 0.3, 0.2],
      [5, 5, 0],
    ];
    const sm = logits.map((row) => {
      const s = row.reduce((a, v) => a + Math.exp(v), 0);
      return row.map((v) => Math.exp(v) / s);
    });
    const a = calibration(logits, [0, 2, 1]);
    const b = calibration(sm, [0, 2, 1], { from: 'probs' });
    for (const key of ['accuracy', 'nll', 'brier', 'ece', 'mce', 'meanConfidence', 'meanEntropy'] as const) {
      assertClose(a[key], b[key], { rtol: 1e-12, label: key });
    }
  });

  it('equals an independent brute-force computation on random predictions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 20 }),
        fc.infiniteStream(fc.double({ min: -6, max: 6, noNaN: true })),
        (k, n, m, stream) => {
          const it = stream[Symbol.iterator]();
          const logits = Array.from({ length: n }, () =>
            Array.from({ length: k }, () => it.next().value as number),
          );
          const labels = logits.map((_, i) => (i * 7) % k);
          const r = calibration(logits, labels, { bins: m });
          let ece = 0;
          let mce = 0;
          for (let b = 0; b < m; b++) {
            const lo = b / m;
            const hi = (b + 1) / m;
            const inBin: { conf: number; ok: number }[] = [];
            logits.forEach((row, i) => {
              const mx = Math.max(...row);
              const s = row.reduce((a, v) => a + Math.exp(v - mx), 0);
              const conf = 1 / s;
              const pred = row.indexOf(mx);
              if ((conf > lo || b === 0) && conf <= hi) inBin.push({ conf, ok: pred === labels[i] ? 1 : 0 });
            });
            if (inBin.length === 0) continue;
            const gap = Math.abs(inBin.reduce((a, x) => a + x.ok - x.conf, 0) / inBin.length);
            ece += (inBin.length / n) * gap;
            mce = Math.max(mce, gap);
          }
          assert.ok(Math.abs(r.ece - ece) < 1e-12, `ece ${r.ece} vs ${ece}`);
          assert.ok(Math.abs(r.mce - mce) < 1e-12);
          assert.equal(
            r.bins.reduce((a, b) => a + b.count, 0),
            n,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('bad input: lengths, labels, probabilities, NaN', () => {
    const bad: [() => unknown, RegExp][] = [
      [
        () => calibration(probs, [0, 1, 2]),
        /calibration: labels = Array\(length 3\): length 3 does not match the 4 rows/,
      ],
      [
        () => calibration(probs, [0, 1, 3, 0], { from: 'probs' }),
        /calibration: labels\[2\] = 3: must be an integer class index in \[0, 3\)/,
      ],
      [
        () => calibration([[0.5, 0.6]], [0], { from: 'probs' }),
        /calibration: input\[0\] = 1.1: row 0 of probabilities must sum to 1/,
      ],
      [
        () => calibration([[1.5, -0.5]], [0], { from: 'probs' }),
        /calibration: input\[0\] = 1.5: probability must be in \[0, 1\]/,
      ],
      [() => calibration([[0, Number.NaN]], [0]), /calibration: input\[1\] = NaN: logit must be finite/],
      [() => calibration(probs, [0, 1, 2, 0], { bins: 0 }), /options.bins = 0/],
      [() => fitTemperature([[1, 2]], [0.5]), /fitTemperature: labels\[0\] = 0.5/],
    ];
    for (const [f, re] of bad)
      assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  });
});

describe('fitTemperature', () => {
  const nllAt = (logits: number[][], labels: number[], t: number) =>
    logits.reduce((acc, row, i) => {
      const m = Math.max(...row);
      const lse = m / t + Math.log(row.reduce((a, v) => a + Math.exp((v - m) / t), 0));
      return acc + lse - row[labels[i]] / t;
    }, 0) / logits.length;

  it('matches a brute-force grid search over T, and never increases the NLL', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 5, max: 30 }),
        fc.double({ min: 0.2, max: 8, noNaN: true }),
        fc.infiniteStream(fc.double({ min: -2, max: 2, noNaN: true })),
        (k, n, scale, stream) => {
          const it = stream[Symbol.iterator]();
          const labels = Array.from({ length: n }, (_, i) => i % k);
          // Informative but noisy logits: the label's logit gets a bonus half of the time.
          const logits = labels.map((y, i) =>
            Array.from(
              { length: k },
              (_, c) => scale * ((it.next().value as number) + (c === y && i % 2 ? 1.5 : 0)),
            ),
          );
          const fit = fitTemperature(logits, labels);
          let best = Infinity;
          for (let j = 0; j <= 4000; j++)
            best = Math.min(best, nllAt(logits, labels, 10 ** (-3 + (6 * j) / 4000)));
          assert.ok(fit.nllAfter <= best + 1e-9, `fit ${fit.nllAfter} (T=${fit.temperature}) > grid ${best}`);
          assert.ok(fit.nllAfter <= fit.nllBefore + 1e-12);
          assertClose(fit.nllAfter, nllAt(logits, labels, fit.temperature), { rtol: 1e-10 });
          assertClose(fit.nllBefore, nllAt(logits, labels, 1), { rtol: 1e-10 });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('cools an over-confident model (T > 1) and is deterministic', () => {
    const logits = [
      [10, 0, 0],
      [0, 10, 0],
      [10, 0, 0],
      [0, 0, 10],
    ];
    const labels = [0, 1, 1, 2];
    const a = fitTemperature(logits, labels);
    assert.ok(a.temperature > 1);
    assert.deepEqual(fitTemperature(logits, labels), a);
  });

  it('separable data: T goes to the bottom of the range instead of diverging', () => {
    const fit = fitTemperature(
      [
        [5, 0],
        [0, 5],
      ],
      [0, 1],
    );
    assert.equal(fit.temperature, 1e-3);
  });
});
