// The reliability diagrams and confidence histograms of a report (compare, distill, evaluate): one panel
// per model or group of seeds, with the note that says how to read them.
import type { CalibrationBin } from 'labelsmooth';
import { confidenceHistogramSpec, type Reliability, reliabilitySpec } from './charts.js';
import { panels, section } from './html.js';
import { MIN_EFFECTIVE_EXAMPLES } from './smoothCurve.js';
import { toSvg } from './svg.js';

/**
 * Reliability bins of several seeds as one panel with per-seed counts: count = mean over seeds of the
 * bin's count (so the bins add up to the test set, not to seeds × test set); accuracy and confidence are
 * count-weighted means over the seeds.
 */
export function meanBins(sets: CalibrationBin[][]): CalibrationBin[] {
  return sets[0].map((b, i) => {
    const total = sets.reduce((a, s) => a + s[i].count, 0);
    const w = (k: 'accuracy' | 'confidence') =>
      total ? sets.reduce((a, s) => a + (s[i][k] ?? 0) * s[i].count, 0) / total : null;
    return {
      lo: b.lo,
      hi: b.hi,
      count: total / sets.length,
      accuracy: w('accuracy'),
      confidence: w('confidence'),
    };
  });
}

/** How to read the diagrams: bars, dots, the smooth curve when there is one, and the pooling of seeds. */
export function reliabilityNote(rel: Reliability[], seeds: number): string {
  const bins = rel[0]?.bins.length ?? 0;
  const band = rel.some((p) => p.smooth?.some((q) => q.lo !== undefined && q.hi !== undefined));
  const smooth = rel.some((p) => p.smooth)
    ? ` Orange: the smooth-ECE reliability curve (Błasiok & Nakkiran 2024)${seeds > 1 ? ' of the first seed' : ''}${band ? ', with its 95 % bootstrap band' : ''}, faded by the density of confidences; it is left out below 1/K (no top-label confidence is lower) and where fewer than ${MIN_EFFECTIVE_EXAMPLES} examples carry its kernel average.`
    : '';
  const pooled =
    seeds > 1
      ? ` Bins pool the ${seeds} seeds' predictions; the histograms below give the examples per seed.`
      : '';
  return `Bars: accuracy in each of ${bins} confidence bins, faded by how few examples the bin holds (opacity ∝ √count); red dots: the bin's mean confidence, joined to the bar by the gap. Bars below the diagonal mean over-confidence, above it under-confidence.${smooth}${pooled}`;
}

/** The "Reliability diagrams" and "Confidence histograms" sections (histograms on one shared scale). */
export async function reliabilitySections(rel: Reliability[], seeds: number): Promise<string> {
  if (!rel.length) return '';
  const yMax = Math.max(...rel.flatMap((p) => p.bins.map((b) => b.count)));
  const hist = await Promise.all(rel.map((p) => toSvg(confidenceHistogramSpec(p, yMax))));
  return (
    section(
      rel.length > 1 ? 'Reliability diagrams' : 'Reliability diagram',
      reliabilityNote(rel, seeds),
      panels(await Promise.all(rel.map((p) => toSvg(reliabilitySpec(p))))),
    ) +
    section(
      rel.length > 1 ? 'Confidence histograms' : 'Confidence histogram',
      `Test examples per confidence bin${seeds > 1 ? ` (per seed: the mean over the ${seeds} seeds)` : ''}, on one linear scale from 0.`,
      panels(hist),
    )
  );
}
