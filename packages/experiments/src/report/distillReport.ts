// The report of `labelsmooth distill`: teachers at ε = 0 and ε > 0 and their students (Müller et al. 2019 §5).
import type { Claim, DistillResults } from '../results/schema.js';
import { distillClaims, distillLabel, findClaim } from './claims.js';
import { claimsSection } from './claimsSection.js';
import { distillCharts } from './distillCharts.js';
import { cell, inlineHtml, page, section, table } from './html.js';

const f4 = (x: number) => x.toFixed(4);

/** How a claim came out, in a few words: "higher (shown)", "lower (shown)", "not shown to differ". */
function outcome(c: Claim | undefined): string {
  if (!c) return 'not measured';
  if (!c.holds) return 'not shown to differ';
  return c.estimate > 0 ? 'higher (shown)' : 'lower (shown)';
}

/**
 * The takeaway of a distillation run, rendered from its claims: the smoothed teacher against the ε = 0
 * teacher, its student against the ε = 0 teacher's student (accuracy, NLL, ECE), and whether that is
 * Müller et al.'s Fig. 6 pattern (a more accurate smoothed teacher, a less accurate student) — said only
 * when both halves hold.
 */
export function distillTakeaway(r: DistillResults): string[] {
  const claims = r.claims ?? distillClaims(r.models);
  const e = r.models.find((m) => m.teacherEpsilon > 0)?.teacherEpsilon;
  const has = (label: string) => r.models.some((m) => distillLabel(m) === label);
  if (e === undefined || !has('teacher ε=0') || !has('student of teacher ε=0'))
    return ['This run lacks a teacher or a student at ε = 0 or ε > 0: nothing to compare.'];
  const get = (role: 'teacher' | 'student', m: string) =>
    findClaim(
      claims,
      m,
      distillLabel({ role, teacherEpsilon: 0 }),
      distillLabel({ role, teacherEpsilon: e }),
    );
  const out = ['accuracy', 'nll', 'ece']
    .flatMap((m) => [get('teacher', m), get('student', m)])
    .filter((c): c is Claim => c !== undefined)
    .map((c) => c.text);
  const teacher = get('teacher', 'accuracy');
  const student = get('student', 'accuracy');
  const better = teacher?.holds === true && teacher.estimate > 0;
  const worse = student?.holds === true && student.estimate < 0;
  out.push(
    better && worse
      ? "This is the direction of Müller et al.'s Fig. 6: a more accurate smoothed teacher, a less accurate student (both shown)."
      : `Müller et al.'s Fig. 6 pattern (a more accurate smoothed teacher, a less accurate student) is not shown here: the smoothed teacher's accuracy is ${outcome(teacher)}, its student's accuracy ${outcome(student)}, NLL ${outcome(get('student', 'nll'))} and ECE ${outcome(get('student', 'ece'))}.`,
  );
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
    section('Takeaway', '', `<p class="takeaway">${inlineHtml(distillTakeaway(r).join(' '))}</p>`),
    section(
      'Teachers and students (test set)',
      `Teachers: ${c.model} trained for ${c.epochs} epochs with ε = 0 and ε = ${c.epsilon}. Students: ${c.studentHidden} hidden ReLU units, trained for ${c.studentEpochs} epochs on the teacher's soft targets only, L = T²·H(softmax(z_t/T), softmax(z_s/T)) at T = ${c.temperature} (Hinton et al. 2015; Müller et al. 2019 §5). ${seeds > 1 ? `Each cell: mean over the ${seeds} seeds (each its own training rows) ± the standard deviation over seeds${hasIv ? ', then the 95 % t-interval over seeds of the mean' : ''}.` : "One seed: each cell is that seed's value, with no interval over seeds."}`,
      table(['model', 'seeds', 'accuracy', 'NLL', 'ECE'], rows),
    ),
    claimsSection(r.claims ?? distillClaims(r.models)),
    await distillCharts(r),
    section('Every model', '', table(['role', 'teacher ε', 'seed', 'accuracy', 'NLL', 'ECE'], perSeed)),
  ].join('\n');
  const meta = `distill · ${r.dataset.name} (train ${r.dataset.train}, test ${r.dataset.test}) · batch ${c.batchSize}, lr ${c.lr} · backend ${r.backend} · ${r.createdAt}`;
  return page(`labelsmooth report — ${r.name}`, meta, body);
}
