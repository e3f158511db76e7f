// docs/glossary.md gives each symbol one meaning and each name one spelling; the sources and the docs keep
// to it where a wrong use can be found by its text: Λ (never Γ) for the gradient's target sum, β only for
// the confidence penalty (temperature scaling's 1/T is θ), FLSD-53 spelled with its hyphen.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');

/** The .ts and .md files under `dir` (no dist, no node_modules). */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : files(path);
    return /\.(ts|md)$/.test(e.name) ? [path] : [];
  });
}

const SOURCES = [
  ...files(join(ROOT, 'packages', 'labelsmooth', 'src')),
  ...files(join(ROOT, 'packages', 'experiments', 'src')),
  ...files(join(ROOT, 'docs')),
  join(ROOT, 'README.md'),
];

/** `file:line: text` of each line matching `pattern`. */
function uses(pattern: RegExp): string[] {
  return SOURCES.flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${relative(ROOT, path)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe('docs/glossary.md: one meaning per symbol, one spelling per name', () => {
  it('the sources and docs it covers were found', () => {
    assert.ok(SOURCES.length > 100, `${SOURCES.length} files`);
    assert.ok(SOURCES.some((p) => p.endsWith('glossary.md')));
  });
  it('Λ, never Γ, is the gradient’s target sum (Γ(x) is the gamma function)', () => {
    assert.deepEqual(uses(/Γ(?!\()/), []);
  });
  it('β is the confidence penalty’s weight only: temperature scaling’s 1/T is θ', () => {
    assert.deepEqual(uses(/β\s*=\s*1\s*\/\s*T|NLL'*\(β\)/), []);
  });
  it('FLSD-53 and flsd-53 are spelled with their hyphen', () => {
    assert.deepEqual(uses(/flsd(?!-53)|FLSD(?!-53)/i), []);
  });
});
