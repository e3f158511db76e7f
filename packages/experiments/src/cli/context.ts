import type { Command } from 'commander';

/** What a command knows about its own command line beyond the option values. */
export interface CliContext {
  /** Option names (camelCase) given on the command line, as opposed to defaults. */
  given: ReadonlySet<string>;
  /** Each option's default value. */
  defaults: Readonly<Record<string, unknown>>;
}

/** The {@link CliContext} of a parsed commander command. */
export function contextOf(cmd: Command, resolved: Record<string, unknown> = {}): CliContext {
  const given = new Set<string>();
  const defaults: Record<string, unknown> = {};
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    defaults[key] = opt.defaultValue;
    if (cmd.getOptionValueSource(key) === 'cli') given.add(key);
  }
  // Defaults that depend on other options (--model on --dataset) are resolved by the command's action.
  for (const [key, value] of Object.entries(resolved)) if (defaults[key] === undefined) defaults[key] = value;
  return { given, defaults };
}

/** A context in which nothing was given on the command line (for calls from code and tests). */
export const DEFAULT_CONTEXT: CliContext = { given: new Set(), defaults: {} };
