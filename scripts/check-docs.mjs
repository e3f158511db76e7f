#!/usr/bin/env node
// `npm run lint`, second part: the API reference builds without a warning (TypeDoc: every export
// documented, no broken {@link}) and the links of the README and docs/ resolve (remark-validate-links:
// relative files and #anchors, offline). A worktree installed before these tools were added gets a clear
// message instead of "command not found".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const missing = ['typedoc', 'remark'].filter((t) => !existsSync(bin(t)));
if (missing.length > 0) {
  console.error(`check-docs: ${missing.join(' and ')} not installed: run \`npm install\` (devDependencies)`);
  process.exit(1);
}
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
    console.error(`check-docs: ${tool} ${args.join(' ')} failed`);
    process.exit(1);
  }
}
