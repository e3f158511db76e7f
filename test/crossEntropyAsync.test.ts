// crossEntropyAsync computes the loss of its inputs as they were when it was called: the caller may change
// or reuse its arrays while the promise is pending (labels set to −5 or 10⁶, logits zeroed, weights and
// noise changed) and still gets the bits of an undisturbed call, never a WebAssembly trap.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { computeCrossEntropy } from '../packages/labelsmooth/src/core/crossEntropy.js';
import { planCrossEntropy } from '../packages/labelsmooth/src/core/plan.js';
import { snapshotPlan } from '../packages/labelsmooth/src/core/snapshot.js';
import {
  type CrossEntropyOptions,
  crossEntropy,
  crossEntropyAsync,
  initKernels,
  LabelSmoothingError,
} from '../packages/labelsmooth/src/index.js';

const N = 8192;
const K = 128;

function problem() {
  const z = new Float32Array(N * K);
  for (let j = 0; j < z.length; j++) z[j] = Math.sin(j * 0.37) * 4;
  const y = Int32Array.from({ length: N }, (_, i) => (i % 11 === 3 ? -100 : (i * 7) % K));
  const weight = Float64Array.from({ length: K }, (_, c) => 1 + (c % 3));
  const prior = Float64Array.from({ length: K }, (_, c) => (c + 1) / ((K * (K + 1)) / 2));
  return { z, y, weight, prior };
}

/** Every number by Object.is, every array byte for byte. */
function sameBits(a: Record<string, unknown>, b: Record<string, unknown>, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), what);
  for (const key of Object.keys(a)) {
    const u = a[key];
    const v = b[key];
    if (ArrayBuffer.isView(u)) assert.deepEqual(u, v, `${what}: ${key}`);
    else assert.ok(Object.is(u, v), `${what}: ${key} ${u} vs ${v}`);
  }
}

type Problem = ReturnType<typeof problem>;
const MUTATIONS: [string, (p: Problem) => void][] = [
  ['labels set to −5', (p) => p.y.fill(-5)],
  ['labels set to 1e6', (p) => p.y.fill(1e6)],
  ['logits zeroed', (p) => p.z.fill(0)],
  ['logits set to NaN', (p) => p.z.fill(Number.NaN)],
  ['weights zeroed', (p) => p.weight.fill(0)],
  ['noise prior changed', (p) => p.prior.reverse()],
];

describe('crossEntropyAsync: the inputs as they were at call time', () => {
  before(async () => {
    await initKernels();
  });

  for (const kernel of ['js', 'wasm'] as const)
    for (const threads of [false, true])
      for (const [what, mutate] of MUTATIONS) {
        it(`${what} while pending (kernel ${kernel}, threads ${threads}): the bits of an undisturbed call`, async () => {
          const p = problem();
          const o = (q: Problem): CrossEntropyOptions => ({
            classes: K,
            labelSmoothing: 0.1,
            weight: q.weight,
            noise: q.prior,
            reduction: 'none',
            grad: true,
            kernel,
            threads,
          });
          const expected = crossEntropy(p.z.slice(), p.y.slice(), o(problem()));
          const pending = crossEntropyAsync(p.z, p.y, o(p));
          mutate(p);
          sameBits((await pending) as never, expected as never, what);
        });
      }

  it('the page’s path (snapshotPlan): the copy computes the bits of the call-time inputs, whatever happens to them', () => {
    for (const [what, mutate] of MUTATIONS) {
      const p = problem();
      const o: CrossEntropyOptions = {
        classes: K,
        labelSmoothing: 0.1,
        weight: p.weight,
        noise: p.prior,
        grad: true,
      };
      const expected = crossEntropy(p.z.slice(), p.y.slice(), o);
      const frozen = snapshotPlan(planCrossEntropy('crossEntropyAsync', p.z, p.y, o));
      mutate(p);
      sameBits(frozen.restore(computeCrossEntropy(frozen.plan)) as never, expected as never, what);
    }
    // in place: the gradient is computed over the copy, then lands in the caller's logits
    const p = problem();
    const expected = crossEntropy(p.z.slice(), p.y, { classes: K, grad: true });
    const frozen = snapshotPlan(planCrossEntropy('crossEntropyAsync', p.z, p.y, { classes: K, grad: p.z }));
    assert.notEqual(frozen.plan.logits, p.z);
    const r = frozen.restore(computeCrossEntropy(frozen.plan));
    assert.equal(r.grad, p.z);
    assert.deepEqual(p.z, expected.grad);
  });

  it('the in-place mode: the gradient of the logits at call time lands in the caller’s logits', async () => {
    const p = problem();
    const expected = crossEntropy(p.z.slice(), p.y, { classes: K, labelSmoothing: 0.2, grad: true });
    const pending = crossEntropyAsync(p.z, p.y, { classes: K, labelSmoothing: 0.2, grad: p.z });
    p.y.fill(1e6);
    const r = await pending;
    assert.equal(r.grad, p.z);
    assert.deepEqual(p.z, expected.grad);
    assert.equal(r.loss, expected.loss);
  });

  it('the in-place mode: an error leaves the caller’s logits untouched', async () => {
    const p = problem();
    p.z[5 * K + 3] = Number.NaN;
    const saved = p.z.slice();
    await assert.rejects(crossEntropyAsync(p.z, p.y, { classes: K, grad: p.z }), LabelSmoothingError);
    assert.deepEqual(p.z, saved);
  });
});
