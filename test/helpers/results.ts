// Fake experiment results for report tests: the report is a function of results, so tests choose the
// numbers (including ones that would make each sentence false) instead of training models.
import type { CompareResults } from '../../packages/experiments/src/results/schema.js';
import type { ModelAnalysis, PairedAnalysis } from '../../packages/experiments/src/train/analysis.js';
import {
  type RunResult,
  type Stat,
  type SummaryRow,
  summarize,
} from '../../packages/experiments/src/train/experiment.js';
import type { EpochMetrics } from '../../packages/experiments/src/train/trainer.js';
import type {
  CalibrationBin,
  CalibrationReport,
} from '../../packages/labelsmooth/src/metrics/calibration.js';

/** A stat with a given mean. */
export const st = (mean: number, sd = 0): Stat => ({ mean, sd });

/** A summary row: ε, whether temperature-scaled, and the means that the sentences read. */
export function row(
  epsilon: number,
  scaled: boolean,
  m: { acc: number; conf: number; ece: number; nll: number; aurc?: number; runs?: number },
): SummaryRow {
  const label = `ε=${epsilon}${scaled ? ' + temperature scaling' : ''}`;
  const r: SummaryRow = {
    label,
    epsilon,
    scaled,
    runs: m.runs ?? 3,
    accuracy: st(m.acc, 0.002),
    nll: st(m.nll, 0.01),
    brier: st(0.2, 0.01),
    ece: st(m.ece, 0.005),
    mce: st(0.3),
    meanConfidence: st(m.conf, 0.003),
    overconfidence: st(m.conf - m.acc),
  };
  if (m.aurc !== undefined) r.aurc = st(m.aurc, 0.001);
  return r;
}

/** 15 reliability bins with the given counts (accuracy and confidence at the bin middle ± gap). */
export function bins(counts: number[], gap = 0): CalibrationBin[] {
  return counts.map((count, i) => {
    const mid = (i + 0.5) / counts.length;
    return {
      lo: i / counts.length,
      hi: (i + 1) / counts.length,
      count,
      accuracy: count ? Math.min(1, Math.max(0, mid - gap)) : null,
      confidence: count ? mid : null,
    };
  });
}

/** A calibration report with given bins. */
export function report(b: CalibrationBin[], over: Partial<CalibrationReport> = {}): CalibrationReport {
  return {
    rows: 10000,
    ignored: 0,
    accuracy: 0.85,
    nll: 0.5,
    brier: 0.2,
    ece: 0.05,
    debiasedEce: 0.04,
    mce: 0.2,
    rmsce: 0.07,
    adaptiveEce: 0.05,
    smoothEce: 0.05,
    smoothEceBandwidth: 0.05,
    classwiseEce: 0.01,
    aurc: 0.05,
    meanConfidence: 0.9,
    overconfidence: 0.05,
    meanEntropy: 0.3,
    bins: b,
    ...over,
  };
}

/** Epoch metrics with the raw training H(p,q) and H(u,q) given per epoch. */
export function epochs(nll: number[], spread: number[], epsilon: number): EpochMetrics[] {
  return nll.map((h, i) => ({
    epoch: i + 1,
    trainLoss: (1 - epsilon) * h + epsilon * spread[i],
    trainNllPart: (1 - epsilon) * h,
    trainSmoothingPart: epsilon * spread[i],
    trainNll: h,
    trainSmoothing: spread[i],
    trainAccuracy: 0.9,
    testAccuracy: 0.8 + 0.01 * i,
    testNll: 0.5,
    testEce: 0.05 + 0.01 * i,
    testMeanConfidence: 0.9,
    testOverconfidence: 0.05,
    seconds: 1,
  }));
}

/** A run with bins, epochs, a projection and optionally an analysis and temperature scaling. */
export function run(
  epsilon: number,
  seed: number,
  o: { nll?: number[]; spread?: number[]; analysis?: ModelAnalysis; counts?: number[]; ts?: boolean } = {},
): RunResult {
  const counts = o.counts ?? [0, 0, 0, 0, 0, 0, 1, 3, 10, 30, 60, 90, 150, 250, 405];
  const r: RunResult = {
    label: `ε=${epsilon}`,
    epsilon,
    seed,
    epochs: epochs(o.nll ?? [0.6, 0.3, 0.1], o.spread ?? [5, 8, 12], epsilon),
    test: report(bins(counts, 0.05)),
    projection: {
      classes: [0, 1, 2],
      classNames: ['a', 'b', 'c'],
      templates: [
        { x: 0, y: 0, label: 'a' },
        { x: 4, y: 0, label: 'b' },
        { x: 2, y: 3, label: 'c' },
      ],
      points: Array.from({ length: 60 }, (_, i) => ({
        x: [0, 4, 2][i % 3] + Math.sin(i) * (1 + epsilon),
        y: [0, 0, 3][i % 3] + Math.cos(i),
        label: ['a', 'b', 'c'][i % 3],
      })),
    },
  };
  if (o.analysis) r.analysis = o.analysis;
  if (o.ts !== false)
    r.temperature = {
      temperature: 1.8,
      nllBefore: 0.6,
      nllAfter: 0.4,
      test: report(bins(counts, 0.01)),
      ...(o.analysis ? { analysis: o.analysis } : {}),
    };
  return r;
}

/** Compare results around the given summary rows and runs. */
export function results(summary: SummaryRow[], runs: RunResult[], paired?: PairedAnalysis[]): CompareResults {
  return {
    kind: 'compare',
    name: 'fake',
    createdAt: '2026-11-28T00:00:00.000Z',
    backend: 'wasm (SIMD)',
    dataset: {
      name: 'fashion-mnist',
      classNames: ['a', 'b', 'c'],
      train: 1000,
      validation: 6000,
      test: 1000,
    },
    config: {
      dataset: 'fashion-mnist',
      validation: 0.1,
      seed: 1,
      model: 'pooled-mlp',
      epochs: 3,
      batchSize: 32,
      lr: 0.002,
      noise: 'uniform',
      backend: 'wasm',
      epsilons: [0, 0.1],
      seeds: [1, 2, 3],
    },
    runs,
    summary,
    ...(paired ? { paired } : {}),
  };
}

/** A monotone risk–coverage curve with n points ending at the error rate `risk`. */
export function riskCurve(n: number, risk: number): { coverage: number; risk: number }[] {
  return Array.from({ length: n }, (_, i) => ({ coverage: (i + 1) / n, risk: (risk * (i + 1)) / n }));
}

/** One model's test numbers for {@link seedResults}. */
export interface SeedNumbers {
  acc: number;
  /** Mean confidence. */
  conf: number;
  ece: number;
  nll: number;
  aurc?: number;
  /** Default: 0.8 × ece. */
  debiasedEce?: number;
}

/**
 * A run of `label` (ε parsed from it) for one seed with the given test numbers, and its TS twin when
 * given; a label ending in ` on train ∪ validation` is a budget-matched run.
 */
export function seedRun(label: string, seed: number, m: SeedNumbers, ts?: SeedNumbers): RunResult {
  const budget = label.endsWith(' on train ∪ validation');
  const r = run(Number(label.replace(/^ε=/, '').replace(/ on train ∪ validation$/, '')) || 0, seed, {
    ts: false,
  });
  if (budget) r.trainedOn = 'train+validation';
  const rep = (x: SeedNumbers) =>
    report(bins([0, 0, 0, 0, 0, 0, 1, 3, 10, 30, 60, 90, 150, 250, 405], 0.05), {
      accuracy: x.acc,
      meanConfidence: x.conf,
      overconfidence: x.conf - x.acc,
      ece: x.ece,
      debiasedEce: x.debiasedEce ?? 0.8 * x.ece,
      nll: x.nll,
      smoothEce: x.ece * 0.9,
      aurc: x.aurc ?? 0.05,
    });
  r.label = label;
  r.test = rep(m);
  if (ts) r.temperature = { temperature: 1.5, nllBefore: m.nll, nllAfter: ts.nll, test: rep(ts) };
  return r;
}

/**
 * Compare results of several seeds, as a run would write them: `models[label][i]` are the test numbers
 * of seed i + 1 (and `scaled[label][i]` those after temperature scaling); the summary from the runs.
 */
export function seedResults(
  models: Record<string, SeedNumbers[]>,
  scaled: Record<string, SeedNumbers[]> = {},
  over: Partial<CompareResults['dataset']> = {},
): CompareResults {
  const runs: RunResult[] = [];
  const seeds = Math.max(...Object.values(models).map((v) => v.length));
  for (let s = 0; s < seeds; s++)
    for (const [label, xs] of Object.entries(models))
      if (xs[s]) runs.push(seedRun(label, s + 1, xs[s], scaled[label]?.[s]));
  const r = results(summarize(runs), runs);
  r.dataset = { ...r.dataset, test: 10000, ...over };
  return r;
}
