// Student's t quantiles against scipy (fixture from scripts/make_student_t_fixtures.py) and closed forms.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { logGamma, studentTCdf, studentTQuantile } from '../packages/experiments/src/train/studentT.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/studentT.json', import.meta.url), 'utf8')) as {
  cases: { p: number; df: number; q: number }[];
};

describe('studentTQuantile', () => {
  // scipy 1.10's ppf itself is off by 2e-9 (relative) at df = 2 against the closed form checked below.
  it('matches scipy.stats.t.ppf to 1e-8 (relative) on every fixture case', () => {
    assert.ok(fixture.cases.length > 100);
    for (const { p, df, q } of fixture.cases) {
      const got = studentTQuantile(p, df);
      assert.ok(Math.abs(got - q) <= 1e-8 * Math.max(1, Math.abs(q)), `p ${p} df ${df}: ${got} vs ${q}`);
    }
  });
  it('closed forms: df 1 is Cauchy, tan(π(p − ½)); df 2 is (2p − 1)/√(2p(1 − p))', () => {
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      const one = Math.tan(Math.PI * (p - 0.5));
      assert.ok(Math.abs(studentTQuantile(p, 1) - one) < 1e-11 * Math.max(1, one));
      const two = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      assert.ok(Math.abs(studentTQuantile(p, 2) - two) < 1e-11 * Math.max(1, two));
    }
  });
  it('inverts the cdf, and Γ of integers is a factorial', () => {
    for (const df of [1, 3, 8, 40]) {
      for (const t of [-3, -0.5, 0.2, 2.5])
        assert.ok(Math.abs(studentTQuantile(studentTCdf(t, df), df) - t) < 1e-8);
    }
    assert.ok(Math.abs(logGamma(6) - Math.log(120)) < 1e-12);
  });
  it('refuses p outside (0, 1) and df that is not an integer ≥ 1, naming the argument', () => {
    assert.throws(() => studentTQuantile(1, 3), /studentTQuantile: p must be in \(0, 1\), got 1/);
    assert.throws(() => studentTQuantile(0.9, 0), /studentTQuantile: df must be an integer ≥ 1, got 0/);
    assert.throws(() => studentTQuantile(0.9, 2.5), /df must be an integer ≥ 1, got 2.5/);
  });
});
