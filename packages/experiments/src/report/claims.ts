// Claims: every comparison a report states, as data with its test. A seed is a replicate (its own split
// and initialisation), so a comparison of b with a is the mean over seeds of the per-seed difference b − a,
// with a 95 % t-interval over the seeds; it holds only when that interval excludes 0.
import type { CalibrationReport } from 'labelsmooth';
import type { Claim, DistillModel } from '../results/schema.js';
import type { Interval } from '../train/analysis.js';
import { isBaselineLabel, type RunResult, scaledLabel } from '../train/experiment.js';
import { tInterval } from '../train/studentT.js';

export type { Claim };

/** A metric's values per seed. */
export type SeedValues = Map<number, number>;

/** The metrics claims are made on: keys of a run's `test` report. */
export type ClaimMetric = keyof Pick<
  CalibrationReport,
  'ece' | 'debiasedEce' | 'nll' | 'accuracy' | 'smoothEce' | 'aurc' | 'brier' | 'overconfidence'
>;

const METRIC_NAMES: Record<ClaimMetric, string> = {
  ece: 'ECE',
  debiasedEce: 'debiased ECE',
  nll: 'NLL',
  accuracy: 'accuracy',
  smoothEce: 'smooth ECE',
  aurc: 'AURC',
  brier: 'Brier score',
  overconfidence: 'over-confidence',
};

/** The method every claim states. */
export const CLAIM_METHOD =
  '95 % t-interval over seeds of the per-seed difference (each seed its own training/validation split and initialisation; the test set is shared)';

/** The method of a claim on one model's level (its over-confidence). */
export const LEVEL_METHOD =
  '95 % t-interval over seeds of the mean (each seed its own training/validation split and initialisation; the test set is shared)';

/** Whether an interval excludes 0 (a null interval, one seed, never does). */
export const excludesZero = (iv: Interval | null) => iv !== null && (iv[0] > 0 || iv[1] < 0);

/** "+0.0120" / "−0.0120" (a true minus sign), with `digits` decimals. */
export const signed = (x: number, digits = 4) => `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(digits)}`;

/**
 * Decimals that print an interval faithfully: 4, or more until an interval that excludes 0 prints with
 * ends of one sign (never "[+0.0000, +0.0003]" for a claim that holds).
 */
function digitsFor(iv: Interval): number {
  let d = 4;
  while (d < 8 && excludesZero(iv) && (Number(iv[0].toFixed(d)) === 0 || Number(iv[1].toFixed(d)) === 0)) d++;
  return d;
}

/** "[−0.0100, +0.0340]". */
export function intervalText(iv: Interval): string {
  const d = digitsFor(iv);
  return `[${signed(iv[0], d)}, ${signed(iv[1], d)}]`;
}

/** A run label in prose: `ε=0.1 + temperature scaling` → `ε = 0.1 + temperature scaling`. */
export const prose = (label: string) => label.replace(/ε=/g, 'ε = ');

/** The evidence clause of a claim: its interval and seeds, or why there is none. */
function evidence(c: Pick<Claim, 'interval' | 'seeds'>): string {
  if (!c.interval) return 'one seed gives no interval over seeds';
  return `95 % interval ${intervalText(c.interval)} over ${c.seeds.length} seeds`;
}

/** The sentence of a claim, from its numbers: a direction only when the interval excludes 0. */
export function claimText(c: Omit<Claim, 'text' | 'id'>): string {
  const m = METRIC_NAMES[c.metric as ClaimMetric] ?? c.metric;
  const b = prose(c.b);
  // The estimate with as many decimals as its interval: a claim that holds never prints "+0.0000".
  const est = c.interval
    ? signed(c.estimate, digitsFor(c.interval))
    : `${signed(c.estimate)} in the one seed`;
  if (c.a === null) {
    if (!c.holds)
      return `${b}, mean confidence − accuracy: ${est}, neither over- nor under-confidence shown (${evidence(c)}).`;
    return c.estimate > 0
      ? `${b} is over-confident: mean confidence exceeds accuracy by ${c.estimate.toFixed(4)} (${evidence(c)}).`
      : `${b} is under-confident: mean confidence is ${(-c.estimate).toFixed(4)} below accuracy (${evidence(c)}).`;
  }
  const a = prose(c.a);
  if (!c.holds) return `${b} against ${a}, ${m}: ${est}, not shown (${evidence(c)}).`;
  return `${b} has ${c.estimate < 0 ? 'lower' : 'higher'} ${m} than ${a}: ${est} (${evidence(c)}).`;
}

/** The claim on `metric` of b against a (a = null: b's level), from their values per seed. */
export function makeClaim(
  metric: ClaimMetric,
  a: string | null,
  b: string,
  av: SeedValues | null,
  bv: SeedValues,
) {
  const seeds = [...bv.keys()].filter((s) => av === null || av.has(s)).sort((x, y) => x - y);
  if (!seeds.length) return null;
  const perSeed = seeds.map((s) => (bv.get(s) as number) - (av === null ? 0 : (av.get(s) as number)));
  const { estimate, interval } = tInterval(perSeed);
  const c: Omit<Claim, 'text' | 'id'> = {
    metric,
    a,
    b,
    estimate,
    interval,
    seeds,
    perSeed,
    method: a === null ? LEVEL_METHOD : CLAIM_METHOD,
    holds: excludesZero(interval),
  };
  return { id: `${metric}:${b}${a === null ? '' : `|${a}`}`, text: claimText(c), ...c } as Claim;
}

/** Each label's test reports per seed: raw runs, and `<label> + temperature scaling` where fitted. */
export function reportsByLabel(runs: RunResult[]): Map<string, Map<number, CalibrationReport>> {
  const out = new Map<string, Map<number, CalibrationReport>>();
  const put = (label: string, seed: number, r: CalibrationReport) => {
    const m = out.get(label) ?? new Map<number, CalibrationReport>();
    m.set(seed, r);
    out.set(label, m);
  };
  for (const r of runs) put(r.label, r.seed, r.test);
  for (const r of runs) if (r.temperature) put(scaledLabel(r.label), r.seed, r.temperature.test);
  return out;
}

/** The unregularized baseline among a comparison's labels: `ε=0`, or `ce` in a comparison of losses. */
export function baselineLabel(runs: RunResult[]): string | undefined {
  return runs.find((r) => isBaselineLabel(r.label))?.label;
}

/** The budget-matched runs' labels (trained on train ∪ validation), in run order. */
export function budgetLabels(runs: Pick<RunResult, 'label' | 'trainedOn'>[]): string[] {
  return [...new Set(runs.filter((r) => r.trainedOn !== undefined).map((r) => r.label))];
}

/** The metrics of the budget-matched comparison (the debiased ECE: both sides' ECE is small there). */
export const BUDGET_METRICS = ['ece', 'debiasedEce', 'nll', 'accuracy'] as const;

/**
 * Every claim a compare report states: the over-confidence of every model (raw and temperature-scaled);
 * every other run against the baseline (ECE, NLL, accuracy, smooth ECE, AURC); temperature scaling of the
 * baseline against the baseline; every other run against the temperature-scaled baseline; every other
 * temperature-scaled run against it (ECE, NLL); and the budget-matched run (label smoothing on train ∪
 * validation) against the temperature-scaled baseline, which saw the same labelled rows
 * ({@link BUDGET_METRICS}). A metric a results file does not hold (an older version's) gives no claim.
 */
export function compareClaims(runs: RunResult[]): Claim[] {
  const by = reportsByLabel(runs);
  const values = (label: string, metric: ClaimMetric): SeedValues =>
    new Map([...(by.get(label) ?? [])].map(([s, r]) => [s, r[metric]]));
  const out: Claim[] = [];
  const add = (metric: ClaimMetric, a: string | null, b: string) => {
    if (!by.has(b) || (a !== null && !by.has(a))) return;
    const av = a === null ? null : values(a, metric);
    const bv = values(b, metric);
    if ([...bv.values(), ...(av?.values() ?? [])].some((v) => !Number.isFinite(v))) return;
    const c = makeClaim(metric, a, b, av, bv);
    if (c) out.push(c);
  };
  for (const label of by.keys()) add('overconfidence', null, label);
  const base = baselineLabel(runs);
  if (base === undefined) return out;
  const budget = budgetLabels(runs);
  const others = [...new Set(runs.map((r) => r.label))].filter((l) => l !== base && !budget.includes(l));
  const baseTs = scaledLabel(base);
  for (const o of others)
    for (const m of ['ece', 'nll', 'accuracy', 'smoothEce', 'aurc'] as const) add(m, base, o);
  for (const m of ['ece', 'nll'] as const) add(m, base, baseTs);
  for (const o of others) for (const m of ['ece', 'nll'] as const) add(m, baseTs, o);
  for (const o of others) for (const m of ['ece', 'nll'] as const) add(m, baseTs, scaledLabel(o));
  for (const b of budget) for (const m of BUDGET_METRICS) add(m, baseTs, b);
  return out;
}

/** The claim of `metric`, b against a (a = null: b's level), if the run has it. */
export function findClaim(claims: Claim[] | undefined, metric: string, a: string | null, b: string) {
  return claims?.find((c) => c.metric === metric && c.a === a && c.b === b);
}

/** A distillation model's label: `teacher ε=0.1`, `student of teacher ε=0.1`. */
export const distillLabel = (m: Pick<DistillModel, 'role' | 'teacherEpsilon'>) =>
  m.role === 'teacher' ? `teacher ε=${m.teacherEpsilon}` : `student of teacher ε=${m.teacherEpsilon}`;

/**
 * Every claim a distill report states: the smoothed teacher against the ε = 0 teacher, and its student
 * against the ε = 0 teacher's student, on accuracy, NLL and ECE (paired by seed: both teachers of a seed
 * train on that seed's split).
 */
export function distillClaims(models: DistillModel[]): Claim[] {
  const values = (label: string, metric: ClaimMetric): SeedValues =>
    new Map(models.filter((m) => distillLabel(m) === label).map((m) => [m.seed, m.test[metric]]));
  const smoothed = [...new Set(models.filter((m) => m.teacherEpsilon > 0).map((m) => m.teacherEpsilon))];
  const out: Claim[] = [];
  for (const e of smoothed)
    for (const role of ['teacher', 'student'] as const) {
      const a = distillLabel({ role, teacherEpsilon: 0 });
      const b = distillLabel({ role, teacherEpsilon: e });
      for (const m of ['accuracy', 'nll', 'ece'] as const) {
        const av = values(a, m);
        if (!av.size) continue;
        const c = makeClaim(m, a, b, av, values(b, m));
        if (c) out.push(c);
      }
    }
  return out;
}
