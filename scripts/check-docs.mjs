#!/usr/bin/env node
// `npm run lint`, second part: the API reference builds without a warning (TypeDoc: every export
// documented, no broken {@link}) and the links of the README and docs/ resolve (remark-validate-links:
// relative files and #anchors, offline). Tools that are not installed fail the check with a banner
// saying so (never a silent pass), as does a tool that cannot start or is killed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
/** Fail with a banner: a check that cannot run is a failed check, never a skipped one. */
function fail(message) {
  console.error(`\n${'!'.repeat(100)}\n!!! check-docs FAILED: ${message}\n${'!'.repeat(100)}\n`);
  process.exit(1);
}
const missing = [
  ...['typedoc', 'remark'].filter((t) => !existsSync(bin(t))),
  ...['remark-validate-links'].filter((p) => !existsSync(join(root, 'node_modules', p, 'package.json'))),
];
if (missing.length > 0)
  fail(
    `${missing.join(', ')} not installed, so the docs were NOT checked: run \`npm install\` (devDependencies)`,
  );
const MARKDOWN = [
  'README.md',
  'BENCHMARKS.md',
  'CHANGELOG.md',
  'docs',
  'packages/labelsmooth/README.md',
  'packages/experiments/README.md',
];
for (const [tool, args] of [
  ['typedoc', ['--emit', 'none']],
  ['remark', ['--quiet', '--frail', '--no-stdout', ...MARKDOWN]],
]) {
  const r = spawnSync(bin(tool), args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    fail(`${tool} ${args.join(' ')} failed (${why})`);
  }
}
