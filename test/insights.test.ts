// Every sentence of the report is true of its numbers: each is fed numbers that make it true and numbers
// that would make it false, and must change its words accordingly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confidencePhrase, mechanism } from '../packages/experiments/src/report/insights.js';
import { summarize } from '../packages/experiments/src/train/experiment.js';
import { results, run } from './helpers/results.js';

describe('confidencePhrase', () => {
  it('says over, under or calibrated from the sign and size of the gap, with a positive amount', () => {
    assert.equal(
      confidencePhrase(0.9191, 0.8343),
      'over-confident: mean confidence 0.9191 is 0.0848 above accuracy 0.8343',
    );
    const under = confidencePhrase(0.8519, 0.9656);
    assert.equal(under, 'under-confident: mean confidence 0.8519 is 0.1137 below accuracy 0.9656');
    assert.ok(!/−|by -/.test(under), 'no double negative');
    assert.match(confidencePhrase(0.85, 0.852), /^calibrated on average/);
  });
});

describe('mechanism', () => {
  it('ε = 0: spreading logits; ε = 0.1: the two changes stated, no direction claimed without an interval', () => {
    const r = results(
      [],
      [
        run(0, 1, { nll: [0.635, 0.076, 0.011], spread: [5.79, 10.58, 14.4] }),
        run(0.1, 1, { nll: [0.685, 0.179, 0.121], spread: [4.03, 4.3, 4.26] }),
      ],
    );
    const [s0, s1] = mechanism(r);
    assert.match(
      s0,
      /H\(p,q\) fell from 0\.635 to 0\.011 and H\(u,q\) rose from 5\.790 to 14\.400 — the logits spread apart/,
    );
    // The ε = 0.1 sentence of the old report called a rise of 0.23 "the mark of growing confidence".
    assert.match(
      s1,
      /H\(u,q\) rose from 4\.030 to 4\.260 — a change of 0\.230 against 8\.610 for ε = 0 \(means over seeds; this difference has no interval/,
    );
    assert.ok(!s1.includes('growing confidence'));
    assert.ok(!/holds the spread|did not hold/.test(s1), s1);
  });

  it('the opposite numbers give the opposite words', () => {
    const r = results(
      [],
      [run(0, 1, { nll: [0.6, 0.7], spread: [6, 5] }), run(0.1, 1, { nll: [0.6, 0.5], spread: [4, 6] })],
    );
    const [s0, s1] = mechanism(r);
    assert.match(
      s0,
      /H\(p,q\) rose from 0\.600 to 0\.700 and H\(u,q\) fell from 6\.000 to 5\.000 — the logits did not spread apart/,
    );
    assert.match(
      s1,
      /a change of 2\.000 against −?-1\.000 for ε = 0 \(means over seeds; this difference has no interval/,
    );
  });
});

// The takeaway, the selective-classification sentence and the distillation takeaway come from claims:
// see claims.test.ts.

describe('the report around the sentences', () => {
  it("a train run without ε = 0 claims no effect of label smoothing; the compare report's sections are in order", async () => {
    const { renderReport } = await import('../packages/experiments/src/report/report.js');
    const { summarize } = await import('../packages/experiments/src/train/experiment.js');
    const one = [run(0.1, 1)];
    const train = { ...results(summarize(one), one), kind: 'train' as const };
    const html = await renderReport(train);
    assert.ok(!/What label smoothing did|with and without label smoothing/.test(html));
    assert.match(html, /What this run shows/);
    assert.match(html, /no ε = 0 baseline/);
    const both = [run(0, 1), run(0.1, 1)];
    const cmp = await renderReport(results(summarize(both), both));
    const order = [
      'Takeaway',
      'Calibration with and without label smoothing',
      'The mechanism',
      'Reliability diagrams',
      'Confidence histograms',
      'Selective classification',
      'Penultimate layer',
      'Distillation',
    ];
    const at = order.map((h) => cmp.indexOf(`<h2>${h}`));
    assert.ok(
      at.every((x, i) => x > 0 && (i === 0 || x > at[i - 1])),
      `section order ${at}`,
    );
    assert.match(cmp, /Risk–coverage curves and AURC were not computed/);
    assert.ok(!cmp.includes('under-confident by −'), 'no double negative');
  });
});

describe("each loss's formula in the report", () => {
  /** A run of `loss` labelled `label`; cp runs record H(q), as the trainer does. */
  const lossRun = (label: string, loss: string | undefined, epsilon: number) => {
    const r = run(epsilon, 1, { nll: [0.6, 0.3], spread: [5, 7], ts: false });
    r.label = label;
    if (loss) r.loss = loss as never;
    if (loss === 'cp') r.epochs = r.epochs.map((m) => ({ ...m, trainEntropy: 0.4 }));
    return r;
  };
  /** The rendered page as text: tags removed, entities decoded. */
  const text = (html: string) =>
    html
      .replace(/<[^>]*>/g, ' ')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const family = () => {
    const runs = [
      lossRun('ce', 'ce', 0),
      lossRun('ls ε=0.1', 'ls', 0.1),
      lossRun('cp β=0.2', 'cp', 0),
      lossRun('focal γ=3', 'focal', 0),
      lossRun('flsd-53', 'flsd-53', 0),
      lossRun('ols ε=0.5', 'ols', 0.5),
    ];
    const r = results(summarize(runs), runs);
    r.config = { ...r.config, losses: ['ce', 'ls', 'cp', 'focal', 'flsd-53', 'ols'], confidencePenalty: 0.2 };
    return r;
  };

  it("the mechanism caption gives each loss the formula the trainer trains, cp's −β·H(q) included", async () => {
    const { renderReport } = await import('../packages/experiments/src/report/report.js');
    const page = text(await renderReport(family()));
    for (const formula of [
      'ce: L = H(p,q) (ε = 0).',
      'ls ε=0.1: L = (1−ε)·H(p,q) + ε·H(u,q), u uniform over the K classes.',
      'cp β=0.2: L = (1−ε)·H(p,q) + ε·H(u,q) − β·H(q), H(q) = −Σ_c q_c·log q_c the entropy of the prediction',
      'focal γ=3: L = (1−ε)·F(p) + ε·F(u), F(t) = −α·Σ_c t_c·(1 − q_c)^γ·log q_c, u uniform over the K classes.',
      'flsd-53: L = (1−ε)·F(p) + ε·F(u), F(t) = −α·Σ_c t_c·(1 − q_c)^γ·log q_c with γ = 5 on rows where q_y < 0.2, else γ = 3',
      'ols ε=0.5: L = (1−ε)·H(p,q) + ε·H(S[y],q), S[y] the mean prediction on the training examples of class y',
    ])
      assert.ok(page.includes(formula), formula);
    // The legends name each loss's own parts, and cp's panel has the third one.
    for (const legend of [
      '−β·H(q)',
      'H(q), raw: entropy of q',
      'F(p), raw: to the labels',
      'ε·F(u)',
      'H(S[y],q), raw: to the learned S[y]',
      'ε·H(S[y],q)',
    ])
      assert.ok(page.includes(legend), legend);
    // The old caption, which gave every run the label-smoothing loss, is gone.
    assert.ok(!page.includes('L = (1−ε)·H(p,q) + ε·H(u,q): H(p,q)'));
  });

  it('an ε grid gets the label-smoothing formula only; another noise is named, not called uniform', async () => {
    const { mechanismNote } = await import('../packages/experiments/src/report/report.js');
    const grid = results([], [run(0, 1), run(0.1, 1)]);
    const note = mechanismNote(grid);
    assert.match(note, /ε=0, ε=0\.1: L = \(1−ε\)·H\(p,q\) \+ ε·H\(u,q\), u uniform over the K classes\./);
    assert.match(note, /H\(u,q\) = log Σ exp z − mean z is the cross-entropy to the uniform distribution/);
    assert.ok(!/β|F\(p\)|S\[y\]/.test(note), note);
    const prior = mechanismNote({ ...grid, config: { ...grid.config, noise: 'prior' } });
    assert.match(prior, /u the training class frequencies/);
    assert.ok(!prior.includes('uniform'), prior);
    // Only focal runs: no sentence about H(u,q), which none of them has.
    const focal = family();
    focal.runs = focal.runs.filter((x) => x.loss === 'focal');
    assert.ok(!mechanismNote(focal).includes('H(u,q)'), mechanismNote(focal));
  });

  it('the mechanism sentences name the focal and ols parts by their own names, and compare ls with ce', () => {
    const s = mechanism(family());
    assert.match(s[0], /^ce, epochs 1 → 2: the training H\(p,q\) fell .* — the logits spread apart/);
    assert.match(
      s[1],
      /^ls ε=0\.1, .* H\(u,q\) rose from 5\.000 to 7\.000 — a change of 2\.000 against 2\.000 for ε = 0/,
    );
    assert.match(
      s[3],
      /^focal γ=3, epochs 1 → 2: the training F\(p\) fell from 0\.600 to 0\.300 and F\(u\) rose from 5\.000 to 7\.000\.$/,
    );
    assert.match(s[5], /^ols ε=0\.5, .*H\(S\[y\],q\) rose/);
    for (const x of [s[2], s[3], s[4], s[5]]) assert.ok(!x.includes('holds the spread'), x);
  });
});
