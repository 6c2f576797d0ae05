import { UsageError } from './cli-errors.js';
import type { CliIo } from './cli-io.js';
import {
  formatOptionsHelp,
  parseCommandLine,
  type OptionSpecs,
  type OptionValues,
} from './command-line.js';
import { GLOBAL_OPTIONS, resolveGlobalOptions, type GlobalOptions } from './global-options.js';

/** Where a command runs: its parents' path and the global options given before its name. */
export interface CommandContext {
  readonly io: CliIo;
  /** The names that led here (`catmesh kv`), for help and usage messages. */
  readonly path: string;
  readonly inherited: OptionValues;
}

/** A command or a group of commands; `run` resolves with the exit code. */
export interface Command {
  readonly name: string;
  /** One line, shown in the parent's list of commands. */
  readonly summary: string;
  run(args: readonly string[], context: CommandContext): Promise<number>;
}

/** What a command's `run` gets: its parsed command line, the global options resolved. */
export interface Invocation {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  readonly options: OptionValues;
  /** As many as the command declares, checked: the required ones are all there. */
  readonly positionals: readonly string[];
}

export interface PositionalSpec {
  readonly name: string;
  readonly optional?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** What follows the command's path in its usage line: `KEY [--consistency MODE]`. */
  readonly usage: string;
  /** The help text's body: what the command does and prints. */
  readonly description: string;
  readonly options?: OptionSpecs;
  readonly positionals: readonly PositionalSpec[];
  run(invocation: Invocation): Promise<number>;
}

/** A command that does one thing (no subcommands). */
export function defineCommand(spec: CommandSpec): Command {
  const specs: OptionSpecs = { ...spec.options, ...GLOBAL_OPTIONS };
  return {
    name: spec.name,
    summary: spec.summary,
    async run(args, context) {
      const path = `${context.path} ${spec.name}`;
      const { io } = context;
      try {
        const line = parseCommandLine(args, specs);
        if (line.options.flag('help')) {
          io.stdout.write(commandHelp(spec, path));
          return 0;
        }
        checkPositionals(line.positionals, spec.positionals);
        const options = context.inherited.overriddenBy(line.options);
        const globals = resolveGlobalOptions(options, io.env);
        return await spec.run({ io, globals, options, positionals: line.positionals });
      } catch (error) {
        if (error instanceof UsageError && error.command === undefined) {
          throw new UsageError(error.message, path);
        }
        throw error;
      }
    },
  };
}

function checkPositionals(given: readonly string[], specs: readonly PositionalSpec[]): void {
  const missing = specs.slice(given.length).find((s) => !s.optional);
  if (missing) throw new UsageError(`missing ${missing.name}`);
  const extra = given[specs.length];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
}

function commandHelp(spec: CommandSpec, path: string): string {
  const own = spec.options ? `\nOptions:\n${formatOptionsHelp(spec.options)}\n` : '';
  return `Usage: ${`${path} ${spec.usage}`.trimEnd()}

${spec.description}
${own}
Global options: --endpoints, --timeout, --json (see 'catmesh --help').
`;
}
