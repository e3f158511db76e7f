// Results of every report kind in the shapes real runs give (Fashion-MNIST class names, 10,000 test rows,
// smooth-ECE curves with empty stretches of confidence, intervals on every metric, labels long enough to
// crowd a table), built in memory so that a layout test renders reports in seconds without training.
import type {
  CompareResults,
  DistillModel,
  DistillResults,
  EvaluateResults,
} from '../../packages/experiments/src/results/schema.js';
import type {
  Interval,
  ModelAnalysis,
  PairedAnalysis,
  SmoothCurvePoint,
} from '../../packages/experiments/src/train/analysis.js';
import { type RunResult, summarize } from '../../packages/experiments/src/train/experiment.js';
import { bins, report, results, riskCurve, run } from './results.js';

/** Fashion-MNIST's class names (the projection's three come first). */
export const FASHION = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const TEST_ROWS = 10000;
/** Per-seed test examples per confidence bin of an over-confident model (15 bins; none below 0.1 = 1/K). */
const COUNTS = [0, 0, 3, 21, 80, 180, 260, 330, 390, 450, 540, 640, 800, 1150, 4756];

/**
 * A smooth-ECE curve as the analyzer gives it (200 mesh points), shaped like a real one: no confidences
 * below ~0.15, so the density there is ~0 and the kernel estimate swings freely (0.05 ↔ 0.85), and a
 * density that climbs towards confidence 1.
 */
export function smoothCurve(gap: number): SmoothCurvePoint[] {
  return Array.from({ length: 200 }, (_, j) => {
    const t = j / 199;
    const density = t < 0.2 ? 1e-6 : 0.02 + 6 * (t - 0.2) ** 3;
    const swing = t < 0.2 ? 0.4 + 0.4 * Math.sin(40 * t) : 0;
    const accuracy = Math.min(1, Math.max(0, swing || t - gap * t));
    return { t, accuracy, lo: Math.max(0, accuracy - 0.06), hi: Math.min(1, accuracy + 0.06), density };
  });
}

/** A 95 % interval around x of half-width w. */
const around = (x: number, w: number): Interval => [x - w, x + w];

/** An analysis with all seven interval metrics, the smooth curve and the risk–coverage curve. */
export function analysis(e: number, ece = 0.1 - 0.6 * e + 3 * e * e): ModelAnalysis {
  return {
    smoothEce: { value: 0.023, curve: smoothCurve(ece) },
    aurc: 0.06 + e / 10,
    riskCoverage: riskCurve(200, 0.2 - e / 10),
    intervals: {
      accuracy: around(0.8 + e / 10, 0.0075),
      nll: around(0.75 - e, 0.037),
      brier: around(0.307 - e / 5, 0.0113),
      ece: around(ece, 0.0068),
      smoothEce: around(ece + 0.01, 0.0079),
      classwiseEce: around(0.023, 0.0013),
      aurc: around(0.06 + e / 10, 0.0044),
    },
  };
}

/** Real template positions of the ε = 0 run (T-shirt/top and Trouser 2.9 apart on the e₁ axis). */
const TEMPLATES = [
  { x: 0, y: 0, label: 'T-shirt/top' },
  { x: 2.95, y: 0, label: 'Trouser' },
  { x: 1.31, y: 2.47, label: 'Pullover' },
];

function fashionRun(e: number, seed: number): RunResult {
  const r = run(e, seed, {
    analysis: analysis(e),
    nll: Array.from({ length: 30 }, (_, i) => 1.45 * 0.9 ** i),
    spread: Array.from({ length: 30 }, (_, i) => 3.3 + (e ? 1.5 : 10) * (1 - 0.9 ** i)),
    counts: COUNTS,
  });
  // The point values sit inside their intervals, as a real run's do.
  const iv = r.analysis!.intervals!;
  const mid = (m: keyof typeof iv) => (iv[m]![0] + iv[m]![1]) / 2 + 0.004 * (seed - 2);
  Object.assign(r.test, { accuracy: mid('accuracy'), nll: mid('nll'), brier: mid('brier'), ece: mid('ece') });
  const scaled = analysis(e, 0.015 + e / 10);
  Object.assign(r.temperature!, { analysis: scaled });
  Object.assign(r.temperature!.test, { ece: (scaled.intervals!.ece![0] + scaled.intervals!.ece![1]) / 2 });
  r.projection = {
    classes: [0, 1, 2],
    classNames: FASHION.slice(0, 3),
    templates: TEMPLATES,
    points: Array.from({ length: 150 }, (_, i) => {
      const c = TEMPLATES[i % 3];
      return { x: c.x + 3 * Math.sin(i), y: c.y + 2 * Math.cos(1.7 * i), label: c.label };
    }),
  };
  return r;
}

/** Paired b − a differences on all seven interval metrics of every ε > 0 against ε = 0, per seed. */
function pairedAll(epsilons: number[], seeds: number[]): PairedAnalysis[] {
  const out: PairedAnalysis[] = [];
  for (const seed of seeds)
    for (const b of [...epsilons.slice(1).map((e) => `ε=${e}`), 'ε=0 + temperature scaling']) {
      const d = (x: number, w: number) => ({ difference: x, interval: around(x, w) });
      out.push({
        a: 'ε=0',
        b,
        seed,
        differences: {
          accuracy: d(0.0092, 0.0042),
          nll: d(-0.1432, 0.02),
          brier: d(-0.027, 0.0045),
          ece: d(-0.0838, 0.006),
          smoothEce: d(-0.103, 0.007),
          classwiseEce: d(-0.0041, 0.001),
          aurc: d(0.0175, 0.004),
        },
      });
    }
  return out;
}

/** The budget-matched run of a seed: ε = 0.1 on train ∪ validation, without temperature scaling. */
function budgetRun(seed: number): RunResult {
  const { temperature: _, ...r } = fashionRun(0.1, seed);
  return { ...r, label: 'ε=0.1 on train ∪ validation', trainedOn: 'train+validation' };
}

function compareOf(
  name: string,
  dataset: string,
  epsilons: number[],
  seeds: number[],
  budget = false,
): CompareResults {
  const runs = seeds.flatMap((seed) => [
    ...epsilons.map((e) => fashionRun(e, seed)),
    ...(budget ? [budgetRun(seed)] : []),
  ]);
  const r = results(summarize(runs), runs, pairedAll(epsilons, seeds));
  r.name = name;
  r.dataset = { name: dataset, classNames: FASHION, train: 1000, validation: 1200, test: TEST_ROWS };
  r.config = { ...r.config, dataset, epochs: 30, epsilons, seeds };
  return r;
}

/** `npm start`'s shape: four ε, three seeds, temperature scaling, every analysis, the budget-matched run. */
export const compareFixture = () =>
  compareOf('compare-fashion-mnist', 'fashion-mnist', [0, 0.05, 0.1, 0.2], [1, 2, 3], true);

/** A sweep's grid: seven ε, two seeds. */
export const sweepFixture = () =>
  compareOf('sweep-fashion-mnist', 'fashion-mnist', [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3], [4, 5]);

/** `labelsmooth distill`: teachers at ε = 0 and 0.1 and their students, three seeds. */
export function distillFixture(): DistillResults {
  const models: DistillModel[] = [];
  for (const seed of [1, 2, 3])
    for (const e of [0, 0.1])
      for (const role of ['teacher', 'student'] as const) {
        const gap = role === 'teacher' ? 0.08 - e / 2 : 0.02;
        const { bins: b, ...test } = report(bins(COUNTS, gap), {
          rows: TEST_ROWS,
          accuracy: role === 'teacher' ? 0.8 + e / 10 : 0.78,
          ece: gap,
        });
        models.push({ role, teacherEpsilon: e, seed, test: { ...test, bins: b }, analysis: analysis(e) });
      }
  const summary = (role: 'teacher' | 'student', e: number) => {
    const st = (mean: number) => ({ mean, sd: 0.004 });
    const accuracy = role === 'teacher' ? 0.8 + e / 10 : 0.78;
    const ece = role === 'teacher' ? 0.08 - e / 2 : 0.02;
    return {
      role,
      teacherEpsilon: e,
      runs: 3,
      accuracy: st(accuracy),
      nll: st(0.6),
      ece: st(ece),
      intervals: { accuracy: around(accuracy, 0.008), nll: around(0.6, 0.03), ece: around(ece, 0.007) },
    };
  };
  return {
    kind: 'distill',
    name: 'distill-fashion-mnist',
    createdAt: '2026-11-28T00:00:00.000Z',
    backend: 'wasm (SIMD)',
    dataset: { name: 'fashion-mnist', classNames: FASHION, train: 1000, test: TEST_ROWS },
    config: {
      dataset: 'fashion-mnist',
      validation: 0,
      seed: 1,
      model: 'pooled-mlp',
      epochs: 20,
      batchSize: 64,
      lr: 0.003,
      epsilon: 0.1,
      temperature: 2,
      studentEpochs: 20,
      studentHidden: 32,
      seeds: [1, 2, 3],
      backend: 'wasm',
    },
    models,
    summary: [summary('teacher', 0), summary('teacher', 0.1), summary('student', 0), summary('student', 0.1)],
  };
}

/** `labelsmooth evaluate` of saved predictions, with curves and bootstrap intervals. */
export function evaluateFixture(): EvaluateResults {
  const curve = smoothCurve(0.08);
  const m = report(bins(COUNTS, 0.08), {
    rows: TEST_ROWS,
    smoothReliability: {
      bandwidth: 0.05,
      mesh: curve.map((p) => p.t),
      curve: curve.map((p) => p.accuracy),
      density: curve.map((p) => p.density!),
    },
    riskCoverage: {
      coverage: riskCurve(200, 0.2).map((p) => p.coverage),
      risk: riskCurve(200, 0.2).map((p) => p.risk),
    },
    intervals: {
      accuracy: around(0.85, 0.0075),
      nll: around(0.5, 0.037),
      brier: around(0.2, 0.0113),
      ece: around(0.05, 0.0068),
      debiasedEce: around(0.04, 0.009),
      smoothEce: around(0.05, 0.0079),
      classwiseEce: around(0.01, 0.0013),
      aurc: around(0.05, 0.0044),
    },
    bootstrap: { resamples: 1000, seed: 0, level: 0.95 },
  });
  return {
    kind: 'evaluate',
    name: 'evaluate-fashion-mnist-predictions-of-a-long-named-model',
    createdAt: '2026-11-28T00:00:00.000Z',
    predictions: '/data/models/fashion-mnist/pooled-mlp-epsilon-0/predictions-test.npy',
    labels: '/data/models/fashion-mnist/labels-test.npy',
    from: 'logits',
    rows: TEST_ROWS,
    classes: 10,
    report: m,
  };
}
