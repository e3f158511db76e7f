import type { Option } from 'commander';

/** A value as the user types it on the command line: `mnist`, `0,0.1`, `5` (commander quotes strings as JSON). */
export function typed(value: unknown): string {
  return Array.isArray(value) ? value.map(typed).join(',') : String(value);
}

/**
 * An option's line of `--help`: its description, then its choices and default as typed
 * (`(choices: wasm, cpu; default: wasm)`). A flag that is off by default says nothing more: that it is
 * off is what a flag means.
 */
export function optionHelp(o: Option): string {
  const extra: string[] = [];
  if (o.argChoices) extra.push(`choices: ${o.argChoices.join(', ')}`);
  const offFlag = o.isBoolean() && o.defaultValue === false;
  if (o.defaultValue !== undefined && !offFlag)
    extra.push(`default: ${o.defaultValueDescription ?? typed(o.defaultValue)}`);
  if (extra.length === 0) return o.description;
  return `${o.description} (${extra.join('; ')})`;
}
