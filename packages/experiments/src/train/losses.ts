// The label-smoothing family in the trainer (issue #14): which loss a run trains with and its parameters.
import type { TfCrossEntropyOptions } from 'labelsmooth/tfjs';
import { TrainConfigError } from './configError.js';
import { type EpsilonSchedule, SCHEDULES } from './schedule.js';

/**
 * The losses: `ce` plain cross-entropy (ε = 0); `ls` label smoothing (ε); `cp` confidence penalty −β·H(q)
 * (Pereyra et al. 2017); `focal` focal loss (γ, α; Lin et al. 2017); `flsd53` focal loss with γ = 5 where
 * q_y < 0.2, else 3 (Mukhoti et al. 2020); `ols` online label smoothing, u(·|y) = S[y] learned from the
 * previous epoch's correct predictions (Zhang et al. 2021). All but `ce` combine with label smoothing ε.
 */
export const LOSSES = ['ce', 'ls', 'cp', 'focal', 'flsd53', 'ols'] as const;
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

/** The parameters each loss takes (besides ε). */
const PARAMETERS: Record<LossName, readonly string[]> = {
  ce: [],
  ls: [],
  cp: ['confidencePenalty'],
  focal: ['focalGamma', 'focalAlpha'],
  flsd53: ['focalAlpha'],
  ols: [],
};

const FLAG: Record<string, string> = {
  confidencePenalty: '--confidence-penalty',
  focalGamma: '--focal-gamma',
  focalAlpha: '--focal-alpha',
  epsilonFinal: '--epsilon-final',
  epsilonSchedule: '--epsilon-schedule',
};

const bad = (problem: string): never => {
  throw new TrainConfigError(problem);
};

/**
 * Check the loss and schedule settings of a configuration: a known loss, only its own parameters, each in
 * range, ε = 0 for `ce`, ε > 0 and uniform noise for `ols` (S replaces the noise). Throws
 * {@link TrainConfigError} naming the setting; a parameter that would be ignored is an error too.
 */
export function checkLossConfig(c: LossSettings): void {
  const loss = c.loss ?? 'ls';
  if (!(LOSSES as readonly string[]).includes(loss))
    bad(`unknown loss '${loss}' (expected one of ${LOSSES.join(', ')})`);
  if (!(c.epsilon >= 0 && c.epsilon <= 1)) bad(`ε = ${c.epsilon} is not in [0, 1]`);
  for (const key of ['confidencePenalty', 'focalGamma', 'focalAlpha'] as const)
    if (c[key] !== undefined && !PARAMETERS[loss].includes(key))
      bad(`${FLAG[key]} ${c[key]} does not apply to loss '${loss}'`);
  if (
    loss === 'cp' &&
    !(typeof c.confidencePenalty === 'number' && c.confidencePenalty >= 0 && c.confidencePenalty < Infinity)
  )
    bad(`loss 'cp' needs a confidence penalty β ≥ 0, got ${c.confidencePenalty}`);
  if (loss === 'focal' && !(typeof c.focalGamma === 'number' && c.focalGamma >= 0 && c.focalGamma < Infinity))
    bad(`loss 'focal' needs γ ≥ 0 (--focal-gamma), got ${c.focalGamma}`);
  if (c.focalAlpha !== undefined && !(c.focalAlpha > 0 && c.focalAlpha < Infinity))
    bad(`--focal-alpha must be > 0, got ${c.focalAlpha}`);
  const schedule = c.epsilonSchedule ?? 'constant';
  if (!(SCHEDULES as readonly string[]).includes(schedule))
    bad(`unknown ε schedule '${schedule}' (expected ${SCHEDULES.join(', ')})`);
  if (schedule === 'constant' && c.epsilonFinal !== undefined)
    bad(`${FLAG.epsilonFinal} ${c.epsilonFinal} needs ${FLAG.epsilonSchedule} linear or cosine`);
  if (
    schedule !== 'constant' &&
    !(typeof c.epsilonFinal === 'number' && c.epsilonFinal >= 0 && c.epsilonFinal <= 1)
  )
    bad(`${FLAG.epsilonFinal} must be in [0, 1], got ${c.epsilonFinal}`);
  if (loss === 'ce' && (c.epsilon !== 0 || schedule !== 'constant'))
    bad(
      `loss 'ce' is plain cross-entropy: ε must be 0 without a schedule (got ε = ${c.epsilon}, ${schedule}); use loss 'ls' to smooth`,
    );
  if (loss === 'ols' && c.epsilon === 0)
    bad(`loss 'ols' needs ε > 0: ε is the weight of the learned soft labels S[y] (the paper's 1 − α = 0.5)`);
  if (loss === 'ols' && c.noise !== 'uniform')
    bad(`loss 'ols' learns its noise S[y]: --noise must be uniform, got ${c.noise}`);
}

/** The options a loss adds to `softmaxCrossEntropy` (besides ε and the noise): none for ce, ls and ols. */
export function lossOptions(
  c: LossSettings,
): Pick<TfCrossEntropyOptions, 'confidencePenalty' | 'focalGamma' | 'focalAlpha'> {
  const alpha = c.focalAlpha === undefined ? {} : { focalAlpha: c.focalAlpha };
  if (c.loss === 'cp') return { confidencePenalty: c.confidencePenalty };
  if (c.loss === 'focal') return { focalGamma: c.focalGamma, ...alpha };
  if (c.loss === 'flsd53') return { focalGamma: 'flsd-53', ...alpha };
  return {};
}

/** Focal losses report F(p) and F(u) in place of H(p,q) and H(u,q). */
export function isFocal(c: Pick<LossSettings, 'loss'>): boolean {
  return c.loss === 'focal' || c.loss === 'flsd53';
}

/**
 * Plain cross-entropy: no regularizer at all (ε = 0 throughout, loss absent, ce or ls). Only these runs get
 * the temperature-scaling baseline, as before #14.
 */
export function isPlainCrossEntropy(c: LossSettings): boolean {
  const loss = c.loss ?? 'ls';
  const constant = (c.epsilonSchedule ?? 'constant') === 'constant' || c.epsilonFinal === 0;
  return (loss === 'ce' || loss === 'ls') && c.epsilon === 0 && constant;
}

/**
 * Runs whose temperature-scaled twin is reported (Müller et al.'s Table 3: the baseline and label smoothing,
 * each + temperature scaling): cross-entropy with or without smoothing. The other regularizers are compared
 * as trained.
 */
export function fitsTemperature(c: LossSettings): boolean {
  const loss = c.loss ?? 'ls';
  return loss === 'ce' || loss === 'ls';
}
