import { InvalidArgumentError } from 'commander';

/** Commander parsers that reject bad values with a message naming the value. */
export function int(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

/** A number in [min, max] (or (min, max] with `open`). */
export function float(min: number, max: number, { open = false } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (open && n === min)) {
      throw new InvalidArgumentError(`expected a number in ${open ? '(' : '['}${min}, ${max}], got '${v}'`);
    }
    return n;
  };
}

/** A comma-separated list of distinct ε values in [0, 1]. */
export function epsilons(v: string): number[] {
  const parse = float(0, 1);
  const list = v.split(',').map((s) => parse(s.trim()));
  if (new Set(list).size !== list.length) throw new InvalidArgumentError(`repeated ε in '${v}'`);
  return list;
}

/** `--seeds 3` → [1, 2, 3]; `--seeds 7,11` → [7, 11]. */
export function seeds(v: string): number[] {
  if (v.includes(',')) return v.split(',').map((s) => int(0)(s.trim()));
  return Array.from({ length: int(1)(v) }, (_, i) => i + 1);
}

/** A positive count, or `all`. */
export function sizeOrAll(v: string): number | undefined {
  return v === 'all' ? undefined : int(1)(v);
}

/** A run name usable as a directory name. */
export function runName(v: string): string {
  if (!/^[\w.-]+$/.test(v) || v === '.' || v === '..')
    throw new InvalidArgumentError(`use letters, digits, '.', '_' or '-', got '${v}'`);
  return v;
}
