// Sentences derived from the numbers of a run. Every word that states a direction (lowered/raised,
// over/under, holds/does not hold) is chosen from the numbers it describes.

import type { CalibrationReport } from 'labelsmooth';
import type { CompareResults } from '../results/schema.js';
import type { RunResult, SummaryRow } from '../train/experiment.js';
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

/** "lowered ECE from a to b" / "raised …" / "left ECE at a", for a change from a to b. */
const moved = (what: string, a: number, b: number) =>
  a === b ? `left ${what} at ${f4(a)}` : `${b < a ? 'lowered' : 'raised'} ${what} from ${f4(a)} to ${f4(b)}`;

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
  const raw = summary.filter((s) => !s.scaled && isCrossEntropy(s));
  const base = raw.find((s) => s.epsilon === 0);
  const smoothed = raw.filter((s) => s.epsilon > 0).sort((a, b) => a.epsilon - b.epsilon);
  const ls = smoothed.find((s) => s.epsilon === 0.1) ?? smoothed[0];
  const scaled = (row?: SummaryRow) =>
    row && summary.find((s) => s.scaled && isCrossEntropy(s) && s.epsilon === row.epsilon);
  return { base, ls, baseTs: scaled(base), lsTs: scaled(ls) };
}

/** Rows of cross-entropy with or without label smoothing (no loss given, `ce` or `ls`). */
export const isCrossEntropy = (s: SummaryRow) => s.loss === undefined || s.loss === 'ce' || s.loss === 'ls';

/** Name of a row in prose. */
const eps = (row: SummaryRow) => `ε = ${row.epsilon}`;

/** Of the seeds' paired intervals of `metric` for b against a, how many exclude 0. */
function pairedCount(r: CompareResults, a: string, b: string, metric: 'ece' | 'nll' | 'aurc') {
  const ds = (r.paired ?? []).filter((p) => p.a === a && p.b === b).map((p) => p.differences[metric]);
  if (!ds.length || ds.some((d) => !d)) return null;
  const excl = ds.filter((d) => d!.interval[0] > 0 || d!.interval[1] < 0).length;
  return { excl, of: ds.length };
}

/**
 * The two or three sentences the report opens with: how confident the unsmoothed model is, what label
 * smoothing changed, and how temperature scaling compares.
 */
export function takeaway(r: CompareResults): string[] {
  const { base, ls, baseTs, lsTs } = storyRows(r.summary);
  const out: string[] = [];
  if (!base) {
    const only = ls ?? r.summary[0];
    out.push(
      `This run has no ε = 0 baseline, so it cannot show what label smoothing changed: the ${eps(only)} model reaches accuracy ${pct(only.accuracy.mean)} and ECE ${f4(only.ece.mean)}, and is ${confidencePhrase(only.meanConfidence.mean, only.accuracy.mean)}.`,
    );
    return out;
  }
  out.push(
    `Without label smoothing the network is ${confidencePhrase(base.meanConfidence.mean, base.accuracy.mean)} (ECE ${f4(base.ece.mean)}).`,
  );
  if (ls) {
    const after = ls.meanConfidence.mean - ls.accuracy.mean;
    const wasOver = base.meanConfidence.mean - base.accuracy.mean >= CALIBRATED_GAP;
    let where: string;
    if (Math.abs(after) < CALIBRATED_GAP) where = 'leaves the model calibrated on average';
    else if (after > 0) where = `leaves the model still over-confident (by ${f4(after)})`;
    else if (wasOver) where = `over-corrects: the model becomes under-confident (by ${f4(-after)})`;
    else where = `leaves the model under-confident (by ${f4(-after)})`;
    const p = pairedCount(r, base.label, ls.label, 'ece');
    const evidence = p
      ? `; the paired 95 % interval of the ECE change excludes 0 in ${p.excl} of ${p.of} seeds`
      : '';
    out.push(
      `Label smoothing with ${eps(ls)} ${moved('ECE', base.ece.mean, ls.ece.mean)} and ${moved('NLL', base.nll.mean, ls.nll.mean)}, with accuracy ${pct(base.accuracy.mean)} → ${pct(ls.accuracy.mean)}; it ${where}${evidence}.`,
    );
  }
  if (baseTs) {
    const vs = ls
      ? `, ${baseTs.ece.mean < ls.ece.mean ? 'lower' : baseTs.ece.mean > ls.ece.mean ? 'higher' : 'the same as'}${baseTs.ece.mean === ls.ece.mean ? '' : ' than'} label smoothing's ${f4(ls.ece.mean)}`
      : '';
    const both = lsTs ? `; both together give ECE ${f4(lsTs.ece.mean)} and NLL ${f4(lsTs.nll.mean)}` : '';
    out.push(
      `Temperature scaling of the ε = 0 model, fitted on held-out data, reaches ECE ${f4(baseTs.ece.mean)} and NLL ${f4(baseTs.nll.mean)}${vs}${both}.`,
    );
  }
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
  const isBase = (label: string) => label === 'ε=0' || lossOf(label) === 'ce';
  const baseLabel = [...change.keys()].find(isBase);
  const base = baseLabel === undefined ? undefined : change.get(baseLabel);
  for (const [label, c] of change) {
    const loss = lossOf(label);
    const parts = lossParts(loss, r.config.noise);
    const spread = c.last > c.first ? 'rose' : c.last < c.first ? 'fell' : 'stayed';
    const fit = c.nll[1] < c.nll[0] ? 'fell' : c.nll[1] > c.nll[0] ? 'rose' : 'stayed';
    let s = `${label}, epochs 1 → ${c.epochs}: the training ${parts.p} ${fit} from ${f3(c.nll[0])} to ${f3(c.nll[1])} and ${parts.u} ${spread} from ${f3(c.first)} to ${f3(c.last)}`;
    if (loss !== undefined && loss !== 'ce' && loss !== 'ls') s += '.';
    else if (isBase(label)) {
      s +=
        c.last > c.first
          ? ' — the logits spread apart, and nothing in the loss charges for it.'
          : ' — the logits did not spread apart over training.';
    } else if (base) {
      const d = c.last - c.first;
      const d0 = base.last - base.first;
      s +=
        d < d0
          ? ` — a change of ${f3(d)} against ${f3(d0)} for ε = 0: the ε·H(u,q) term holds the spread of the logits down.`
          : ` — a change of ${f3(d)} against ${f3(d0)} for ε = 0: here smoothing did not hold the spread down.`;
    } else s += '.';
    out.push(s);
  }
  return out;
}

/**
 * Selective classification (Xia et al., ICLR 2025: label smoothing worsens AURC at equal accuracy): the
 * sentence says whether that holds here, and whether accuracies are close enough to compare.
 */
export function selectiveSentence(r: CompareResults): string | null {
  const { base, ls } = storyRows(r.summary);
  if (!base?.aurc || !ls?.aurc) return null;
  const worse = ls.aurc.mean > base.aurc.mean;
  const dAcc = ls.accuracy.mean - base.accuracy.mean;
  const equal = Math.abs(dAcc) < CALIBRATED_GAP;
  const p = pairedCount(r, base.label, ls.label, 'aurc');
  const evidence = p ? ` (the paired 95 % interval excludes 0 in ${p.excl} of ${p.of} seeds)` : '';
  const acc = equal
    ? `at nearly equal accuracy (${pct(base.accuracy.mean)} vs ${pct(ls.accuracy.mean)})`
    : `while accuracy ${dAcc > 0 ? 'rose' : 'fell'} from ${pct(base.accuracy.mean)} to ${pct(ls.accuracy.mean)}, so this is not an equal-accuracy comparison`;
  const verdict = worse
    ? equal
      ? 'as Xia et al. (2025) report'
      : 'in the direction Xia et al. (2025) report'
    : 'unlike what Xia et al. (2025) report';
  return `Label smoothing ${worse ? 'raised' : 'lowered'} AURC (lower is better) from ${f4(base.aurc.mean)} to ${f4(ls.aurc.mean)}${evidence} ${acc}: ${worse ? 'worse' : 'better'} selective classification, ${verdict}.`;
}

/** Sentences for an evaluate run. */
export function evaluateInsights(report: CalibrationReport): string[] {
  return [
    `Accuracy ${pct(report.accuracy)}: the classifier is ${confidencePhrase(report.meanConfidence, report.accuracy)}.`,
    `ECE ${f4(report.ece)} (adaptive ECE ${f4(report.adaptiveEce)}), worst bin gap (MCE) ${f4(report.mce)}, NLL ${f4(report.nll)}, Brier ${f4(report.brier)}.`,
  ];
}
