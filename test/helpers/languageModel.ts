// What the language-model tests of the core (languageModel.test.ts) and of the kernel
// (kernelLanguageModel.test.ts) share: a torch fixture as a call, a result's parts against expected ones
// under a tolerance of the caller's, and the float32 batch both run on the kernel.
import assert from 'node:assert/strict';
import type { CrossEntropyOptions, CrossEntropyResult } from '../../packages/labelsmooth/src/index.js';
import type { LmFixture } from './fixtures.js';

/** A part of a result that {@link assertPartsClose} compares. */
export type Part = 'loss' | 'nll' | 'smoothing' | 'zLoss' | 'lse' | 'grad';

/** Expected parts: a reference result's or a fixture's. */
export interface ExpectedParts {
  loss: number | ArrayLike<number>;
  nll: number | ArrayLike<number>;
  smoothing: number | ArrayLike<number>;
  zLoss?: number | ArrayLike<number>;
  lse?: ArrayLike<number>;
  grad?: ArrayLike<number>;
}

/**
 * `actual`'s parts against `expected`'s, entry by entry: |a − e| ≤ tolerance(part, e, i) (NaN fails). A
 * loss part `expected` lacks (zLoss) must be missing from `actual` too; lse and grad are compared where
 * `expected` has them, and must then be returned.
 */
export function assertPartsClose(
  actual: CrossEntropyResult,
  expected: ExpectedParts,
  tolerance: (part: Part, e: number, i: number) => number,
  label: string,
): void {
  for (const part of ['loss', 'nll', 'smoothing', 'zLoss', 'lse', 'grad'] as const) {
    const e = expected[part];
    const a = actual[part];
    if (e === undefined) {
      if (part !== 'lse' && part !== 'grad') assert.equal(a, undefined, `${label}: no ${part}`);
      continue;
    }
    assert.ok(a !== undefined, `${label}: ${part} returned`);
    const as = typeof a === 'number' ? [a] : a;
    const es = typeof e === 'number' ? [e] : e;
    assert.equal(as.length, es.length, `${label}: ${part} length`);
    for (let i = 0; i < es.length; i++)
      assert.ok(
        Math.abs(as[i] - es[i]) <= tolerance(part, es[i], i),
        `${label}: ${part}[${i}] ${as[i]} vs ${es[i]}`,
      );
  }
}

/** A fixture as a call: its labels, and its options with classes V and grad: true. */
export function lmFixtureCall(c: LmFixture): {
  rows: number;
  classes: number;
  y: Int32Array;
  options: CrossEntropyOptions;
} {
  const [b, t, v] = c.shape;
  return {
    rows: b * t,
    classes: v,
    y: Int32Array.from(c.target),
    options: { ...c.options, classes: v, grad: true },
  };
}

/** A float32 batch of 64 rows of 64 logits (sin(j)·4, labels 7i mod 64): the kernel takes it. */
export function float32Batch(): { n: number; v: number; z: Float32Array; y: Int32Array } {
  const n = 64;
  const v = 64;
  const z = Float32Array.from({ length: n * v }, (_, j) => Math.sin(j) * 4);
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % v);
  return { n, v, z, y };
}
