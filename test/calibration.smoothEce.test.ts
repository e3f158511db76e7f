// Smooth ECE against the reference values of scripts/make_calibration_fixtures.py (relplot's algorithm in
// numpy/scipy), against a naive transcription of that algorithm here, and against the paper's definition.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LabelSmoothingError, smoothEce, smoothReliability } from '../packages/labelsmooth/src/index.js';
import { calibrationDataset } from './helpers/calibrationDatasets.js';
import { assertClose } from './helpers/fixtures.js';

interface SmoothCase {
  name: string;
  kind: string;
  n: number;
  seed: number;
  head: [number[], number[]];
  smoothEce: number;
  bandwidth: number;
  fixed: { bandwidth: number; smoothEce: number }[];
  continuous: number | null;
  curve: number[];
  density: number[];
}

const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/calibration.json', import.meta.url), 'utf8'),
) as { smoothEce: SmoothCase[] };

/** relplot's smooth_ece at σ, transcribed naively: full grids, explicit mirrored extension, O(E²) convolution. */
function naiveSmoothEce(f: ArrayLike<number>, y: ArrayLike<number>, sigma: number): number {
  const pyRound = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
  const e = Math.floor(Math.max(2000, pyRound(20 / sigma)) / 2) + 1;
  const t = Math.max(pyRound(10 / sigma), 200);
  const lin = (j: number, n: number) => (j === n - 1 ? 1 : j * (1 / (n - 1)));
  const apply = (w: (i: number) => number): Float64Array => {
    const values = new Float64Array(e);
    for (let i = 0; i < f.length; i++) {
      const x = f[i] * (e - 1);
      const c = Math.min(Math.max(Math.trunc(x), 0), e - 2);
      values[c] += (1 - (x - c)) * w(i);
      values[c + 1] += (x - c) * w(i);
    }
    const ext = [...[...values].reverse().slice(0, -1), ...values, ...[...values].reverse().slice(1)];
    const taps = Array.from({ length: e }, (_, m) => {
      const d = lin(m, e) - 0.5;
      return Math.exp((-d * d) / (2 * sigma * sigma)) / (Math.sqrt(2 * Math.PI) * sigma);
    });
    const smoothed = new Float64Array(e);
    const h = Math.floor(e / 2);
    for (let i = 0; i < e; i++) {
      let s = 0;
      for (let m = 0; m < e; m++) s += ext[i + h + e - 1 - m] * taps[m];
      smoothed[i] = s;
    }
    const out = new Float64Array(t);
    for (let j = 0; j < t; j++) {
      const tj = lin(j, t);
      const c = Math.min(Math.max(Math.trunc(tj * (e - 1)), 0), e - 2);
      const rho = (tj - c / (e - 1)) * (e - 1);
      out[j] = smoothed[c] * (1 - rho) + smoothed[c + 1] * rho;
    }
    return out;
  };
  const ar = apply((i) => f[i] - y[i]);
  const a1 = apply(() => 1);
  let num = 0;
  let den = 0;
  for (let j = 0; j < t; j++) {
    num += Math.abs(ar[j]);
    den += a1[j] + 1e-4;
  }
  return num / den;
}

describe('smoothEce: relplot reference values', () => {
  for (const c of fixtures.smoothEce) {
    it(`${c.name}: smECE ${c.smoothEce.toFixed(6)} at σ = ${c.bandwidth}`, () => {
      const [f, y] = calibrationDataset(c.kind, c.n, c.seed);
      assert.deepEqual([Array.from(f.slice(0, 3)), Array.from(y.slice(0, 3))], c.head, 'same data as Python');
      const r = smoothEce(f, y);
      assert.equal(r.bandwidth, c.bandwidth);
      assertClose(r.smoothEce, c.smoothEce, { rtol: 1e-9, atol: 1e-12, label: 'smECE' });
      for (const x of c.fixed)
        assertClose(smoothEce(f, y, { bandwidth: x.bandwidth }).smoothEce, x.smoothEce, {
          rtol: 1e-9,
          atol: 1e-12,
          label: `smECE at σ = ${x.bandwidth}`,
        });
      const d = smoothReliability(f, y);
      assert.equal(d.mesh.length, 200);
      assertClose(
        d.curve.filter((_, j) => j % 20 === 0),
        c.curve,
        { rtol: 1e-8, atol: 1e-9, label: 'curve' },
      );
      assertClose(
        d.density.filter((_, j) => j % 20 === 0),
        c.density,
        { rtol: 1e-8, atol: 1e-9, label: 'density' },
      );
    });
  }
});

describe("smoothEce: the paper's definition", () => {
  it('is within 2·10⁻³ of the continuous integral with the exact reflected kernel (relplot discretizes)', () => {
    for (const c of fixtures.smoothEce) {
      if (c.continuous === null) continue;
      assert.ok(Math.abs(c.smoothEce - c.continuous) < 2e-3, `${c.name}: ${c.smoothEce} vs ${c.continuous}`);
    }
  });

  it('returns the fixed point: smECE_σ ≤ σ at σ, and > σ one bisection step (1/1024) below', () => {
    for (const c of fixtures.smoothEce) {
      const [f, y] = calibrationDataset(c.kind, c.n, c.seed);
      const r = smoothEce(f, y);
      assert.ok(r.smoothEce <= r.bandwidth, c.name);
      const below = r.bandwidth - 1 / 1024;
      if (below >= 0.001) assert.ok(smoothEce(f, y, { bandwidth: below }).smoothEce > below, c.name);
    }
  });

  it('all confidences 1: smECE = 1 − accuracy (one grid point, constant residual)', () => {
    const [f, y] = calibrationDataset('ones', 500, 5);
    const accuracy = y.reduce((a, b) => a + b, 0) / y.length;
    assertClose(smoothEce(f, y).smoothEce, 1 - accuracy, { rtol: 1e-6 });
  });

  it('a single example: smECE = |f − y| (up to the 10⁻⁴ density floor)', () => {
    for (const [f, y] of [
      [0.7, 1],
      [0.7, 0],
      [1, 1],
      [0, 0],
      [0.25, 1],
    ]) {
      const r = smoothEce([f], [y]);
      assert.ok(Math.abs(r.smoothEce - Math.abs(f - y)) < 1e-3, `${f}, ${y}: ${r.smoothEce}`);
    }
  });

  it('a perfectly calibrated sample scores low, a sharply over-confident one high', () => {
    const [f, y] = calibrationDataset('calibrated', 2000, 1);
    assert.ok(smoothEce(f, y).smoothEce < 0.03);
    const [g, z] = calibrationDataset('overconfident', 1000, 3);
    assert.ok(Math.abs(smoothEce(g, z).smoothEce - 0.3) < 0.02); // accuracy = confidence − 0.3 by construction
  });
});

describe('smoothEce: the fast evaluation equals the naive one', () => {
  it('at random σ (even and odd grids, spectral and banded forms) on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.constantFrom(0.004, 0.0087, 0.02, 0.037, 0.05, 0.0625, 0.09, 0.3, 1),
        (pairs, sigma) => {
          const f = pairs.map((p) => p[0]);
          const y = pairs.map((p) => (p[1] ? 1 : 0));
          const fast = smoothEce(f, y, { bandwidth: sigma }).smoothEce;
          const slow = naiveSmoothEce(f, y, sigma);
          assert.ok(Math.abs(fast - slow) <= 1e-10 + 1e-9 * slow, `σ ${sigma}: ${fast} vs ${slow}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('does not depend on the order of the rows', () => {
    const [f, y] = calibrationDataset('underconfident', 300, 6);
    const order = Array.from({ length: 300 }, (_, i) => (i * 7) % 300);
    const a = smoothEce(f, y);
    const b = smoothEce(
      order.map((i) => f[i]),
      order.map((i) => y[i]),
    );
    assert.equal(a.bandwidth, b.bandwidth);
    assertClose(a.smoothEce, b.smoothEce, { rtol: 1e-12 });
  });
});

describe('smoothEce: bad input', () => {
  it('names the argument, the index and the value', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => smoothEce([0.5, 1.5], [1, 0]), /smoothEce: confidence\[1\] = 1.5: must be in \[0, 1\]/],
      [() => smoothEce([0.5, Number.NaN], [1, 0]), /smoothEce: confidence\[1\] = NaN/],
      [() => smoothEce([0.5, 0.5], [1, 2]), /smoothEce: outcome\[1\] = 2: must be in \[0, 1\]/],
      [() => smoothEce([0.5], [1, 0]), /outcome = Array\(length 2\): length 2 does not match the 1/],
      [() => smoothEce([], []), /smoothEce: confidence = Array\(length 0\): needs at least one value/],
      [() => smoothEce([0.5], [1], { bandwidth: 0 }), /options.bandwidth = 0: must be a number in \(0, 1\]/],
      [() => smoothEce([0.5], [1], { sigma: 0.1 } as never), /options.sigma = 0.1: unknown option/],
      [() => smoothReliability([0.5], [1], { points: 1 }), /smoothReliability: options.points = 1/],
    ];
    for (const [f, re] of bad)
      assert.throws(f, (e: unknown) => e instanceof LabelSmoothingError && re.test(e.message));
  });
});
