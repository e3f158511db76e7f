import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Write a file atomically: a temporary file in the same directory, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Replace directory `dir` by one filled by `fill(tmpDir)`: readers see the old or the new directory,
 * never a half-written one (the old one is moved aside, then removed).
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  let moved = false;
  try {
    renameSync(dir, old);
    moved = true;
  } catch {
    // no previous directory
  }
  renameSync(tmp, dir);
  if (moved) rmSync(old, { recursive: true, force: true });
}
