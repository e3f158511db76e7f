// The files a run leaves, as a list to compare: what a command wrote, and nothing else.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file and directory under `dir`, relative and sorted, directories ending in `/` ([] if none). */
export function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const isDir = statSync(join(dir, rel, name)).isDirectory();
      out.push(`${rel}${name}${isDir ? '/' : ''}`);
      if (isDir) walk(`${rel}${name}/`);
    }
  };
  walk('');
  return out;
}
