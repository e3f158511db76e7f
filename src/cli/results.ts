import { join } from 'node:path';
import { writeFileAtomic } from '../train/files.js';

/** Write a run directory's results.json (atomically). */
export function writeResults(dir: string, results: object): void {
  writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
}
