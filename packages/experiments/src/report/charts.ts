// Vega-Lite specs of the report's charts. One spec per panel: the page lays panels out with CSS
// (flex-wrap), so rows of panels wrap at any page width instead of running off the page. Every data mark
// lies inside its scale's domain (explicit domains, no clipping needed); the browser test checks it.

import type { CalibrationBin } from 'labelsmooth';
import type { TopLevelSpec } from 'vega-lite';
import type { RiskCoveragePoint, SmoothCurvePoint } from '../train/analysis.js';

const PANEL = { width: 230, height: 200 };
const CONFIG = {
  font: 'system-ui, sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelLimit: 400, orient: 'bottom', direction: 'vertical' }, // class names are shown whole
  title: { fontSize: 12, limit: 320 },
};
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const spec = (s: Record<string, unknown>) => ({ $schema: SCHEMA, config: CONFIG, ...s }) as TopLevelSpec;

/** One reliability panel: bins holding per-seed counts, and the smooth-ECE curve when there is one. */
export interface Reliability {
  /** The run (for the histogram title). */
  label: string;
  /** Panel title, e.g. "ε=0 · ECE 0.085 [0.079, 0.091]". */
  title: string;
  bins: CalibrationBin[];
  smooth?: SmoothCurvePoint[];
}

/**
 * A reliability diagram: per bin, accuracy (bar, opacity ∝ √count so that bins of a handful of examples
 * fade), the bin's mean confidence (red dot) joined to the bar top by the gap (red rule), the diagonal of
 * perfect calibration, and the smooth-ECE curve (orange) with its band.
 */
export function reliabilitySpec(p: Reliability): TopLevelSpec {
  const max = Math.max(1, ...p.bins.map((b) => b.count));
  const values = p.bins
    .filter((b) => b.count > 0)
    .map((b) => ({ ...b, mid: (b.lo + b.hi) / 2, alpha: 0.12 + 0.88 * Math.sqrt(b.count / max) }));
  const unit = { type: 'quantitative', scale: { domain: [0, 1] } } as const;
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      mark: { type: 'rect', color: '#4c78a8' },
      encoding: {
        x: { field: 'lo', ...unit, title: 'confidence' },
        x2: { field: 'hi' },
        y: { field: 'accuracy', ...unit, title: 'accuracy' },
        y2: { datum: 0 },
        opacity: { field: 'alpha', type: 'quantitative', scale: null },
      },
    },
    {
      data: {
        values: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
      mark: { type: 'line', color: '#888', strokeDash: [4, 3] },
      encoding: { x: { field: 'x', ...unit }, y: { field: 'y', ...unit } },
    },
    {
      data: { values },
      mark: { type: 'rule', color: '#e45756', strokeWidth: 2 },
      encoding: {
        x: { field: 'mid', ...unit },
        y: { field: 'accuracy', ...unit },
        y2: { field: 'confidence' },
        opacity: { field: 'alpha', type: 'quantitative', scale: null },
      },
    },
    {
      data: { values },
      mark: { type: 'circle', color: '#e45756', size: 18 },
      encoding: {
        x: { field: 'mid', ...unit },
        y: { field: 'confidence', ...unit },
        opacity: { field: 'alpha', type: 'quantitative', scale: null },
      },
    },
  ];
  if (p.smooth?.length) {
    const curve = p.smooth.map((c) => ({
      t: c.t,
      accuracy: clamp01(c.accuracy),
      lo: clamp01(c.lo ?? c.accuracy),
      hi: clamp01(c.hi ?? c.accuracy),
    }));
    if (p.smooth.some((c) => c.lo !== undefined && c.hi !== undefined))
      layers.push({
        data: { values: curve },
        mark: { type: 'area', color: '#f58518', opacity: 0.25 },
        encoding: { x: { field: 't', ...unit }, y: { field: 'lo', ...unit }, y2: { field: 'hi' } },
      });
    layers.push({
      data: { values: curve },
      mark: { type: 'line', color: '#f58518', strokeWidth: 2 },
      encoding: { x: { field: 't', ...unit }, y: { field: 'accuracy', ...unit } },
    });
  }
  return spec({ title: p.title, ...PANEL, layer: layers });
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Histogram of top-label confidence: examples per bin (per seed), bars from 0, a shared y maximum. */
export function confidenceHistogramSpec(p: Reliability, yMax: number): TopLevelSpec {
  const values = p.bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count }));
  return spec({
    title: p.label,
    ...PANEL,
    height: 150,
    data: { values },
    mark: { type: 'rect', color: '#72b7b2', stroke: 'white', strokeWidth: 0.5 },
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

/** Lines over epochs for one panel, one color per series, on a given y domain (shared between panels). */
export function epochPanelSpec(
  title: string,
  points: EpochPoint[],
  yTitle: string,
  yDomain: [number, number],
  colorBy: 'series' | 'run',
  order: string[],
): TopLevelSpec {
  const epochs = points.map((p) => p.epoch);
  return spec({
    title,
    ...PANEL,
    data: { values: points },
    mark: { type: 'line', point: { size: 14 } },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        axis: { tickMinStep: 1 },
        scale: { domain: [Math.min(...epochs), Math.max(...epochs)], nice: false, padding: 6 },
      },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { domain: yDomain, nice: false } },
      color: { field: colorBy, type: 'nominal', title: null, sort: order },
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

/** Mean and interval of a metric at each ε. */
export function epsilonSpec(title: string, points: EpsilonPoint[], yTitle: string): TopLevelSpec {
  const x = {
    field: 'epsilon',
    type: 'quantitative',
    title: 'label smoothing ε',
    scale: {
      domain: paddedDomain(
        points.map((p) => p.epsilon),
        0.08,
      ),
    },
  };
  const y = {
    type: 'quantitative',
    title: yTitle,
    scale: { domain: paddedDomain(points.flatMap((p) => [p.lo, p.hi, p.mean])), nice: false, zero: false },
  };
  const color = { field: 'series', type: 'nominal', title: null };
  return spec({
    title,
    ...PANEL,
    data: { values: points },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
      },
      { mark: { type: 'line', point: { size: 24 } }, encoding: { x, y: { ...y, field: 'mean' }, color } },
    ],
  });
}

/** A risk–coverage curve of one run. */
export interface RiskCurve {
  run: string;
  points: RiskCoveragePoint[];
}

/** Risk of the most confident fraction against that fraction (coverage), one line per run. */
export function riskCoverageSpec(curves: RiskCurve[], order: string[]): TopLevelSpec {
  const values = curves.flatMap((c) => c.points.map((p) => ({ run: c.run, ...p })));
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
      color: { field: 'run', type: 'nominal', title: null, sort: order },
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
  const templates = p.templates.map((t) => ({ ...t, name: `template: ${t.label}` }));
  const mid = (domain.x[0] + domain.x[1]) / 2;
  return spec({
    title: p.label,
    ...PANEL,
    height: 230,
    layer: [
      {
        data: { values: p.points },
        mark: { type: 'circle', size: 12, opacity: 0.6 },
        encoding: {
          x,
          y,
          color: { field: 'label', type: 'nominal', title: 'class', scale: { domain: classes } },
        },
      },
      {
        data: { values: templates },
        mark: { type: 'point', shape: 'cross', size: 90, color: 'black', filled: true },
        encoding: { x, y },
      },
      // Labels run from the template toward the middle of the plot, at most 100 px, so they stay inside.
      ...(['left', 'right'] as const).map((align) => ({
        data: { values: templates.filter((t) => t.x < mid === (align === 'left')) },
        mark: { type: 'text', align, dy: -10, fontSize: 10, fontWeight: 'bold', color: 'black', limit: 100 },
        encoding: { x, y, text: { field: 'label' } },
      })),
    ],
  });
}
