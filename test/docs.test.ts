// The documentation says what the code does: its examples are run here as written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
