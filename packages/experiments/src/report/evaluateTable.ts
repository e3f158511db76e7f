// The table of an evaluate run (the console and the HTML report print the same rows): every metric with its
// bootstrap interval, and a note when an interval misses its own estimate.
import type { BootstrapMetric, CalibrationReport } from 'labelsmooth';

/** The header of the interval column: `95 % interval`, or empty without a bootstrap. */
export function intervalHeader(r: CalibrationReport): string {
  return r.bootstrap ? `${Math.round(r.bootstrap.level * 100)} % interval` : '';
}

/** The table of `evaluate`: one metric a row, with its bootstrap interval when there is one. */
export function tableRows(
  r: CalibrationReport,
  rows: number,
  classes: number,
  from: string,
  bins: number,
): string[][] {
  const line = (label: string, value: number, metric?: BootstrapMetric): string[] => {
    const iv = metric && r.intervals?.[metric];
    if (!iv) return [label, value.toFixed(4), ''];
    const outside = value < iv[0] || value > iv[1] ? ` ${OUTSIDE_MARK}` : '';
    return [label, value.toFixed(4), `[${iv[0].toFixed(4)}, ${iv[1].toFixed(4)}]${outside}`];
  };
  const ignored = r.ignored > 0 ? `, ${r.ignored} ignored` : '';
  return [
    ['rows × classes', `${rows} × ${classes} (${from}${ignored})`, ''],
    line('accuracy', r.accuracy, 'accuracy'),
    line('NLL', r.nll, 'nll'),
    line('Brier', r.brier, 'brier'),
    line(`ECE (${bins} bins)`, r.ece, 'ece'),
    ...debiasedRow(r, bins, line),
    line(`smooth ECE (σ = ${r.smoothEceBandwidth.toFixed(4)})`, r.smoothEce, 'smoothEce'),
    line(`classwise ECE (${bins} bins)`, r.classwiseEce, 'classwiseEce'),
    line('AURC', r.aurc, 'aurc'),
    line('MCE', r.mce),
    line('RMSCE', r.rmsce),
    line('adaptive ECE', r.adaptiveEce),
    line('mean confidence', r.meanConfidence),
    line('over-confidence', r.overconfidence),
    line('mean entropy', r.meanEntropy),
  ];
}

/** The debiased ECE's row, when the report has it (one written by an older version may not). */
export function debiasedRow<T>(
  r: CalibrationReport,
  bins: number,
  line: (label: string, value: number, metric?: BootstrapMetric) => T,
): T[] {
  return Number.isFinite(r.debiasedEce)
    ? [line(`${DEBIASED_NAME} (${bins} bins)`, r.debiasedEce, 'debiasedEce')]
    : [];
}

/** The name the tables give the debiased ℓ2 ECE. */
export const DEBIASED_NAME = 'debiased ECE (ℓ2)';

/** Marks an interval that does not contain its own estimate (see {@link bootstrapNote}). */
export const OUTSIDE_MARK = '(*)';

/**
 * Why an interval can miss its own estimate: a binned ECE (or any calibration error) of a resample is
 * biased upward — resampling adds noise to every bin's gap, and |gap| only grows with noise — so where
 * the error is small the whole percentile interval can lie above the estimate. The debiased ECE
 * subtracts that bias.
 */
export const OUTSIDE_WHY =
  "(*) the interval lies outside its estimate: a calibration error recomputed on resampled rows is biased upward (noise only widens each bin's |accuracy − confidence|), most where the error is small; the debiased ECE (Kumar, Liang & Ma 2019) subtracts that bias and is the one to read there";

/** Whether some interval of `r` does not contain its own estimate. */
export function missesEstimate(r: CalibrationReport): boolean {
  return Object.entries(r.intervals ?? {}).some(([m, iv]) => {
    const v = r[m as BootstrapMetric];
    return iv !== undefined && (v < iv[0] || v > iv[1]);
  });
}

/** The lines under the table: how the intervals were made, and why one misses its estimate. */
export function bootstrapNote(r: CalibrationReport, requested: number): string {
  if (!r.bootstrap)
    return requested > 0 ? 'intervals: none (a bootstrap needs at least 2 scored rows)\n' : '';
  const { resamples, seed } = r.bootstrap;
  const outside = missesEstimate(r);
  return `intervals: percentile bootstrap, ${resamples} resamples of the ${r.rows} rows, seed ${seed}\n${outside ? `${OUTSIDE_WHY}\n` : ''}`;
}
