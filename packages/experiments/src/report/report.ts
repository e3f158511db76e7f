import type { CompareResults, ReportInput } from '../results/schema.js';
import {
  INTERVAL_METRICS,
  type IntervalMetric,
  type ModelAnalysis,
  type RiskCoveragePoint,
} from '../train/analysis.js';
import type { RunResult, SummaryRow } from '../train/experiment.js';
import { isCrossEntropyLoss, isFocal } from '../train/losses.js';
import {
  type EpochPoint,
  type EpsilonPoint,
  epochPanelSpec,
  epsilonSpec,
  paddedDomain,
  projectionSpec,
  type Reliability,
  riskCoverageSpec,
} from './charts.js';
import { claimsSection } from './claimsSection.js';
import { distillReport } from './distillReport.js';
import { evaluateReport } from './evaluateReport.js';
import {
  type ColumnGroup,
  cell,
  inlineHtml,
  page,
  panels,
  section,
  sentences,
  table,
  tableGroups,
} from './html.js';
import { claimsOf, mechanism, selectiveSentence, storyRows, takeaway } from './insights.js';
import { lossFormula, lossParts } from './lossFormula.js';
import { PALETTE, runStyles } from './palette.js';
import { meanBins, reliabilitySections } from './reliabilitySections.js';
import { toSvg } from './svg.js';

/** Results a report can be made of. */
export type { ReportInput };

const f4 = (x: number) => x.toFixed(4);

export { meanBins };

function byLabel(runs: RunResult[]): Map<string, RunResult[]> {
  const m = new Map<string, RunResult[]>();
  for (const r of runs) m.set(r.label, [...(m.get(r.label) ?? []), r]);
  return m;
}

type EpochKey =
  | 'trainNllPart'
  | 'trainSmoothingPart'
  | 'trainSmoothing'
  | 'trainNll'
  | 'trainEntropy'
  | 'testAccuracy'
  | 'testEce';

/** Mean over seeds of a per-epoch metric. */
function epochMeans(runs: RunResult[], key: EpochKey) {
  const n = Math.min(...runs.map((r) => r.epochs.length));
  return Array.from({ length: n }, (_, e) => ({
    epoch: e + 1,
    value: runs.reduce((a, r) => a + (r.epochs[e][key] as number), 0) / runs.length,
  }));
}

/** The self-contained HTML report (inline SVG and CSS, no scripts, no network) of a run directory's results. */
export async function renderReport(r: ReportInput): Promise<string> {
  if (r.kind === 'evaluate') return evaluateReport(r);
  if (r.kind === 'distill') return distillReport(r);
  return compareReport(r);
}

/**
 * Summary rows in the order of Müller et al.'s Table 3: baseline, label smoothing, then each after TS;
 * the budget-matched run last.
 */
export function tableOrder(summary: SummaryRow[]): SummaryRow[] {
  const budget = (s: SummaryRow) => Number(s.trainedOn !== undefined);
  return [...summary].sort(
    (a, b) => budget(a) - budget(b) || Number(a.scaled) - Number(b.scaled) || a.epsilon - b.epsilon,
  );
}

/** Name of a summary row in Müller et al.'s terms: baseline, label smoothing, + temperature scaling. */
export function methodName(s: SummaryRow): string {
  if (!isCrossEntropyLoss(s.loss)) return s.label;
  const core = s.epsilon === 0 ? 'baseline (ε = 0)' : `label smoothing (ε = ${s.epsilon})`;
  if (s.trainedOn !== undefined) return `${core} on train ∪ validation`;
  return s.scaled ? `${core} + temperature scaling` : core;
}

function summaryTable(r: CompareResults): string {
  const rows = tableOrder(r.summary);
  const extra = {
    smoothEce: rows.some((s) => s.smoothEce),
    aurc: rows.some((s) => s.aurc),
  };
  const multi = rows.some((s) => s.runs > 1);
  const header = [
    multi ? 'method (mean ± sd [95 % t-interval over seeds])' : 'method',
    'seeds',
    'ECE',
    'NLL',
    'accuracy',
  ];
  if (extra.smoothEce) header.push('smooth ECE');
  if (extra.aurc) header.push('AURC');
  header.push('Brier', 'mean confidence', 'T');
  const temperature = (s: SummaryRow) => {
    const ts = r.runs.filter(
      (x) => x.label === s.label.replace(' + temperature scaling', '') && x.temperature,
    );
    if (!s.scaled || !ts.length) return '';
    return (ts.reduce((a, x) => a + x.temperature!.temperature, 0) / ts.length).toFixed(2);
  };
  return tableGroups(
    header,
    rows.map((s) => {
      const iv = (m: IntervalMetric) => s.intervals?.[m];
      const row = [
        methodName(s),
        String(s.runs),
        cell(s.ece, s.runs, iv('ece')),
        cell(s.nll, s.runs, iv('nll')),
        cell(s.accuracy, s.runs, iv('accuracy')),
      ];
      if (extra.smoothEce) row.push(s.smoothEce ? cell(s.smoothEce, s.runs, iv('smoothEce')) : '');
      if (extra.aurc) row.push(s.aurc ? cell(s.aurc, s.runs, iv('aurc')) : '');
      row.push(cell(s.brier, s.runs, iv('brier')), cell(s.meanConfidence, s.runs), temperature(s));
      return row;
    }),
    { keys: 2, groups: SUMMARY_GROUPS },
  );
}

/** The summary's columns in two tables of at most five values each (they fit an 800-px page). */
export const SUMMARY_GROUPS: ColumnGroup[] = [
  { caption: 'Calibration', columns: ['ECE', 'smooth ECE', 'classwise ECE', 'NLL', 'T'] },
  { caption: 'Accuracy and confidence', columns: ['accuracy', 'mean confidence', 'Brier', 'AURC'] },
];

/** Display names of the interval metrics (the keys of results.json). */
export const METRIC_NAMES: Record<IntervalMetric, string> = {
  accuracy: 'accuracy',
  nll: 'NLL',
  brier: 'Brier',
  ece: 'ECE',
  debiasedEce: 'debiased ECE',
  smoothEce: 'smooth ECE',
  classwiseEce: 'classwise ECE',
  aurc: 'AURC',
};

/** A signed difference with its interval under it: "−0.0838" then "[−0.0898, −0.0778]". */
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${f4(Math.abs(x))}`;

function pairedTable(r: CompareResults): string {
  if (!r.paired?.length) return '';
  const metrics = INTERVAL_METRICS.filter((m) => r.paired!.some((p) => p.differences[m]));
  return (
    '<h3>Paired differences (b − a, same test rows and seed)</h3>' +
    tableGroups(
      ['a', 'b', 'seed', ...metrics.map((m) => METRIC_NAMES[m])],
      r.paired.map((p) => [
        p.a,
        p.b,
        String(p.seed),
        ...metrics.map((m) => {
          const d = p.differences[m];
          return d ? `${signed(d.difference)}\n[${signed(d.interval[0])}, ${signed(d.interval[1])}]` : '';
        }),
      ]),
      { keys: 3, groups: SUMMARY_GROUPS },
    )
  );
}

/** Seeds of a run. */
const seedCount = (r: CompareResults) => new Set(r.runs.map((x) => x.seed)).size;

/** "mean over the 5 seeds" / "the one seed": what a mean of the run is over. */
export const overSeeds = (n: number) => (n > 1 ? `mean over the ${n} seeds` : 'one seed');

function tableNote(r: CompareResults): string {
  const seeds = seedCount(r);
  return [
    `Test set of ${r.dataset.test} examples, the same for every seed. `,
    seeds > 1
      ? `Each cell: the mean over ${seeds} seeds (each seed its own training/validation split and initialisation), ± the standard deviation over seeds, then [lo, hi]: the 95 % t-interval over seeds of the mean (seed-to-seed variation; the test set's sampling error is not in it).`
      : 'Each cell: the value of the one seed; one seed gives no interval over seeds.',
    " ECE over 15 equal-width confidence bins (Guo et al. 2017); smooth ECE (Błasiok & Nakkiran 2024) has no bins and is less biased where ECE is small. Temperature scaling: one T per model, fitted by NLL on its seed's validation split (Müller et al. 2019, Table 3 shape: baseline, label smoothing, temperature scaling, both).",
  ].join('');
}

/** Reliability panels (per-seed counts) for every raw and temperature-scaled group. */
function reliabilityPanels(r: CompareResults): Reliability[] {
  const out: Reliability[] = [];
  const groups = byLabel(r.runs);
  const title = (label: string, row?: SummaryRow) => {
    if (!row) return [label];
    const iv = row.intervals?.ece;
    const lines = [
      label,
      `ECE ${row.ece.mean.toFixed(3)}${iv ? ` [${iv[0].toFixed(3)}, ${iv[1].toFixed(3)}]` : ''}`,
    ];
    if (row.smoothEce) lines.push(`smooth ECE ${row.smoothEce.mean.toFixed(3)}`);
    return lines;
  };
  const rowOf = (label: string) => r.summary.find((s) => s.label === label);
  // The smooth curve is the first seed's: its N is the test set, its σ the smECE fixed point.
  const curve = (a?: ModelAnalysis) => ({
    smooth: a?.smoothEce?.curve,
    bandwidth: a?.smoothEce?.value,
    examples: r.dataset.test,
    classes: r.dataset.classNames.length,
  });
  for (const [label, runs] of groups) {
    out.push({
      label,
      title: title(label, rowOf(label)),
      bins: meanBins(runs.map((x) => x.test.bins)),
      ...curve(runs[0].analysis),
    });
  }
  for (const [label, runs] of groups) {
    const ts = runs.filter((x) => x.temperature);
    if (!ts.length) continue;
    const name = `${label} + TS`;
    out.push({
      label: name,
      title: title(name, rowOf(`${label} + temperature scaling`)),
      bins: meanBins(ts.map((x) => x.temperature!.test.bins)),
      ...curve(ts[0].temperature!.analysis),
    });
  }
  return out;
}

async function evidenceReliability(r: CompareResults): Promise<string> {
  return reliabilitySections(reliabilityPanels(r), new Set(r.runs.map((x) => x.seed)).size);
}

/** One panel's points and the order of its series (the legend). */
interface Panel {
  points: EpochPoint[];
  order: string[];
  colors: string[];
}

/**
 * A run's recorded parts per epoch, named for its loss: raw (H(p,q) and H(u,q), the focal F(p) and F(u),
 * ols' H(S[y],q); cp adds H(q)) and weighted as in the loss, so that each panel's weighted parts add up to
 * the training loss (cp's −β·H(q) when β is in the configuration).
 */
function partPanels(label: string, runs: RunResult[], noise: string, beta?: number) {
  const names = lossParts(runs[0].loss, noise);
  const raw: Panel = { points: [], order: [], colors: [] };
  const weighted: Panel = { points: [], order: [], colors: [] };
  const add = (panel: Panel, key: EpochKey, series: string, factor = 1) => {
    panel.order.push(series);
    panel.colors.push(PART_COLORS[key]);
    for (const p of epochMeans(runs, key))
      panel.points.push({ run: label, series, ...p, value: p.value * factor });
  };
  add(raw, 'trainNll', `${names.p}, raw: to the labels`);
  add(raw, 'trainSmoothing', `${names.u}, raw: ${names.to}`);
  add(weighted, 'trainNllPart', `(1−ε)·${names.p}`);
  add(weighted, 'trainSmoothingPart', `ε·${names.u}`);
  if (runs.every((r) => r.epochs.every((m) => m.trainEntropy !== undefined))) {
    add(raw, 'trainEntropy', 'H(q), raw: entropy of q');
    if (beta !== undefined) add(weighted, 'trainEntropy', '−β·H(q)', -beta);
  }
  return { raw, weighted };
}

/** Each part of the loss in the colour of what it measures, raw or weighted. */
const PART_COLORS: Record<EpochKey, string> = {
  trainNll: PALETTE.nll,
  trainNllPart: PALETTE.nll,
  trainSmoothing: PALETTE.smoothing,
  trainSmoothingPart: PALETTE.smoothing,
  trainEntropy: PALETTE.entropy,
  testAccuracy: PALETTE.accuracy,
  testEce: PALETTE.confidence,
};

/** The raw parts per epoch, and the weighted parts of the loss, one panel per run label. */
async function mechanismCharts(r: CompareResults): Promise<string> {
  const groups = byLabel(r.runs);
  const raw = new Map<string, Panel>();
  const weighted = new Map<string, Panel>();
  for (const [label, runs] of groups) {
    const p = partPanels(label, runs, r.config.noise, r.config.confidencePenalty);
    raw.set(label, p.raw);
    weighted.set(label, p.weighted);
  }
  const svg = async (m: Map<string, Panel>, yTitle: string) => {
    const all = [...m.values()].flatMap((p) => p.points);
    if (!all.length) return '';
    const dom = paddedDomain(
      all.map((p) => p.value),
      0.05,
      0,
    );
    return panels(
      await Promise.all(
        [...m].map(([l, p]) =>
          toSvg(
            epochPanelSpec({
              title: l,
              points: p.points,
              yTitle,
              yDomain: dom,
              colorBy: 'series',
              style: { order: p.order, colors: p.colors },
            }),
          ),
        ),
      ),
    );
  };
  return (
    '<h3>The raw parts on the training set</h3>' +
    (await svg(raw, 'nats')) +
    '<h3>The weighted parts of the training loss (they add up to it)</h3>' +
    (await svg(weighted, 'loss part (nats)'))
  );
}

/**
 * The caption of the mechanism section: each loss of the run with its formula (naming the runs that
 * trained it), then what the parts measure.
 */
export function mechanismNote(r: CompareResults): string {
  const byLoss = new Map<string, { formula: string; labels: string[] }>();
  for (const [label, runs] of byLabel(r.runs)) {
    const formula = lossFormula(runs[0].loss, r.config.noise);
    const entry = byLoss.get(formula) ?? { formula, labels: [] };
    entry.labels.push(label);
    byLoss.set(formula, entry);
  }
  const losses = [...byLoss.values()].map((e) => `${e.labels.join(', ')}: ${e.formula}.`);
  const crossEntropy = r.runs.some((x) => !isFocal(x) && x.loss !== 'ols');
  const spread =
    r.config.noise === 'uniform'
      ? 'H(u,q) = log Σ exp z − mean z is the cross-entropy to the uniform distribution, which grows as the logits spread apart: without smoothing nothing charges for that spread; with ε > 0 the ε·H(u,q) part does.'
      : 'H(u,q) is the cross-entropy to u; with ε > 0 the ε·H(u,q) part charges for predictions far from u.';
  return [
    "The training loss of each run (p the one-hot label, q = softmax(z), ε the run's, per epoch with a schedule):",
    ...losses,
    ...(crossEntropy ? [spread] : []),
    `Curves: training set, ${overSeeds(seedCount(r))}.`,
  ].join(' ');
}

/** Accuracy and ECE (with and without temperature scaling) against ε, when there are ≥ 2 ε values. */
async function epsilonCharts(r: CompareResults): Promise<string> {
  // The budget-matched run trained on more rows: it is not a point of the ε curve.
  const raw = r.summary.filter((s) => !s.scaled && s.trainedOn === undefined);
  if (raw.length < 2) return '';
  const pt = (s: SummaryRow, m: 'accuracy' | 'ece' | 'nll', series: string): EpsilonPoint => {
    const iv = s.intervals?.[m];
    const sd = s[m].sd;
    return {
      epsilon: s.epsilon,
      series,
      mean: s[m].mean,
      lo: iv ? iv[0] : s[m].mean - sd,
      hi: iv ? iv[1] : s[m].mean + sd,
    };
  };
  const scaled = r.summary.filter((s) => s.scaled);
  const acc = raw.map((s) => pt(s, 'accuracy', 'test accuracy'));
  const ece = [...raw.map((s) => pt(s, 'ece', 'ECE')), ...scaled.map((s) => pt(s, 'ece', 'ECE after TS'))];
  const nll = [...raw.map((s) => pt(s, 'nll', 'NLL')), ...scaled.map((s) => pt(s, 'nll', 'NLL after TS'))];
  const ivs = r.summary.some((s) => s.intervals);
  return section(
    'Accuracy, ECE and NLL against ε',
    `${seedCount(r) > 1 ? 'Means over seeds' : 'One seed'}; vertical bars: ${ivs ? 'the 95 % t-interval over seeds' : seedCount(r) > 1 ? '± one standard deviation over seeds' : 'none (one seed)'}. The axes are zoomed to the data: they do not start at 0.`,
    panels(
      await Promise.all([
        toSvg(
          epsilonSpec({
            title: 'Test accuracy',
            points: acc,
            yTitle: 'accuracy',
            color: PALETTE.accuracy,
            series: ['test accuracy'],
          }),
        ),
        toSvg(
          epsilonSpec({
            title: 'ECE',
            points: ece,
            yTitle: 'ECE',
            color: PALETTE.confidence,
            series: ['ECE', scaled.length ? 'ECE after TS' : undefined],
          }),
        ),
        toSvg(
          epsilonSpec({
            title: 'NLL',
            points: nll,
            yTitle: 'NLL',
            color: PALETTE.nll,
            series: ['NLL', scaled.length ? 'NLL after TS' : undefined],
          }),
        ),
      ]),
    ),
  );
}

/** The mean over seeds of risk–coverage curves, on a grid of `points` coverages (nearest point below). */
export function meanRiskCurve(curves: RiskCoveragePoint[][], points = 100): RiskCoveragePoint[] {
  const at = (c: RiskCoveragePoint[], x: number) => {
    let best = c[0];
    for (const p of c) if (p.coverage <= x + 1e-12) best = p;
    return best.risk;
  };
  const lo = Math.max(...curves.map((c) => c[0].coverage));
  return Array.from({ length: points + 1 }, (_, i) => {
    const x = lo + ((1 - lo) * i) / points;
    return { coverage: x, risk: curves.reduce((a, c) => a + at(c, x), 0) / curves.length };
  });
}

async function selectiveSection(r: CompareResults): Promise<string> {
  const groups = [...byLabel(r.runs)].filter(([, runs]) =>
    runs.every((x) => x.analysis?.riskCoverage?.length),
  );
  if (!groups.length)
    return section(
      'Selective classification',
      'Risk–coverage curves and AURC were not computed for this run (they come with the calibration metrics).',
      '',
    );
  const curves = groups.map(([label, runs]) => ({
    run: label,
    points: meanRiskCurve(runs.map((x) => x.analysis!.riskCoverage!)),
  }));
  const s = selectiveSentence(r);
  const rows = r.summary
    .filter((x) => !x.scaled && x.aurc)
    .map((x) => [
      x.label,
      cell(x.aurc!, x.runs, x.intervals?.aurc),
      cell(x.accuracy, x.runs, x.intervals?.accuracy),
    ]);
  return section(
    'Selective classification',
    `Keep the most confident predictions and abstain on the rest: risk is the error rate among those kept, coverage the fraction kept (Geifman & El-Yaniv 2017); AURC is the area under the curve (lower is better). Curves: ${overSeeds(seedCount(r))}.`,
    (s ? sentences([s]) : '') +
      table(['run', 'AURC', 'accuracy'], rows) +
      panels([await toSvg(riskCoverageSpec(curves, [...byLabel(r.runs).keys()]))]),
  );
}

async function projectionSection(r: CompareResults): Promise<string> {
  const shown = [...byLabel(r.runs)]
    .map(([label, runs]) => ({ label, p: runs[0].projection }))
    .filter((x) => x.p);
  if (!shown.length) return '';
  const all = shown.flatMap(({ p }) => [...p!.points, ...p!.templates]);
  const domain = {
    x: paddedDomain(
      all.map((q) => q.x),
      0.1,
    ),
    y: paddedDomain(
      all.map((q) => q.y),
      0.12,
    ),
  };
  const classes = shown[0].p!.classNames;
  const svgs = await Promise.all(
    shown.map(({ label, p }) =>
      toSvg(projectionSpec({ label, points: p!.points, templates: p!.templates }, domain, classes)),
    ),
  );
  return section(
    'Penultimate layer (Müller, Kornblith & Hinton 2019)',
    `Activations of test examples of 3 classes (${classes.join(', ')}), ${seedCount(r) > 1 ? 'first seed, ' : ''}projected on the plane through their last-layer templates (black crosses, labelled)${svgs.length > 1 ? '; all panels share the same axes' : ''}. Müller et al. find that label smoothing pulls each class into a tighter cluster, at more equal distances from the other templates.`,
    panels(svgs),
  );
}

async function testCurves(r: CompareResults): Promise<string> {
  const groups = byLabel(r.runs);
  const labels = [...groups.keys()];
  const acc: EpochPoint[] = [];
  const ece: EpochPoint[] = [];
  for (const [label, runs] of groups) {
    for (const p of epochMeans(runs, 'testAccuracy')) acc.push({ run: label, series: 'accuracy', ...p });
    for (const p of epochMeans(runs, 'testEce')) ece.push({ run: label, series: 'ECE', ...p });
  }
  if (!acc.length) return '';
  const style = { order: labels, ...runStyles(labels) };
  const dom = (xs: EpochPoint[]) =>
    paddedDomain(
      xs.map((p) => p.value),
      0.05,
      0,
    );
  return section(
    'Test accuracy and ECE per epoch',
    `${seedCount(r) > 1 ? 'Mean over seeds' : 'One seed'}, measured after each epoch on ${r.monitor ? `a stratified ${r.monitor}-example subset of the test set` : 'the test set'}.`,
    panels(
      await Promise.all([
        toSvg(
          epochPanelSpec({
            title: 'Test accuracy',
            points: acc,
            yTitle: 'accuracy',
            yDomain: dom(acc),
            colorBy: 'run',
            style,
          }),
        ),
        toSvg(
          epochPanelSpec({
            title: 'Test ECE',
            points: ece,
            yTitle: 'ECE',
            yDomain: dom(ece),
            colorBy: 'run',
            style,
          }),
        ),
      ]),
    ),
  );
}

async function compareReport(r: CompareResults): Promise<string> {
  const { base, ls } = storyRows(r.summary);
  const cfg = r.config;
  const meta =
    `${r.command ?? r.kind} · ${r.dataset.name} (train ${r.dataset.train}, validation ${r.dataset.validation}, test ${r.dataset.test}, ${r.dataset.classNames.length} classes) · ` +
    `${cfg.model}, ${cfg.epochs} epochs, batch ${cfg.batchSize}, lr ${cfg.lr}, noise ${cfg.noise} · backend ${r.backend} · ${r.createdAt}`;
  const mech = mechanism(r);
  const body = [
    section(
      base ? 'Takeaway' : 'What this run shows',
      '',
      `<p class="takeaway">${inlineHtml(takeaway(r).join(' '))}</p>`,
    ),
    section(
      base && ls ? 'Calibration with and without label smoothing' : 'Calibration',
      tableNote(r),
      summaryTable(r) + pairedTable(r),
    ),
    claimsSection(claimsOf(r)),
    section(
      'The mechanism: the parts of the loss',
      mechanismNote(r),
      (mech.length ? sentences(mech) : '') + (await mechanismCharts(r)),
    ),
    await evidenceReliability(r),
    await epsilonCharts(r),
    await selectiveSection(r),
    await projectionSection(r),
    await testCurves(r),
    section(
      'Distillation',
      'Müller et al. also find that a label-smoothed teacher, though better itself, makes a worse student under knowledge distillation. `labelsmooth distill` measures that here.',
      '',
    ),
  ].join('\n');
  return page(`labelsmooth report — ${r.name}`, meta, body);
}
