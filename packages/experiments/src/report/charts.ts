// Vega-Lite specs of the report's charts. Each takes plain rows, so the data can come from any run type.

import type { CalibrationBin } from 'labelsmooth';
import type { TopLevelSpec } from 'vega-lite';

const PANEL = { width: 220, height: 200 };
const CONFIG = {
  font: 'system-ui, sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelLimit: 400 }, // class names are shown whole
};
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One labelled set of reliability bins. */
export interface Reliability {
  label: string;
  bins: CalibrationBin[];
}

/**
 * Reliability diagrams side by side: per bin, accuracy (bar) against the mean confidence (red tick), the
 * diagonal of perfect calibration, and the number of examples in the bin above the bar.
 */
export function reliabilitySpec(panels: Reliability[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    config: CONFIG,
    hconcat: panels.map((p) => {
      const values = p.bins.filter((b) => b.count > 0).map((b) => ({ ...b, mid: (b.lo + b.hi) / 2 }));
      return {
        title: p.label,
        ...PANEL,
        layer: [
          {
            data: { values },
            mark: { type: 'bar', color: '#4c78a8', opacity: 0.85, binSpacing: 1 },
            encoding: {
              x: { field: 'lo', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } },
              x2: { field: 'hi' },
              y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
              y2: { datum: 0 },
              tooltip: [{ field: 'count', type: 'quantitative' }],
            },
          },
          {
            data: { values },
            mark: { type: 'tick', color: '#e45756', thickness: 2, orient: 'horizontal' },
            encoding: {
              x: { field: 'mid', type: 'quantitative' },
              y: { field: 'confidence', type: 'quantitative' },
            },
          },
          {
            data: {
              values: [
                { x: 0, y: 0 },
                { x: 1, y: 1 },
              ],
            },
            mark: { type: 'line', color: '#999', strokeDash: [4, 3], clip: true },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
          },
          {
            data: { values },
            mark: { type: 'text', dy: -6, fontSize: 8, color: '#333' },
            encoding: {
              x: { field: 'mid', type: 'quantitative' },
              y: { field: 'accuracy', type: 'quantitative' },
              text: { field: 'count', type: 'quantitative' },
            },
          },
        ],
      };
    }),
  } as TopLevelSpec;
}

/** Histograms of top-label confidence, one panel per run (the counts of the reliability bins). */
export function confidenceHistogramSpec(panels: Reliability[]): TopLevelSpec {
  const values = panels.flatMap((p) =>
    p.bins.map((b) => ({ run: p.label, lo: b.lo, hi: b.hi, count: b.count })),
  );
  return {
    $schema: SCHEMA,
    config: CONFIG,
    data: { values },
    facet: { column: { field: 'run', type: 'nominal', title: null, sort: panels.map((p) => p.label) } },
    spec: {
      ...PANEL,
      mark: { type: 'bar', color: '#72b7b2' },
      encoding: {
        x: { field: 'lo', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } },
        x2: { field: 'hi' },
        y: { field: 'count', type: 'quantitative', title: 'examples', scale: { type: 'sqrt' } },
      },
    },
  } as TopLevelSpec;
}

/** One value of one series at one epoch. */
export interface EpochPoint {
  run: string;
  epoch: number;
  series: string;
  value: number;
}

/** Lines over epochs, one panel per `facet` value, one color per `series`. */
export function epochCurvesSpec(
  points: EpochPoint[],
  facet: 'run' | 'series',
  title: string,
  order: string[],
): TopLevelSpec {
  const color = facet === 'run' ? 'series' : 'run';
  return {
    $schema: SCHEMA,
    config: CONFIG,
    data: { values: points },
    facet: { column: { field: facet, type: 'nominal', title: null, sort: order } },
    spec: {
      ...PANEL,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title },
        color: { field: color, type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: facet === 'series' ? 'independent' : 'shared' } },
  } as TopLevelSpec;
}

/** Projected penultimate activations of one run. */
export interface ProjectionPanel {
  label: string;
  points: { x: number; y: number; label: string }[];
  templates: { x: number; y: number; label: string }[];
}

/** Müller et al.'s projection, one scatter per run; templates drawn as black crosses. */
export function projectionSpec(panels: ProjectionPanel[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    config: CONFIG,
    hconcat: panels.map((p) => ({
      title: p.label,
      ...PANEL,
      layer: [
        {
          data: { values: p.points },
          mark: { type: 'circle', size: 12, opacity: 0.6 },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: 'e₁', scale: { zero: false } },
            y: { field: 'y', type: 'quantitative', title: 'e₂', scale: { zero: false } },
            color: { field: 'label', type: 'nominal', title: 'class' },
          },
        },
        {
          data: { values: p.templates },
          mark: { type: 'point', shape: 'cross', size: 90, color: 'black', filled: true },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
      ],
    })),
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}
