// The choices of a training run that the command line lists and the trainer builds: free of TF.js, so that
// the CLI parses its options from the same lists without loading it.

/** The model architectures the trainer builds. */
export const MODEL_KINDS = ['mlp', 'pooled-mlp', 'cnn'] as const;
/** One of {@link MODEL_KINDS}. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The noise distributions a run smooths toward (`prior` = class frequencies of the training set). */
export const NOISE_KINDS = ['uniform', 'non-target', 'prior'] as const;
/** One of {@link NOISE_KINDS}. */
export type NoiseKind = (typeof NOISE_KINDS)[number];
