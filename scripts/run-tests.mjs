#!/usr/bin/env node
// `npm test`: every test file under Node's test runner (spec output), then a summary that says loudly
// which tests or suites were SKIPPED and why — a skip must not hide in 1,800 lines of output.
// With LABELSMOOTH_REQUIRE_BROWSER=1 (set by .ci/run) the run fails unless a suite whose name mentions
// chromium passed, and fails on any skip: CI has everything installed, so nothing may be left out there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(join(root, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test', f));
function childEnv() {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}
const tmp = mkdtempSync(join(tmpdir(), 'labelsmooth-tests-'));
const skipsFile = join(tmp, 'skips.jsonl');
const run = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'skip-reporter.mjs')}`,
    `--test-reporter-destination=${skipsFile}`,
    ...files,
  ],
  // NODE_TEST_CONTEXT (set when this script itself runs under a test runner) would make the child emit
  // its raw protocol instead of running the reporters.
  { cwd: root, stdio: 'inherit', env: childEnv() },
);
let events = [];
try {
  events = readFileSync(skipsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
} catch {
  // no skips file: the runner wrote nothing (it failed before reporting)
}
rmSync(tmp, { recursive: true, force: true });
const skips = events.filter((e) => e.kind === 'skip');
const browserRan = events.some((e) => e.kind === 'pass' && /chromium/i.test(e.name));
// A skipped suite reports its tests as skipped too: show the outermost skip of each file and reason.
const seen = new Set();
const shown = skips
  .sort((a, b) => a.nesting - b.nesting)
  .filter((s) => {
    const key = `${s.file}\0${s.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
const rule = '='.repeat(78);
if (shown.length > 0) {
  const lines = [
    rule,
    `SKIPPED: ${shown.length} test(s) or suite(s) did NOT run:`,
    ...shown.map((s) => `  - ${relative(root, s.file ?? '?')} › ${s.name}: ${s.reason || 'skipped'}`),
    rule,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
} else process.stdout.write(`\n${rule}\nNo test was skipped.\n${rule}\n`);
let code = run.status ?? 1;
if (run.signal) code = 1;
if (process.env.LABELSMOOTH_REQUIRE_BROWSER === '1') {
  if (skips.length > 0) {
    process.stdout.write('FAIL: LABELSMOOTH_REQUIRE_BROWSER=1 (CI): no test may be skipped here.\n');
    code = code || 1;
  }
  if (!browserRan) {
    process.stdout.write('FAIL: LABELSMOOTH_REQUIRE_BROWSER=1 (CI): the chromium suite did not run.\n');
    code = code || 1;
  }
}
process.exit(code);
