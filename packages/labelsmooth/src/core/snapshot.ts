// A plan whose arrays are the call's own: what an asynchronous call reads after an `await` is what the
// caller passed when it called, whatever the caller does to its arrays meanwhile (labels changed to −5 or
// 10⁶ after the check would otherwise give a wrong loss or a WebAssembly out-of-bounds trap).
import type { CrossEntropyPlan, ParsedNoise, ParsedTarget } from './plan.js';
import type { CrossEntropyResult, FloatArray } from './types.js';

/** A copy of a numeric array of the same kind: a typed array of the same type, in a SharedArrayBuffer
 * when it was in one (the kernel shares such arrays with its threads), or a plain array. */
function copyOf<T extends ArrayLike<number>>(a: T): T {
  if (
    typeof SharedArrayBuffer === 'function' &&
    ArrayBuffer.isView(a) &&
    a.buffer instanceof SharedArrayBuffer
  ) {
    const Type = a.constructor as new (b: SharedArrayBuffer) => T & { set(a: T): void };
    const copy = new Type(new SharedArrayBuffer(a.byteLength));
    copy.set(a);
    return copy;
  }
  return (a as unknown as { slice(): T }).slice();
}

function copyTarget(t: ParsedTarget): ParsedTarget {
  return t.kind === 'index'
    ? { kind: 'index', labels: copyOf(t.labels) }
    : { kind: 'probs', probs: copyOf(t.probs) };
}

/** The noise's values copied, except a noiseMatrix's private copy (nothing outside can change it). */
function copyNoise(n: ParsedNoise): ParsedNoise {
  if (n.data === null || (n.kind === 'class-conditional' && n.checked)) return n;
  return { ...n, data: copyOf(n.data) };
}

/** A plan with the caller's input arrays, and `restore`, which turns its result into the caller's. */
export interface Snapshot {
  plan: CrossEntropyPlan;
  /** In the in-place mode the snapshot's logits take the gradient: copy it over the caller's logits. */
  restore<R extends CrossEntropyResult>(result: R): R;
}

/**
 * Copy every array of a validated plan that the caller can still change (logits, targets, weights, noise;
 * the class mask is already a copy): one pass over the logits. The gradient buffer stays the caller's (the
 * call writes it); in the in-place mode (`grad: logits`) the gradient is computed over the snapshot and
 * copied over the caller's logits at the end, so an error leaves them untouched as it does synchronously.
 */
export function snapshotPlan(plan: CrossEntropyPlan): Snapshot {
  const logits: FloatArray = copyOf(plan.logits);
  const weight = (w: ArrayLike<number> | null) => (w === null ? null : copyOf(w));
  const own: CrossEntropyPlan = {
    ...plan,
    logits,
    target: copyTarget(plan.target),
    noise: copyNoise(plan.noise),
    classWeight: weight(plan.classWeight),
    exampleWeight: weight(plan.exampleWeight),
    sampleWeight: weight(plan.sampleWeight),
    grad: plan.inPlace ? logits : plan.grad,
  };
  const caller = plan.grad;
  return {
    plan: own,
    restore(result) {
      if (!plan.inPlace || caller === null) return result;
      caller.set(logits);
      return { ...result, grad: caller };
    },
  };
}
