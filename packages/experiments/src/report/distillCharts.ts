// The charts of a distill report: teachers and students against the teacher's ε, and their reliability.
import type { DistillResults, DistillSummary } from '../results/schema.js';
import type { IntervalMetric } from '../train/analysis.js';
import { type EpsilonPoint, epsilonSpec, type Reliability } from './charts.js';
import { panels, section } from './html.js';
import { PALETTE, STUDENT_DASH } from './palette.js';
import { meanBins, reliabilitySections } from './reliabilitySections.js';
import { toSvg } from './svg.js';

/** A model of the run in a few words: "teacher ε=0.1", "student of ε=0.1". */
export const distillLabel = (s: Pick<DistillSummary, 'role' | 'teacherEpsilon'>) =>
  s.role === 'teacher' ? `teacher ε=${s.teacherEpsilon}` : `student of ε=${s.teacherEpsilon}`;

/**
 * One reliability panel per teacher and student (seeds pooled, the smooth curve of the first seed); none
 * when results.json holds no bins for some model.
 */
export function distillReliability(r: DistillResults): Reliability[] {
  const groups = r.summary.map((s) => ({
    s,
    models: r.models.filter((m) => m.role === s.role && m.teacherEpsilon === s.teacherEpsilon),
  }));
  if (groups.some((g) => !g.models.length || g.models.some((m) => !m.test.bins))) return [];
  return groups.map(({ s, models }) => {
    const iv = s.intervals?.ece;
    const first = models[0].analysis?.smoothEce;
    return {
      label: distillLabel(s),
      title: [
        distillLabel(s),
        `ECE ${s.ece.mean.toFixed(3)}${iv ? ` [${iv[0].toFixed(3)}, ${iv[1].toFixed(3)}]` : ''}`,
      ],
      bins: meanBins(models.map((m) => m.test.bins!)),
      smooth: first?.curve,
      bandwidth: first?.value,
      examples: r.dataset.test,
      classes: r.dataset.classNames.length,
    };
  });
}

/** Mean over seeds of a metric of each teacher and student, with its interval (or ± one sd). */
function points(r: DistillResults, m: 'accuracy' | 'nll' | 'ece'): EpsilonPoint[] {
  return r.summary.map((s) => {
    const iv = s.intervals?.[m as IntervalMetric];
    return {
      epsilon: s.teacherEpsilon,
      series: s.role,
      mean: s[m].mean,
      lo: iv ? iv[0] : s[m].mean - s[m].sd,
      hi: iv ? iv[1] : s[m].mean + s[m].sd,
    };
  });
}

/** Accuracy, NLL and ECE of the teachers and their students against the teacher's ε. */
async function metricCharts(r: DistillResults): Promise<string> {
  const ivs = r.summary.some((s) => s.intervals);
  const chart = (title: string, m: 'accuracy' | 'nll' | 'ece', color: string) =>
    toSvg(
      epsilonSpec({
        title,
        points: points(r, m),
        yTitle: title,
        color,
        series: ['teacher', 'student'],
        dashes: [[], STUDENT_DASH],
        xTitle: "teacher's ε",
      }),
    );
  return section(
    "Accuracy, NLL and ECE against the teacher's ε",
    `Teachers solid, their students dotted; means over seeds, vertical bars: ${ivs ? 'the 95 % t-interval over seeds' : '± one standard deviation over seeds'}. The axes are zoomed to the data: they do not start at 0.`,
    panels(
      await Promise.all([
        chart('accuracy', 'accuracy', PALETTE.accuracy),
        chart('NLL', 'nll', PALETTE.nll),
        chart('ECE', 'ece', PALETTE.confidence),
      ]),
    ),
  );
}

/** Every chart of a distill report. */
export async function distillCharts(r: DistillResults): Promise<string> {
  const rel = distillReliability(r);
  const missing = rel.length
    ? ''
    : section(
        'Reliability diagrams',
        'Not drawn: this results.json holds no reliability bins for the models (`labelsmooth distill` writes them).',
        '',
      );
  return (
    (await metricCharts(r)) + (rel.length ? await reliabilitySections(rel, r.config.seeds.length) : missing)
  );
}
