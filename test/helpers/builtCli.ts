// The built CLI as a user runs it: the package's bin (`labelsmooth`), which loads dist/.
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** The built entry point. */
export const BUILT_MAIN = new URL('../../packages/experiments/bin/labelsmooth.js', import.meta.url).pathname;

/** Run the built CLI to completion (bounded: 10 minutes). */
export function builtCli(
  args: string[],
  options: Pick<SpawnSyncOptions, 'uid' | 'gid' | 'cwd'> = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BUILT_MAIN, ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    ...options,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A small three-class CSV (two features, `label` column c0/c1/c2) that trains in a second. */
export function toyCsv(file: string, rows = 90): string {
  const lines = ['f1,f2,label'];
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    lines.push(`${(c + ((i * 13) % 7) / 7).toFixed(3)},${(((i * 37) % 11) / 11).toFixed(3)},c${c}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
