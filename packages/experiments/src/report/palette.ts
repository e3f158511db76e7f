// The report's colours: one colour per meaning, the same in every chart of every report, and no colour
// with two meanings. Runs (ε settings, losses) are the one open-ended set: they take RUN_COLORS in order,
// and past those the colours come round again with a dotted or dash-dotted line, so that every run still
// has a look of its own (a plain dashed line is kept for "after temperature scaling").

/** Fixed meanings. */
export const PALETTE = {
  /** Observed accuracy: reliability bars, accuracy against ε. */
  accuracy: '#4c78a8',
  /** Accuracy smoothed over confidence: the smooth-ECE reliability curve and its band. */
  smoothAccuracy: '#f58518',
  /** Mean confidence and its gap to accuracy: reliability dots and rules, ECE against ε. */
  confidence: '#e45756',
  /** Test examples: confidence histograms. */
  examples: '#72b7b2',
  /** Perfect calibration: the reliability diagonal. */
  reference: '#888888',
  /** Last-layer templates of the projection. */
  template: '#000000',
  /** Cross-entropy to the labels: NLL against ε, the H(p,q) part of the loss (and its focal and OLS forms). */
  nll: '#54a24b',
  /** Cross-entropy to the smoothing distribution: the H(u,q) part of the loss. */
  smoothing: '#b279a2',
  /** Entropy of the prediction: the H(q) part of the confidence penalty. */
  entropy: '#9d755d',
} as const;

/** Runs, in the report's order. */
export const RUN_COLORS = ['#5e3c99', '#c51b7d', '#e0a100', '#fb9a99'] as const;

/** Classes of the projection (it shows three). */
export const CLASS_COLORS = ['#17becf', '#bcbd22', '#f7a1c4'] as const;

/** Line styles of runs past the colours: solid, then dotted, then dash-dotted, … (never the dashes above). */
const RUN_DASHES: number[][] = [[], [1, 3], [6, 3, 1, 3], [1, 2, 1, 2, 6, 2]];

/** Dash pattern of "after temperature scaling". */
export const SCALED_DASH = [6, 4];

/** Dash pattern of a distilled student (its teacher's line is solid). */
export const STUDENT_DASH = [2, 2];

/** The colour and dash pattern of each run, by its place in `runs`. */
export function runStyles(runs: string[]): { colors: string[]; dashes: number[][] } {
  const n = RUN_COLORS.length;
  return {
    colors: runs.map((_, i) => RUN_COLORS[i % n]),
    dashes: runs.map((_, i) => {
      const round = Math.floor(i / n);
      return RUN_DASHES[round] ?? [1, 2 + round];
    }),
  };
}

/** Every colour of the table, for tests: no two meanings share one. */
export const ALL_COLORS: string[] = [...Object.values(PALETTE), ...RUN_COLORS, ...CLASS_COLORS];
