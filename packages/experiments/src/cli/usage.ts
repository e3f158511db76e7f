// Kept free of TF.js imports: the option parsers and error printing load in milliseconds, so that
// `--help`, `--version` and refused command lines answer at once.

/** Backends the CLI can train on. */
export const BACKENDS = ['wasm', 'cpu'] as const;
/** A backend name accepted by `--backend`. */
export type BackendName = (typeof BACKENDS)[number];

/** A problem with the command line itself: printed as one line, without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
