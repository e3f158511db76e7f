// The label-smoothing family in the trainer: which loss a run trains with, its parameters and their rules.
import type { TfCrossEntropyOptions } from 'labelsmooth/tfjs';
import { TrainConfigError } from './configError.js';
import { type EpsilonSchedule, SCHEDULES } from './schedule.js';

/**
 * The losses: `ce` plain cross-entropy (ε = 0); `ls` label smoothing (ε); `cp` confidence penalty −β·H(q)
 * (Pereyra et al. 2017); `focal` focal loss (γ, α; Lin et al. 2017); `flsd-53` focal loss with γ = 5 where
 * q_y < 0.2, else 3 (Mukhoti et al. 2020); `ols` online label smoothing, u(·|y) = S[y] learned from the
 * previous epoch's correct predictions (Zhang et al. 2021). All but `ce` combine with label smoothing ε.
 */
export const LOSSES = ['ce', 'ls', 'cp', 'focal', 'flsd-53', 'ols'] as const;
/** One of {@link LOSSES}. */
export type LossName = (typeof LOSSES)[number];

/** The loss settings of a training configuration (`TrainConfig` extends them). */
export interface LossSettings {
  /** ε: the label-smoothing weight (the first epoch's, with a schedule). */
  epsilon: number;
  noise: string;
  /** The loss; absent = label smoothing with ε, exactly as before the option existed. */
  loss?: LossName;
  /** β of loss `cp`. */
  confidencePenalty?: number;
  /** γ of loss `focal`. */
  focalGamma?: number;
  /** α of the focal losses (default 1). */
  focalAlpha?: number;
  /** ε per epoch: absent = constant; `linear` / `cosine` go from `epsilon` to `epsilonFinal`. */
  epsilonSchedule?: EpsilonSchedule;
  epsilonFinal?: number;
}

/** A parameter of the family's losses: its flag, symbol, meaning, range, default and the losses it shapes. */
export interface LossParameter {
  /** The command-line flag, e.g. `--focal-gamma`. */
  flag: string;
  /** Its symbol in formulas, run labels (`γ=3`) and `--help` (`<γ>`). */
  symbol: string;
  /** Its symbol spelled in ASCII, the prefix of its value in run directory names (`gamma2`). */
  nameTag: string;
  /** One line for `--help`. */
  help: string;
  /** What the value is, for messages ("the focusing exponent γ"). */
  what: string;
  /** The range [min, max], or (min, max] when `open`. */
  min: number;
  max: number;
  open: boolean;
  /** The value when the flag is not given. */
  default: number;
  /** The losses that take it. */
  losses: readonly LossName[];
  /** Losses that cannot run without it (the others use the library's default when it is absent). */
  requiredBy: readonly LossName[];
}

/**
 * The one table of the family's parameters: the CLI's flags, their help, ranges and defaults, the
 * configuration checks and which options each loss passes to the library are all read from it.
 * `olsEpsilon` is the ε of `ols` runs in `compare` and `sweep` (a run's configuration stores it as ε).
 */
export const LOSS_PARAMETERS = {
  confidencePenalty: {
    flag: '--confidence-penalty',
    symbol: 'β',
    nameTag: 'beta',
    help: 'β of loss cp: loss − β·H(q)',
    what: 'the confidence penalty β',
    min: 0,
    max: 100,
    open: false,
    default: 0.1,
    losses: ['cp'],
    requiredBy: ['cp'],
  },
  focalGamma: {
    flag: '--focal-gamma',
    symbol: 'γ',
    nameTag: 'gamma',
    help: 'γ of loss focal: −α·Σ p′·(1 − q)^γ·log q',
    what: 'the focusing exponent γ',
    min: 0,
    max: 100,
    open: false,
    default: 3,
    losses: ['focal'],
    requiredBy: ['focal'],
  },
  focalAlpha: {
    flag: '--focal-alpha',
    symbol: 'α',
    nameTag: 'alpha',
    help: 'α of losses focal and flsd-53',
    what: 'the focal factor α',
    min: 0,
    max: 100,
    open: true,
    default: 1,
    losses: ['focal', 'flsd-53'],
    requiredBy: [],
  },
  olsEpsilon: {
    flag: '--ols-epsilon',
    symbol: 'ε',
    nameTag: 'ols',
    help: 'ε of loss ols: weight of the learned soft labels S[y]',
    what: 'the ε of ols',
    min: 0,
    max: 1,
    open: true,
    default: 0.5,
    losses: ['ols'],
    requiredBy: [],
  },
} as const satisfies Record<string, LossParameter>;

/** The name of a {@link LOSS_PARAMETERS} entry. */
export type LossParameterName = keyof typeof LOSS_PARAMETERS;

/** The parameters a run's configuration stores (the others become ε). */
export const CONFIG_PARAMETERS = ['confidencePenalty', 'focalGamma', 'focalAlpha'] as const;

/** The ε schedule's flags. */
const SCHEDULE_FLAG = { epsilonFinal: '--epsilon-final', epsilonSchedule: '--epsilon-schedule' } as const;

/** Whether `v` is in the parameter's range. */
export function inRange(p: LossParameter, v: unknown): v is number {
  return typeof v === 'number' && (p.open ? v > p.min : v >= p.min) && v <= p.max;
}

/** The range as text: `[0, 100]` or `(0, 100]`. */
export function rangeText(p: LossParameter): string {
  return `${p.open ? '(' : '['}${p.min}, ${p.max}]`;
}

/** The library options a loss sets besides its parameters (FLSD-53 is the focal loss with γ chosen per row). */
const FIXED_OPTIONS: Partial<Record<LossName, Pick<TfCrossEntropyOptions, 'focalGamma'>>> = {
  'flsd-53': { focalGamma: 'flsd-53' },
};

const bad = (problem: string): never => {
  throw new TrainConfigError(problem);
};

/** Each parameter given belongs to the loss and is in range; the loss's required ones are given. */
function checkParameters(c: LossSettings, loss: LossName): void {
  for (const key of CONFIG_PARAMETERS) {
    const p: LossParameter = LOSS_PARAMETERS[key];
    const v = c[key];
    if (v !== undefined && !p.losses.includes(loss)) bad(`${p.flag} ${v} does not apply to loss '${loss}'`);
    if (v === undefined && !p.requiredBy.includes(loss)) continue;
    if (!inRange(p, v)) bad(`loss '${loss}' needs ${p.what} in ${rangeText(p)} (${p.flag}), got ${v}`);
  }
}

/**
 * Check the loss and schedule settings of a configuration: a known loss, only its own parameters, each in
 * range ({@link LOSS_PARAMETERS}), ε = 0 for `ce`, ε > 0 and uniform noise for `ols` (S replaces the
 * noise). Throws {@link TrainConfigError} naming the setting; a parameter that would be ignored is an error
 * too.
 */
export function checkLossConfig(c: LossSettings): void {
  const loss = c.loss ?? 'ls';
  if (!(LOSSES as readonly string[]).includes(loss))
    bad(`unknown loss '${loss}' (expected one of ${LOSSES.join(', ')})`);
  if (!(c.epsilon >= 0 && c.epsilon <= 1)) bad(`ε = ${c.epsilon} is not in [0, 1]`);
  checkParameters(c, loss);
  const schedule = c.epsilonSchedule ?? 'constant';
  if (!(SCHEDULES as readonly string[]).includes(schedule))
    bad(`unknown ε schedule '${schedule}' (expected ${SCHEDULES.join(', ')})`);
  if (schedule === 'constant' && c.epsilonFinal !== undefined)
    bad(
      `${SCHEDULE_FLAG.epsilonFinal} ${c.epsilonFinal} needs ${SCHEDULE_FLAG.epsilonSchedule} linear or cosine`,
    );
  if (
    schedule !== 'constant' &&
    !(typeof c.epsilonFinal === 'number' && c.epsilonFinal >= 0 && c.epsilonFinal <= 1)
  )
    bad(`${SCHEDULE_FLAG.epsilonFinal} must be in [0, 1], got ${c.epsilonFinal}`);
  if (loss === 'ce' && (c.epsilon !== 0 || schedule !== 'constant'))
    bad(
      `loss 'ce' is plain cross-entropy: ε must be 0 without a schedule (got ε = ${c.epsilon}, ${schedule}); use loss 'ls' to smooth`,
    );
  if (loss === 'ols' && c.epsilon === 0)
    bad(`loss 'ols' needs ε > 0: ε is the weight of the learned soft labels S[y] (the paper's 1 − α = 0.5)`);
  if (loss === 'ols' && c.noise !== 'uniform')
    bad(`loss 'ols' learns its noise S[y]: --noise must be uniform, got ${c.noise}`);
}

/**
 * The options a loss adds to `softmaxCrossEntropy` (besides ε and the noise): its parameters of the
 * configuration that are set, and its fixed options (none for ce, ls and ols).
 */
export function lossOptions(
  c: LossSettings,
): Pick<TfCrossEntropyOptions, 'confidencePenalty' | 'focalGamma' | 'focalAlpha'> {
  const loss = c.loss ?? 'ls';
  const out: Pick<TfCrossEntropyOptions, 'confidencePenalty' | 'focalGamma' | 'focalAlpha'> = {};
  for (const key of CONFIG_PARAMETERS) {
    const p: LossParameter = LOSS_PARAMETERS[key];
    if (p.losses.includes(loss) && (c[key] !== undefined || p.requiredBy.includes(loss))) out[key] = c[key];
  }
  return { ...out, ...FIXED_OPTIONS[loss] };
}

/** Cross-entropy with or without label smoothing: Müller et al.'s baseline and label smoothing. */
const CROSS_ENTROPY_LOSSES: readonly LossName[] = ['ce', 'ls'];

/** The focal losses (their parts are F(p) and F(u)). */
const FOCAL_LOSSES: readonly LossName[] = ['focal', 'flsd-53'];

/**
 * Whether a run trains cross-entropy with or without smoothing (`ce`, `ls`, or no loss: label smoothing
 * with ε): the runs the report reads in Müller et al.'s terms and whose temperature-scaled twin it shows.
 */
export function isCrossEntropyLoss(loss: LossName | undefined): boolean {
  return loss === undefined || CROSS_ENTROPY_LOSSES.includes(loss);
}

/** Focal losses report F(p) and F(u) in place of H(p,q) and H(u,q). */
export function isFocal(c: Pick<LossSettings, 'loss'>): boolean {
  return c.loss !== undefined && FOCAL_LOSSES.includes(c.loss);
}

/**
 * Plain cross-entropy: no regularizer at all (ε = 0 throughout, loss absent, ce or ls). Only these runs get
 * the temperature-scaling baseline.
 */
export function isPlainCrossEntropy(c: LossSettings): boolean {
  const constant = (c.epsilonSchedule ?? 'constant') === 'constant' || c.epsilonFinal === 0;
  return isCrossEntropyLoss(c.loss) && c.epsilon === 0 && constant;
}

/**
 * Runs whose temperature-scaled twin is reported (Müller et al.'s Table 3: the baseline and label smoothing,
 * each + temperature scaling): cross-entropy with or without smoothing. The other regularizers are compared
 * as trained.
 */
export function fitsTemperature(c: LossSettings): boolean {
  return isCrossEntropyLoss(c.loss);
}
