// Classwise ECE, AURC, positive-class (binary) ECE and ignoreIndex, against the numpy reference values of
// scripts/make_calibration_fixtures.py and against their definitions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  binaryCalibration,
  calibration,
  LabelSmoothingError,
  riskCoverage,
} from '../packages/labelsmooth/src/index.js';
import { assertClose } from './helpers/fixtures.js';

interface MultiCase {
  name: string;
  classes: number;
  logits: number[];
  labels: number[];
  classwiseEce15: number;
  classwiseEce5: number;
  ece15: number;
  aurc: number;
  risk: number[];
  smoothEce: number;
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/calibration.json', import.meta.url), 'utf8')) as {
  multiclass: MultiCase[];
  binary: {
    logits: number[];
    target: number[];
    ece15: number;
    ece10: number;
    brier: number;
    nll: number;
    smoothEce: number;
  };
};

const tight = { rtol: 1e-10, atol: 1e-13 };

describe('calibration: classwise ECE, AURC, smooth ECE (numpy reference)', () => {
  for (const c of fx.multiclass) {
    it(c.name, () => {
      const z = Float64Array.from(c.logits);
      const r = calibration(z, c.labels, { classes: c.classes, curves: true });
      assertClose(r.classwiseEce, c.classwiseEce15, { ...tight, label: 'classwise ECE' });
      assertClose(calibration(z, c.labels, { classes: c.classes, bins: 5 }).classwiseEce, c.classwiseEce5, {
        ...tight,
        label: 'classwise ECE, 5 bins',
      });
      assertClose(r.ece, c.ece15, { ...tight, label: 'ECE' });
      assertClose(r.aurc, c.aurc, { ...tight, label: 'AURC' });
      assertClose(r.smoothEce, c.smoothEce, { ...tight, label: 'smooth ECE' });
      const conf = r.smoothReliability && r.riskCoverage;
      assert.ok(conf, 'curves: true adds both curves');
    });
  }

  it('risk–coverage: the full curve, ties in stable order, and AURC = its mean', () => {
    for (const c of fx.multiclass) {
      const k = c.classes;
      const conf: number[] = [];
      const correct: number[] = [];
      c.labels.forEach((y, i) => {
        const row = c.logits.slice(i * k, (i + 1) * k);
        const m = Math.max(...row);
        const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
        conf.push(1 / s);
        correct.push(row.indexOf(m) === y ? 1 : 0);
      });
      const rc = riskCoverage(conf, correct);
      assertClose(rc.risk, c.risk, { ...tight, label: c.name });
      assertClose(rc.aurc, c.aurc, tight);
      assert.equal(rc.coverage[rc.coverage.length - 1], 1);
    }
  });

  it('AURC closed forms: errors last → minimal, errors first → maximal', () => {
    // 4 rows, 1 error. Least confident error: risks 0, 0, 0, 1/4 → AURC 1/16.
    assertClose(riskCoverage([0.9, 0.8, 0.7, 0.6], [1, 1, 1, 0]).aurc, 1 / 16, tight);
    // Most confident error: risks 1, 1/2, 1/3, 1/4.
    assertClose(
      riskCoverage([0.9, 0.8, 0.7, 0.6], [0, 1, 1, 1]).aurc,
      (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4,
      tight,
    );
    // A tie keeps the input order: the error listed first is ranked first.
    assertClose(riskCoverage([0.5, 0.5], [0, 1]).aurc, (1 + 1 / 2) / 2, tight);
    assertClose(riskCoverage([0.5, 0.5], [1, 0]).aurc, (0 + 1 / 2) / 2, tight);
  });

  it('classwise ECE from its definition: one bin per class, brute force', () => {
    const probs = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.3, 0.3, 0.4],
      [0.05, 0.05, 0.9],
    ];
    const labels = [0, 2, 2, 1];
    // M = 1: per class |mean q_c − mean [y = c]|.
    let expected = 0;
    for (let c = 0; c < 3; c++) {
      const q = probs.reduce((a, r) => a + r[c], 0) / 4;
      const y = labels.filter((v) => v === c).length / 4;
      expected += Math.abs(q - y) / 3;
    }
    assertClose(calibration(probs, labels, { from: 'probs', bins: 1 }).classwiseEce, expected, tight);
  });
});

describe('binaryCalibration (positive-class ECE)', () => {
  const b = fx.binary;
  it('matches numpy: ECE (15 and 10 bins), Brier, BCE, smooth ECE', () => {
    const r = binaryCalibration(b.logits, b.target);
    assertClose(r.ece, b.ece15, tight);
    assertClose(binaryCalibration(b.logits, b.target, { bins: 10 }).ece, b.ece10, tight);
    assertClose(r.brier, b.brier, tight);
    assertClose(r.nll, b.nll, { rtol: 1e-9 });
    assertClose(r.smoothEce, b.smoothEce, tight);
    assert.equal(r.count, b.logits.length);
  });

  it('probabilities give the same numbers as their logits; N×L multi-label equals the flat form', () => {
    const p = b.logits.map((z) => 1 / (1 + Math.exp(-z)));
    const a = binaryCalibration(b.logits, b.target);
    const q = binaryCalibration(p, b.target, { from: 'probs' });
    for (const k of ['ece', 'brier', 'smoothEce', 'accuracy'] as const)
      assertClose(q[k], a[k], { rtol: 1e-12 });
    assertClose(q.nll, a.nll, { rtol: 1e-9 });
    const rows = (x: number[]) => Array.from({ length: 20 }, (_, i) => x.slice(i * 3, i * 3 + 3));
    const m = binaryCalibration(rows(b.logits), rows(b.target));
    assert.deepEqual(m, a);
  });

  it('is the positive class, not the top label: p = 0.2 with t = 0 is perfectly calibrated in its bin', () => {
    const z = Math.log(0.2 / 0.8);
    const r = binaryCalibration([z, z, z, z, z], [0, 0, 0, 0, 1]);
    assert.ok(r.ece < 1e-12);
    assert.equal(r.accuracy, 0.8);
  });

  it('ignoreIndex leaves targets out; bad targets and probabilities are refused', () => {
    const r = binaryCalibration([0.5, 2, -1], [1, -100, 0]);
    assert.equal(r.count, 2);
    assert.equal(r.ignored, 1);
    assert.deepEqual(r, { ...binaryCalibration([0.5, -1], [1, 0]), ignored: 1 });
    const bad: [() => unknown, RegExp][] = [
      [() => binaryCalibration([0.5], [0.5]), /binaryCalibration: target\[0\] = 0.5: must be 0 or 1/],
      [() => binaryCalibration([1.5], [1], { from: 'probs' }), /input\[0\] = 1.5: probability must be in/],
      [() => binaryCalibration([Number.NaN], [1]), /input\[0\] = NaN: logit must be finite/],
      [() => binaryCalibration([1, 2], [1]), /target = Array\(length 1\): 1 targets for 2 predictions/],
      [() => binaryCalibration([1], [-100]), /no prediction to score/],
    ];
    for (const [f, re] of bad)
      assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  });
});

describe('calibration: ignoreIndex and bad input', () => {
  const logits = [
    [2, 0, -1],
    [0.1, 0.3, 0.2],
    [5, 5, 0],
    [0, 1, 3],
    [1, 0, 0],
  ];
  it('rows labelled ignoreIndex (default −100) are left out; a custom ignoreIndex works the same', () => {
    const all = calibration(logits, [0, -100, 1, 2, -100]);
    const kept = calibration([logits[0], logits[2], logits[3]], [0, 1, 2]);
    assert.deepEqual(all, { ...kept, ignored: 2 });
    assert.equal(all.rows, 3);
    assert.deepEqual(calibration(logits, [0, 7, 1, 2, 7], { ignoreIndex: 7 }), all);
  });

  it('refuses: all rows ignored, NaN in an ignored row, bad labels, probabilities off 1', () => {
    const bad: [() => unknown, RegExp][] = [
      [
        () => calibration(logits, [-100, -100, -100, -100, -100]),
        /every row is labelled ignoreIndex \(-100\)/,
      ],
      [
        () => calibration([[0, Number.NaN], ...logits.map((r) => r.slice(0, 2))], [-100, 0, 0, 0, 0, 0]),
        /calibration: input\[1\] = NaN: logit must be finite/,
      ],
      [
        () => calibration(logits, [0, 1, 3, 0, 0]),
        /calibration: labels\[2\] = 3: must be an integer class index in \[0, 3\) and not ignoreIndex \(-100\)/,
      ],
      [
        () => calibration([[0.5, 0.4]], [0], { from: 'probs' }),
        /calibration: input\[0\] = 0.9: row 0 of probabilities must sum to 1/,
      ],
      [
        () => calibration(logits, [0, 1, 2, 0, 0], { ignore_index: 1 } as never),
        /did you mean ignoreIndex\?/,
      ],
      [() => calibration(logits, [0, 1, 2, 0, 0], { seed: 3 }), /options.seed = 3: applies to the bootstrap/],
      [
        () => calibration(logits, [0, 1, 2, 0, 0], { curves: 1 } as never),
        /options.curves = 1: must be true/,
      ],
    ];
    for (const [f, re] of bad)
      assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  });

  it('curves: the risk–coverage curve ends at coverage 1 with the error rate; the diagram has 200 points', () => {
    const r = calibration(logits, [0, 2, 1, 2, 0], { curves: true });
    const rc = r.riskCoverage!;
    assert.equal(rc.coverage.length, 5);
    assert.equal(rc.coverage[4], 1);
    assertClose(rc.risk[4], 1 - r.accuracy, tight);
    assert.equal(r.smoothReliability!.mesh.length, 200);
    assert.equal(r.smoothReliability!.bandwidth, r.smoothEceBandwidth);
  });
});
