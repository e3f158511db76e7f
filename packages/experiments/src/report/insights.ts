// Sentences derived from the numbers of a run, for the top of the report.

import type { CalibrationReport } from 'labelsmooth';
import type { CompareResults } from '../results/schema.js';
import { isFocal } from '../train/losses.js';

const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;

/** "over-confident by +0.0186" / "under-confident by −0.1137" / "calibrated on average". */
export function confidenceWord(overconfidence: number): string {
  if (Math.abs(overconfidence) < 0.005) return 'calibrated on average (|confidence − accuracy| < 0.005)';
  return `${overconfidence > 0 ? 'over' : 'under'}-confident by ${signed(overconfidence)}`;
}

/** Sentences for a compare or train run. */
export function compareInsights(r: CompareResults): string[] {
  const out: string[] = [];
  const rows = new Map(r.summary.map((s) => [s.label, s]));
  // The unregularized baseline: ε=0, or `ce` in a comparison of losses.
  const base = rows.get('ε=0') ?? rows.get('ce');
  for (const s of r.summary) {
    if (s.label.includes('temperature')) continue;
    out.push(
      `${s.label}: accuracy ${pct(s.accuracy.mean)}, ECE ${f4(s.ece.mean)}, NLL ${f4(s.nll.mean)}; the model is ${confidenceWord(s.overconfidence.mean)} (mean confidence ${f4(s.meanConfidence.mean)}).`,
    );
    if (base && s !== base) {
      const dir = (a: number, b: number) => (b < a ? 'lowered' : b > a ? 'raised' : 'kept');
      out.push(
        `${s.label} ${dir(base.ece.mean, s.ece.mean)} ECE from ${f4(base.ece.mean)} to ${f4(s.ece.mean)}, ${dir(base.nll.mean, s.nll.mean)} NLL from ${f4(base.nll.mean)} to ${f4(s.nll.mean)}, moved mean confidence from ${f4(base.meanConfidence.mean)} to ${f4(s.meanConfidence.mean)} and accuracy from ${pct(base.accuracy.mean)} to ${pct(s.accuracy.mean)} (relative to ${base.label}).`,
      );
    }
  }
  const ts = r.summary.find((s) => s.label.includes('temperature'));
  const tRun = r.runs.find((x) => x.temperature);
  if (ts && base && tRun?.temperature) {
    out.push(
      `Temperature scaling of ${base.label} (T = ${tRun.temperature.temperature.toFixed(3)}, fitted on the validation split) took ECE from ${f4(base.ece.mean)} to ${f4(ts.ece.mean)} and NLL from ${f4(base.nll.mean)} to ${f4(ts.nll.mean)}, accuracy unchanged.`,
    );
  }
  for (const run of r.runs.filter((x) => x.seed === r.runs[0].seed)) {
    const e = run.epochs;
    if (e.length < 2) continue;
    const a = e[0];
    const b = e[e.length - 1];
    const [hp, hu] = isFocal(run) ? ['F(p)', 'F(u)'] : ['H(p,q)', 'H(u,q)'];
    out.push(
      `${run.label}, epochs 1 → ${b.epoch}: ${hp} on the training set went from ${f4(a.trainNll)} to ${f4(b.trainNll)} while ${hu} went from ${f4(a.trainSmoothing)} to ${f4(b.trainSmoothing)}${b.trainSmoothing > a.trainSmoothing && b.trainNll < a.trainNll ? ' — the logits spread apart as the fit tightens, the mark of growing confidence' : ''}.`,
    );
  }
  return out;
}

/** Sentences for an evaluate run. */
export function evaluateInsights(report: CalibrationReport): string[] {
  return [
    `Accuracy ${pct(report.accuracy)}, mean confidence ${f4(report.meanConfidence)}: the classifier is ${confidenceWord(report.overconfidence)}.`,
    `ECE ${f4(report.ece)} (adaptive ECE ${f4(report.adaptiveEce)}), worst bin gap (MCE) ${f4(report.mce)}, NLL ${f4(report.nll)}, Brier ${f4(report.brier)}.`,
  ];
}
