import { readFileSync } from 'node:fs';

/** A conformance case written by scripts/make_fixtures.py. */
export interface Fixture {
  name: string;
  source: 'torch' | 'closed-form';
  classes: number;
  logits: (number | string)[];
  target: number[];
  targetKind?: 'index' | 'probs';
  options: Record<string, unknown>;
  loss: number | number[];
  nll: number | number[];
  smoothing: number | number[];
  denominator?: number;
  grad: number[];
  float32?: boolean;
}

/** A language-model case written by scripts/make_lm_fixtures.py ([B, T, V] logits, flat). */
export interface LmFixture {
  name: string;
  shape: [number, number, number];
  classes: number;
  logits: number[];
  target: number[];
  options: Record<string, unknown>;
  loss: number | number[];
  nll: number | number[];
  smoothing: number | number[];
  zLoss?: number | number[];
  denominator: number;
  lse: number[];
  grad: number[];
}

/** The cases of test/fixtures/languageModel.json. */
export function loadLmFixtures(): LmFixture[] {
  return loadFixtures('languageModel.json') as unknown as LmFixture[];
}

export function loadFixtures(file: string): Fixture[] {
  const url = new URL(`../fixtures/${file}`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: Fixture[] }).cases;
}

/** Decode the JSON-safe logits (infinities are strings). */
export function decodeFloats(a: (number | string)[]): Float64Array {
  return Float64Array.from(a, (v) => (typeof v === 'string' ? Number(v) : v));
}

/** |a − b| ≤ atol + rtol·|b|, elementwise, with a message naming the first mismatch. */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  { rtol = 1e-5, atol = 1e-7, label = '' } = {},
): void {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  if (a.length !== e.length) throw new Error(`${label}: length ${a.length} ≠ ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
    if (!ok || Number.isNaN(a[i]))
      throw new Error(`${label}[${i}]: got ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
}
