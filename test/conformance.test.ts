// Loss, its two parts and the gradient against PyTorch 1.13 and closed forms (scripts/make_fixtures.py).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binaryCrossEntropy,
  type CrossEntropyOptions,
  crossEntropy,
} from '../packages/labelsmooth/src/index.js';
import { assertClose, decodeFloats, loadFixtures } from './helpers/fixtures.js';

const cases = loadFixtures('crossEntropy.json');

function targetOf(c: (typeof cases)[number]): Int32Array | Float64Array {
  return c.targetKind === 'probs' ? Float64Array.from(c.target) : Int32Array.from(c.target);
}

describe('crossEntropy matches PyTorch and the closed forms', () => {
  it('has cases from both sources', () => {
    assert.ok(cases.filter((c) => c.source === 'torch').length >= 60);
    assert.ok(cases.filter((c) => c.source === 'closed-form').length >= 20);
  });
  for (const c of cases) {
    it(`${c.source}: ${c.name}`, () => {
      const logits = c.float32 ? Float32Array.from(decodeFloats(c.logits)) : decodeFloats(c.logits);
      const options = { ...c.options, classes: c.classes, grad: true } as CrossEntropyOptions;
      const r = crossEntropy(logits, targetOf(c), options);
      const rtol = 1e-5;
      // Absolute slack scaled to the logits' magnitude: PyTorch's own float64 rounding at |z| = 1e4.
      const atol = c.name.startsWith('extreme') ? 1e-9 : 1e-10;
      assertClose(r.loss, c.loss, { rtol, atol, label: 'loss' });
      assertClose(r.nll, c.nll, { rtol, atol, label: 'nll' });
      assertClose(r.smoothing, c.smoothing, { rtol, atol, label: 'smoothing' });
      assertClose(r.grad!, c.grad, { rtol, atol: c.float32 ? 1e-8 : 1e-12, label: 'grad' });
      if (c.denominator !== undefined) assert.equal(r.denominator, c.denominator);
      const eps = (c.options.labelSmoothing as number) ?? 0;
      const parts = (1 - eps) * (r.nll as number) + eps * (r.smoothing as number);
      if (typeof r.loss === 'number') assertClose(r.loss, parts, { label: 'decomposition' });
    });
  }
  it('the float32 path returns a Float32Array gradient', () => {
    const c = cases.find((x) => x.float32)!;
    const r = crossEntropy(Float32Array.from(decodeFloats(c.logits)), targetOf(c), {
      classes: c.classes,
      grad: true,
    });
    assert.ok(r.grad instanceof Float32Array);
  });
});

describe('binaryCrossEntropy matches PyTorch on Keras-smoothed targets', () => {
  for (const c of loadFixtures('binaryCrossEntropy.json')) {
    it(c.name, () => {
      const options = { ...c.options, classes: c.classes, grad: true };
      const r = binaryCrossEntropy(decodeFloats(c.logits), Float64Array.from(c.target), options);
      assertClose(r.loss, c.loss, { label: 'loss', atol: 1e-12 });
      assertClose(r.nll, c.nll, { label: 'nll', atol: 1e-12 });
      assertClose(r.smoothing, c.smoothing, { label: 'smoothing', atol: 1e-12 });
      assertClose(r.grad!, c.grad, { label: 'grad', atol: 1e-14 });
    });
  }
});
