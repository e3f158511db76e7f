// scripts/run-tests.mjs (`npm test`): skipped suites are listed loudly with their reason, and under
// LABELSMOOTH_REQUIRE_BROWSER=1 (CI) a skip, or a chromium suite that did not run, fails the run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './helpers/cli.js';

const RUNNER = new URL('../scripts/run-tests.mjs', import.meta.url).pathname;

function run(file: string, env: Record<string, string> = {}) {
  const { LABELSMOOTH_REQUIRE_BROWSER: _r, ...base } = process.env;
  const r = spawnSync(process.execPath, [RUNNER, file], { encoding: 'utf8', env: { ...base, ...env } });
  return { code: r.status, out: r.stdout };
}

describe('npm test summary', () => {
  it('names each skipped suite and its reason; CI mode fails on a skip', () => {
    const file = join(tempDir(), 'demo.test.mjs');
    writeFileSync(
      file,
      `import { describe, it } from 'node:test';
describe('browser things in chromium', { skip: '/usr/bin/chromium not installed' }, () => { it('a', () => {}); });
it('runs', () => {});
`,
    );
    const local = run(file);
    assert.equal(local.code, 0, local.out);
    assert.match(local.out, /SKIPPED: 1 test\(s\) or suite\(s\) did NOT run:/);
    assert.match(local.out, /browser things in chromium: \/usr\/bin\/chromium not installed/);
    const ci = run(file, { LABELSMOOTH_REQUIRE_BROWSER: '1' });
    assert.notEqual(ci.code, 0);
    assert.match(ci.out, /FAIL: .*no test may be skipped/);
    assert.match(ci.out, /FAIL: .*the chromium suite did not run/);
  });

  it('says so when nothing was skipped, and passes in CI mode only if the chromium suite ran', () => {
    const file = join(tempDir(), 'ok.test.mjs');
    writeFileSync(
      file,
      "import { describe, it } from 'node:test';\ndescribe('x in chromium', () => { it('a', () => {}); });\n",
    );
    const r = run(file, { LABELSMOOTH_REQUIRE_BROWSER: '1' });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /No test was skipped\./);
    const failing = join(tempDir(), 'fail.test.mjs');
    writeFileSync(
      failing,
      "import { it } from 'node:test';\nit('fails', () => { throw new Error('no'); });\n",
    );
    assert.notEqual(run(failing).code, 0, 'a failing test still fails the run');
  });
});
