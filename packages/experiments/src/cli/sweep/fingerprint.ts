import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../../data/dataset.js';
import type { Splits } from '../datasets.js';

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

function hashDataset(h: ReturnType<typeof createHash>, ds: Dataset | null): void {
  if (!ds) {
    h.update('none\n');
    return;
  }
  h.update(
    `${ds.rows}×${ds.features}\n${JSON.stringify(ds.classNames)}\n${JSON.stringify(ds.imageShape ?? null)}\n`,
  );
  h.update(new Uint8Array(ds.x.buffer, ds.x.byteOffset, ds.x.byteLength));
  h.update(new Uint8Array(ds.y.buffer, ds.y.byteOffset, ds.y.byteLength));
}

/**
 * SHA-256 (first 16 hex digits) of the train, validation and test splits as loaded (shapes, class names,
 * feature bytes, labels): two machines train on the same data exactly when their hashes agree.
 */
export function dataHash(splits: Splits): string {
  const h = createHash('sha256');
  hashDataset(h, splits.train);
  hashDataset(h, splits.validation);
  hashDataset(h, splits.test);
  return h.digest('hex').slice(0, 16);
}
