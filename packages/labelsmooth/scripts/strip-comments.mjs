// Build step after tsc: the published JavaScript without comments (a third of its size; the comments
// are in the sources and in the .d.ts declarations, where editors show them). esbuild rewrites each file
// as ES2022 modules, unbundled and unminified; it keeps legal comments and the bundler hints
// (`/* @vite-ignore */`) that the dynamic imports of Node built-ins need.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
let before = 0;
let after = 0;
for (const entry of readdirSync(dist, { recursive: true })) {
  const file = join(dist, String(entry));
  if (!file.endsWith('.js')) continue;
  const code = readFileSync(file, 'utf8');
  const out = transformSync(code, { loader: 'js', format: 'esm', target: 'es2022', legalComments: 'inline' });
  writeFileSync(file, out.code);
  before += code.length;
  after += out.code.length;
}
console.log(`dist/**/*.js without comments: ${before} → ${after} characters`);
