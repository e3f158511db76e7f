// Property tests (fast-check): thousands of random problems per property.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type CrossEntropyOptions, crossEntropy, smoothLabels } from '../packages/labelsmooth/src/index.js';

const RUNS = 1500;

interface Problem {
  n: number;
  k: number;
  logits: Float64Array;
  labels: Int32Array;
  eps: number;
  noise: CrossEntropyOptions['noise'];
  weight?: number[];
}

const logit = fc.double({ min: -30, max: 30, noNaN: true });

const problem = (opts: { weighted?: boolean; noiseKinds?: string[] } = {}): fc.Arbitrary<Problem> =>
  fc.record({ n: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 2, max: 9 }) }).chain(({ n, k }) =>
    fc.record({
      n: fc.constant(n),
      k: fc.constant(k),
      logits: fc.array(logit, { minLength: n * k, maxLength: n * k }).map((a) => Float64Array.from(a)),
      labels: fc
        .array(fc.integer({ min: 0, max: k - 1 }), { minLength: n, maxLength: n })
        .map((a) => Int32Array.from(a)),
      eps: fc.double({ min: 0, max: 1, noNaN: true }),
      noise: fc.constantFrom(...(opts.noiseKinds ?? ['uniform', 'non-target', 'prior'])).chain(
        (kind): fc.Arbitrary<CrossEntropyOptions['noise']> =>
          kind === 'prior'
            ? fc
                .array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: k, maxLength: k })
                .map((a) => {
                  const s = a.reduce((x, y) => x + y, 0);
                  return a.map((v) => v / s);
                })
            : fc.constant(kind as 'uniform' | 'non-target'),
      ),
      weight: opts.weighted
        ? fc.array(fc.double({ min: 0.1, max: 3, noNaN: true }), { minLength: k, maxLength: k })
        : fc.constant(undefined),
    }),
  );

const optionsOf = <E extends CrossEntropyOptions>(p: Problem, extra?: E): CrossEntropyOptions & E => ({
  classes: p.k,
  labelSmoothing: p.eps,
  noise: p.noise,
  weight: p.weight,
  ...(extra as E),
});

describe('crossEntropy properties', () => {
  it('loss ≥ entropy of the smoothed target p′ (Gibbs), for every row', () => {
    fc.assert(
      fc.property(problem(), (p) => {
        const r = crossEntropy(p.logits, p.labels, optionsOf(p, { reduction: 'none' }));
        const target = smoothLabels(p.labels, { classes: p.k, labelSmoothing: p.eps, noise: p.noise });
        for (let i = 0; i < p.n; i++) {
          let h = 0;
          for (let c = 0; c < p.k; c++) {
            const t = target[i * p.k + c];
            if (t > 0) h -= t * Math.log(t);
          }
          assert.ok(r.loss[i] >= h - 1e-9 * (1 + h), `row ${i}: ${r.loss[i]} < ${h}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('gradient equals central finite differences of the loss', () => {
    fc.assert(
      fc.property(problem({ weighted: true }), fc.constantFrom('mean', 'sum'), (p, reduction) => {
        const opts = optionsOf(p, { reduction: reduction as 'mean' | 'sum' });
        const { grad } = crossEntropy(p.logits, p.labels, { ...opts, grad: true });
        const h = 1e-5;
        const x = p.logits.slice();
        for (let j = 0; j < x.length; j++) {
          const v = x[j];
          x[j] = v + h;
          const up = crossEntropy(x, p.labels, opts).loss;
          x[j] = v - h;
          const down = crossEntropy(x, p.labels, opts).loss;
          x[j] = v;
          const fd = (up - down) / (2 * h);
          assert.ok(Math.abs(fd - grad![j]) <= 1e-6 * (1 + Math.abs(fd)), `j=${j}: fd ${fd} vs ${grad![j]}`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('gradient rows sum to 0 when unweighted', () => {
    fc.assert(
      fc.property(problem(), (p) => {
        const { grad } = crossEntropy(p.logits, p.labels, optionsOf(p, { grad: true, reduction: 'sum' }));
        for (let i = 0; i < p.n; i++) {
          let s = 0;
          let a = 0;
          for (let c = 0; c < p.k; c++) {
            s += grad![i * p.k + c];
            a += Math.abs(grad![i * p.k + c]);
          }
          assert.ok(Math.abs(s) <= 1e-12 * (1 + a), `row ${i} sums to ${s}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('adding a constant to a row changes neither loss nor gradient', () => {
    fc.assert(
      fc.property(
        problem({ weighted: true }),
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        (p, shift) => {
          const a = crossEntropy(p.logits, p.labels, optionsOf(p, { grad: true, reduction: 'none' }));
          const shifted = p.logits.map((v) => v + shift);
          const b = crossEntropy(shifted, p.labels, optionsOf(p, { grad: true, reduction: 'none' }));
          for (let i = 0; i < p.n; i++)
            assert.ok(Math.abs(a.loss[i] - b.loss[i]) <= 1e-9 * (1 + Math.abs(a.loss[i])));
          for (let j = 0; j < a.grad!.length; j++) assert.ok(Math.abs(a.grad![j] - b.grad![j]) <= 1e-9);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('ε = 0 equals plain cross-entropy lse − z_y, whatever the noise', () => {
    fc.assert(
      fc.property(problem(), (p) => {
        const r = crossEntropy(p.logits, p.labels, optionsOf(p, { labelSmoothing: 0, reduction: 'none' }));
        for (let i = 0; i < p.n; i++) {
          const row = p.logits.subarray(i * p.k, (i + 1) * p.k);
          const m = Math.max(...row);
          const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
          const expected = lse - row[p.labels[i]];
          assert.ok(Math.abs(r.loss[i] - expected) <= 1e-10 * (1 + expected));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("shard sums with reduction 'sum' add up to the whole batch (loss, parts, denominators)", () => {
    fc.assert(
      fc.property(problem({ weighted: true, noiseKinds: ['uniform', 'non-target'] }), fc.nat(), (p, at) => {
        const cut = at % (p.n + 1);
        const opts = optionsOf(p, { reduction: 'sum' });
        const whole = crossEntropy(p.logits, p.labels, opts);
        const a = crossEntropy(p.logits.subarray(0, cut * p.k), p.labels.subarray(0, cut), opts);
        const b = crossEntropy(p.logits.subarray(cut * p.k), p.labels.subarray(cut), opts);
        const close = (x: number, y: number) => Math.abs(x - y) <= 1e-12 * (1 + Math.abs(y));
        assert.ok(close(a.loss + b.loss, whole.loss));
        assert.ok(close(a.nll + b.nll, whole.nll));
        assert.ok(close(a.smoothing + b.smoothing, whole.smoothing));
        assert.ok(close(a.denominator + b.denominator, whole.denominator));
      }),
      { numRuns: RUNS },
    );
  });

  it('never mutates its inputs and never returns NaN for finite logits', () => {
    fc.assert(
      fc.property(problem({ weighted: true }), (p) => {
        const logits = p.logits.slice();
        const labels = p.labels.slice();
        const weight = p.weight?.slice();
        const r = crossEntropy(p.logits, p.labels, optionsOf(p, { grad: true }));
        assert.deepEqual(p.logits, logits);
        assert.deepEqual(p.labels, labels);
        assert.deepEqual(p.weight, weight);
        assert.ok(Number.isFinite(r.loss) && r.grad!.every(Number.isFinite));
      }),
      { numRuns: RUNS },
    );
  });
});
