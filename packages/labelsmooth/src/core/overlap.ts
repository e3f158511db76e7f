// Outputs that share memory with inputs. A gradient buffer that partly covers the logits (a view shifted by
// one float or one row of the same ArrayBuffer), the targets, the weights, the noise or the mask would be
// written while those are still being read: a wrong loss and gradient, and the caller's inputs overwritten.
// Two typed arrays share memory when they view the same buffer; views of the kernel's shared
// WebAssembly.Memory share it even when a grow gave them different SharedArrayBuffer objects.
import { memoryRegion } from '../kernels/memory.js';
import { fail } from './errors.js';

/** The bytes a typed array views: its memory and the range [start, end). */
interface Extent {
  memory: object;
  start: number;
  end: number;
}

/** Every view of the kernel's shared memory, whatever SharedArrayBuffer object a grow gave it. */
const KERNEL_MEMORY = {};

/** The bytes of `a` when it is a typed array (other arrays cannot alias one), else null. */
function extent(a: unknown): Extent | null {
  if (!ArrayBuffer.isView(a) || a.byteLength === 0) return null;
  // (the kernel's memory is always shared: an ArrayBuffer is its own memory)
  const kernel =
    typeof SharedArrayBuffer === 'function' &&
    a.buffer instanceof SharedArrayBuffer &&
    memoryRegion(a as unknown as ArrayLike<number>) !== 'outside';
  const memory = kernel ? KERNEL_MEMORY : a.buffer;
  return { memory, start: a.byteOffset, end: a.byteOffset + a.byteLength };
}

/**
 * Whether `a` and `b` are the same array of numbers: the same memory, offset, length and element type (the
 * same object, or another view of exactly its bytes).
 */
export function sameArray(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = extent(a);
  const y = extent(b);
  return (
    x !== null &&
    y !== null &&
    x.memory === y.memory &&
    x.start === y.start &&
    x.end === y.end &&
    (a as object).constructor === (b as object).constructor
  );
}

/** An argument a call reads: its name in messages and the value the caller passed. */
export type NamedInput = readonly [name: string, value: unknown];

/**
 * Refuse an output that shares memory with an input, naming both arguments and the elements they share
 * (in the output's and in the input's element units). `except` names the one input the output may be
 * exactly (the in-place mode: `grad: logits`); any other overlap with it, or any overlap with another
 * input, is an error.
 *
 * @param fn - the public function, for the message
 * @param output - [name, array] of what the call writes
 * @param inputs - [name, value] of everything the call reads (non-typed-array values are skipped)
 * @param except - the name of the input the output may equal exactly, if any
 */
export function refuseOverlap(
  fn: string,
  output: NamedInput,
  inputs: readonly NamedInput[],
  except?: string,
): void {
  const [outName, out] = output;
  const o = extent(out);
  if (o === null) return;
  for (const [name, value] of inputs) {
    const x = extent(value);
    if (x === null || x.memory !== o.memory || x.end <= o.start || o.end <= x.start) continue;
    if (name === except && sameArray(out, value)) continue;
    const lo = Math.max(o.start, x.start);
    const hi = Math.min(o.end, x.end);
    const exact = name === except ? '; only the logits array itself (the in-place mode) may be both' : '';
    fail(
      fn,
      outName,
      undefined,
      out,
      `shares memory with ${name}: its ${elements(out, o, lo, hi)} are ${elements(value, x, lo, hi)} of ${name} ` +
        `(bytes [${lo}, ${hi}) of one buffer); pass a buffer that does not overlap the inputs${exact}`,
    );
  }
}

/** "elements [i, j)" of the typed array `a` (extent `e`) that cover bytes [lo, hi). */
function elements(a: unknown, e: Extent, lo: number, hi: number): string {
  const size = (a as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1; // 1: a DataView
  const i = Math.floor((lo - e.start) / size);
  const j = Math.ceil((hi - e.start) / size);
  return j - i === 1 ? `element ${i}` : `elements [${i}, ${j})`;
}
