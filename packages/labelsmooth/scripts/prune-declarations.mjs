// Build step after tsc: keep only the declarations a user's compiler can reach — those of the package's
// entry points (package.json `exports`, their `types`) and what they import, transitively. The others
// describe internal modules (the kernels' plumbing, the GPU programs) that no import of the package can
// name; their TSDoc stays in the sources. The JavaScript is untouched.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = Object.values(pkg.exports).map((e) => normalize(join(root, e.types)));

/** Relative module specifiers of a declaration file: `from '…'`, `import('…')`, `/// <reference path>`. */
function imports(file) {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  const refs = [...text.matchAll(/\/\/\/\s*<reference\s+path=['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return [...specs.map((s) => s.replace(/\.js$/, '.d.ts')), ...refs].map((s) =>
    normalize(join(dirname(file), s)),
  );
}

const reachable = new Set();
const todo = [...entries];
while (todo.length > 0) {
  const file = todo.pop();
  if (reachable.has(file)) continue;
  if (!existsSync(file))
    throw new Error(`prune-declarations: ${relative(root, file)} is imported but missing`);
  reachable.add(file);
  todo.push(...imports(file));
}
let removed = 0;
let bytes = 0;
for (const entry of readdirSync(dist, { recursive: true })) {
  const file = join(dist, String(entry));
  if (!file.endsWith('.d.ts') || reachable.has(file)) continue;
  bytes += statSync(file).size;
  rmSync(file);
  removed++;
}
console.log(
  `dist/**/*.d.ts: ${reachable.size} reachable from the entry points kept, ${removed} removed (${bytes} bytes)`,
);
