// Vega-Lite specs of the report's charts. One spec per panel: the page lays panels out with CSS
// (flex-wrap), so rows of panels wrap at any page width instead of running off the page. Every data mark
// lies inside its scale's domain (explicit domains, no clipping needed); the browser test checks it.

import type { CalibrationBin } from 'labelsmooth';
import type { TopLevelSpec } from 'vega-lite';
import type { RiskCoveragePoint, SmoothCurvePoint } from '../train/analysis.js';
import { placeLabels } from './labelPlacement.js';
import { CLASS_COLORS, PALETTE, runStyles, SCALED_DASH } from './palette.js';
import { smoothSegments } from './smoothCurve.js';

const PANEL = { width: 230, height: 200 };
const CONFIG = {
  font: 'system-ui, sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelLimit: 400, orient: 'bottom', direction: 'vertical' }, // class names are shown whole
  title: { fontSize: 12 },
};
/** Characters of a title line that fit over a panel (12-px bold, 230 px wide and its axis). */
const TITLE_CHARS = 36;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const spec = (s: Record<string, unknown>) => ({ $schema: SCHEMA, config: CONFIG, ...s }) as TopLevelSpec;

/**
 * Title lines that fit over a panel: a line longer than `max` characters breaks after a " · " or, failing
 * that, a space, so that nothing is cut (Vega would end a long line in "…").
 */
export function titleLines(lines: string[], max = TITLE_CHARS): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let rest = line;
    while (rest.length > max) {
      const head = rest.slice(0, max + 1);
      const at = Math.max(head.lastIndexOf(' · '), 0) || head.lastIndexOf(' ');
      if (at <= 0) break;
      out.push(rest.slice(0, at));
      rest = rest.slice(at).replace(/^ ·? ?/, '');
    }
    out.push(rest);
  }
  return out;
}

/** One reliability panel: bins holding per-seed counts, and the smooth-ECE curve when there is one. */
export interface Reliability {
  /** The run (for the histogram title). */
  label: string;
  /** Panel title lines, e.g. ["ε=0", "ECE 0.085 [0.079, 0.091]"]. */
  title: string[];
  bins: CalibrationBin[];
  smooth?: SmoothCurvePoint[];
  /** K: no top-label confidence lies below 1/K, and the smooth curve is not drawn there. */
  classes?: number;
  /** N and σ of the smooth curve: where it rests on too few examples it is not drawn. */
  examples?: number;
  bandwidth?: number;
}

/**
 * A reliability diagram: per bin, accuracy (bar, opacity ∝ √count so that bins of a handful of examples
 * fade), the bin's mean confidence (dot) joined to the bar top by the gap (rule), the diagonal of perfect
 * calibration, and the smooth-ECE curve with its band where it means something (smoothCurve.ts).
 */
export function reliabilitySpec(p: Reliability): TopLevelSpec {
  const max = Math.max(1, ...p.bins.map((b) => b.count));
  const values = p.bins
    .filter((b) => b.count > 0)
    .map((b) => ({ ...b, mid: (b.lo + b.hi) / 2, alpha: 0.12 + 0.88 * Math.sqrt(b.count / max) }));
  const unit = { type: 'quantitative', scale: { domain: [0, 1] } } as const;
  const alpha = { field: 'alpha', type: 'quantitative', scale: null } as const;
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      mark: { type: 'rect', color: PALETTE.accuracy },
      encoding: {
        x: { field: 'lo', ...unit, title: 'confidence' },
        x2: { field: 'hi' },
        y: { field: 'accuracy', ...unit, title: 'accuracy' },
        y2: { datum: 0 },
        opacity: alpha,
      },
    },
    {
      data: {
        values: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
      mark: { type: 'line', color: PALETTE.reference, strokeDash: [4, 3] },
      encoding: { x: { field: 'x', ...unit }, y: { field: 'y', ...unit } },
    },
    {
      data: { values },
      mark: { type: 'rule', color: PALETTE.confidence, strokeWidth: 2 },
      encoding: {
        x: { field: 'mid', ...unit },
        y: { field: 'accuracy', ...unit },
        y2: { field: 'confidence' },
        opacity: alpha,
      },
    },
    {
      data: { values },
      mark: { type: 'circle', color: PALETTE.confidence, size: 18 },
      encoding: { x: { field: 'mid', ...unit }, y: { field: 'confidence', ...unit }, opacity: alpha },
    },
  ];
  const segments = p.smooth ? smoothSegments(p.smooth, p) : [];
  if (segments.length) {
    const curve = segments.map((c) => ({ ...c, bandAlpha: 0.3 * c.alpha }));
    if (p.smooth!.some((c) => c.lo !== undefined && c.hi !== undefined))
      layers.push({
        data: { values: curve },
        mark: { type: 'rect', color: PALETTE.smoothAccuracy },
        encoding: {
          x: { field: 't', ...unit },
          x2: { field: 't2' },
          y: { field: 'lo', ...unit },
          y2: { field: 'hi' },
          opacity: { field: 'bandAlpha', type: 'quantitative', scale: null },
        },
      });
    layers.push({
      data: { values: curve },
      mark: { type: 'rule', color: PALETTE.smoothAccuracy, strokeWidth: 2 },
      encoding: {
        x: { field: 't', ...unit },
        x2: { field: 't2' },
        y: { field: 'accuracy', ...unit },
        y2: { field: 'accuracy2' },
        opacity: alpha,
      },
    });
  }
  return spec({ title: { text: titleLines(p.title) }, ...PANEL, layer: layers });
}

/** Histogram of top-label confidence: examples per bin (per seed), bars from 0, a shared y maximum. */
export function confidenceHistogramSpec(p: Reliability, yMax: number): TopLevelSpec {
  const values = p.bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count }));
  return spec({
    title: { text: titleLines([p.label]) },
    ...PANEL,
    height: 150,
    data: { values },
    mark: { type: 'rect', color: PALETTE.examples, stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } },
      x2: { field: 'hi' },
      y: {
        field: 'count',
        type: 'quantitative',
        title: 'test examples per seed',
        scale: { domain: [0, Math.max(1, yMax)], nice: false },
      },
      y2: { datum: 0 },
    },
  });
}

/** One value of one series at one epoch. */
export interface EpochPoint {
  run: string;
  epoch: number;
  series: string;
  value: number;
}

/** [min, max] of xs padded by a fraction of the range (a flat series gets ±pad·|x| or ±0.5). */
export function paddedDomain(xs: number[], pad = 0.06, floor?: number): [number, number] {
  let lo = Math.min(...xs);
  let hi = Math.max(...xs);
  const span = hi - lo || Math.abs(hi) || 1;
  lo -= pad * span;
  hi += pad * span;
  if (floor !== undefined) lo = Math.max(floor, lo);
  return [lo, hi];
}

/** The series of a chart in legend order, with the colour and dash pattern of each. */
export interface SeriesStyle {
  order: string[];
  colors: string[];
  dashes?: number[][];
}

/** Colour (and dash, when given) encodings of a field from a series style: one legend for both. */
function styleEncoding(field: string, s: SeriesStyle) {
  const color = {
    field,
    type: 'nominal',
    title: null,
    sort: s.order,
    scale: { domain: s.order, range: s.colors },
  };
  if (!s.dashes?.some((d) => d.length)) return { color };
  return {
    color,
    strokeDash: {
      field,
      type: 'nominal',
      title: null,
      sort: s.order,
      scale: { domain: s.order, range: s.dashes },
    },
  };
}

/** The options of {@link epochPanelSpec}. */
export interface EpochPanel {
  title: string;
  points: EpochPoint[];
  yTitle: string;
  /** Shared between the panels of a row. */
  yDomain: [number, number];
  colorBy: 'series' | 'run';
  style: SeriesStyle;
}

/** Lines over epochs for one panel, one colour per series, on a given y domain (shared between panels). */
export function epochPanelSpec(o: EpochPanel): TopLevelSpec {
  const epochs = o.points.map((p) => p.epoch);
  return spec({
    title: { text: titleLines([o.title]) },
    ...PANEL,
    data: { values: o.points },
    mark: { type: 'line', point: { size: 14 } },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        axis: { tickMinStep: 1 },
        scale: { domain: [Math.min(...epochs), Math.max(...epochs)], nice: false, padding: 6 },
      },
      y: { field: 'value', type: 'quantitative', title: o.yTitle, scale: { domain: o.yDomain, nice: false } },
      ...styleEncoding(o.colorBy, o.style),
    },
  });
}

/** A metric against ε: the mean over seeds with its interval, one line per series (e.g. with and
 * without temperature scaling), on a zoomed axis (not from 0). */
export interface EpsilonPoint {
  epsilon: number;
  series: string;
  mean: number;
  lo: number;
  hi: number;
}

/** The options of {@link epsilonSpec}. */
export interface EpsilonChart {
  title: string;
  points: EpsilonPoint[];
  yTitle: string;
  /** The metric's colour (PALETTE). */
  color: string;
  /** The series without and with temperature scaling (dashed), in legend order. */
  series: [string, string?];
  /** Their dash patterns; default solid, then {@link SCALED_DASH}. */
  dashes?: [number[], number[]];
  /** The x axis title; default "label smoothing ε". */
  xTitle?: string;
}

/** Mean and interval of a metric at each ε; the series after temperature scaling dashed. */
export function epsilonSpec(o: EpsilonChart): TopLevelSpec {
  const x = {
    field: 'epsilon',
    type: 'quantitative',
    title: o.xTitle ?? 'label smoothing ε',
    scale: {
      domain: paddedDomain(
        o.points.map((p) => p.epsilon),
        0.08,
      ),
    },
  };
  const y = {
    type: 'quantitative',
    title: o.yTitle,
    scale: { domain: paddedDomain(o.points.flatMap((p) => [p.lo, p.hi, p.mean])), nice: false, zero: false },
  };
  const series = o.series.filter((x): x is string => x !== undefined);
  const dash = {
    field: 'series',
    type: 'nominal',
    title: null,
    sort: series,
    scale: { domain: series, range: (o.dashes ?? [[], SCALED_DASH]).slice(0, series.length) },
    legend:
      series.length < 2
        ? null
        : {
            symbolType: 'stroke',
            symbolSize: 300,
            symbolStrokeWidth: 2,
            encode: { symbols: { update: { stroke: { value: o.color } } } },
          },
  };
  return spec({
    title: { text: titleLines([o.title]) },
    ...PANEL,
    data: { values: o.points },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.5, color: o.color, opacity: 0.6 },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, detail: { field: 'series' } },
      },
      {
        mark: { type: 'line', color: o.color, point: { size: 24, color: o.color } },
        encoding: { x, y: { ...y, field: 'mean' }, strokeDash: dash },
      },
    ],
  });
}

/** A risk–coverage curve of one run. */
export interface RiskCurve {
  run: string;
  points: RiskCoveragePoint[];
}

/**
 * Risk of the most confident fraction against that fraction (coverage), one line per run; `order` is
 * every run of the report, so that each keeps its colour when some have no curve.
 */
export function riskCoverageSpec(curves: RiskCurve[], order: string[]): TopLevelSpec {
  const values = curves.flatMap((c) => c.points.map((p) => ({ run: c.run, ...p })));
  const all = runStyles(order);
  const shown = order.map((_, i) => i).filter((i) => curves.some((c) => c.run === order[i]));
  const style = {
    order: shown.map((i) => order[i]),
    colors: shown.map((i) => all.colors[i]),
    dashes: shown.map((i) => all.dashes[i]),
  };
  return spec({
    title: 'Risk–coverage',
    width: 360,
    height: 240,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.8 },
    encoding: {
      x: { field: 'coverage', type: 'quantitative', title: 'coverage', scale: { domain: [0, 1] } },
      y: {
        field: 'risk',
        type: 'quantitative',
        title: 'risk (error rate of the covered)',
        scale: { domain: [0, Math.max(0.01, ...values.map((v) => v.risk)) * 1.05], nice: false },
      },
      ...styleEncoding('run', style),
    },
  });
}

/** Projected penultimate activations of one run. */
export interface ProjectionPanel {
  label: string;
  points: { x: number; y: number; label: string }[];
  templates: { x: number; y: number; label: string }[];
}

/** Müller et al.'s projection of one run on given (shared) axes; templates as black crosses, labelled. */
export function projectionSpec(
  p: ProjectionPanel,
  domain: { x: [number, number]; y: [number, number] },
  classes: string[],
): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative', title: 'e₁', scale: { domain: domain.x, nice: false } };
  const y = { field: 'y', type: 'quantitative', title: 'e₂', scale: { domain: domain.y, nice: false } };
  const size = { width: PANEL.width, height: 230 };
  const fontSize = 10;
  const labels = placeLabels(p.templates, { ...domain, ...size, fontSize });
  return spec({
    title: { text: titleLines([p.label]) },
    ...size,
    layer: [
      {
        data: { values: p.points },
        mark: { type: 'circle', size: 12, opacity: 0.6 },
        encoding: {
          x,
          y,
          color: {
            field: 'label',
            type: 'nominal',
            title: 'class',
            scale: { domain: classes, range: CLASS_COLORS.slice(0, Math.max(1, classes.length)) },
          },
        },
      },
      {
        data: { values: p.templates.map((t) => ({ ...t, name: `template: ${t.label}` })) },
        mark: { type: 'point', shape: 'cross', size: 90, color: PALETTE.template, filled: true },
        encoding: { x, y },
      },
      // Each label beside its template, where it is clear of the other labels and crosses.
      ...labels.map((l) => ({
        data: { values: [l] },
        mark: {
          type: 'text',
          align: l.align,
          baseline: l.baseline,
          dx: l.dx,
          dy: l.dy,
          fontSize,
          fontWeight: 'bold',
          color: PALETTE.template,
        },
        encoding: { x, y, text: { field: 'label' } },
      })),
    ],
  });
}
