// The report of `labelsmooth distill`: teachers at ε = 0 and ε > 0 and their students (Müller et al. 2019 §5).
import type { DistillResults, DistillSummary } from '../results/schema.js';
import { distillCharts } from './distillCharts.js';
import { cell, inlineHtml, page, section, table } from './html.js';

const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const cmp = (a: number, b: number, more: string, less: string) => (b > a ? more : b < a ? less : 'as');

/**
 * The takeaway of a distillation run: how the smoothed teacher and its student compare with the ε = 0
 * teacher and its student, and whether that matches Müller et al.'s Fig. 6 (the smoothed teacher is more
 * accurate, its student less accurate).
 */
export function distillTakeaway(summary: DistillSummary[]): string[] {
  const find = (role: DistillSummary['role'], smoothed: boolean) =>
    summary.find((s) => s.role === role && (smoothed ? s.teacherEpsilon > 0 : s.teacherEpsilon === 0));
  const t0 = find('teacher', false);
  const ts = find('teacher', true);
  const s0 = find('student', false);
  const ss = find('student', true);
  if (!t0 || !ts || !s0 || !ss)
    return ['This run lacks a teacher or a student at ε = 0 or ε > 0: nothing to compare.'];
  const e = `ε = ${ts.teacherEpsilon}`;
  const teacherBetter = ts.accuracy.mean > t0.accuracy.mean;
  const studentWorse = ss.accuracy.mean < s0.accuracy.mean;
  const out = [
    `The ${e} teacher is ${cmp(t0.accuracy.mean, ts.accuracy.mean, 'more', 'less')} accurate than the ε = 0 teacher (${pct(ts.accuracy.mean)} vs ${pct(t0.accuracy.mean)}; ECE ${f4(ts.ece.mean)} vs ${f4(t0.ece.mean)}).`,
    `Its student is ${cmp(s0.accuracy.mean, ss.accuracy.mean, 'more', 'less')} accurate than the ε = 0 teacher's student (${pct(ss.accuracy.mean)} vs ${pct(s0.accuracy.mean)}), with ${cmp(s0.nll.mean, ss.nll.mean, 'a higher', 'a lower').replace(/^as$/, 'the same')} NLL (${f4(ss.nll.mean)} vs ${f4(s0.nll.mean)}).`,
  ];
  const verdict =
    teacherBetter && studentWorse
      ? "This is the direction of Müller et al.'s Fig. 6: a better smoothed teacher, a worse student."
      : `This is not the pattern of Müller et al.'s Fig. 6 (a better smoothed teacher, a worse student): here the smoothed teacher is ${teacherBetter ? 'better' : 'not better'} and its student ${studentWorse ? 'worse' : 'not worse'}.`;
  out.push(verdict);
  return out;
}

/** The HTML report of a distill run. */
export async function distillReport(r: DistillResults): Promise<string> {
  const c = r.config;
  const seeds = c.seeds.length;
  const rows = r.summary.map((s) => [
    s.role === 'teacher'
      ? `teacher, ε = ${s.teacherEpsilon}`
      : `student of the ε = ${s.teacherEpsilon} teacher`,
    String(s.runs),
    cell(s.accuracy, s.runs, s.intervals?.accuracy),
    cell(s.nll, s.runs, s.intervals?.nll),
    cell(s.ece, s.runs, s.intervals?.ece),
  ]);
  const perSeed = r.models.map((m) => [
    m.role,
    String(m.teacherEpsilon),
    String(m.seed),
    f4(m.test.accuracy),
    f4(m.test.nll),
    f4(m.test.ece),
  ]);
  const hasIv = r.summary.some((s) => s.intervals);
  const body = [
    section('Takeaway', '', `<p class="takeaway">${inlineHtml(distillTakeaway(r.summary).join(' '))}</p>`),
    section(
      'Teachers and students (test set)',
      `Teachers: ${c.model} trained for ${c.epochs} epochs with ε = 0 and ε = ${c.epsilon}. Students: ${c.studentHidden} hidden ReLU units, trained for ${c.studentEpochs} epochs on the teacher's soft targets only, L = T²·H(softmax(z_t/T), softmax(z_s/T)) at T = ${c.temperature} (Hinton et al. 2015; Müller et al. 2019 §5). Each cell: mean over ${seeds} seed${seeds > 1 ? 's' : ''}${seeds > 1 ? ' ± the standard deviation over seeds' : ''}${hasIv ? ', then the 95 % bootstrap interval over test rows (ends averaged over seeds)' : '; no bootstrap intervals were computed for this run'}.`,
      table(['model', 'seeds', 'accuracy', 'NLL', 'ECE'], rows),
    ),
    await distillCharts(r),
    section('Every model', '', table(['role', 'teacher ε', 'seed', 'accuracy', 'NLL', 'ECE'], perSeed)),
  ].join('\n');
  const meta = `distill · ${r.dataset.name} (train ${r.dataset.train}, test ${r.dataset.test}) · batch ${c.batchSize}, lr ${c.lr} · backend ${r.backend} · ${r.createdAt}`;
  return page(`labelsmooth report — ${r.name}`, meta, body);
}
