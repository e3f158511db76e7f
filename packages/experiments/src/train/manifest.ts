// A run directory's manifest: the exact list of what labelsmooth wrote there. A path is added (and the
// manifest flushed to disk) before the file is created, so after any crash the manifest covers every file
// the run may have left. Cleaning up removes only listed paths; anything else in the directory belongs to
// someone else and is never touched.
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../data/errors.js';
import { leftoverOf, writeFileAtomic } from './files.js';

/** The manifest's file name in a run directory. */
export const MANIFEST = '.labelsmooth-manifest.json';

/** What marks the file as a manifest (a foreign JSON file of the same name is not taken for one). */
const MARK = 'labelsmooth run manifest';

/** Names a run directory holds that are no run output: its lock (and the lock's temporary files). */
const LOCK = /^\.lock(\.(tmp|stale)-\d+)?$/;

/**
 * The paths listed in `dir`'s manifest, relative to `dir`, directories ending in `/`; null when there is
 * no manifest. A manifest that cannot be read is a {@link DataFileError}: nothing is removed on a guess.
 */
export function readManifest(dir: string): Set<string> | null {
  const file = join(dir, MANIFEST);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const v = JSON.parse(text);
    if (v?.labelsmooth === MARK && Array.isArray(v.paths) && v.paths.every(isRelative))
      return new Set(v.paths as string[]);
  } catch {
    // reported below
  }
  throw new DataFileError(
    file,
    undefined,
    `not a readable run manifest; labelsmooth cannot tell its files from others: move ${dir} away`,
  );
}

/** A path inside the run directory (no `..`, not absolute). */
function isRelative(p: unknown): boolean {
  return typeof p === 'string' && p !== '' && !p.startsWith('/') && !p.split('/').includes('..');
}

function writeManifest(dir: string, paths: ReadonlySet<string>): void {
  const body = { labelsmooth: MARK, paths: [...paths].sort() };
  writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(body, null, 1)}\n`);
}

/** `a/b/c.json` → `a/`, `a/b/`, `a/b/c.json` (a directory path `a/b/` → `a/`, `a/b/`). */
function withParents(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(`${parts.slice(0, i).join('/')}/`);
  if (!path.endsWith('/')) out.push(path);
  return out;
}

/**
 * Record that this run is about to write `paths` in `dir` (files, or directories ending in `/`; their
 * parent directories are recorded too), durably, before any of them is created. Call it while holding
 * the run directory's lock. Creates the manifest when there is none.
 */
export function claim(dir: string, paths: readonly string[]): void {
  const listed = readManifest(dir);
  const next = new Set(listed ?? []);
  for (const p of paths) for (const q of withParents(p)) next.add(q);
  if (listed !== null && next.size === listed.size) return;
  writeManifest(dir, next);
}

/**
 * Remove what the run wrote under `prefix` (a directory path ending in `/`, or `''` for everything): the
 * listed files, then the listed directories left empty, deepest first; then drop them from the manifest.
 * An unlisted file is left where it is (its directory then stays too).
 */
export function removeOwned(dir: string, prefix = ''): void {
  const listed = readManifest(dir);
  if (listed === null) return;
  const mine = [...listed].filter((p) => p.startsWith(prefix));
  for (const p of mine) if (!p.endsWith('/')) rmSync(join(dir, p), { force: true });
  for (const p of mine.filter((q) => q.endsWith('/')).sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(join(dir, p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  }
  for (const p of mine) if (!existsSync(join(dir, p))) listed.delete(p);
  writeManifest(dir, listed);
}

/** Whether `name` (in directory `rel`, `''` or ending in `/`) belongs to the run. */
function owns(listed: ReadonlySet<string>, rel: string, name: string, isDir: boolean): boolean {
  if (rel === '' && (name === MANIFEST || LOCK.test(name))) return true;
  const m = leftoverOf(name);
  // An interrupted atomic write of a listed file or directory (recoverLeftovers cleans it up).
  if (m && (listed.has(`${rel}${m.target}`) || listed.has(`${rel}${m.target}/`))) return true;
  if (m && rel === '' && m.target === MANIFEST) return true;
  return listed.has(`${rel}${name}${isDir ? '/' : ''}`);
}

/**
 * The first path in `dir` (relative, sorted order) that the run did not write: not in its manifest, nor
 * the manifest, the lock or a leftover of an atomic write of a listed path. Undefined when every entry is
 * the run's (or `dir` does not exist).
 */
export function foreignPath(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const listed = readManifest(dir) ?? new Set<string>();
  const walk = (rel: string): string | undefined => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const isDir = lstatSync(join(dir, rel, name)).isDirectory();
      if (!owns(listed, rel, name, isDir)) return isDir ? firstFile(dir, `${rel}${name}/`) : `${rel}${name}`;
      if (isDir && !leftoverOf(name)) {
        const inside = walk(`${rel}${name}/`);
        if (inside !== undefined) return inside;
      }
    }
    return undefined;
  };
  return walk('');
}

/** The first file under directory `rel` of `dir` (depth first, sorted), or `rel` itself when it has none. */
function firstFile(dir: string, rel: string): string {
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (!lstatSync(join(dir, rel, name)).isDirectory()) return `${rel}${name}`;
    const inside = firstFile(dir, `${rel}${name}/`);
    if (inside !== `${rel}${name}/`) return inside;
  }
  return rel;
}

/** Whether `path` (relative to `dir`) is listed in its manifest. */
export function isOwned(dir: string, path: string): boolean {
  return readManifest(dir)?.has(path) ?? false;
}
