// `<run-dir>/sweep.json`: the spec a sweep started with. Running the same command again continues the
// sweep; a command whose settings differ is refused, naming each setting, as `train --resume` does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../train/files.js';
import { flagName } from '../options.js';
import { readRunConfig } from '../runDir.js';
import { UsageError } from '../usage.js';
import { canonicalJson, type SweepSpec, specHash } from './spec.js';

/** The file name of the spec in a sweep's run directory. */
export const SPEC_FILE = 'sweep.json';

/** How a spec field reads in a message: its flag, or what it is. */
function settingName(path: string): string {
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (path === 'data.seed' || path === 'monitorSeed') return 'the first of --seeds';
  if (path === 'version') return 'labelsmooth version';
  if (path === 'backendName') return 'TF.js backend';
  if (path === 'dataHash') return 'data hash';
  return flagName(key);
}

/** A value as the command line would give it (sizes absent = all). */
function shown(path: string, v: unknown): string {
  if (v === undefined) return path === 'data.trainSize' || path === 'data.testSize' ? 'all' : 'unset';
  return typeof v === 'string' ? v : canonicalJson(v);
}

/** The spec's fields as `path → value`, one level of nesting (`data.*`, `family.*`) flattened. */
function flatten(spec: SweepSpec): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(spec)) {
    if (v !== null && typeof v === 'object')
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) out.set(`${k}.${k2}`, v2);
    else out.set(k, v);
  }
  return out;
}

/**
 * The settings in which `now` differs from `was`: `--epochs 3 (the sweep has 2)`, one per setting
 * (the first seed once, though the spec holds it twice).
 */
export function specConflicts(was: SweepSpec, now: SweepSpec): string[] {
  const a = flatten(was);
  const b = flatten(now);
  const out = new Set<string>();
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (canonicalJson(a.get(path)) === canonicalJson(b.get(path))) continue;
    out.add(`${settingName(path)} ${shown(path, b.get(path))} (the sweep has ${shown(path, a.get(path))})`);
  }
  return [...out];
}

/**
 * Check `spec` against the one the sweep in `dir` started with (refused when any setting differs, naming
 * each), or record it when the sweep is new (or from a version without sweep.json).
 */
export function checkSpecFile(dir: string, spec: SweepSpec): void {
  const file = join(dir, SPEC_FILE);
  if (!existsSync(file)) {
    writeFileAtomic(file, `${JSON.stringify(spec, null, 1)}\n`);
    return;
  }
  const was = readRunConfig<SweepSpec>(
    file,
    'labelsmooth sweep spec',
    (v) => typeof v.data === 'object' && typeof v.version === 'string',
  );
  if (specHash(was) === specHash(spec)) return;
  throw new UsageError(
    `${dir} is a sweep started with other settings (${SPEC_FILE}); these differ: ${specConflicts(was, spec).join(', ')}. ` +
      'Run it with its settings, give another --name, or add --force to replace it',
  );
}
