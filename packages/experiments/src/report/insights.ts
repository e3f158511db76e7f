// Sentences derived from the numbers of a run. Every word that states a direction (lowered/raised,
// over/under, holds/does not hold) is chosen from the numbers it describes.

import type { CalibrationReport } from 'labelsmooth';
import type { CompareResults } from '../results/schema.js';
import { isBaselineLabel, type RunResult, type SummaryRow, scaledLabel } from '../train/experiment.js';
import { isCrossEntropyLoss } from '../train/losses.js';
import {
  BUDGET_METRICS,
  baselineLabel,
  budgetLabels,
  type Claim,
  compareClaims,
  findClaim,
  prose,
} from './claims.js';
import { lossParts } from './lossFormula.js';

const f3 = (x: number) => x.toFixed(3);
const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** Below this gap between mean confidence and accuracy a model is called calibrated on average. */
export const CALIBRATED_GAP = 0.005;

/**
 * How mean confidence stands against accuracy, without double negatives: "over-confident: mean
 * confidence 0.9191 is 0.0848 above accuracy 0.8343".
 */
export function confidencePhrase(meanConfidence: number, accuracy: number): string {
  const gap = meanConfidence - accuracy;
  const both = `mean confidence ${f4(meanConfidence)}`;
  if (Math.abs(gap) < CALIBRATED_GAP)
    return `calibrated on average: ${both} is within ${CALIBRATED_GAP} of accuracy ${f4(accuracy)}`;
  return gap > 0
    ? `over-confident: ${both} is ${f4(gap)} above accuracy ${f4(accuracy)}`
    : `under-confident: ${both} is ${f4(-gap)} below accuracy ${f4(accuracy)}`;
}

/** The rows the story is told with: baseline, label smoothing, and both after temperature scaling. */
export interface StoryRows {
  base?: SummaryRow;
  ls?: SummaryRow;
  baseTs?: SummaryRow;
  lsTs?: SummaryRow;
}

/** Baseline = ε = 0; label smoothing = ε = 0.1 when it was run, else the smallest ε > 0. */
export function storyRows(summary: SummaryRow[]): StoryRows {
  // The story is cross-entropy against label smoothing; the other regularizers of a loss comparison
  // (which also train at ε = 0) are not its baseline.
  const raw = summary.filter((s) => !s.scaled && s.trainedOn === undefined && isCrossEntropy(s));
  const base = raw.find((s) => s.epsilon === 0);
  const smoothed = raw.filter((s) => s.epsilon > 0).sort((a, b) => a.epsilon - b.epsilon);
  const ls = smoothed.find((s) => s.epsilon === 0.1) ?? smoothed[0];
  const scaled = (row?: SummaryRow) =>
    row && summary.find((s) => s.scaled && isCrossEntropy(s) && s.epsilon === row.epsilon);
  return { base, ls, baseTs: scaled(base), lsTs: scaled(ls) };
}

/** Rows of cross-entropy with or without label smoothing (no loss given, `ce` or `ls`). */
export const isCrossEntropy = (s: SummaryRow) => isCrossEntropyLoss(s.loss);

/** "a", "a and b", "a, b and c". */
export function list(xs: string[]): string {
  return xs.length < 2 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** The run's claims: stored in results.json, or (a file written before they were) computed from its runs. */
export const claimsOf = (r: CompareResults): Claim[] => r.claims ?? compareClaims(r.runs);

/** Number of seeds of a run. */
const seedCount = (r: CompareResults) => new Set(r.runs.map((x) => x.seed)).size;

/**
 * One sentence over several runs' claims of `metric` against `a`: where b is lower, higher (each only
 * when the interval excludes 0), and where the change is not shown. Null when there is no such claim.
 */
export function directionClause(claims: Claim[], metric: string, a: string, bs: string[]): string | null {
  const cs = bs.map((b) => findClaim(claims, metric, a, b)).filter((c): c is Claim => c !== undefined);
  if (!cs.length) return null;
  const name = metric === 'ece' ? 'ECE' : metric === 'nll' ? 'NLL' : metric;
  const where = (pick: (c: Claim) => boolean) => list(cs.filter(pick).map((c) => prose(c.b)));
  const parts: string[] = [];
  const lower = where((c) => c.holds && c.estimate < 0);
  const higher = where((c) => c.holds && c.estimate > 0);
  const none = where((c) => !c.holds);
  if (lower) parts.push(`lower ${name} at ${lower}`);
  if (higher) parts.push(`higher ${name} at ${higher}`);
  if (none) parts.push(`${name} change not shown at ${none}`);
  return parts.join('; ');
}

/**
 * The runs compared with the baseline: every other raw label, in run order (the ε grid, or the losses);
 * not the budget-matched run, which trained on more rows than the baseline.
 */
function othersOf(r: CompareResults, base: string): string[] {
  const budget = budgetLabels(r.runs);
  return [...new Set(r.runs.map((x) => x.label))].filter((l) => l !== base && !budget.includes(l));
}

/**
 * How long each side trained: " (2200 rows, 9 epochs: 315 gradient steps; ε = 0: 1000 rows, 20 epochs:
 * 320 steps)", from the runs' epochs and the dataset's sizes; empty when a number is missing.
 */
function budgetTraining(r: CompareResults, b: string, base: string): string {
  const epochsOf = (label: string) => r.runs.find((x) => x.label === label)?.epochs.length ?? 0;
  const batch = r.config.batchSize;
  const rows = [r.dataset.train + r.dataset.validation, r.dataset.train];
  const epochs = [epochsOf(b), epochsOf(base)];
  if (!(batch > 0) || epochs.some((e) => e === 0) || !r.dataset.validation) return '';
  const steps = rows.map((n, i) => epochs[i] * Math.ceil(n / batch));
  return ` (${rows[0]} rows, ${epochs[0]} epochs: ${steps[0]} gradient steps; ${prose(base)}: ${rows[1]} rows, ${epochs[1]} epochs: ${steps[1]} steps)`;
}

/**
 * The budget-matched comparison, rendered from its claims: which comparison it is, why its ε, then each
 * claim's sentence (a direction only where the interval over seeds excludes 0). None without the run.
 */
export function budgetSentences(r: CompareResults): string[] {
  const base = baselineLabel(r.runs);
  const claims = claimsOf(r);
  const out: string[] = [];
  for (const b of budgetLabels(r.runs)) {
    const baseTs = scaledLabel(base ?? 'ε=0');
    const cs = BUDGET_METRICS.map((m) => findClaim(claims, m, baseTs, b)).filter(
      (c): c is Claim => c !== undefined,
    );
    if (!cs.length) continue;
    const eps = r.runs.find((x) => x.label === b)?.epsilon;
    const training = budgetTraining(r, b, base ?? 'ε=0');
    const why =
      eps === 0.1
        ? 'ε = 0.1 is fixed before any run (the value of Szegedy et al. 2016 and Müller et al. 2019), not chosen on test results'
        : `ε = ${eps} was set with --budget-epsilon before the run`;
    out.push(
      `Budget-matched comparison: ${prose(b)} trains label smoothing on each seed's training and validation rows${training}, ${prose(baseTs)} trains on the training rows and fits its temperature on the validation rows, so both use the same labelled rows of the seed (paired per seed); ${why}.`,
      ...cs.map((c) => c.text),
    );
  }
  return out;
}

/**
 * Where label smoothing helps and where it over-corrects, from the claims: lower ECE than the baseline
 * (shown) is where it helps; a model shown under-confident, when the baseline is shown over-confident, is
 * where it over-corrects.
 */
export function helpsSentence(r: CompareResults, base: string): string | null {
  const claims = claimsOf(r);
  const others = othersOf(r, base);
  if (!others.length) return null;
  const level = (l: string) => findClaim(claims, 'overconfidence', null, l);
  const baseOver = level(base)?.holds === true && (level(base)?.estimate ?? 0) > 0;
  const eceOf = (l: string) => findClaim(claims, 'ece', base, l);
  const helps = others.filter((l) => eceOf(l)?.holds && (eceOf(l)?.estimate ?? 0) < 0).map(prose);
  const under = others.filter((l) => level(l)?.holds && (level(l)?.estimate ?? 0) < 0).map(prose);
  const parts: string[] = [];
  parts.push(
    helps.length
      ? `it helps (lower ECE, shown) at ${list(helps)}`
      : `no setting is shown to lower ECE below ${prose(base)}`,
  );
  if (under.length)
    parts.push(
      baseOver
        ? `it over-corrects (under-confident, shown) at ${list(under)}`
        : `the model is under-confident (shown) at ${list(under)}`,
    );
  const n = seedCount(r);
  const head = `Against ${prose(base)}, ${n > 1 ? `paired over ${n} seeds (95 % t-intervals)` : 'in the one seed (no interval over seeds)'}`;
  const detail = ['ece', 'nll'].map((m) => directionClause(claims, m, base, others)).filter(Boolean);
  return `${head}: ${parts.join('; ')}. In detail: ${detail.join('; ')}.`;
}

/** Temperature scaling's sentences: what it did to the baseline, and the others against it. */
function temperatureSentences(r: CompareResults, base: string): string[] {
  const claims = claimsOf(r);
  const baseTs = scaledLabel(base);
  const own = findClaim(claims, 'ece', base, baseTs);
  if (!own) return [];
  const out = [`Temperature scaling of ${prose(base)}, fitted on the validation split: ${own.text}`];
  const others = othersOf(r, base);
  const vs = ['ece', 'nll'].map((m) => directionClause(claims, m, baseTs, others)).filter(Boolean);
  if (vs.length) out.push(`Against ${prose(baseTs)}: ${vs.join('; ')}.`);
  const scaled = others.map(scaledLabel);
  const both = ['ece', 'nll'].map((m) => directionClause(claims, m, baseTs, scaled)).filter(Boolean);
  if (both.length) out.push(`With temperature scaling on both sides: ${both.join('; ')}.`);
  return out;
}

/**
 * The report's opening sentences, rendered from the claims: the baseline's over-confidence, where label
 * smoothing helps and where it over-corrects against the baseline, and temperature scaling. A direction is
 * stated only where its claim holds (its interval over seeds excludes 0); the rest is "not shown".
 */
export function takeaway(r: CompareResults): string[] {
  const claims = claimsOf(r);
  const base = baselineLabel(r.runs);
  const out: string[] = [];
  if (base === undefined) {
    out.push(
      'This run has no ε = 0 baseline, so it cannot show what label smoothing changed; of each model on its own:',
    );
    for (const c of claims.filter((x) => x.a === null && !x.b.endsWith(' + temperature scaling')))
      out.push(c.text);
    return out;
  }
  const level = findClaim(claims, 'overconfidence', null, base);
  if (level) out.push(level.text);
  if (seedCount(r) === 1)
    out.push('With one seed no comparison is shown: the claims below give each difference in that seed.');
  const helps = helpsSentence(r, base);
  if (helps) out.push(helps);
  out.push(...temperatureSentences(r, base));
  out.push(...budgetSentences(r));
  return out;
}

/** Mean over runs of a per-epoch value at epoch index e. */
function epochMean(runs: RunResult[], e: number, key: 'trainNll' | 'trainSmoothing'): number {
  return runs.reduce((a, r) => a + r.epochs[e][key], 0) / runs.length;
}

/**
 * The mechanism in the numbers: the raw training cross-entropies H(p,q) (to the labels) and H(u,q) (to
 * the uniform distribution, which grows as the logits spread apart), first epoch → last, mean over seeds;
 * each label-smoothing run compared with ε = 0 (`ε=0` or `ce`). The other losses' parts go by their own
 * names (the focal F(p), F(u); ols' H(S[y],q)) and are not read as that mechanism.
 */
export function mechanism(r: CompareResults): string[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of r.runs) groups.set(run.label, [...(groups.get(run.label) ?? []), run]);
  const change = new Map<string, { first: number; last: number; epochs: number; nll: [number, number] }>();
  for (const [label, runs] of groups) {
    const n = Math.min(...runs.map((x) => x.epochs.length));
    if (n < 2) continue;
    change.set(label, {
      first: epochMean(runs, 0, 'trainSmoothing'),
      last: epochMean(runs, n - 1, 'trainSmoothing'),
      epochs: n,
      nll: [epochMean(runs, 0, 'trainNll'), epochMean(runs, n - 1, 'trainNll')],
    });
  }
  const out: string[] = [];
  const lossOf = (label: string) => groups.get(label)?.[0].loss;
  const baseLabel = [...change.keys()].find(isBaselineLabel);
  const base = baseLabel === undefined ? undefined : change.get(baseLabel);
  for (const [label, c] of change) {
    const loss = lossOf(label);
    const parts = lossParts(loss, r.config.noise);
    const spread = c.last > c.first ? 'rose' : c.last < c.first ? 'fell' : 'stayed';
    const fit = c.nll[1] < c.nll[0] ? 'fell' : c.nll[1] > c.nll[0] ? 'rose' : 'stayed';
    let s = `${label}, epochs 1 → ${c.epochs}: the training ${parts.p} ${fit} from ${f3(c.nll[0])} to ${f3(c.nll[1])} and ${parts.u} ${spread} from ${f3(c.first)} to ${f3(c.last)}`;
    if (!isCrossEntropyLoss(loss)) s += '.';
    else if (isBaselineLabel(label)) {
      s +=
        c.last > c.first
          ? ' — the logits spread apart, and nothing in the loss charges for it.'
          : ' — the logits did not spread apart over training.';
    } else if (base) {
      const d = c.last - c.first;
      const d0 = base.last - base.first;
      // A difference of two means with no interval behind it: its numbers are stated, no direction is
      // claimed (every comparative word of the report comes from a claim that holds).
      s += ` — a change of ${f3(d)} against ${f3(d0)} for ε = 0 (means over seeds; this difference has no interval, so the report draws no conclusion from it).`;
    } else s += '.';
    out.push(s);
  }
  return out;
}

/** Below this many test rows the report does not hold a run up against Xia et al.'s finding. */
export const XIA_MIN_TEST_ROWS = 2000;

/**
 * Selective classification (Xia et al., ICLR 2025: label smoothing worsens AURC at equal accuracy), from
 * the AURC and accuracy claims of the story's label-smoothing run against the baseline: agreement or
 * disagreement is said only when the AURC claim holds, accuracy is not shown to differ, and the test set
 * is large enough.
 */
export function selectiveSentence(r: CompareResults): string | null {
  const { base, ls } = storyRows(r.summary);
  if (!base || !ls) return null;
  const claims = claimsOf(r);
  const aurc = findClaim(claims, 'aurc', base.label, ls.label);
  const acc = findClaim(claims, 'accuracy', base.label, ls.label);
  if (!aurc || !acc) return null;
  const head = `Selective classification (AURC, lower is better): ${aurc.text}`;
  if (!aurc.holds) return `${head} This run neither supports nor contradicts Xia et al. (2025).`;
  if (r.dataset.test < XIA_MIN_TEST_ROWS)
    return `${head} On ${r.dataset.test} test rows this is not held up against Xia et al. (2025).`;
  if (acc.holds)
    return `${head} Accuracy differs too (${acc.text.replace(/\.$/, '')}), so this is not the equal-accuracy comparison of Xia et al. (2025).`;
  const worse = aurc.estimate > 0;
  return `${head} Accuracy is not shown to differ (${acc.text.replace(/\.$/, '')}): ${worse ? 'worse selective classification, the direction Xia et al. (2025) report' : 'better selective classification, the opposite of what Xia et al. (2025) report'}.`;
}

/** Sentences for an evaluate run. */
export function evaluateInsights(report: CalibrationReport): string[] {
  return [
    `Accuracy ${pct(report.accuracy)}: the classifier is ${confidencePhrase(report.meanConfidence, report.accuracy)}.`,
    `ECE ${f4(report.ece)} (adaptive ECE ${f4(report.adaptiveEce)}), worst bin gap (MCE) ${f4(report.mce)}, NLL ${f4(report.nll)}, Brier ${f4(report.brier)}.`,
  ];
}
