// Every sentence of the report is true of its numbers: each is fed numbers that make it true and numbers
// that would make it false, and must change its words accordingly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distillTakeaway } from '../packages/experiments/src/report/distillReport.js';
import {
  confidencePhrase,
  mechanism,
  selectiveSentence,
  takeaway,
} from '../packages/experiments/src/report/insights.js';
import type { PairedAnalysis } from '../packages/experiments/src/train/analysis.js';
import { summarize } from '../packages/experiments/src/train/experiment.js';
import { results, row, run, st } from './helpers/results.js';

const BASE_OVER = row(0, false, { acc: 0.82, conf: 0.94, ece: 0.118, nll: 0.89 });
const LS_UNDER = row(0.1, false, { acc: 0.83, conf: 0.76, ece: 0.07, nll: 0.6 });

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

describe('takeaway', () => {
  it('over-confident baseline, label smoothing lowers ECE and over-corrects, TS beats it', () => {
    const ts = row(0, true, { acc: 0.82, conf: 0.83, ece: 0.02, nll: 0.55 });
    const lsTs = row(0.1, true, { acc: 0.83, conf: 0.82, ece: 0.025, nll: 0.56 });
    const s = takeaway(results([BASE_OVER, LS_UNDER, ts, lsTs], []));
    assert.equal(s.length, 3);
    assert.match(
      s[0],
      /network is over-confident: mean confidence 0\.9400 is 0\.1200 above accuracy 0\.8200 \(ECE 0\.1180\)/,
    );
    assert.match(s[1], /ε = 0\.1 lowered ECE from 0\.1180 to 0\.0700 and lowered NLL/);
    assert.match(s[1], /over-corrects: the model becomes under-confident \(by 0\.0700\)/);
    assert.match(
      s[2],
      /reaches ECE 0\.0200 .*, lower than label smoothing's 0\.0700; both together give ECE 0\.0250/,
    );
  });

  it('the opposite numbers give the opposite words', () => {
    // Baseline under-confident; label smoothing raises ECE and NLL and leaves it under-confident; TS is worse.
    const base = row(0, false, { acc: 0.96, conf: 0.9, ece: 0.06, nll: 0.2 });
    const ls = row(0.1, false, { acc: 0.965, conf: 0.85, ece: 0.11, nll: 0.25 });
    const ts = row(0, true, { acc: 0.96, conf: 0.96, ece: 0.12, nll: 0.3 });
    const s = takeaway(results([base, ls, ts], []));
    assert.match(
      s[0],
      /network is under-confident: mean confidence 0\.9000 is 0\.0600 below accuracy 0\.9600/,
    );
    assert.match(s[1], /raised ECE from 0\.0600 to 0\.1100 and raised NLL/);
    assert.match(s[1], /it leaves the model under-confident \(by 0\.1150\)/);
    assert.ok(!s[1].includes('over-corrects'), 'an under-confident baseline is not over-corrected');
    assert.match(s[2], /higher than label smoothing's 0\.1100/);
    assert.ok(!s[2].includes('both together'), 'no LS + TS row, no claim about it');
  });

  it('label smoothing that leaves the model over-confident or calibrated says so', () => {
    const still = row(0.1, false, { acc: 0.83, conf: 0.9, ece: 0.07, nll: 0.6 });
    assert.match(takeaway(results([BASE_OVER, still], []))[1], /still over-confident \(by 0\.0700\)/);
    const cal = row(0.1, false, { acc: 0.83, conf: 0.832, ece: 0.02, nll: 0.5 });
    assert.match(takeaway(results([BASE_OVER, cal], []))[1], /leaves the model calibrated on average/);
  });

  it('counts the seeds whose paired interval of the ECE change excludes 0', () => {
    const paired: PairedAnalysis[] = [
      {
        a: 'ε=0',
        b: 'ε=0.1',
        seed: 1,
        differences: { ece: { difference: -0.05, interval: [-0.06, -0.04] } },
      },
      {
        a: 'ε=0',
        b: 'ε=0.1',
        seed: 2,
        differences: { ece: { difference: -0.01, interval: [-0.02, 0.005] } },
      },
      { a: 'ε=0', b: 'ε=0.1', seed: 3, differences: { ece: { difference: 0.03, interval: [0.01, 0.05] } } },
    ];
    assert.match(takeaway(results([BASE_OVER, LS_UNDER], [], paired))[1], /excludes 0 in 2 of 3 seeds/);
    assert.ok(
      !takeaway(results([BASE_OVER, LS_UNDER], []))[1].includes('excludes'),
      'no intervals, no claim',
    );
  });

  it('without an ε = 0 baseline it claims nothing about what label smoothing did', () => {
    const s = takeaway(results([LS_UNDER], []));
    assert.equal(s.length, 1);
    assert.match(s[0], /no ε = 0 baseline/);
    assert.ok(!/lowered|raised|over-corrects/.test(s[0]));
  });
});

describe('mechanism', () => {
  it('ε = 0: spreading logits; ε = 0.1: a smaller change than ε = 0, so the term holds the spread', () => {
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
      /H\(u,q\) rose from 4\.030 to 4\.260 — a change of 0\.230 against 8\.610 for ε = 0: the ε·H\(u,q\) term holds/,
    );
    assert.ok(!s1.includes('growing confidence'));
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
      /a change of 2\.000 against −?-1\.000 for ε = 0: here smoothing did not hold the spread down/,
    );
  });
});

describe('selectiveSentence', () => {
  const base = (aurc: number, acc = 0.82) => row(0, false, { acc, conf: 0.94, ece: 0.1, nll: 0.8, aurc });
  const ls = (aurc: number, acc = 0.822) => row(0.1, false, { acc, conf: 0.8, ece: 0.05, nll: 0.6, aurc });

  it('worse AURC at nearly equal accuracy agrees with Xia et al.', () => {
    const s = selectiveSentence(results([base(0.05), ls(0.06)], []))!;
    assert.match(s, /raised AURC \(lower is better\) from 0\.0500 to 0\.0600 at nearly equal accuracy/);
    assert.match(s, /worse selective classification, as Xia et al\. \(2025\) report/);
  });

  it('better AURC disagrees; unequal accuracy is named as such', () => {
    assert.match(
      selectiveSentence(results([base(0.06), ls(0.05)], []))!,
      /lowered AURC.*better selective classification, unlike/,
    );
    const s = selectiveSentence(results([base(0.05, 0.8), ls(0.06, 0.85)], []))!;
    assert.match(s, /accuracy rose from 80\.00 % to 85\.00 %, so this is not an equal-accuracy comparison/);
    assert.match(s, /in the direction Xia et al\./);
  });

  it('says nothing without AURC', () => {
    assert.equal(selectiveSentence(results([BASE_OVER, LS_UNDER], [])), null);
  });
});

describe('distillTakeaway', () => {
  const s = (role: 'teacher' | 'student', e: number, acc: number) => ({
    role,
    teacherEpsilon: e,
    runs: 3,
    accuracy: st(acc),
    nll: st(0.5),
    ece: st(0.05),
  });

  it("Müller's Fig. 6 pattern when the smoothed teacher is better and its student worse", () => {
    const t = distillTakeaway([
      s('teacher', 0, 0.8),
      s('teacher', 0.1, 0.82),
      s('student', 0, 0.78),
      s('student', 0.1, 0.76),
    ]);
    assert.match(t[0], /ε = 0\.1 teacher is more accurate/);
    assert.match(t[1], /student is less accurate.*with the same NLL/);
    assert.match(t[2], /^This is the direction of Müller/);
  });

  it('says when the pattern does not hold, and which half fails', () => {
    const t = distillTakeaway([
      s('teacher', 0, 0.8),
      s('teacher', 0.1, 0.79),
      s('student', 0, 0.76),
      s('student', 0.1, 0.78),
    ]);
    assert.match(t[0], /less accurate/);
    assert.match(t[1], /more accurate/);
    const nll = (v: number) => ({ ...s('student', 0.1, 0.78), nll: st(v) });
    const higher = distillTakeaway([
      s('teacher', 0, 0.8),
      s('teacher', 0.1, 0.79),
      s('student', 0, 0.76),
      nll(0.6),
    ]);
    assert.match(higher[1], /with a higher NLL \(0\.6000 vs 0\.5000\)/);
    const lower = distillTakeaway([
      s('teacher', 0, 0.8),
      s('teacher', 0.1, 0.79),
      s('student', 0, 0.76),
      nll(0.4),
    ]);
    assert.match(lower[1], /with a lower NLL \(0\.4000 vs 0\.5000\)/);
    assert.match(t[2], /not the pattern.*teacher is not better and its student not worse/);
  });
});

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
      lossRun('flsd53', 'flsd53', 0),
      lossRun('ols ε=0.5', 'ols', 0.5),
    ];
    const r = results(summarize(runs), runs);
    r.config = { ...r.config, losses: ['ce', 'ls', 'cp', 'focal', 'flsd53', 'ols'], confidencePenalty: 0.2 };
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
      'flsd53: L = (1−ε)·F(p) + ε·F(u), F(t) = −α·Σ_c t_c·(1 − q_c)^γ·log q_c with γ = 5 on rows where q_y < 0.2, else γ = 3',
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
