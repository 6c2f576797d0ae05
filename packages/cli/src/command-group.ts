import { UsageError } from './cli-errors.js';
import { formatOptionsHelp, parseCommandLine, splitAtFirstPositional } from './command-line.js';
import type { Command } from './command.js';
import { GLOBAL_OPTIONS } from './global-options.js';

export interface CommandGroupSpec {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly commands: readonly Command[];
  /** More help after the list of commands (the exit codes). */
  readonly epilog?: string;
  /** Lists the global options in full (the top level does; the others point to it). */
  readonly describeGlobalOptions?: boolean;
}

/**
 * A command made of commands (`catmesh`, `catmesh kv`): global options may come before the
 * next name, and are handed down to the command that runs.
 */
export function commandGroup(spec: CommandGroupSpec): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    async run(args, context) {
      const path = context.path === '' ? spec.name : `${context.path} ${spec.name}`;
      const { leading, rest } = splitAtFirstPositional(args, GLOBAL_OPTIONS);
      let line;
      try {
        line = parseCommandLine(leading, GLOBAL_OPTIONS);
      } catch (error) {
        if (error instanceof UsageError) throw new UsageError(error.message, path);
        throw error;
      }
      if (line.options.flag('help')) {
        context.io.stdout.write(groupHelp(spec, path));
        return 0;
      }
      const [name, ...commandArgs] = rest;
      const names = spec.commands.map((command) => command.name).join(', ');
      if (name === undefined) throw new UsageError(`missing command; one of: ${names}`, path);
      const command = spec.commands.find((c) => c.name === name);
      if (!command) {
        throw new UsageError(`unknown command '${name}'; one of: ${names}`, path);
      }
      return command.run(commandArgs, {
        io: context.io,
        path,
        inherited: context.inherited.overriddenBy(line.options),
      });
    },
  };
}

function groupHelp(spec: CommandGroupSpec, path: string): string {
  const width = Math.max(...spec.commands.map((command) => command.name.length));
  const commands = spec.commands
    .map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`)
    .join('\n');
  const globals = spec.describeGlobalOptions
    ? `Global options (before or after a command's name):\n${formatOptionsHelp(GLOBAL_OPTIONS)}`
    : `Global options: --endpoints, --timeout, --json (see 'catmesh --help').`;
  const epilog = spec.epilog ? `\n${spec.epilog}\n` : '';
  return `Usage: ${path} <command> [arguments] [options]

${spec.description}

Commands:
${commands}

${globals}
${epilog}
Run '${path} <command> --help' for a command's arguments and options.
`;
}
