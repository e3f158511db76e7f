// The experiments' default settings (kept apart from the option parsing so that compare's and distill's
// defaults sit in one place, with why they were chosen).

/** Defaults of the options shared by the training commands. */
export interface TrainingDefaults {
  dataset: string;
  model: 'mlp' | 'pooled-mlp' | 'cnn';
  epochs: number;
  batchSize: number;
  lr: number;
  trainSize: number;
}

/**
 * `npm start` (= `labelsmooth compare`): the over-confident regime of Müller, Kornblith & Hinton 2019. An
 * over-parameterised MLP (≈ 84k weights) on 1,000 Fashion-MNIST training images, trained far past zero
 * training error, becomes over-confident; label smoothing and temperature scaling both correct it. Three
 * seeds per ε; small enough to run in about two minutes on two cores.
 */
export const COMPARE_DEFAULTS: TrainingDefaults & { epsilons: number[]; seeds: number[] } = {
  dataset: 'fashion-mnist',
  model: 'pooled-mlp',
  epochs: 40,
  batchSize: 32,
  lr: 0.002,
  trainSize: 1000,
  epsilons: [0, 0.05, 0.1],
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
  model: 'pooled-mlp',
  epochs: 20,
  batchSize: 32,
  lr: 0.002,
  trainSize: 1000,
  epsilon: 0.1,
  temperature: 2,
  studentEpochs: 20,
  studentHidden: 32,
  seeds: [1, 2, 3],
};
