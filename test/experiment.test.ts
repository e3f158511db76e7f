// Summaries over seeds, per-seed reliability counts, risk–coverage averaging, paired comparisons and the
// distillation targets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meanBins, meanRiskCurve, tableOrder } from '../packages/experiments/src/report/report.js';
import type { Analyzer } from '../packages/experiments/src/train/analysis.js';
import { softTargets } from '../packages/experiments/src/train/distillation.js';
import { pairedAnalyses, summarize } from '../packages/experiments/src/train/experiment.js';
import { bins, run } from './helpers/results.js';

describe('summarize', () => {
  it('one row per ε, then a temperature-scaled row for every ε that has one; mean and sd over seeds', () => {
    const runs = [run(0, 1), run(0.1, 1), run(0, 2), run(0.1, 2, { ts: false })];
    runs[2].test.ece = 0.15; // seeds 1 and 2 of ε = 0: ECE 0.05 and 0.15
    const s = summarize(runs);
    assert.deepEqual(
      s.map((x) => [x.label, x.epsilon, x.scaled, x.runs]),
      [
        ['ε=0', 0, false, 2],
        ['ε=0.1', 0.1, false, 2],
        ['ε=0 + temperature scaling', 0, true, 2],
        ['ε=0.1 + temperature scaling', 0.1, true, 1],
      ],
    );
    assert.ok(Math.abs(s[0].ece.mean - 0.1) < 1e-12);
    assert.ok(Math.abs(s[0].ece.sd - Math.SQRT1_2 * 0.1) < 1e-12);
    // Two seeds: the t-interval of the mean, 0.1 ± t(0.975, 1)·sd/√2 = 0.1 ± 12.706·0.05, cut at 0.
    const t1 = 12.706204736174698;
    const ece = s[0].intervals?.ece as number[];
    assert.ok(Math.abs(ece[1] - (0.1 + t1 * 0.05)) < 1e-9);
    assert.equal(ece[0], 0, 'an ECE interval never goes below 0');
    assert.equal(s[3].intervals, undefined, 'one seed: no interval over seeds');
    assert.deepEqual(
      tableOrder([s[3], s[2], s[1], s[0]]).map((x) => x.label),
      ['ε=0', 'ε=0.1', 'ε=0 + temperature scaling', 'ε=0.1 + temperature scaling'],
    );
  });

  it('intervals cover seed-to-seed variation (a t-interval over seeds), not test rows averaged over seeds', () => {
    // The test-row intervals of each seed are ignored: the interval is that of the mean over the seeds.
    const a = run(0, 1, { analysis: { aurc: 0.05, intervals: { ece: [0.1, 0.2], nll: [1, 2] } } });
    const b = run(0, 2, { analysis: { aurc: 0.07, intervals: { ece: [0.2, 0.4] } } });
    const c = run(0, 3, { analysis: { aurc: 0.06 } });
    a.test.nll = 0.5;
    b.test.nll = 0.7;
    c.test.nll = 0.6;
    [a.test.aurc, b.test.aurc, c.test.aurc] = [0.05, 0.07, 0.06];
    const [row] = summarize([a, b, c]);
    const half = (4.302652729749464 * 0.1) / Math.sqrt(3);
    const nll = row.intervals?.nll as number[];
    assert.ok(Math.abs(nll[0] - (0.6 - half)) < 1e-9 && Math.abs(nll[1] - (0.6 + half)) < 1e-9);
    assert.ok(nll[0] <= row.nll.mean && row.nll.mean <= nll[1], 'the interval holds its mean');
    assert.ok(Math.abs(row.aurc!.mean - 0.06) < 1e-12);
  });
});

describe('meanBins', () => {
  it('counts are per seed (they add up to one test set), accuracy is count-weighted', () => {
    const s1 = bins([0, 10, 90]);
    const s2 = bins([0, 30, 70]);
    s1[1].accuracy = 0.2;
    s2[1].accuracy = 0.6;
    const m = meanBins([s1, s2]);
    assert.deepEqual(
      m.map((b) => b.count),
      [0, 20, 80],
    );
    assert.equal(
      m.reduce((a, b) => a + b.count, 0),
      100,
    );
    assert.ok(Math.abs(m[1].accuracy! - (10 * 0.2 + 30 * 0.6) / 40) < 1e-12);
    assert.equal(m[0].accuracy, null);
  });
});

describe('meanRiskCurve', () => {
  it('averages curves on a common coverage grid', () => {
    const a = [0.25, 0.5, 0.75, 1].map((coverage) => ({ coverage, risk: 0.1 }));
    const b = [0.5, 1].map((coverage) => ({ coverage, risk: coverage / 2 }));
    const m = meanRiskCurve([a, b], 2);
    assert.deepEqual(
      m.map((p) => p.coverage),
      [0.5, 0.75, 1],
    );
    assert.deepEqual(
      m.map((p) => p.risk),
      [(0.1 + 0.25) / 2, (0.1 + 0.25) / 2, (0.1 + 0.5) / 2],
    );
  });
});

describe('pairedAnalyses', () => {
  it('pairs each ε > 0 and the temperature-scaled ε = 0 with ε = 0 of the same seed', () => {
    const calls: string[] = [];
    const analyzer: Analyzer = {
      model: () => ({}),
      paired: (a, b) => {
        calls.push(`${a[0]}-${b[0]}`);
        return { ece: { difference: b[0] - a[0], interval: [b[0] - a[0] - 1, b[0] - a[0] + 1] } };
      },
    };
    const z = (v: number) => Float32Array.of(v);
    const runs = [
      { label: 'ε=0', seed: 1, test: z(1), scaled: z(2) },
      { label: 'ε=0.1', seed: 1, test: z(3) },
      { label: 'ε=0', seed: 2, test: z(10) },
      { label: 'ε=0.1', seed: 2, test: z(30) },
    ];
    const p = pairedAnalyses(runs, Int32Array.of(0), 1, analyzer);
    assert.deepEqual(
      p.map((x) => [x.a, x.b, x.seed, x.differences.ece!.difference]),
      [
        ['ε=0', 'ε=0.1', 1, 2],
        ['ε=0', 'ε=0 + temperature scaling', 1, 1],
        ['ε=0', 'ε=0.1', 2, 20],
      ],
    );
    assert.deepEqual(calls, ['1-3', '1-2', '10-30']);
  });
});

describe('softTargets', () => {
  it('is softmax(z/T): rows sum to 1, T = 1 is the softmax, large T flattens toward uniform', () => {
    const z = Float32Array.of(2, 1, 0, 1000, 0, -1000);
    const p1 = softTargets(z, 3, 1);
    const e = [Math.exp(2), Math.exp(1), 1];
    const s = e[0] + e[1] + e[2];
    for (const [i, v] of e.entries()) assert.ok(Math.abs(p1[i] - v / s) < 1e-7);
    assert.deepEqual(Array.from(p1.subarray(3)), [1, 0, 0], 'no overflow at |z| = 1000');
    const p100 = softTargets(z, 3, 100);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(p100[i] - 1 / 3) < 0.01);
    for (const r of [0, 1]) assert.ok(Math.abs(p100[3 * r] + p100[3 * r + 1] + p100[3 * r + 2] - 1) < 1e-6);
  });
});

describe('mullerTable', () => {
  it("prints Müller et al.'s Table 3 rows: baseline, label smoothing, then each with temperature scaling", async () => {
    const { mullerTable } = await import('../packages/experiments/src/cli/runOutput.js');
    const runs = [run(0.1, 1), run(0, 1), run(0.1, 2), run(0, 2)];
    const lines = mullerTable(summarize(runs)).split('\n');
    assert.match(lines[0], /^method +ECE +NLL +accuracy$/);
    assert.deepEqual(
      lines.slice(2).map((l) => l.split(/ {2,}/)[0]),
      [
        'baseline (ε = 0)',
        'label smoothing (ε = 0.1)',
        'baseline (ε = 0) + temperature scaling',
        'label smoothing (ε = 0.1) + temperature scaling',
      ],
    );
    assert.match(lines[2], /0\.0500 ± 0\.0000/);
  });
});
