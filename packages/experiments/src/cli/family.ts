// The label-smoothing family on the command line: `compare --losses …`, `train --loss …`, their parameters
// and the ε schedule, shared by both commands (commands do not import each other). Which loss takes which
// parameter, with which flag, range and default, is read from the trainer's one table (LOSS_PARAMETERS).
// Free of TF.js imports, like options.ts: main.ts loads it to parse.
import { InvalidArgumentError } from 'commander';
import { suggestOption } from 'labelsmooth';
import {
  CONFIG_PARAMETERS,
  checkLossConfig,
  LOSS_PARAMETERS,
  LOSSES,
  type LossName,
  type LossParameter,
  type LossParameterName,
} from '../train/losses.js';
import type { EpsilonSchedule } from '../train/schedule.js';
import type { TrainConfig } from '../train/trainer.js';
import { UsageError } from './usage.js';

/** The family's options (on compare and train; `losses`, `olsEpsilon` on compare only, `loss` on train). */
export interface FamilyOptions {
  losses?: LossName[];
  loss?: LossName;
  confidencePenalty: number;
  focalGamma: number;
  focalAlpha: number;
  olsEpsilon?: number;
  epsilonSchedule: EpsilonSchedule;
  epsilonFinal: number;
}

/** The parameters' names, in the table's order. */
const PARAMETER_NAMES = Object.keys(LOSS_PARAMETERS) as LossParameterName[];

/** Defaults of the family's flags (documented in `--help`): the table's, and a constant ε schedule. */
export const FAMILY_DEFAULTS = {
  ...(Object.fromEntries(PARAMETER_NAMES.map((key) => [key, LOSS_PARAMETERS[key].default])) as {
    [K in LossParameterName]: (typeof LOSS_PARAMETERS)[K]['default'];
  }),
  epsilonSchedule: 'constant',
  epsilonFinal: 0,
} as const;

/** `--loss`: one of {@link LOSSES}; a typo gets a suggestion. */
export function loss(v: string): LossName {
  if ((LOSSES as readonly string[]).includes(v)) return v as LossName;
  const guess = suggestOption(v, LOSSES) ?? suggestOption(v.toLowerCase(), LOSSES);
  throw new InvalidArgumentError(
    `unknown loss '${v}'${guess ? `; did you mean ${guess}?` : ''} (expected ${LOSSES.join(', ')})`,
  );
}

/** `--losses ce,ls,…`: distinct names of {@link LOSSES}. */
export function losses(v: string): LossName[] {
  const list = v.split(',').map((s) => loss(s.trim()));
  const twice = list.find((s, i) => list.indexOf(s) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`loss ${twice} appears twice in '${v}'`);
  return list;
}

/** The training-configuration fields a loss run adds to (epsilon, noise, seed, model, …). */
export type Variant = Pick<TrainConfig, 'epsilon'> &
  Partial<
    Pick<
      TrainConfig,
      'loss' | 'confidencePenalty' | 'focalGamma' | 'focalAlpha' | 'epsilonSchedule' | 'epsilonFinal'
    >
  >;

/** The schedule fields of a run that smooths (none for a constant schedule: the config stays as before). */
function scheduleOf(o: FamilyOptions): Pick<Variant, 'epsilonSchedule' | 'epsilonFinal'> {
  return o.epsilonSchedule === 'constant'
    ? {}
    : { epsilonSchedule: o.epsilonSchedule, epsilonFinal: o.epsilonFinal };
}

/**
 * The fields of one loss with the options' parameters, ε = `epsilon` (0 for ce): each parameter the loss
 * takes ({@link LOSS_PARAMETERS}), an optional one only when it differs from its default (a run's
 * configuration then reads as it did before the parameter existed).
 */
export function lossVariant(name: LossName, epsilon: number, o: FamilyOptions): Variant {
  if (name === 'ce') return { epsilon: 0, loss: 'ce' };
  const v: Variant = { epsilon, loss: name };
  for (const key of CONFIG_PARAMETERS) {
    const p: LossParameter = LOSS_PARAMETERS[key];
    if (p.losses.includes(name) && (p.requiredBy.includes(name) || o[key] !== p.default)) v[key] = o[key];
  }
  return { ...v, ...(epsilon > 0 ? scheduleOf(o) : {}) };
}

/** A parameter flag given for a loss that is not trained would be ignored: refuse it, naming both. */
function checkParameters(chosen: readonly LossName[], given: ReadonlySet<string>, lossFlag: string): void {
  const table: Record<string, LossParameter> = LOSS_PARAMETERS;
  for (const [key, { flag, losses: owners }] of Object.entries(table)) {
    if (given.has(key) && !owners.some((l) => chosen.includes(l)))
      throw new UsageError(
        `${flag} applies to ${lossFlag} ${owners.join(' or ')}, which this command does not train; add it to ${lossFlag} or drop ${flag}`,
      );
  }
}

/**
 * The runs `compare` trains per seed: without `--losses`, one per ε of `--epsilons` (with
 * the ε schedule on the ε > 0 ones); with `--losses`, each loss once — ce (ε = 0), ls once per ε > 0 of
 * `--epsilons`, cp (β), focal (γ, α), flsd-53 (α) unsmoothed as in their papers, ols with `--ols-epsilon`.
 */
export function compareVariants(
  o: FamilyOptions & { epsilons: number[]; noise: string },
  given: ReadonlySet<string>,
): Variant[] {
  checkParameters(o.losses ?? [], given, '--losses');
  let variants: Variant[];
  if (o.losses === undefined) {
    variants = o.epsilons.map((epsilon) => ({ epsilon, ...(epsilon > 0 ? scheduleOf(o) : {}) }));
  } else {
    const smoothed = o.epsilons.filter((e) => e > 0);
    if (o.losses.includes('ls') && smoothed.length === 0)
      throw new UsageError(
        `--losses ls trains each ε > 0 of --epsilons, and --epsilons ${o.epsilons.join(',')} has none`,
      );
    variants = o.losses.flatMap((name) =>
      name === 'ls'
        ? smoothed.map((e) => lossVariant('ls', e, o))
        : [lossVariant(name, name === 'ols' ? (o.olsEpsilon ?? FAMILY_DEFAULTS.olsEpsilon) : 0, o)],
    );
  }
  checkSchedule(variants, o, given);
  // Every run is checked before the first one trains (ols with --noise prior would fail mid-job).
  for (const v of variants) checkLossConfig({ noise: o.noise, ...v });
  return variants;
}

/** `--epsilon-final` needs a decaying schedule, and a schedule needs a run that smooths. */
function checkSchedule(variants: Variant[], o: FamilyOptions, given: ReadonlySet<string>): void {
  if (o.epsilonSchedule === 'constant' && given.has('epsilonFinal'))
    throw new UsageError('--epsilon-final needs --epsilon-schedule linear or cosine');
  if (o.epsilonSchedule !== 'constant' && !variants.some((v) => v.epsilonSchedule !== undefined))
    throw new UsageError(
      `--epsilon-schedule ${o.epsilonSchedule} applies to runs with ε > 0, and this command trains none`,
    );
}

/** The loss fields of `train` (none without `--loss`: label smoothing with `--epsilon`). */
export function trainVariant(
  o: FamilyOptions & { epsilon: number; noise: string },
  given: ReadonlySet<string>,
): Variant {
  checkParameters(o.loss ? [o.loss] : [], given, '--loss');
  if (o.loss === 'ce' && o.epsilon !== 0)
    throw new UsageError(
      `--loss ce is plain cross-entropy: give --epsilon 0 (ε is ${o.epsilon}${given.has('epsilon') ? '' : ', the default'}), or --loss ls to smooth`,
    );
  const v = o.loss
    ? lossVariant(o.loss, o.epsilon, o)
    : { epsilon: o.epsilon, ...(o.epsilon > 0 ? scheduleOf(o) : {}) };
  checkSchedule([v], o, given);
  checkLossConfig({ noise: o.noise, ...v });
  return v;
}

/** The settings of a run besides its seed and its loss variant. */
export type RunBase = Pick<TrainConfig, 'noise' | 'model' | 'epochs' | 'batchSize' | 'lr'>;

/** The training configuration of one run: the shared settings, the seed, then the variant's ε and loss. */
export function runConfig(base: RunBase, seed: number, variant: Variant): TrainConfig {
  const { epsilon, ...loss } = variant;
  const { noise, model, epochs, batchSize, lr } = base;
  return { epsilon, noise, seed, model, epochs, batchSize, lr, ...loss };
}

/**
 * The family's parameters, all of them (a sweep's spec holds them: a trial's loss and ε come from its
 * grid cell, the rest from here, so adding a loss to the grid keeps the trials already trained).
 */
export type FamilyParameters = Required<
  Pick<
    FamilyOptions,
    'confidencePenalty' | 'focalGamma' | 'focalAlpha' | 'olsEpsilon' | 'epsilonSchedule' | 'epsilonFinal'
  >
>;

/** {@link FamilyParameters} of the parsed options. */
export function familyParameters(o: FamilyOptions): FamilyParameters {
  const { confidencePenalty, focalGamma, focalAlpha, epsilonSchedule, epsilonFinal } = o;
  const olsEpsilon = o.olsEpsilon ?? FAMILY_DEFAULTS.olsEpsilon;
  return { confidencePenalty, focalGamma, focalAlpha, olsEpsilon, epsilonSchedule, epsilonFinal };
}

/**
 * The same fields from a run's stored settings (config.json of `train`; a run without a loss stores
 * none), without the flag checks (they were made when the run started).
 */
export function storedVariant(o: Partial<FamilyOptions> & { epsilon: number }): Variant {
  const full: FamilyOptions = { ...FAMILY_DEFAULTS, ...o };
  if (!o.loss) return { epsilon: o.epsilon, ...(o.epsilon > 0 ? scheduleOf(full) : {}) };
  return lossVariant(o.loss, o.epsilon, full);
}

/** `ε ∈ {0, 0.1}`, or the losses' labels: how the header line states the grid. */
export function gridText(o: { losses?: LossName[]; epsilons: number[] }, labels: string[]): string {
  return o.losses === undefined ? `ε ∈ {${o.epsilons.join(', ')}}` : `losses {${labels.join(', ')}}`;
}

/** The family's option names (camelCase). */
const FAMILY_KEYS = ['losses', 'loss', ...PARAMETER_NAMES, 'epsilonSchedule', 'epsilonFinal'] as const;

/**
 * `config` as stored in results.json: without the family's options, plus those that shaped a run (the
 * losses, the parameters of the losses trained, a schedule other than constant). A run without them
 * stores only the plain configuration (the same as `sweep`'s).
 */
export function withFamilyConfig<T extends object>(config: T, o: FamilyOptions, variants: Variant[]): T {
  const out = { ...config } as Record<string, unknown>;
  for (const k of FAMILY_KEYS) delete out[k];
  if (o.losses) out.losses = o.losses;
  if (o.loss) out.loss = o.loss;
  const table: Record<string, LossParameter> = LOSS_PARAMETERS;
  for (const [key, p] of Object.entries(table))
    if (variants.some((v) => v.loss !== undefined && p.losses.includes(v.loss)))
      out[key] = o[key as keyof FamilyOptions];
  if (variants.some((v) => v.epsilonSchedule !== undefined)) {
    out.epsilonSchedule = o.epsilonSchedule;
    out.epsilonFinal = o.epsilonFinal;
  }
  return out as T;
}
