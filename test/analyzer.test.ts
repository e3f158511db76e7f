import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32, smoothReliability } from 'labelsmooth';
import { analyzeModel, reliabilityBand, topLabel } from '../packages/experiments/src/train/analyzer.js';

/** N×K logits of a classifier whose confidence runs above its accuracy, and their labels. */
function overConfident(n: number, k: number) {
  const random = mulberry32(7);
  const logits = new Float32Array(n * k);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(random() * k);
    const guess = random() < 0.7 ? labels[i] : (labels[i] + 1) % k;
    for (let c = 0; c < k; c++) logits[i * k + c] = (c === guess ? 4 : 0) + random();
  }
  return { logits, labels };
}

describe('the experiments’ analyzer', () => {
  it('topLabel: confidence is the largest softmax probability, correctness the argmax', () => {
    const { confidence, correct } = topLabel(Float32Array.of(0, Math.log(3), 2, 0), Int32Array.of(1, 1), 2);
    assert.ok(Math.abs(confidence[0] - 0.75) < 1e-7);
    assert.equal(correct[0], 1);
    assert.ok(Math.abs(confidence[1] - 1 / (1 + Math.exp(-2))) < 1e-7);
    assert.equal(correct[1], 0);
  });

  it('the smooth reliability band brackets the curve, is deterministic, and narrows with more rows', () => {
    const width = (n: number) => {
      const { logits, labels } = overConfident(n, 5);
      const { confidence, correct } = topLabel(logits, labels, 5);
      const s = smoothReliability(confidence, correct);
      const band = reliabilityBand(confidence, correct, s.bandwidth, s.mesh.length);
      const again = reliabilityBand(confidence, correct, s.bandwidth, s.mesh.length);
      assert.deepEqual(band, again);
      let inside = 0;
      let total = 0;
      for (let j = 0; j < s.mesh.length; j++) {
        assert.ok(band.lo[j] <= band.hi[j]);
        if (s.density[j] > 0.5) {
          total++;
          if (band.lo[j] <= s.curve[j] && s.curve[j] <= band.hi[j]) inside++;
        }
      }
      assert.ok(inside >= 0.9 * total, `${inside} of ${total} mesh points inside the band`);
      const dense = s.mesh.map((_, j) => j).filter((j) => s.density[j] > 0.5);
      return dense.reduce((a, j) => a + band.hi[j] - band.lo[j], 0) / dense.length;
    };
    assert.ok(width(4000) < width(400));
  });

  it('analyzeModel: smooth ECE with its band, AURC and every interval', () => {
    const { logits, labels } = overConfident(600, 4);
    const a = analyzeModel(logits, labels, 4);
    assert.ok(a.smoothEce && a.smoothEce.value > 0.05, 'over-confident: clearly miscalibrated');
    assert.ok(a.smoothEce.curve.every((p) => p.lo !== undefined && p.hi !== undefined));
    assert.ok(a.aurc !== undefined && a.riskCoverage && a.riskCoverage.length > 0);
    for (const m of ['accuracy', 'nll', 'brier', 'ece', 'smoothEce', 'classwiseEce', 'aurc'] as const) {
      const iv = a.intervals?.[m];
      assert.ok(iv && iv[0] <= iv[1], m);
    }
  });
});
