// The report of `labelsmooth evaluate`: every metric of saved predictions with its bootstrap interval,
// the reliability diagram with the smooth curve, the confidence histogram and the risk–coverage curve.
import type { CalibrationReport } from 'labelsmooth';
import type { EvaluateResults } from '../results/schema.js';
import { type Reliability, riskCoverageSpec } from './charts.js';
import { debiasedRow, missesEstimate, OUTSIDE_MARK, OUTSIDE_WHY } from './evaluateTable.js';
import { page, panels, section, sentences, table } from './html.js';
import { evaluateInsights } from './insights.js';
import { reliabilitySections } from './reliabilitySections.js';
import { toSvg } from './svg.js';

type Metric = keyof NonNullable<CalibrationReport['intervals']>;

/** The metrics table: name, value, and the bootstrap interval of the metrics that have one. */
export function evaluateRows(m: CalibrationReport): string[][] {
  const bins = m.bins.length;
  const line = (name: string, value: number, metric?: Metric): string[] => {
    const iv = metric && m.intervals?.[metric];
    if (!iv) return [name, value.toFixed(4), ''];
    const outside = value < iv[0] || value > iv[1] ? ` ${OUTSIDE_MARK}` : '';
    return [name, value.toFixed(4), `[${iv[0].toFixed(4)}, ${iv[1].toFixed(4)}]${outside}`];
  };
  return [
    line('accuracy', m.accuracy, 'accuracy'),
    line('NLL', m.nll, 'nll'),
    line('Brier', m.brier, 'brier'),
    line(`ECE (${bins} bins)`, m.ece, 'ece'),
    ...debiasedRow(m, bins, line),
    line(`smooth ECE (σ = ${m.smoothEceBandwidth.toFixed(4)})`, m.smoothEce, 'smoothEce'),
    line(`classwise ECE (${bins} bins)`, m.classwiseEce, 'classwiseEce'),
    line('AURC', m.aurc, 'aurc'),
    line('MCE', m.mce),
    line('RMSCE', m.rmsce),
    line('adaptive ECE', m.adaptiveEce),
    line('mean confidence', m.meanConfidence),
    line('over-confidence (confidence − accuracy)', m.overconfidence),
    line('mean entropy', m.meanEntropy),
  ];
}

/** What the interval column holds, or why it is empty. */
function intervalNote(r: EvaluateResults): string {
  const b = r.report.bootstrap;
  if (!b) return 'No intervals: the bootstrap was not run (`--resamples 0`, or fewer than 2 scored rows).';
  const why = missesEstimate(r.report) ? ` ${OUTSIDE_WHY}.` : '';
  return `Intervals: ${Math.round(100 * b.level)} % percentile bootstrap over the ${r.report.rows} scored rows (${b.resamples} resamples, seed ${b.seed}); the metrics without one have none.${why}`;
}

/** The reliability panel, with the smooth curve when the report has it. */
function panel(r: EvaluateResults): Reliability {
  const m = r.report;
  const iv = (k: Metric) => {
    const x = m.intervals?.[k];
    const outside = x && (m[k] < x[0] || m[k] > x[1]) ? ` ${OUTSIDE_MARK}` : '';
    return x ? ` [${x[0].toFixed(3)}, ${x[1].toFixed(3)}]${outside}` : '';
  };
  const s = m.smoothReliability;
  return {
    label: 'predictions',
    title: [`ECE ${m.ece.toFixed(3)}${iv('ece')}`, `smooth ECE ${m.smoothEce.toFixed(3)}${iv('smoothEce')}`],
    bins: m.bins,
    smooth: s?.mesh.map((t, j) => ({ t, accuracy: s.curve[j], density: s.density[j] })),
    bandwidth: s?.bandwidth,
    examples: m.rows,
    classes: r.classes,
  };
}

/** The HTML report of an evaluate run. */
export async function evaluateReport(r: EvaluateResults): Promise<string> {
  const m = r.report;
  const rc = m.riskCoverage;
  const intervals = !!m.intervals;
  const body = [
    section('Calibration', '', sentences(evaluateInsights(m))),
    section(
      'Metrics',
      intervalNote(r),
      table(
        intervals ? ['metric', 'value', '95 % interval'] : ['metric', 'value'],
        evaluateRows(m).map((x) => (intervals ? x : x.slice(0, 2))),
      ),
    ),
    await reliabilitySections([panel(r)], 1),
    rc
      ? section(
          'Selective classification',
          'Keep the most confident predictions and abstain on the rest: risk is the error rate among those kept, coverage the fraction kept (Geifman & El-Yaniv 2017); AURC is the area under the curve (lower is better).',
          panels([
            await toSvg(
              riskCoverageSpec(
                [
                  {
                    run: 'predictions',
                    points: rc.coverage.map((coverage, j) => ({ coverage, risk: rc.risk[j] })),
                  },
                ],
                ['predictions'],
              ),
            ),
          ]),
        )
      : '',
  ].join('\n');
  const meta = `evaluate · predictions ${r.predictions} (${r.from}) · labels ${r.labels} · ${r.rows} rows × ${r.classes} classes · ${r.createdAt}`;
  return page(`labelsmooth report — ${r.name}`, meta, body);
}
