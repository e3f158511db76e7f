// The experiments' default settings (kept apart from the option parsing so that compare's and distill's
// defaults sit in one place, with why they were chosen).
import type { ModelKind } from '../train/kinds.js';

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
 * over-parameterised MLP (≈ 85k weights) on 1,000 Fashion-MNIST training images, trained for 20 epochs,
 * becomes over-confident (ECE ≈ 0.08); ε ∈ {0, 0.05, 0.1, 0.2} shows where label smoothing helps and
 * where it over-corrects. Five seeds, each its own training/validation split, so that claims have an
 * interval over seeds; 20 trials of ≈ 8 s of CPU each, on both cores, keep `npm start` within 3 minutes.
 */
export const COMPARE_DEFAULTS: TrainingDefaults & { epsilons: number[]; seeds: number[] } = {
  dataset: 'fashion-mnist',
  epochs: 20,
  batchSize: 64,
  lr: 0.003,
  trainSize: 1000,
  validation: 0.02,
  epsilons: [0, 0.05, 0.1, 0.2],
  seeds: [1, 2, 3, 4, 5],
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

/** `--epsilons` of a comparison of losses (`--losses`) when not given: ce, and ls at ε = 0.1. */
export const LOSSES_EPSILONS = [0, 0.1];
