// The documentation says what the code does: its examples are run here as written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './helpers/cli.js';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * Run an ESM snippet in a fresh Node process (fresh kernel state); returns its stdout lines. From a file:
 * the workers inherit the process's flags, and `--input-type` (needed by `-e`) is refused in a worker.
 */
function run(code: string): string[] {
  const file = join(tempDir(), 'example.mjs');
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

const SETUP = `
import { crossEntropy, kernelInfo } from '${ROOT}packages/labelsmooth/dist/index.js';
const logits = new Float32Array(8192 * 10).map((_, i) => Math.sin(i));
const labels = new Int32Array(8192).map((_, i) => i % 10);
`;

describe("docs/kernel.md's kernelInfo example", () => {
  it('the first call on 8192×10 float32 logits takes the threaded path it shows', () => {
    const [last] = run(`${SETUP}
crossEntropy(logits, labels, { classes: 10 });
console.log(JSON.stringify(kernelInfo().last));
process.exit(0);`);
    assert.deepEqual(JSON.parse(last), {
      path: 'wasm-threads',
      reason: "8192 rows staged through the kernel's shared memory, on every thread",
    });
  });
});

describe('scripts/check-docs.mjs (part of npm run lint)', () => {
  const SCRIPT = new URL('../scripts/check-docs.mjs', import.meta.url).pathname;
  /** Run a copy of the script in `root` (its tools are looked up under root/node_modules). */
  const runIn = (root: string) => {
    mkdirSync(join(root, 'scripts'), { recursive: true });
    copyFileSync(SCRIPT, join(root, 'scripts', 'check-docs.mjs'));
    return spawnSync(process.execPath, [join(root, 'scripts', 'check-docs.mjs')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  };

  it('fails, saying the docs were not checked, when typedoc, remark or its link plugin is missing', () => {
    const r = runIn(tempDir('labelsmooth-checkdocs-'));
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /check-docs FAILED: typedoc, remark, remark-validate-links not installed, so the docs were NOT checked/,
    );
  });

  it('fails when a tool cannot run to the end', () => {
    const root = tempDir('labelsmooth-checkdocs-');
    const bin = join(root, 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    mkdirSync(join(root, 'node_modules', 'remark-validate-links'));
    writeFileSync(join(root, 'node_modules', 'remark-validate-links', 'package.json'), '{}');
    for (const tool of ['typedoc', 'remark']) {
      writeFileSync(join(bin, tool), '#!/bin/sh\nexit 3\n');
      chmodSync(join(bin, tool), 0o755);
    }
    const r = runIn(root);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /check-docs FAILED: typedoc --emit none failed \(exit code 3\)/);
  });
});
