/**
 * The one error class of labelsmooth. Every validation failure names the function, the argument,
 * the position (row / index) when there is one, and the offending value.
 */
export class LabelSmoothingError extends Error {
  /** The public function that rejected its input, e.g. `crossEntropy`. */
  readonly fn: string;
  /** The argument (or option) at fault, e.g. `target` or `options.labelSmoothing`. */
  readonly argument: string;
  /** Flat index (or row) of the bad element, when the fault is at one element. */
  readonly index: number | undefined;
  /** The offending value as received. */
  readonly value: unknown;
  /** What is wrong, without the location (used to re-raise under another function's name). */
  readonly problem: string;

  constructor(fn: string, argument: string, index: number | undefined, value: unknown, problem: string) {
    const where = index === undefined ? argument : `${argument}[${index}]`;
    super(`${fn}: ${where} = ${describe(value)}: ${problem}`);
    this.name = 'LabelSmoothingError';
    this.fn = fn;
    this.argument = argument;
    this.index = index;
    this.value = value;
    this.problem = problem;
  }

  /** The same error reported by the public function `fn` (e.g. a TF.js op wrapping the core). */
  as(fn: string): LabelSmoothingError {
    return new LabelSmoothingError(fn, this.argument, this.index, this.value, this.problem);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(length ${(value as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(value)) return `Array(length ${value.length})`;
  return typeof value === 'object' ? Object.prototype.toString.call(value) : String(value);
}

/** Throw a {@link LabelSmoothingError}; typed `never` so callers can use it in expressions. */
export function fail(
  fn: string,
  argument: string,
  index: number | undefined,
  value: unknown,
  problem: string,
): never {
  throw new LabelSmoothingError(fn, argument, index, value, problem);
}
