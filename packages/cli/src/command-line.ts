import { parseArgs } from 'node:util';
import { UsageError } from './cli-errors.js';

/** One option of a command: `--name VALUE` (string) or `--name` (boolean). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** One-letter alias (`-h`). */
  readonly short?: string;
  /** Placeholder of the value in help (`MODE`); string options only. */
  readonly valueName?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The options a command line set, read by name. */
export class OptionValues {
  readonly #values: Readonly<Record<string, string | boolean | undefined>>;

  constructor(values: Readonly<Record<string, string | boolean | undefined>>) {
    this.#values = values;
  }

  string(name: string): string | undefined {
    const value = this.#values[name];
    return typeof value === 'string' ? value : undefined;
  }

  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  /** These values, overridden by the ones `other` sets. */
  overriddenBy(other: OptionValues): OptionValues {
    const merged = { ...this.#values };
    for (const [name, value] of Object.entries(other.#values)) {
      if (value !== undefined) merged[name] = value;
    }
    return new OptionValues(merged);
  }
}

export interface CommandLine {
  readonly options: OptionValues;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` against `specs`, strictly: an unknown option, a missing value or a value
 * given to a flag is a UsageError whose message is one line (node's own messages span three).
 * Arguments after `--` are positionals, even when they start with `-`.
 */
export function parseCommandLine(args: readonly string[], specs: OptionSpecs): CommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: specs,
      strict: true,
      allowPositionals: true,
    });
    return { options: new OptionValues(values), positionals };
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
}

function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const text = message ?? String(error);
  // node quotes the option first: "Unknown option '--foo'", "Option '--x <value>' argument missing".
  const option = /'(-[^' ]*)/.exec(text)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${option}; an argument starting with '-' goes after '--'`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return text.includes('does not take an argument')
      ? `option ${option} takes no value`
      : `option ${option} needs a value`;
  }
  return text.split('\n')[0] ?? text;
}

/** Splits `args` before the first positional (a subcommand's name), past the options ahead of it. */
export function splitAtFirstPositional(
  args: readonly string[],
  specs: OptionSpecs,
): { readonly leading: readonly string[]; readonly rest: readonly string[] } {
  const takesValue = (arg: string): boolean => {
    if (arg.includes('=')) return false;
    const spec = arg.startsWith('--')
      ? specs[arg.slice(2)]
      : Object.values(specs).find((s) => `-${s.short}` === arg);
    return spec?.type === 'string';
  };
  let index = 0;
  while (index < args.length) {
    const arg = args[index]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    index += takesValue(arg) ? 2 : 1;
  }
  return { leading: args.slice(0, index), rest: args.slice(index) };
}

/** The options block of a help text: one aligned line per option. */
export function formatOptionsHelp(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '';
    const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
    return [`${short}--${name}${value}`, spec.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows
    .map(([left, help]) => {
      const [first = '', ...more] = help.split('\n');
      const indent = ' '.repeat(width + 4);
      return [`  ${left.padEnd(width)}  ${first}`, ...more.map((line) => indent + line)].join('\n');
    })
    .join('\n');
}
