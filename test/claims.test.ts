// Claims: every comparative sentence of a report comes from a claim with an interval over seeds, and is
// true on any data. Adversarial result sets (one seed, no baseline, seeds that disagree, temperature
// scaling that hurts, three ε, distillation, a tiny test set) and the false sentences earlier reports
// printed on such data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareClaims, distillClaims } from '../packages/experiments/src/report/claims.js';
import { distillTakeaway } from '../packages/experiments/src/report/distillReport.js';
import { selectiveSentence, takeaway } from '../packages/experiments/src/report/insights.js';
import { renderReport } from '../packages/experiments/src/report/report.js';
import type { Claim, CompareResults, DistillResults } from '../packages/experiments/src/results/schema.js';
import { pageText } from './helpers/pageText.js';
import { type SeedNumbers, seedResults } from './helpers/results.js';

/** Test numbers of one model; conf − acc is its over-confidence. */
const m = (acc: number, conf: number, ece: number, nll: number, aurc?: number): SeedNumbers => ({
  acc,
  conf,
  ece,
  nll,
  ...(aurc === undefined ? {} : { aurc }),
});

/** The same numbers for `n` seeds, jittered by ±j so that intervals are finite and narrow. */
const seeds = (n: number, x: SeedNumbers, j = 0.001): SeedNumbers[] =>
  Array.from({ length: n }, (_, i) => {
    const d = (i - (n - 1) / 2) * j;
    return { ...x, acc: x.acc + d / 4, conf: x.conf + d / 4, ece: x.ece + d, nll: x.nll + d };
  });

const claim = (r: CompareResults, metric: string, a: string | null, b: string) =>
  (r.claims ?? compareClaims(r.runs)).find((c) => c.metric === metric && c.a === a && c.b === b);

describe('claims: the statistics', () => {
  it('the estimate is the mean of the per-seed differences b − a, with a 95 % t-interval over seeds', () => {
    const r = seedResults({
      'ε=0': [m(0.8, 0.9, 0.1, 0.7), m(0.8, 0.9, 0.12, 0.7), m(0.8, 0.9, 0.11, 0.7)],
      'ε=0.1': [m(0.8, 0.8, 0.03, 0.6), m(0.8, 0.8, 0.06, 0.6), m(0.8, 0.8, 0.03, 0.6)],
    });
    const c = claim(r, 'ece', 'ε=0', 'ε=0.1') as Claim;
    // Differences −0.07, −0.06, −0.08: mean −0.07, sd 0.01, t(0.975, 2) = 4.302652729749464.
    assert.deepEqual(c.seeds, [1, 2, 3]);
    assert.ok(Math.abs(c.estimate + 0.07) < 1e-12);
    const half = (4.302652729749464 * 0.01) / Math.sqrt(3);
    assert.ok(Math.abs((c.interval as [number, number])[0] - (-0.07 - half)) < 1e-9);
    assert.ok(Math.abs((c.interval as [number, number])[1] - (-0.07 + half)) < 1e-9);
    assert.equal(c.holds, true);
    assert.equal(c.id, 'ece:ε=0.1|ε=0');
    assert.match(
      c.text,
      /^ε = 0\.1 has lower ECE than ε = 0: −0\.0700 \(95 % interval \[−0\.0948, −0\.0452\] over 3 seeds\)\.$/,
    );
  });

  it('covers what the issue asks: ECE and NLL of every ε > 0 against ε = 0 and ε = 0 + TS, and LS + TS against TS', () => {
    const x = seeds(3, m(0.8, 0.85, 0.05, 0.6));
    const r = seedResults(
      { 'ε=0': x, 'ε=0.05': x, 'ε=0.1': x, 'ε=0.2': x },
      { 'ε=0': x, 'ε=0.05': x, 'ε=0.1': x, 'ε=0.2': x },
    );
    for (const e of ['ε=0.05', 'ε=0.1', 'ε=0.2'])
      for (const metric of ['ece', 'nll']) {
        assert.ok(claim(r, metric, 'ε=0', e), `${metric} ${e} vs ε=0`);
        assert.ok(claim(r, metric, 'ε=0 + temperature scaling', e), `${metric} ${e} vs TS`);
        assert.ok(claim(r, metric, 'ε=0 + temperature scaling', `${e} + temperature scaling`));
      }
  });

  it('with one seed nothing holds and no interval is made up', () => {
    const r = seedResults({ 'ε=0': [m(0.8, 0.95, 0.15, 0.9)], 'ε=0.1': [m(0.81, 0.7, 0.11, 0.6)] });
    const cs = compareClaims(r.runs);
    assert.ok(cs.length > 0);
    for (const c of cs) {
      assert.equal(c.holds, false, c.id);
      assert.equal(c.interval, null);
      assert.match(c.text, /not shown|neither over- nor under-confidence shown/);
    }
  });

  it('property: a claim holds exactly when its interval excludes 0, and its words follow its sign', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 0.3, noNaN: true }),
            fc.double({ min: 0, max: 0.3, noNaN: true }),
          ),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        (pairs) => {
          const r = seedResults({
            'ε=0': pairs.map(([a]) => m(0.8, 0.85, a, 0.6)),
            'ε=0.1': pairs.map(([, b]) => m(0.8, 0.85, b, 0.6)),
          });
          const c = claim(r, 'ece', 'ε=0', 'ε=0.1') as Claim;
          const iv = c.interval;
          assert.equal(c.holds, iv !== null && (iv[0] > 0 || iv[1] < 0));
          if (iv) assert.ok(iv[0] <= c.estimate && c.estimate <= iv[1], 'the interval holds its estimate');
          if (c.holds) assert.match(c.text, c.estimate < 0 ? /has lower ECE/ : /has higher ECE/);
          else assert.match(c.text, /not shown/);
        },
      ),
    );
  });
});

const LIST = '((?:ε = \\d+(?:\\.\\d+)?(?: \\+ temperature scaling)?(?:, | and )?)+)';

/** Every "<words> at <labels>" of a sentence: [words, labels as in summary]. */
function saidAt(sentence: string, words: string): string[] {
  const out: string[] = [];
  for (const m of sentence.matchAll(new RegExp(`${words} at ${LIST}`, 'g')))
    for (const x of m[1].matchAll(/ε = \d+(?:\.\d+)?(?: \+ temperature scaling)?/g))
      out.push(x[0].replace(/ε = /g, 'ε='));
  return out;
}

/** Check every direction a takeaway states against the claims it must come from. */
function checkTakeaway(r: CompareResults, sentences: string[]): void {
  const ts = 'ε=0 + temperature scaling';
  for (const s of sentences) {
    const a = s.startsWith('Against ε = 0,')
      ? 'ε=0'
      : /^(Against ε = 0 \+|With temperature scaling)/.test(s)
        ? ts
        : null;
    for (const metric of ['ece', 'nll'] as const)
      for (const [words, sign] of [
        [`lower ${metric.toUpperCase()}`, -1],
        [`higher ${metric.toUpperCase()}`, 1],
      ] as const)
        for (const b of saidAt(s, words)) {
          const c = a === null ? undefined : claim(r, metric, a, b);
          assert.ok(c?.holds && Math.sign(c.estimate) === sign, `${words} at ${b} in: ${s}`);
        }
    for (const b of saidAt(s, 'it helps \\(lower ECE, shown\\)')) {
      const c = claim(r, 'ece', 'ε=0', b);
      assert.ok(c?.holds && c.estimate < 0, `helps at ${b}`);
    }
    for (const b of saidAt(s, 'under-confident, shown\\)')) {
      const c = claim(r, 'overconfidence', null, b);
      assert.ok(c?.holds && c.estimate < 0, `under-confident at ${b}`);
    }
  }
}

describe('the takeaway on any data: every direction it states is a claim that holds', () => {
  it('property: random per-seed numbers for three ε, with and without temperature scaling', () => {
    const num = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true });
    const model = fc.record({
      acc: num(0.5, 0.95),
      conf: num(0.5, 0.99),
      ece: num(0, 0.3),
      nll: num(0.1, 2),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(model, { minLength: 40, maxLength: 40 }),
        (n, xs) => {
          const take = (k: number) => xs.slice(k * 5, k * 5 + n);
          const r = seedResults(
            { 'ε=0': take(0), 'ε=0.05': take(1), 'ε=0.1': take(2), 'ε=0.2': take(3) },
            { 'ε=0': take(4), 'ε=0.05': take(5), 'ε=0.1': take(6), 'ε=0.2': take(7) },
          );
          const text = takeaway(r);
          checkTakeaway(r, text);
          if (n === 1)
            assert.ok(!/lower (ECE|NLL) at|higher (ECE|NLL) at|over-corrects \(/.test(text.join(' ')));
          for (const c of r.claims ?? compareClaims(r.runs)) if (c.holds) assert.notEqual(c.interval, null);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the checker itself catches a direction that no claim holds', () => {
    const r = seedResults({
      'ε=0': seeds(3, m(0.8, 0.9, 0.1, 0.7)),
      'ε=0.1': seeds(3, m(0.8, 0.9, 0.1, 0.7)),
    });
    assert.throws(() => checkTakeaway(r, ['Against ε = 0, paired over 3 seeds: lower ECE at ε = 0.1.']));
  });
});

describe('the false sentences of earlier reports, and the data that produced them', () => {
  it('"NLL 0.5213, higher than label smoothing\'s 0.0392": an ECE is never set against an NLL', async () => {
    const r = seedResults(
      {
        'ε=0': seeds(3, m(0.8, 0.9, 0.1, 0.75)),
        'ε=0.1': seeds(3, m(0.8, 0.8, 0.0392, 0.62)),
      },
      { 'ε=0': seeds(3, m(0.8, 0.81, 0.0279, 0.5213)), 'ε=0.1': seeds(3, m(0.8, 0.8, 0.03, 0.6)) },
    );
    const text = pageText(await renderReport(r));
    assert.ok(!/than label smoothing's/.test(text), 'no mixed-metric comparison');
    // Temperature scaling's NLL is lower than label smoothing's (0.5213 < 0.62): said as such, with its interval.
    assert.match(takeaway(r).join(' '), /Against ε = 0 \+ temperature scaling: .*higher NLL at ε = 0\.1/);
  });

  it('"over-corrects: under-confident by 0.0056" when the seeds disagree on the sign', async () => {
    // ε = 0.1's over-confidence per seed: −0.02, +0.01, −0.007 (mean −0.0057).
    const r = seedResults({
      'ε=0': seeds(3, m(0.8, 0.9, 0.1, 0.75)),
      'ε=0.1': [m(0.8, 0.78, 0.03, 0.6), m(0.8, 0.81, 0.03, 0.6), m(0.8, 0.793, 0.03, 0.6)],
    });
    const text = pageText(await renderReport(r));
    assert.ok(!/over-corrects/.test(takeaway(r).join(' ')));
    assert.ok(!/under-confident by 0\.005/.test(text));
    assert.equal(claim(r, 'overconfidence', null, 'ε=0.1')?.holds, false);
    assert.match(
      text,
      /ε = 0\.1, mean confidence − accuracy: −0\.0057, neither over- nor under-confidence shown/,
    );
  });

  it('"TS reaches ECE 0.0279, lower than LS" without saying TS raised that model\'s ECE from 0.0218', async () => {
    const r = seedResults(
      {
        'ε=0': seeds(3, m(0.8, 0.82, 0.0218, 0.55)),
        'ε=0.1': seeds(3, m(0.8, 0.76, 0.0392, 0.6)),
      },
      { 'ε=0': seeds(3, m(0.8, 0.83, 0.0279, 0.56)) },
    );
    const text = takeaway(r).join(' ');
    assert.match(text, /ε = 0 \+ temperature scaling has higher ECE than ε = 0: \+0\.0061/);
    assert.ok(!/reaches ECE 0\.0279/.test(text));
  });

  it('"unlike Xia et al." while accuracy differs, or on 600 test rows', async () => {
    const models = {
      'ε=0': seeds(3, m(0.8, 0.9, 0.1, 0.75, 0.08)),
      'ε=0.1': seeds(3, m(0.85, 0.86, 0.03, 0.6, 0.06)),
    };
    const differs = selectiveSentence(seedResults(models)) as string;
    assert.ok(!/unlike|as Xia|the direction Xia/.test(differs), differs);
    assert.match(differs, /Accuracy differs too .* not the equal-accuracy comparison of Xia et al/);
    const small = selectiveSentence(seedResults(models, {}, { test: 600 })) as string;
    assert.ok(!/unlike|the direction Xia|opposite/.test(small), small);
    assert.match(small, /On 600 test rows this is not held up against Xia et al\./);
    const html = pageText(await renderReport(seedResults(models, {}, { test: 600 })));
    assert.ok(!/unlike what Xia/.test(html));
  });

  it('ε = 0.05 is not ignored by the takeaway of a three-ε run; ε = 0.2 over-corrects', () => {
    const r = seedResults({
      'ε=0': seeds(5, m(0.8, 0.9, 0.1, 0.75)),
      'ε=0.05': seeds(5, m(0.8, 0.82, 0.03, 0.6)),
      'ε=0.1': seeds(5, m(0.8, 0.81, 0.02, 0.6)),
      'ε=0.2': seeds(5, m(0.8, 0.72, 0.08, 0.7)),
    });
    const text = takeaway(r).join(' ');
    assert.match(text, /it helps \(lower ECE, shown\) at ε = 0\.05, ε = 0\.1 and ε = 0\.2/);
    assert.match(text, /it over-corrects \(under-confident, shown\) at ε = 0\.2/);
    assert.match(text, /ε = 0 is over-confident: mean confidence exceeds accuracy by 0\.1000/);
  });

  it('no baseline: no claim of what label smoothing did', () => {
    const r = seedResults({ 'ε=0.1': seeds(3, m(0.8, 0.7, 0.1, 0.7)) });
    const text = takeaway(r).join(' ');
    assert.match(text, /no ε = 0 baseline/);
    assert.ok(!/lower|higher|helps|over-corrects/.test(text), text);
  });

  it('"mean over 1 seed" and "all panels share the same axes" in single-run reports', async () => {
    const one = seedResults({ 'ε=0': [m(0.8, 0.9, 0.1, 0.7)], 'ε=0.1': [m(0.8, 0.8, 0.05, 0.6)] });
    const text = pageText(await renderReport(one));
    assert.ok(!/over 1 (training )?seed|mean over the 1/.test(text), 'no mean over one seed');
    assert.ok(!/± the standard deviation/.test(text));
    const train = { ...seedResults({ 'ε=0.1': [m(0.8, 0.8, 0.05, 0.6)] }), kind: 'train' as const };
    assert.ok(!/all panels share/.test(pageText(await renderReport(train))));
  });

  it("a sweep's report says sweep, not compare", async () => {
    const r = { ...seedResults({ 'ε=0': seeds(2, m(0.8, 0.9, 0.1, 0.7)) }), command: 'sweep' as const };
    const html = await renderReport(r);
    assert.match(html, /<p class="meta">sweep · /);
  });

  it('every claim is printed exactly as results.json holds it, and the table header names the interval', async () => {
    const r = seedResults(
      { 'ε=0': seeds(3, m(0.8, 0.9, 0.1, 0.75)), 'ε=0.1': seeds(3, m(0.8, 0.8, 0.03, 0.6)) },
      { 'ε=0': seeds(3, m(0.8, 0.81, 0.02, 0.55)) },
    );
    r.claims = compareClaims(r.runs);
    const text = pageText(await renderReport(r));
    for (const c of r.claims) assert.ok(text.includes(c.text), c.text);
    assert.match(text, /mean ± sd \[95 % t-interval over seeds\]/);
    assert.ok(!/each end averaged/.test(text));
  });
});

describe('distillation claims', () => {
  const model = (
    role: 'teacher' | 'student',
    e: number,
    seed: number,
    acc: number,
    nll: number,
    ece: number,
  ) => ({
    role,
    teacherEpsilon: e,
    seed,
    test: {
      accuracy: acc,
      nll,
      ece,
      brier: 0.3,
      mce: 0.2,
      rmsce: 0.1,
      adaptiveEce: ece,
      smoothEce: ece,
      smoothEceBandwidth: 0.05,
      classwiseEce: 0.01,
      aurc: 0.05,
      meanConfidence: acc,
      overconfidence: 0,
      meanEntropy: 0.3,
      rows: 10000,
      ignored: 0,
    },
  });
  const distill = (studentAcc: number[], studentNll: number[], studentEce: number[]): DistillResults => {
    const models = [1, 2, 3].flatMap((s, i) => [
      model('teacher', 0, s, 0.8 + i * 0.001, 0.6, 0.06),
      model('teacher', 0.1, s, 0.81 + i * 0.002, 0.6, 0.06),
      model('student', 0, s, 0.77 + i * 0.001, 0.68, 0.066),
      model('student', 0.1, s, studentAcc[i], studentNll[i], studentEce[i]),
    ]);
    return {
      kind: 'distill',
      name: 'd',
      createdAt: '2026-01-01T00:00:00Z',
      backend: 'wasm',
      dataset: { name: 'fashion-mnist', classNames: ['a', 'b'], train: 1000, test: 10000 },
      config: {} as never,
      models: models as never,
      summary: [],
    };
  };

  it('"its student not worse" when its NLL and ECE are worse', () => {
    const r = distill([0.772, 0.771, 0.773], [0.7, 0.71, 0.705], [0.09, 0.088, 0.091]);
    const text = distillTakeaway(r).join(' ');
    assert.ok(!/not worse/.test(text), text);
    assert.match(
      text,
      /its student's accuracy not shown to differ, NLL higher \(shown\) and ECE higher \(shown\)/,
    );
    assert.match(text, /student of teacher ε = 0\.1 has higher NLL than student of teacher ε = 0/);
  });

  it("Müller et al.'s Fig. 6 direction only when both halves hold", () => {
    const r = distill([0.76, 0.761, 0.762], [0.7, 0.7, 0.7], [0.07, 0.07, 0.07]);
    assert.match(distillTakeaway(r).join(' '), /This is the direction of Müller et al\.'s Fig\. 6/);
    const one = { ...r, models: r.models.filter((x) => x.seed === 1) };
    assert.ok(!/This is the direction/.test(distillTakeaway(one).join(' ')));
    for (const c of distillClaims(one.models)) assert.equal(c.holds, false);
  });
});

describe('small-ECE intervals: none excludes its own estimate without saying why', () => {
  const base = {
    rows: 600,
    ignored: 0,
    accuracy: 0.9,
    nll: 0.3,
    brier: 0.15,
    ece: 0.0071,
    mce: 0.1,
    rmsce: 0.02,
    adaptiveEce: 0.01,
    smoothEce: 0.009,
    smoothEceBandwidth: 0.05,
    classwiseEce: 0.004,
    aurc: 0.02,
    meanConfidence: 0.9,
    overconfidence: 0,
    meanEntropy: 0.3,
    bins: [],
    bootstrap: { resamples: 1000, seed: 0, level: 0.95 },
  };
  const intervals = (ece: [number, number]) => ({
    accuracy: [0.88, 0.92],
    nll: [0.28, 0.32],
    brier: [0.14, 0.16],
    ece,
    smoothEce: [0.006, 0.014],
    classwiseEce: [0.003, 0.006],
    aurc: [0.015, 0.025],
  });

  it('evaluate: the ECE 0.0071 with its "95 %" interval [0.0075, 0.0172] is marked and explained', async () => {
    const { bootstrapNote, tableRows } = await import('../packages/experiments/src/report/evaluateTable.js');
    const r = { ...base, intervals: intervals([0.0075, 0.0172]) } as never;
    const ece = tableRows(r, 600, 10, 'logits', 15).find((x) => x[0].startsWith('ECE')) as string[];
    assert.equal(ece[2], '[0.0075, 0.0172] (*)');
    assert.match(bootstrapNote(r, 1000), /\(\*\) the interval lies outside its estimate: .* biased upward/);
    // The debiased ECE is printed under it with its own interval, and the note sends the reader there.
    const withDebiased = {
      ...base,
      debiasedEce: 0.004,
      intervals: { ...intervals([0.0075, 0.0172]), debiasedEce: [0, 0.011] },
    } as never;
    const rows = tableRows(withDebiased, 600, 10, 'logits', 15);
    const deb = rows.find((x) => x[0].startsWith('debiased ECE')) as string[];
    assert.deepEqual(deb, ['debiased ECE (ℓ2) (15 bins)', '0.0040', '[0.0000, 0.0110]']);
    assert.equal(rows.indexOf(deb), rows.findIndex((x) => x[0].startsWith('ECE')) + 1);
    assert.match(
      bootstrapNote(withDebiased, 1000),
      /the debiased ECE \(Kumar, Liang & Ma 2019\) subtracts that bias/,
    );
    const fine = { ...base, intervals: intervals([0.005, 0.012]) } as never;
    assert.ok(!bootstrapNote(fine, 1000).includes('(*)'));
    assert.ok(tableRows(fine, 600, 10, 'logits', 15).every((x) => !x[2].includes('(*)')));
  });

  it("the evaluate report's table has smooth ECE, classwise ECE, AURC and every interval", async () => {
    const r = {
      kind: 'evaluate' as const,
      name: 'e',
      createdAt: '2026-01-01T00:00:00Z',
      predictions: 'p.npy',
      labels: 'l.npy',
      from: 'logits' as const,
      rows: 600,
      classes: 10,
      report: {
        ...base,
        bins: Array.from({ length: 15 }, (_, i) => ({
          lo: i / 15,
          hi: (i + 1) / 15,
          count: 40,
          accuracy: 0.9,
          confidence: 0.9,
        })),
        intervals: intervals([0.0075, 0.0172]),
      } as never,
    };
    const text = pageText(await renderReport(r));
    for (const s of [
      'smooth ECE',
      'classwise ECE',
      'AURC',
      '[0.0075, 0.0172] (*)',
      '[0.0150, 0.0250]',
      'biased upward',
    ])
      assert.ok(text.includes(s), s);
  });

  it('summary intervals over seeds always hold their mean (t-intervals, cut at 0 for an error)', () => {
    const r = seedResults({
      'ε=0': [m(0.8, 0.8, 0.001, 0.6), m(0.8, 0.8, 0.02, 0.6), m(0.8, 0.8, 0.004, 0.6)],
    });
    for (const row of r.summary)
      for (const [k, iv] of Object.entries(row.intervals ?? {})) {
        const stat = (row as unknown as Record<string, { mean: number } | undefined>)[k];
        if (!stat) continue; // classwise ECE: an interval without a column
        const mean = stat.mean;
        assert.ok(iv[0] <= mean && mean <= iv[1] && iv[0] >= 0, `${row.label} ${k}`);
      }
  });
});
