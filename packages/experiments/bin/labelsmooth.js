#!/usr/bin/env node
// The `labelsmooth` command. This file is committed, not built: npm links a package's bin when it installs
// the package, before the `prepare` script builds dist/, so a bin inside dist/ would be missing after the
// first `npm install` of a clone. It loads the built command line, or says how to build it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'labelsmooth: error: the command line is not built (dist/cli/main.js is missing): run `npm run build` in the repository\n',
  );
  process.exit(1);
}
const { run } = await import(cli.href);
run(process.argv.slice(2));
