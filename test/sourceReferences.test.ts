// Every source file a comment or a doc names exists: a file that moved or was merged into another leaves
// no pointer behind in the library's and the command's sources, the docs, the README or BENCHMARKS.md.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', 'dist-bench', '.git', 'runs', 'test-output', 'api']);

/** Every file under `dir`, relative to the repository, with `/` separators. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? walk(path) : [relative(ROOT, path).split(sep).join('/')];
  });
}

const FILES = walk(ROOT);
const NAMES = new Set(FILES.map((f) => f.slice(f.lastIndexOf('/') + 1)));

/** A path or file name of a source file: `kernels/memory.ts`, `math/noiseVector.ts`, `executor.ts`. */
const REFERENCE = /(?<![\w/.-])(?:[\w.-]+\/)*[\w-][\w.-]*\.(?:ts|py|mjs|cjs)\b/g;

/** Whether a referenced path (or bare file name) names a file of the repository. */
function exists(ref: string): boolean {
  const path = ref.replace(/^\.\//, '');
  if (!path.includes('/')) return NAMES.has(path);
  return FILES.some((f) => f === path || f.endsWith(`/${path}`));
}

const DOCUMENTS = FILES.filter(
  (f) =>
    (/^packages\/[^/]+\/src\/.*\.ts$/.test(f) && !f.endsWith('.generated.ts')) ||
    /^docs\/[^/]+\.md$/.test(f) ||
    f === 'README.md' ||
    f === 'BENCHMARKS.md',
);

describe('references to source files', () => {
  it('covers the sources and docs', () => {
    assert.ok(DOCUMENTS.length > 100, `${DOCUMENTS.length} files`);
    assert.ok(exists('kernels/memory.ts') && exists('executor.ts') && !exists('kernels/nothing.ts'));
  });
  it('every file a comment or a doc names is in the repository (relplot’s, an outside project, apart)', () => {
    const missing: string[] = [];
    for (const doc of DOCUMENTS) {
      readFileSync(join(ROOT, doc), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/relplot|https?:\/\//.test(line)) return;
          for (const ref of line.match(REFERENCE) ?? [])
            if (!exists(ref)) missing.push(`${doc}:${i + 1}: ${ref}`);
        });
    }
    assert.deepEqual(missing, []);
  });
});
