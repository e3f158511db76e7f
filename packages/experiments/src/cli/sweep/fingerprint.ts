import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataPool, poolHash } from '../datasets.js';

/**
 * The version in the nearest package.json above this module (the package that holds the CLI): a worker
 * and a coordinator from different releases could train differently, so they must not mix results.
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    const up = dirname(dir);
    if (up === dir) throw new Error('labelsmooth: no package.json above the sweep module');
    dir = up;
  }
}

/**
 * The data hash a sweep's spec holds and its messages show: the first 16 hex digits of the SHA-256 of the
 * pool every seed draws its splits from and of the test set ({@link poolHash}). Two machines train on the
 * same data exactly when their hashes agree (each seed's draw from the pool is deterministic).
 */
export function sweepDataHash(pool: DataPool): string {
  return poolHash(pool).slice(0, 16);
}
