// The experiments' default settings (kept apart from the option parsing so that compare's and distill's
// defaults sit in one place, with why they were chosen).
import type { ModelKind } from '../train/model.js';

/** The model when --model is not given: the pooled MLP on images (MNIST, Fashion-MNIST), else the MLP. */
export function defaultModel(dataset: string): ModelKind {
  return dataset === 'mnist' || dataset === 'fashion-mnist' ? 'pooled-mlp' : 'mlp';
}

/** Defaults of the options shared by the training commands. */
export interface TrainingDefaults {
  dataset: string;
  /** Absent: {@link defaultModel} of the dataset. */
  model?: ModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  trainSize: number;
  /** Held-out fraction of the training set (temperature scaling). */
  validation: number;
}

/**
 * `npm start` (= `labelsmooth compare`): the over-confident regime of Müller, Kornblith & Hinton 2019. An
 * over-parameterised MLP (≈ 85k weights) on 1,000 Fashion-MNIST training images, trained for 30 epochs
 * (training accuracy ≈ 0.95 against ≈ 0.80 on the test set), becomes over-confident (ECE ≈ 0.1); label
 * smoothing and temperature scaling both correct most of it. Three seeds per ε; about 100 s of CPU time
 * for the training (one thread) — more ε values or epochs would pass the 3-minute budget of `npm start`.
 */
export const COMPARE_DEFAULTS: TrainingDefaults & { epsilons: number[]; seeds: number[] } = {
  dataset: 'fashion-mnist',
  epochs: 30,
  batchSize: 64,
  lr: 0.003,
  trainSize: 1000,
  validation: 0.02,
  epsilons: [0, 0.1],
  seeds: [1, 2, 3],
};

/** `labelsmooth distill`: a tiny default, about a minute on two cores. */
export const DISTILL_DEFAULTS: TrainingDefaults & {
  epsilon: number;
  temperature: number;
  studentEpochs: number;
  studentHidden: number;
  seeds: number[];
} = {
  dataset: 'fashion-mnist',
  epochs: 20,
  batchSize: 64,
  lr: 0.003,
  trainSize: 1000,
  validation: 0,
  epsilon: 0.1,
  temperature: 2,
  studentEpochs: 20,
  studentHidden: 32,
  seeds: [1, 2, 3],
};
