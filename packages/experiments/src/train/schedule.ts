// ε schedules of the CLI: the label-smoothing weight of epoch e of E.

/** How ε moves over the epochs: `constant` (ε every epoch), or a decay from ε to ε_final. */
export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;
/** One of {@link SCHEDULES}. */
export type EpsilonSchedule = (typeof SCHEDULES)[number];

/**
 * ε of epoch `epoch` (0-based) of `epochs`, with t = e/(E − 1) (t = 0 when E = 1), so that the first
 * epoch trains with ε₀ and the last with ε_final:
 *
 *     constant  ε₀
 *     linear    ε₀ + (ε_final − ε₀)·t
 *     cosine    ε_final + (ε₀ − ε_final)·(1 + cos πt)/2     (Loshchilov & Hutter 2017's cosine annealing)
 */
export function epsilonAt(
  schedule: EpsilonSchedule,
  epsilon0: number,
  epsilonFinal: number,
  epoch: number,
  epochs: number,
): number {
  if (schedule === 'constant') return epsilon0;
  const t = epochs > 1 ? epoch / (epochs - 1) : 0;
  if (schedule === 'linear') return t === 1 ? epsilonFinal : epsilon0 + (epsilonFinal - epsilon0) * t;
  return epsilonFinal + ((epsilon0 - epsilonFinal) * (1 + Math.cos(Math.PI * t))) / 2;
}
